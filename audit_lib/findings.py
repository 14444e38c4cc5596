"""findings.json: its shape, canonical serialisation and digest (outputs.md).

The digest is the hex sha256 of the UTF-8 bytes of everything but ``digest``, serialised with keys sorted, no
white space and non-ASCII characters as themselves. No clock time and no absolute path appears in the
document, so the same package and parameters give the same bytes.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

SCHEMA = "audit-findings/1"


def clean(value):
    """JSON-safe, deterministic values: numpy scalars to Python, floats rounded to 6 decimals, NaN to null,
    dates to ISO text, mapping keys to text."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        items = [clean(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set) else items
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else round(f, 6)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.strftime("%Y-%m-%d")
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def canonical(doc: dict) -> bytes:
    body = {k: v for k, v in doc.items() if k != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_digest(doc: dict) -> str:
    return "sha256:" + hashlib.sha256(canonical(doc)).hexdigest()


def finalise(doc: dict) -> dict:
    doc = clean(doc)
    doc["digest"] = compute_digest(doc)
    return doc


def dumps(doc: dict) -> str:
    """The file's text: the same keys sorted, indented for people to read."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def write(doc: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(doc), encoding="utf-8")
    return path


def read(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def verify_digest(doc: dict) -> bool:
    return doc.get("digest") == compute_digest(doc)
