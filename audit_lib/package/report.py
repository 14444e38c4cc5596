"""A plain-text data-quality summary of a loaded package (what ``audit validate`` prints)."""
from __future__ import annotations

from . import quality
from .load import Package
from .schema import TABLES


def quality_summary(pkg: Package, max_rows: int = 20) -> str:
    out = [f"{pkg.district_name} ({pkg.district_code}) {pkg.year}: {pkg.root}"]
    out.append(f"{'table':18s} {'file':28s} {'rows read':>10s} {'loaded':>10s} {'quarantined':>12s}")
    q = pkg.quarantine
    for t in TABLES:
        if t.name not in pkg.tables:
            out.append(f"{t.name:18s} {'(not provided)':28s}")
            continue
        f = next(f.path for f in pkg.files if f.table == t.name)
        nq = q.loc[q["table"] == t.name, "row"].nunique() if len(q) else 0
        out.append(f"{t.name:18s} {f:28s} {pkg.rows_read[t.name]:>10,d} {len(pkg.tables[t.name]):>10,d} {nq:>12,d}")
    for t, cols in sorted(pkg.ignored_columns.items()):
        out.append(f"note: {t}: columns not in the contract were ignored: {', '.join(cols)}")
    if len(q):
        out.append("")
        out.append("quarantined (file, row, column, value, reason):")
        for r in q.head(max_rows).itertuples():
            out.append(f"  {r.file} row {r.row} {r.column}: '{r.value}' — {r.reason}")
        if len(q) > max_rows:
            out.append(f"  … and {len(q) - max_rows} more; all are listed in findings.json")
        s = quality.summary(q)
        out.append("by reason: " + "; ".join(f"{r.table} {r.reason}: {r.rows}" for r in s.itertuples()))
    else:
        out.append("no row was quarantined")
    return "\n".join(out)
