"""What the region report shows, computed once per region run: the districts' own findings (from their verified
runs), the cross-district checks over the packages those runs recorded (each input checked against its
recorded sha256 before and after it is read), and the figures per district."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import VerificationError
from ..i18n import tr
from ..params import Params
from ..report.data import Handoff
from ..provenance.verify import input_problems
from .select import DistrictRun

HOLDING_TARGET = 0.95


@dataclass
class RegionData(Handoff):
    meta: dict                                   # district_code (the region's code), district_name, year
    findings: dict                               # the region's findings.json (cross-district checks)
    evidence: dict[str, pd.DataFrame]            # cross-district check -> its records in full (workpaper only)
    districts: pd.DataFrame                      # one row per district run: who, run, coverage, holding, at risk
    matrix: pd.DataFrame                         # district × check: count, amount_fen, status
    runs: list[dict]                             # what the region's attestation names of each district run
    params: Params = None
    checks_code: list = field(default_factory=list)
    check_info: dict = field(default_factory=dict)

    @property
    def in_error(self) -> list[str]:
        return [c["id"] for c in self.findings["checks"] if c["status"] == "error"]



def run_record(r: DistrictRun) -> dict:
    """What the region's attestation names of a district run: where it is, its attestation's sha256, and the
    package it recorded (so the region's cross-district checks can be re-derived)."""
    p = r.predicate
    return {"run": r.rel, "run_id": p["run_id"], "district_code": r.code, "district_name": p.get("district_name", ""),
            "attestation_sha256": r.attestation_sha256, "findings_digest": p["findings_digest"],
            "signer": p.get("signer", {}), "package": p["package"]}


def check_inputs(runs: list[dict]) -> None:
    """Every input file each district run recorded, as it was: VerificationError naming each that is not."""
    problems = []
    for r in runs:
        problems += input_problems(Path(r["package"]["path"]), r["package"]["files"],
                                   who=f"{r['district_code']}（{r['run']}）: ")
    if problems:
        raise VerificationError(tr("区县运行所记录的输入已不是当时的文件，不能据此计算跨区检查：\n  " + "\n  ".join(problems),
                                   "the inputs the district runs recorded are not as they were; the cross-district "
                                   "checks cannot be computed over them:\n  " + "\n  ".join(problems)))


def region_findings(runs: list[dict], params: Params, meta: dict):
    """The cross-district checks over the recorded packages: (summaries, outcomes, findings document)."""
    from ..pipeline import check_region

    check_inputs(runs)
    pkgs, outcomes, doc = check_region([r["package"]["path"] for r in runs], params,
                                       region={"code": meta["district_code"], "name": meta["district_name"]})
    recorded = {(r["district_code"], f["path"]): f["sha256"] for r in runs for f in r["package"]["files"]}
    read = {(p.district_code, f.path): f.sha256 for p in pkgs for f in p.files}
    changed = sorted(k for k, v in read.items() if recorded.get(k) != v)
    if changed:        # changed while being read
        raise VerificationError(tr("读取期间输入被改动：" + "，".join(f"{c}/{p}" for c, p in changed),
                                   "inputs changed while being read: " + ", ".join(f"{c}/{p}" for c, p in changed)))
    return pkgs, outcomes, doc


def _matrix(runs: list[DistrictRun]) -> pd.DataFrame:
    rows = []
    for r in runs:
        for c in r.findings.get("checks", []):
            rows.append({"district_code": r.code, "id": c["id"], "title": c["title"], "family": c["family"],
                         "severity": c["severity"], "status": c["status"], "count": int(c["count"]),
                         "amount_fen": int(c["amount_fen"])})
    return pd.DataFrame(rows, columns=["district_code", "id", "title", "family", "severity", "status", "count",
                                       "amount_fen"])


def _cp01(f: dict) -> tuple:
    c = next((c for c in f.get("checks", []) if c["id"] == "CP01"), None)
    if not c or c["status"] not in ("flagged", "clear"):
        return None, None
    return c["metrics"].get("overall_share"), c["metrics"].get("target")


def prepare(runs: list[DistrictRun], params: Params, meta: dict) -> RegionData:
    from ..checks.basis import for_district

    records = [run_record(r) for r in runs]
    pkgs, outcomes, doc = region_findings(records, params, meta)
    holding = {p.district_code: (p.card_holding, p.beneficiaries) for p in pkgs}
    rows = []
    for r in runs:
        share, target = _cp01(r.findings)
        risk = r.findings.get("at_risk") or {}
        h, people = holding.get(r.code, (None, None))
        rows.append({"district_code": r.code, "district_name": r.predicate.get("district_name", ""),
                     "run": r.rel, "run_id": r.predicate["run_id"], "findings_digest": r.predicate["findings_digest"],
                     "signer": r.predicate.get("signer", {}).get("name"),
                     "keyid": r.predicate.get("signer", {}).get("keyid"),
                     "attestation_sha256": r.attestation_sha256, "incomplete": bool(r.predicate.get("incomplete")),
                     "coverage": share, "coverage_target": target, "card_holding": h, "beneficiaries": people,
                     "at_risk_fen": risk.get("amount_fen"), "at_risk_payments": risk.get("payments"),
                     "repeats": (r.predicate.get("previous_year") or {}).get("repeats")})
    evidence = {o.check.id: o.records for o in outcomes if o.records is not None and len(o.records)}
    return RegionData(meta=meta, findings=doc, evidence=evidence, districts=pd.DataFrame(rows),
                      matrix=_matrix(runs), runs=records, params=params,
                      checks_code=[{"origin": o.origin, **o.code} for o in outcomes],
                      check_info={o.check.id: {"description": o.check.description,
                                               "basis": for_district(o.check.basis, meta["district_code"])}
                                  for o in outcomes})


def preview(directories: list, params: Params) -> RegionData:
    """A region report over packages rather than signed runs (an analyst's look, never signed): each district
    audited here, then the cross-district checks. The report says it rests on no run."""
    from ..pipeline import audit_package
    from .runner import region_meta

    runs = []
    for folder in directories:
        a = audit_package(folder, params)
        m = a.package.meta
        pred = {"run_id": "", "district_code": str(m["district_code"]), "district_name": m.get("district_name", ""),
                "year": int(m["year"]), "findings_digest": a.findings["digest"], "signer": {},
                "package": {"path": str(Path(folder).resolve()),
                            "files": [{"path": f.path, "table": f.table, "bytes": f.bytes, "sha256": f.sha256}
                                      for f in a.package.files]}}
        runs.append(DistrictRun(Path(folder), "", {"predicate": pred}, a.findings, ""))
        del a
    runs.sort(key=lambda r: r.code)
    return prepare(runs, params, region_meta(runs, runs[0].predicate["year"], None, None))
