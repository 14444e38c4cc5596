"""Keys, the DSSE envelope over an in-toto Statement, and verification."""
