"""The archive of signed runs: <archive>/<year>/<district_code>/<run_id>/, append-only.

A run is built in a temporary folder under <archive>/.tmp and renamed into place only when complete and
signed; a run id is reserved atomically (mkdir) so two runs of one district at once both land; nothing is
ever overwritten; files are made read-only. index.sqlite is derived from the folders and can be rebuilt.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import AuditError

RUN_FILES = ("report.html", "notebook.ipynb", "findings.json", "workpaper.xlsx")
SIGNATURE = "attestation.dsse.json"
PUBKEY = "signer.pub.pem"


def run_id_for(digest: str, when: dt.datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ") + "-" + digest.split(":")[-1][:8]


def run_dir(root: Path, year: int, code: str, run_id: str) -> Path:
    return root / str(year) / str(code) / run_id


def runs_of(root: Path, year: int, code: str) -> list[Path]:
    folder = root / str(year) / str(code)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / SIGNATURE).exists())


def reserve(root: Path, year: int, code: str, digest: str) -> tuple[str, Path]:
    """A run id no other run has: the current second, or the next free one; reserved by an atomic mkdir."""
    res = root / ".tmp" / "reserved"
    res.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for _ in range(600):
        rid = run_id_for(digest, when)
        try:
            (res / f"{year}-{code}-{rid}").mkdir()
        except FileExistsError:
            when += dt.timedelta(seconds=1)
            continue
        if run_dir(root, year, code, rid).exists():
            when += dt.timedelta(seconds=1)
            continue
        return rid, res / f"{year}-{code}-{rid}"
    raise AuditError("could not reserve a run id")


@contextmanager
def staging(root: Path, run_id: str):
    """A temporary folder for a run under <archive>/.tmp; removed if the run does not complete."""
    tmp = root / ".tmp" / f"{run_id}-{os.getpid()}"
    tmp.mkdir(parents=True)
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def publish(tmp: Path, root: Path, year: int, code: str, run_id: str) -> Path:
    """Make the files read-only and rename the finished folder into place (never over an existing run)."""
    final = run_dir(root, year, code, run_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    for p in tmp.iterdir():
        os.chmod(p, 0o444)
    if final.exists():
        raise AuditError(f"{final} exists already; the archive is never overwritten")
    os.rename(tmp, final)
    os.chmod(final, 0o555)
    return final


def statement_of(folder: Path) -> dict | None:
    try:
        env = json.loads((folder / SIGNATURE).read_text(encoding="utf-8"))
        return json.loads(base64.b64decode(env["payload"]))
    except (OSError, ValueError, KeyError):
        return None


# ---------------------------------------------------------------- index.sqlite (derived)

SCHEMA = """create table if not exists runs (
    run_id text not null, district_code text not null, year integer not null, path text not null,
    findings_digest text, signer text, signer_keyid text, started text, finished text, supersedes text,
    primary key (year, district_code, run_id))"""


def _connect(root: Path) -> sqlite3.Connection:
    con = sqlite3.connect(root / "index.sqlite", timeout=60)
    con.execute(SCHEMA)
    return con


def _row(root: Path, folder: Path) -> tuple | None:
    st = statement_of(folder)
    if st is None:
        return None
    p = st.get("predicate", {})
    return (folder.name, str(p.get("district_code")), int(p.get("year")), str(folder.relative_to(root)),
            p.get("findings_digest"), p.get("signer", {}).get("name"), p.get("signer", {}).get("keyid"),
            p.get("started"), p.get("finished"), p.get("supersedes"))


def index_add(root: Path, folder: Path) -> None:
    row = _row(root, folder)
    if row is None:
        return
    for attempt in range(20):
        try:
            with _connect(root) as con:
                con.execute("insert or replace into runs values (?,?,?,?,?,?,?,?,?,?)", row)
            return
        except sqlite3.OperationalError:
            time.sleep(0.1 * (attempt + 1))


def reindex(root: Path) -> int:
    """Rebuild index.sqlite from the run folders; returns the number of runs."""
    root = Path(root)
    rows = []
    for sig in sorted(root.glob(f"*/*/*/{SIGNATURE}")):
        r = _row(root, sig.parent)
        if r:
            rows.append(r)
    tmp = root / "index.sqlite.tmp"
    if tmp.exists():
        tmp.unlink()
    con = sqlite3.connect(tmp)
    con.execute(SCHEMA)
    con.executemany("insert or replace into runs values (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    os.replace(tmp, root / "index.sqlite")
    return len(rows)


def listing(root: Path) -> list[dict]:
    root = Path(root)
    if not (root / "index.sqlite").exists():
        reindex(root)
    with _connect(root) as con:
        cur = con.execute("select run_id, district_code, year, path, findings_digest, signer, supersedes "
                          "from runs order by year, district_code, run_id")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
