"""Districts staged on disk for the cross-district checks (EL07): each package is read once, its successful
payment lines written as Parquet, and the package let go, so a city or a province is checked in DuckDB out of
core, whatever the number of lines, instead of holding every district's tables in memory at once.

A multi-district check gets a list whose items are either Contexts (tables in memory: tests, notebooks) or
StagedDistricts; ``ok_payments(con, items)`` gives it one DuckDB view over all of them either way.
"""
from __future__ import annotations

import contextvars
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# The columns a staged district keeps: what the cross-district checks read, and nothing personal beyond the key.
OK_COLUMNS = ("payment_id", "person_id", "item_code", "period", "amount")


@dataclass(frozen=True)
class StagedDistrict:
    district_code: str
    district_name: str
    year: int
    ok_path: Path                  # Parquet of the district's successful payment lines (OK_COLUMNS)
    lines: int                     # how many

    def has(self, name: str) -> bool:
        return name == "payments"

    def view(self) -> "StagedDistrict":
        return self                # immutable: nothing for a check to change


def stage(pkg, folder: Path) -> StagedDistrict:
    """Write a loaded package's successful payment lines to ``folder/<district_code>.parquet``."""
    p = pkg.tables["payments"]
    ok = p.loc[p["status"] == "success", list(OK_COLUMNS)]
    table = pa.Table.from_pandas(ok, preserve_index=False)
    path = Path(folder) / f"{pkg.district_code}.parquet"
    pq.write_table(table, path, compression="zstd")
    return StagedDistrict(pkg.district_code, pkg.district_name, int(pkg.year), path, len(ok))


def memory_limit() -> str:
    """DuckDB's memory limit for the cross-district checks: AUDIT_DUCKDB_MEMORY, else a quarter of the machine
    and at most 4 GB (beyond it DuckDB spills to disk: a province's grouping need not fit in memory)."""
    env = os.environ.get("AUDIT_DUCKDB_MEMORY")
    if env:
        return env
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(256, min(total // 4, 4 * 2**30) // 2**20)}MB"


def connect(spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a memory limit, spilling to ``spill`` (a folder) beyond it."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{_sql_text(memory_limit())}'")
    con.execute("SET preserve_insertion_order = false")
    if spill is not None:
        Path(spill).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{_sql_text(str(spill))}'")
    return con


def _sql_text(s: str) -> str:
    return s.replace("'", "''")


def ok_payments(con: duckdb.DuckDBPyConnection, items: list, name: str = "ok_payments") -> str:
    """Create the view ``name`` (district, payment_id, person_id, item_code, period, amount) over the successful
    payment lines of every item, staged or in memory; returns its name."""
    parts, staged = [], []
    for i, x in enumerate(items):
        code = str(x.district_code)
        if not code.isdigit():
            raise ValueError(f"district code {code!r} is not a GB/T 2260 code")
        if isinstance(x, StagedDistrict):
            staged.append((str(x.ok_path), code))
            continue
        src = f"_d{i}"
        con.register(src, x.ok[list(OK_COLUMNS)])
        parts.append(f"SELECT '{code}' AS district, {', '.join(OK_COLUMNS)} FROM {src}")
    if staged:
        # The staged files in one scan, each line's district from its file: a union of a hundred scans is one
        # the aggregates over it cannot spill (DuckDB 2.0 ran out of its memory limit at 100 M lines).
        con.read_parquet([p for p, _ in staged], filename=True).create_view("_staged")
        con.register("_staged_files", pd.DataFrame({"path": [p for p, _ in staged],
                                                    "district": [c for _, c in staged]}))
        parts.insert(0, f"SELECT f.district, {', '.join('s.' + c for c in OK_COLUMNS)} "
                        f"FROM _staged s JOIN _staged_files f ON f.path = s.filename")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS " + " UNION ALL ".join(parts))
    return name


# ---------------------------------------------------------------- hash buckets for a cluster

_EXECUTOR: contextvars.ContextVar = contextvars.ContextVar("audit_bucket_executor", default=None)


def bucket_executor():
    """The cluster's bucket executor (``map(folders) -> results``, ``buckets``) while one is in use, else None."""
    return _EXECUTOR.get()


@contextmanager
def using_executor(executor):
    token = _EXECUTOR.set(executor)
    try:
        yield executor
    finally:
        _EXECUTOR.reset(token)


def write_buckets(items: list, buckets: int) -> list[str]:
    """The staged districts' lines split into ``buckets`` hash buckets of the identity number, as Parquet folders
    ``<staging>/buckets/bucket=<n>/`` (DuckDB PARTITION_BY): every line of one person falls in one bucket, so a
    per-person check over each bucket, merged, is the check over all. Returns the bucket folders that exist."""
    folder = Path(items[0].ok_path).parent / "buckets"
    con = connect(Path(items[0].ok_path).parent / "spill")
    try:
        view = ok_payments(con, items)
        con.execute(f"""COPY (SELECT district, person_id, item_code, period, amount,
                                     hash(person_id) % {int(buckets)} AS bucket FROM {view})
                        TO '{_sql_text(str(folder))}' (FORMAT parquet, PARTITION_BY (bucket), OVERWRITE_OR_IGNORE)""")
    finally:
        con.close()
    return sorted(str(p) for p in folder.glob("bucket=*") if p.is_dir())
