"""``audit verify`` and ``audit reproduce``."""
from __future__ import annotations

import json
from pathlib import Path

from .. import archive
from ..errors import VerificationError
from ..package.load import sha256_file
from . import dsse, keys


def verify(run_dir: str | Path, trusted: str | Path | None = None) -> tuple[list[str], dict]:
    """Check the signature and every file. Returns (problems, statement); no problems means verified."""
    run_dir = Path(run_dir)
    problems = []
    try:
        env = json.loads((run_dir / archive.SIGNATURE).read_text(encoding="utf-8"))
        pub = keys.load_public((run_dir / archive.PUBKEY).read_bytes())
    except (OSError, ValueError) as e:
        raise VerificationError(f"{run_dir}: no readable signature or signer key ({e})") from None
    try:
        st = dsse.verify(env, pub)
    except (ValueError, KeyError) as e:
        raise VerificationError(f"{run_dir}: the signature does not verify: {e}") from None
    kid = keys.key_id(pub)
    trusted_set = keys.trusted_ids(trusted)
    if kid not in trusted_set:
        problems.append(f"untrusted signer: key {kid} ({st['predicate'].get('signer', {}).get('name')}) is not in "
                        f"the trusted set {trusted or keys.trusted_dir()}")
    named = set()
    for s in st["subject"]:
        name = s["name"]
        named.add(name)
        p = run_dir / name
        if not p.exists():
            problems.append(f"missing: {name}")
        elif sha256_file(p) != s["digest"]["sha256"]:
            problems.append(f"changed: {name}")
    for p in sorted(run_dir.iterdir()):
        if p.name not in named | {archive.SIGNATURE, archive.PUBKEY}:
            problems.append(f"extra: {p.name}")
    return problems, st


def reproduce(run_dir: str | Path, package: str | Path | None = None) -> tuple[list[str], dict]:
    """Check the recorded inputs, re-run the checks with the recorded parameters, compare findings digests."""
    from ..checks.engine import check_package

    run_dir = Path(run_dir)
    st = archive.statement_of(run_dir)
    if st is None:
        raise VerificationError(f"{run_dir}: no readable attestation")
    pred = st["predicate"]
    folder = Path(package or pred["package"]["path"])
    problems = []
    for f in pred["package"]["files"]:
        p = folder / f["path"]
        if not p.exists():
            problems.append(f"input missing: {f['path']}")
        elif sha256_file(p) != f["sha256"]:
            problems.append(f"input changed: {f['path']} (sha256 differs from the recorded one)")
    recorded = {f["path"] for f in pred["package"]["files"]}
    from ..package.schema import FILE_EXTENSIONS
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() in FILE_EXTENSIONS and p.name not in recorded:
                problems.append(f"input added: {p.name}")
    if problems:
        return problems, pred
    params = {"parameters": pred["parameters"].get("parameters") or {}, "checks": pred["parameters"].get("checks")}
    _, _, doc = check_package(folder, params)
    if doc["digest"] != pred["findings_digest"]:
        problems.append(f"findings differ: recorded {pred['findings_digest']}, re-run {doc['digest']}")
    return problems, pred
