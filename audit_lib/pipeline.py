"""One audit: package(s) + parameters -> outcomes -> findings. Every command (check, run, reproduce) and the
notebook call this, so what is signed and what is re-produced are computed by the same code."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .checks import REGISTRY, Context
from .checks.engine import Outcome, findings_doc, run_checks
from .errors import PackageError, ParamsError
from .package import load_package, quality
from .package.load import Package
from .package.schema import TABLE_BY_NAME
from .params import Params, coerce
from .i18n import tr
from .report.labels import reason_zh


@dataclass
class Audit:
    package: Package
    params: Params
    context: Context
    outcomes: list[Outcome]
    findings: dict


def usable_tables(pkg: Package, max_share: float) -> dict[str, str]:
    """Tables that lost too many rows to quarantine. A required table that loaded no row, or lost more than
    ``max_share`` of its rows, stops the audit (PackageError); an optional one is returned with the reason, and
    the checks that need it are not executed. Nothing is reported clear about rows that were not read."""
    q = pkg.quarantine
    lost = q.groupby("table")["row"].nunique() if len(q) else pd.Series(dtype="int64")
    unusable, fatal = {}, []
    for name, read in sorted(pkg.rows_read.items()):
        n = int(lost.get(name, 0))
        if read == 0 or n == 0:
            continue
        loaded = len(pkg.tables[name])
        if loaded > 0 and n <= max_share * read:
            continue
        t = TABLE_BY_NAME[name]
        file = next((f.path for f in pkg.files if f.table == name), name)
        reasons = q.loc[q["table"] == name, "reason"].value_counts().head(3)
        why = "; ".join(f"{r} ({c})" for r, c in reasons.items())
        msg = (f"{file}: {n:,} of {read:,} rows of {name} ({t.zh}) were quarantined ({n / read:.0%}, above the "
               f"limit of {max_share:.0%}); most common: {why}")
        if t.required:
            fatal.append(tr(f"{file}：{name}（{t.zh}）的 {read:,} 行中有 {n:,} 行被隔离（{n / read:.0%}，超过上限 "
                            f"{max_share:.0%}）；最常见的原因：{reason_zh(why)}", msg))
        else:
            unusable[name] = msg
    if fatal:
        raise PackageError(tr("这些数据大部分没有读入，审计不能以此为依据：\n  " + "\n  ".join(fatal) + "\n请对数据包运行 `audit validate` 查看每一条隔离的行；修正导出文件，或在确认损失原因后调高参数文件中的 max_quarantined_share。",
                              "the audit cannot rest on this data, which was mostly not read:\n  " + "\n  ".join(fatal)
                           + "\nRun `audit validate` on the package to see every quarantined row; fix the export, "
                             "or raise max_quarantined_share in the params file if the loss is understood."))
    return unusable


def audit_package(directory: str | Path, params=None, registry=None) -> Audit:
    """Load one package, check it against the parameters, run the checks, build findings.json."""
    params = coerce(params)
    pkg = load_package(directory)
    params.check_package(pkg.meta, str(Path(directory) / "package.yaml"))
    unusable = usable_tables(pkg, params.max_quarantined_share)
    ctx = Context.from_package(pkg)
    outcomes = run_checks(ctx, params.overrides, list(params.checks) if params.checks else None,
                          registry=registry, unusable=unusable)
    doc = findings_doc(pkg.meta, outcomes, pkg.quarantine, params.overrides)
    return Audit(pkg, params, ctx, outcomes, doc)


def check_package(directory: str | Path, params=None):
    """(package, outcomes, findings document) of one package."""
    a = audit_package(directory, params)
    return a.package, a.outcomes, a.findings


def card_holding(beneficiaries: pd.DataFrame, cards: pd.DataFrame) -> float:
    """The share of beneficiaries (people) who hold a card in normal state with an account: the report's
    approximation of the 95 % card-holding target, which is set for all residents."""
    b = beneficiaries["person_id"].drop_duplicates()
    if not len(b):
        return 0.0
    active = cards.loc[(cards["status"] == "normal") & cards["account_no"].notna(), "person_id"]
    return float(b.isin(set(active)).mean())


def check_region(directories: list, params=None, region: dict | None = None, stage_dir: str | Path | None = None):
    """Several districts' packages: the cross-district checks over all of them. Each package is read once,
    validated and staged as Parquet in a temporary folder (under TMPDIR), then let go: memory holds one district
    at a time, and the checks run in DuckDB over the staged files, spilling to disk when they must. A package of
    another year, or a district given twice, is refused as soon as it is read. ``region`` ({code, name}) names the
    city or province in findings.json (else the districts' codes and names joined). ``stage_dir`` is where the
    staged Parquet goes (a path a cluster's workers share), else TMPDIR."""
    import gc
    import tempfile

    from .checks.engine import select_checks
    from .checks.staged import stage

    params = coerce(params)
    # only what the cross-district checks read (the contract's required tables are always read and validated)
    needs = sorted({n for c in select_checks(REGISTRY, list(params.checks) if params.checks else None, multi=True)
                    for n in c.needs})
    if stage_dir is not None:
        Path(stage_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="audit-region-", dir=stage_dir) as tmp:
        pkgs, staged, unusable, quarantines = [], [], {}, []
        seen: dict[str, str] = {}
        year = params.year
        for d in directories:
            p = load_package(d, tables=needs)
            if p.district_code in seen:
                raise ParamsError(tr(f"同一区县给出了两次：{p.district_code}（{seen[p.district_code]} 与 {d}）",
                                     f"the same district is given twice: {p.district_code} ({seen[p.district_code]} "
                                     f"and {d})"))
            if year is not None and p.year != year:
                where = params.path if params.year is not None else directories[0]
                raise ParamsError(tr(f"{d}：年度 {p.year} 与 {where or '参数'} 的 {year} 不一致",
                                     f"{d}: year {p.year} differs from the {year} of {where or 'parameters'}"))
            year = p.year
            seen[p.district_code] = str(d)
            unusable.update({t: f"{p.district_code}: {m}"
                             for t, m in usable_tables(p, params.max_quarantined_share).items()})
            staged.append(stage(p, Path(tmp)))
            quarantines.append(p.quarantine.assign(file=p.district_code + "/" + p.quarantine["file"]))
            pkgs.append(_Summary(p.district_code, p.district_name, p.year, list(p.files),
                                 card_holding(p.tables["beneficiaries"], p.tables["cards"]),
                                 int(p.tables["beneficiaries"]["person_id"].nunique())))
            del p
            gc.collect()
        outcomes = run_checks(staged, params.overrides, list(params.checks) if params.checks else None,
                              unusable=unusable)
    if region:
        meta = {"district_code": region["code"], "district_name": region["name"], "year": year}
        extra = {"districts": sorted(seen)}
    else:
        meta = {"district_code": ",".join(seen), "district_name": "、".join(p.district_name for p in pkgs),
                "year": year}
        extra = None
    return pkgs, outcomes, findings_doc(meta, outcomes, quality.combine(quarantines), params.overrides, extra)


@dataclass(frozen=True)
class _Summary:
    """What is kept of a package once it is staged: who it is and which files, with their digests, were read."""
    district_code: str
    district_name: str
    year: int
    files: list
    card_holding: float = 0.0
    beneficiaries: int = 0


__all__ = ["Audit", "REGISTRY", "audit_package", "card_holding", "check_package", "check_region", "usable_tables"]
