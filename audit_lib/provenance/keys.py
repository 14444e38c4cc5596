"""Ed25519 signing keys: the private key under the user's configuration folder (mode 0600, never in the
archive or the repository), public keys as PEM (SubjectPublicKeyInfo), a trusted set as a folder of PEM files.

A key id is the lower-case hex sha256 of the key's DER SubjectPublicKeyInfo bytes (outputs.md).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import AuditError


def config_dir() -> Path:
    base = os.environ.get("AUDIT_CONFIG_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "audit-workbench"


def keys_dir() -> Path:
    return config_dir() / "keys"


def trusted_dir() -> Path:
    return config_dir() / "trusted"


def key_id(public: Ed25519PublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return s or "signer"


def key_path(signer: str) -> Path:
    return keys_dir() / f"{_slug(signer)}.pem"


def keygen(signer: str, trust: bool = True, overwrite: bool = False) -> tuple[Path, str]:
    """Make an Ed25519 key for ``signer``; the private key file is created with mode 0600. Its public key
    joins the local trusted set. Returns (private key path, key id)."""
    path = key_path(signer)
    if path.exists() and not overwrite:
        raise AuditError(f"a key for signer '{signer}' already exists: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(path, 0o600)
    (path.with_suffix(".signer")).write_text(signer, encoding="utf-8")
    kid = key_id(key.public_key())
    if trust:
        add_trusted(public_pem(key.public_key()))
    return path, kid


def add_trusted(pem: bytes, folder: Path | None = None) -> Path:
    public = load_public(pem)
    folder = folder or trusted_dir()
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{key_id(public)}.pem"
    out.write_bytes(public_pem(public))
    return out


def load_private(path: str | Path) -> tuple[Ed25519PrivateKey, str]:
    """A private key and its signer name (from the .signer file beside it, else the file's stem)."""
    path = Path(path)
    if not path.exists():
        raise AuditError(f"signing key not found: {path} (make one with `audit keygen --signer NAME`)")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise AuditError(f"signing key {path} is readable by others (mode {mode:o}); chmod 600 it")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as e:
        raise AuditError(f"{path}: not a readable private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"{path}: not an Ed25519 key")
    name_file = path.with_suffix(".signer")
    signer = name_file.read_text(encoding="utf-8").strip() if name_file.exists() else path.stem
    return key, signer


def load_public(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as e:
        raise AuditError(f"not a readable public key ({e})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError("not an Ed25519 public key")
    return key


def trusted_ids(folder: str | Path | None = None) -> dict[str, Path]:
    folder = Path(folder) if folder else trusted_dir()
    out = {}
    if folder.is_dir():
        for p in sorted(folder.glob("*.pem")):
            try:
                out[key_id(load_public(p.read_bytes()))] = p
            except AuditError:
                continue
    return out


def demo_key() -> Path:
    """The local demo key, made on first use and labelled DEMO."""
    path = key_path("DEMO")
    if not path.exists():
        keygen("DEMO")
    return path
