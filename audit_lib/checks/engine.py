"""Runs the selected checks over loaded tables, isolates each check's error, and builds findings.json."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ParamsError
from ..package.schema import TABLE_BY_NAME
from . import REGISTRY
from .context import Context
from .registry import Check, Registry, Result


@dataclass
class Outcome:
    check: Check
    status: str
    reason: str | None = None
    records: pd.DataFrame | None = None       # evidence, one row per flagged key (full values: not for reports)
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def keys(self) -> list[str]:
        if self.records is None or self.records.empty:
            return []
        return sorted(set(self.records["key"].astype(str)))

    @property
    def amount_fen(self) -> int:
        """The money the flagged records involve: the sum of the flagged lines' amounts where the key is a
        payment, else what the check attributes to each record (0 where it attributes none)."""
        r = self.records
        if r is None or "amount_fen" not in r or r.empty:
            return 0
        return int(r.drop_duplicates("key")["amount_fen"].fillna(0).astype("int64").sum())

    def as_json(self) -> dict:
        keys = self.keys
        return {"id": self.check.id, "title": self.check.title, "family": self.check.family,
                "severity": self.check.severity, "status": self.status, "reason": self.reason,
                "key": self.check.key, "count": len(keys), "amount_fen": self.amount_fen,
                "records": keys, "metrics": self.metrics}


def effective_params(c: Check, overrides: dict | None) -> dict:
    """The check's defaults with overrides applied; unknown names and wrong types are a clear error."""
    p = copy.deepcopy(c.params)
    for name, value in (overrides or {}).items():
        if name not in p:
            raise ParamsError(f"check {c.id} has no parameter '{name}' (it has: {', '.join(p) or 'none'})")
        default = p[name]
        try:
            if isinstance(default, bool):
                value = bool(value)
            elif isinstance(default, int) and not isinstance(value, bool):
                value = int(value)
            elif isinstance(default, float):
                value = float(value)
            elif isinstance(default, dict) and not isinstance(value, dict):
                raise TypeError("expected a mapping")
        except (TypeError, ValueError):
            raise ParamsError(f"check {c.id}: parameter '{name}' must be like {default!r}, got {value!r}") from None
        p[name] = value
    return p


def _missing(c: Check, ctx: Context) -> list[str]:
    return [n for n in c.needs if not ctx.has(n)]


def _normalise(c: Check, out) -> Result:
    res = out if isinstance(out, Result) else Result(records=out)
    if res.records is not None:
        if "key" not in res.records:
            raise ValueError(f"check {c.id} returned records without a 'key' column")
        res.records = res.records.reset_index(drop=True)
    return res


def run_one(c: Check, ctx: Context | list[Context], params: dict) -> Outcome:
    t0 = time.perf_counter()
    contexts = ctx if isinstance(ctx, list) else [ctx]
    if c.multi and len(contexts) < 2:
        return Outcome(c, "skipped", "needs several districts: run `audit check` on several package folders")
    missing = sorted({m for x in contexts for m in _missing(c, x)})
    if missing:
        names = ", ".join(f"{m} ({TABLE_BY_NAME[m].zh})" if m in TABLE_BY_NAME else m for m in missing)
        return Outcome(c, "skipped", f"data not provided: {names}")
    try:
        res = _normalise(c, c.func(contexts if c.multi else contexts[0], **params))
    except Exception as e:   # one check's failure is reported as its own error and never stops the others
        return Outcome(c, "error", f"{type(e).__name__}: {e}", seconds=time.perf_counter() - t0)
    if res.status in ("skipped",):
        status = "skipped"
    elif res.status == "info" or c.severity == "info":
        status = "info"
    else:
        status = "flagged" if res.records is not None and len(res.records) else "clear"
    return Outcome(c, status, res.reason, res.records, res.metrics, time.perf_counter() - t0)


def select_checks(registry: Registry, select: list[str] | None, multi: bool) -> list[Check]:
    ids = registry.ids()
    if select:
        unknown = [s for s in select if s not in ids]
        if unknown:
            raise ParamsError(f"unknown check id(s): {', '.join(unknown)}")
        ids = [i for i in ids if i in set(select)]
    checks = [registry.get(i) for i in ids]
    return [c for c in checks if c.multi] if multi else checks


def run_checks(ctx: Context | list[Context], parameters: dict | None = None, select: list[str] | None = None,
               registry: Registry | None = None) -> list[Outcome]:
    """Run checks over one district (a Context) or, for the cross-district checks, several."""
    registry = registry or REGISTRY
    parameters = parameters or {}
    multi = isinstance(ctx, list) and len(ctx) > 1
    for cid in parameters:
        if cid not in registry:
            raise ParamsError(f"parameters given for unknown check {cid}")
    out = []
    for c in select_checks(registry, select, multi):
        out.append(run_one(c, ctx if multi else (ctx[0] if isinstance(ctx, list) else ctx),
                           effective_params(c, parameters.get(c.id))))
    return out


def findings_doc(meta: dict, outcomes: list[Outcome], quarantine: pd.DataFrame, parameters: dict) -> dict:
    from .. import findings

    used = {o.check.id: effective_params(o.check, parameters.get(o.check.id)) for o in outcomes if o.check.params}
    dq = quarantine[["table", "file", "row", "column", "value", "reason"]].to_dict("records") \
        if quarantine is not None and len(quarantine) else []
    doc = {"schema": findings.SCHEMA, "district_code": meta["district_code"],
           "district_name": meta.get("district_name", ""), "year": int(meta["year"]), "parameters": used,
           "checks": [o.as_json() for o in outcomes], "data_quality": dq}
    return findings.finalise(doc)


# ---------------------------------------------------------------- parameters files

def read_params(path: str | Path | None) -> dict:
    """A params YAML: data (package path, relative to the file), checks (ids to run), parameters (per check),
    archive, key, report options. Every value has a default."""
    if not path:
        return {}
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: parameters file not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ParamsError(f"{path}: not readable YAML: {e}") from None
    if not isinstance(doc, dict):
        raise ParamsError(f"{path}: expected a mapping")
    if "district_code" in doc:
        doc["district_code"] = str(doc["district_code"])
    for name in ("data", "archive", "key"):
        if doc.get(name):
            doc[name] = str((path.parent / Path(str(doc[name])).expanduser()).resolve())
    params = doc.get("parameters") or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ParamsError(f"{path}: 'parameters' must map check ids to their parameters")
    doc["parameters"] = params
    checks = doc.get("checks")
    if checks in (None, "all"):
        doc["checks"] = None
    elif not isinstance(checks, list):
        raise ParamsError(f"{path}: 'checks' must be a list of check ids or 'all'")
    doc["_path"] = str(path)
    return doc


def check_package(directory: str | Path, params: dict | None = None):
    """Load one package and run the checks: (package, outcomes, findings document)."""
    from ..package import load_package

    params = params or {}
    pkg = load_package(directory)
    outcomes = run_checks(Context.from_package(pkg), params.get("parameters"), params.get("checks"))
    return pkg, outcomes, findings_doc(pkg.meta, outcomes, pkg.quarantine, params.get("parameters") or {})


def check_province(directories: list, params: dict | None = None):
    """Several districts' packages: the cross-district checks over all of them."""
    from ..package import load_package
    from ..package import quality

    params = params or {}
    pkgs = [load_package(d) for d in directories]
    years = {p.year for p in pkgs}
    if len(years) != 1:
        raise ParamsError(f"the packages cover different years: {sorted(years)}")
    ctxs = [Context.from_package(p) for p in pkgs]
    outcomes = run_checks(ctxs, params.get("parameters"), params.get("checks"))
    q = quality.combine([p.quarantine.assign(file=p.district_code + "/" + p.quarantine["file"]) for p in pkgs])
    meta = {"district_code": ",".join(p.district_code for p in pkgs),
            "district_name": "、".join(p.district_name for p in pkgs), "year": years.pop()}
    return pkgs, outcomes, findings_doc(meta, outcomes, q, params.get("parameters") or {})


def run_cli_check(dirs: list[str], params_path: str | None = None, out: str | None = None) -> int:
    from .. import findings

    params = read_params(params_path)
    if len(dirs) == 1:
        pkg, outcomes, doc = check_package(dirs[0], params)
    else:
        pkgs, outcomes, doc = check_province(dirs, params)
    path = Path(out) if out else Path("findings.json")     # never into the package folder handed over
    findings.write(doc, path)
    for o in outcomes:
        j = o.as_json()
        amount = f"{j['amount_fen'] / 100:,.2f}" if j["amount_fen"] else ""
        print(f"{j['id']}  {j['severity']:6s} {j['status']:8s} {j['count']:>7d} {amount:>16s}  {j['title']}"
              + (f"  ({j['reason']})" if j["reason"] else ""))
    print(path)
    return 0
