"""DSSE envelopes (payloadType application/vnd.in-toto+json) holding in-toto Statement v1, signed with
Ed25519 over DSSE's pre-authentication encoding, so that any DSSE implementation verifies them as they are."""
from __future__ import annotations

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .keys import key_id

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "urn:audit-workbench:run:v1"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def statement(subjects: dict[str, str], predicate: dict) -> dict:
    return {"_type": STATEMENT_TYPE,
            "subject": [{"name": n, "digest": {"sha256": d}} for n, d in sorted(subjects.items())],
            "predicateType": PREDICATE_TYPE, "predicate": predicate}


def sign(stmt: dict, key: Ed25519PrivateKey) -> dict:
    payload = json.dumps(stmt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    sig = key.sign(pae(PAYLOAD_TYPE, payload))
    return {"payload": base64.b64encode(payload).decode("ascii"), "payloadType": PAYLOAD_TYPE,
            "signatures": [{"keyid": key_id(key.public_key()), "sig": base64.b64encode(sig).decode("ascii")}]}


def verify(envelope: dict, public: Ed25519PublicKey) -> dict:
    """The Statement, if a signature by ``public`` verifies over the envelope's payload; else ValueError."""
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise ValueError(f"unexpected payloadType {envelope.get('payloadType')!r}")
    payload = base64.b64decode(envelope["payload"])
    kid = key_id(public)
    for s in envelope.get("signatures", []):
        if s.get("keyid") not in (kid, "", None):
            continue
        try:
            public.verify(base64.b64decode(s["sig"]), pae(PAYLOAD_TYPE, payload))
            return json.loads(payload)
        except InvalidSignature:
            continue
    raise ValueError("no signature verifies with the signer's public key")
