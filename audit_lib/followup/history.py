"""Year over year: this year's findings beside the same district's latest run of the year before (verified) and
its latest follow-up, each finding marked 新发现 (new), 重复出现 (the same key flagged last year) or, for last
year's, 上年已整改未复发 (rectified and not back) / 上年疑点本年未再出现 (not flagged again)."""
from __future__ import annotations

import json
from pathlib import Path

from ..archive import runs_of
from ..package.load import sha256_file
from ..provenance import attest


def compare(root: Path, code: str, year: int, findings: dict, trusted=None, allow_demo: bool = False) -> dict | None:
    """None when the archive holds no run of the year before; else what the report shows and the run signs."""
    from ..provenance.verify import verify
    from .runner import followups_of

    previous = [r for r in runs_of(Path(root), int(year) - 1, str(code))]
    if not previous:
        return None
    last = previous[-1]
    rel = f"{int(year) - 1}/{code}/{last.name}"
    try:
        problems, _ = verify(last, trusted, allow_demo=allow_demo)
    except Exception as e:              # a folder that is not a run at all
        problems = [str(e)]
    if problems:
        return {"run": rel, "verified": False, "problems": problems}
    before = json.loads((last / "findings.json").read_text(encoding="utf-8"))
    rectified: set = set()
    fu = None
    for f in reversed(followups_of(last)):
        if not verify(f, trusted, allow_demo=allow_demo)[0]:
            fu = f.name
            d = json.loads((f / "dispositions.json").read_text(encoding="utf-8"))
            rectified = {(x["check"], x["key"]) for x in d["dispositions"] if x.get("status") == "已整改"}
            break
    prev = {c["id"]: set(c["records"]) for c in before["checks"] if c["status"] == "flagged"}
    checks = {}
    for c in findings["checks"]:
        if c["status"] != "flagged" or c["family"] == "statistics" or c["severity"] == "info":
            continue
        now, then = set(c["records"]), prev.get(c["id"], set())
        gone = then - now
        checks[c["id"]] = {"title": c["title"], "now": len(now), "new": len(now - then),
                           "repeat": sorted(now & then),
                           "rectified": len({k for k in gone if (c["id"], k) in rectified}),
                           "gone": len(gone)}
    return {"run": rel, "verified": True, "run_id": last.name,
            "attestation_sha256": sha256_file(last / attest.SIGNATURE), "followup": fu, "checks": checks}


def record(h: dict | None) -> dict | None:
    """What the run's statement records of the comparison (so the report's claims rest on a named run)."""
    if not h:
        return None
    if not h.get("verified"):
        return {"run": h["run"], "verified": False}
    return {"run": h["run"], "verified": True, "attestation_sha256": h["attestation_sha256"], "followup": h["followup"],
            "repeats": sum(len(c["repeat"]) for c in h["checks"].values())}
