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


def check_region(directories: list, params=None, staging: str | Path | None = None):
    """Several districts' packages: the cross-district checks over all of them. Each package is read once,
    validated, and staged as Parquet (in ``staging``, or a temporary folder), then let go: memory holds one
    district at a time, and the checks run in DuckDB over the staged files, spilling to disk when they must."""
    import gc
    import tempfile

    from .checks.staged import stage

    params = coerce(params)
    with tempfile.TemporaryDirectory(prefix="audit-region-", dir=staging) as tmp:
        pkgs, staged, unusable, quarantines = [], [], {}, []
        seen: dict[str, str] = {}
        for d in directories:
            p = load_package(d)
            if p.district_code in seen:
                raise ParamsError(tr(f"同一区县给出了两次：{p.district_code}（{seen[p.district_code]} 与 {d}）",
                                     f"the same district is given twice: {p.district_code} ({seen[p.district_code]} "
                                     f"and {d})"))
            seen[p.district_code] = str(d)
            unusable.update({t: f"{p.district_code}: {m}"
                             for t, m in usable_tables(p, params.max_quarantined_share).items()})
            staged.append(stage(p, Path(tmp)))
            quarantines.append(p.quarantine.assign(file=p.district_code + "/" + p.quarantine["file"]))
            pkgs.append(_Summary(p.district_code, p.district_name, p.year, p.root, list(p.files)))
            del p
            gc.collect()
        return _region_outcomes(pkgs, staged, unusable, quarantines, params)


@dataclass(frozen=True)
class _Summary:
    """What is kept of a package once it is staged: who it is and what was read."""
    district_code: str
    district_name: str
    year: int
    root: Path
    files: list


def _region_outcomes(pkgs, staged, unusable, quarantines, params):
    years = {p.year for p in pkgs}
    if len(years) != 1:
        raise ParamsError(tr(f"这些数据包分属不同年度：{sorted(years)}",
                             f"the packages cover different years: {sorted(years)}"))
    codes = [p.district_code for p in pkgs]
    if len(set(codes)) != len(codes):
        raise ParamsError(tr(f"同一区县给出了两次：{', '.join(sorted(c for c in set(codes) if codes.count(c) > 1))}",
                             f"the same district is given twice: {', '.join(sorted(c for c in set(codes) if codes.count(c) > 1))}"))
    if params.year is not None and params.year not in years:
        raise ParamsError(tr(f"{params.path or '参数'}：年度 {params.year} 与数据包的 {years.pop()} 不一致",
                             f"{params.path or 'parameters'}: year {params.year} differs from the packages' {years.pop()}"))
    outcomes = run_checks(staged, params.overrides, list(params.checks) if params.checks else None, unusable=unusable)
    q = quality.combine(quarantines)
    meta = {"district_code": ",".join(codes), "district_name": "、".join(p.district_name for p in pkgs),
            "year": years.pop()}
    return pkgs, outcomes, findings_doc(meta, outcomes, q, params.overrides)


__all__ = ["Audit", "REGISTRY", "audit_package", "check_package", "check_region", "usable_tables"]
