"""The archive of signed runs: <archive>/<year>/<district_code>/<run_id>/, append-only.

A run is built in a temporary folder under <archive>/.tmp and renamed into place only when complete and
signed; a run id is reserved atomically (mkdir) so two runs of one district at once both land; nothing is
ever overwritten; files are made read-only and readable by owner and group only (they hold full identity
numbers). A killed run's leftovers (staging, scratch, reservation) are removed by the next run. index.sqlite
is derived from the folders, takes only runs that verify, and can be rebuilt.
"""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import socket
import shutil
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import AuditError
from .provenance.attest import SIGNATURE, payload_unverified
from .i18n import tr

DIR_MODE = 0o750           # run folders: owner and group may read, nobody writes
FILE_MODE = 0o440


def prepare_root(root: Path) -> Path:
    """The archive root, usable for writing; a clear error (exit 2) when it is a file, read-only or absent
    and cannot be made."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise AuditError(tr(f"档案库 {root} 是文件，不是文件夹",
                            f"archive {root} is a file, not a folder"))
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / ".tmp").mkdir(exist_ok=True)
        os.chmod(root / ".tmp", 0o700)
    except OSError as e:
        raise AuditError(tr(f"档案库 {root} 无法写入（{e.strerror or e}）",
                            f"archive {root} cannot be written ({e.strerror or e})")) from None
    if not os.access(root, os.W_OK | os.X_OK) or not os.access(root / ".tmp", os.W_OK | os.X_OK):
        raise AuditError(tr(f"档案库 {root} 对当前用户只读",
                            f"archive {root} is read-only for this user"))
    cleanup(root)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


def owner_tag(pid: int | None = None) -> str:
    """What names a temporary folder's owner: this machine and a process. An archive may be shared between
    machines, so only this machine's dead processes' leftovers are ever removed."""
    return f"~{_host()}-{pid if pid is not None else os.getpid()}"


_OWNER = re.compile(r"~([0-9a-f]{8})-([0-9]+)$")


def _dead(name: str) -> bool:
    m = _OWNER.search(name)
    return bool(m) and m.group(1) == _host() and not _alive(int(m.group(2)))


def cleanup(root: Path) -> list[str]:
    """Remove what killed runs of this machine left under <archive>/.tmp: staging folders, scratch folders
    (they hold full records), kernel connection files, and run-id reservations."""
    removed = []
    tmp = Path(root) / ".tmp"
    for p in sorted(tmp.iterdir()) if tmp.is_dir() else []:
        if p.name != "reserved" and _dead(p.name):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    res = tmp / "reserved"
    for p in sorted(res.iterdir()) if res.is_dir() else []:
        try:
            owner = (p / "owner").read_text(encoding="utf-8").strip()
        except OSError:
            owner = None
        young = time.time() - p.stat().st_mtime < 60 if p.exists() else False
        if (owner and _dead(owner)) or (owner is None and not young):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


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
    """A run id no other run has: the current second, or the next free one; reserved by an atomic mkdir that
    records its owner (so a killed run's reservation is cleaned up)."""
    res = root / ".tmp" / "reserved"
    res.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for _ in range(600):
        rid = run_id_for(digest, when)
        folder = res / f"{year}-{code}-{rid}"
        try:
            folder.mkdir()
        except FileExistsError:
            when += dt.timedelta(seconds=1)
            continue
        (folder / "owner").write_text(owner_tag(), encoding="utf-8")
        if run_dir(root, year, code, rid).exists():
            shutil.rmtree(folder, ignore_errors=True)
            when += dt.timedelta(seconds=1)
            continue
        return rid, folder
    raise AuditError(tr("无法预留运行编号",
                        "could not reserve a run id"))


def reserve_exact(root: Path, year: int, code: str, run_id: str) -> Path:
    """Reserve a run id computed elsewhere (a cluster worker named its run): refused if taken."""
    res = root / ".tmp" / "reserved"
    res.mkdir(parents=True, exist_ok=True)
    folder = res / f"{year}-{code}-{run_id}"
    try:
        folder.mkdir()
    except FileExistsError:
        raise AuditError(tr(f"运行编号 {run_id} 已被占用", f"run id {run_id} is taken")) from None
    (folder / "owner").write_text(owner_tag(), encoding="utf-8")
    if run_dir(root, year, code, run_id).exists():
        shutil.rmtree(folder, ignore_errors=True)
        raise AuditError(tr(f"{run_dir(root, year, code, run_id)} 已存在；档案库中的内容从不覆盖",
                            f"{run_dir(root, year, code, run_id)} exists already; the archive is never overwritten"))
    return folder


@contextmanager
def staging(root: Path, run_id: str):
    """A temporary folder for a run under <archive>/.tmp; removed if the run does not complete."""
    tmp = root / ".tmp" / f"{run_id}{owner_tag()}"
    tmp.mkdir(parents=True, mode=0o700)
    os.chmod(tmp, 0o700)
    try:
        yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class Landing:
    """A run on its way into the archive: its id, its staging folder, and, once landed, its folder and any index
    problem (a warning: the run is archived whatever the index says)."""

    def __init__(self, run_id: str, tmp: Path):
        self.run_id, self.tmp = run_id, tmp
        self.final: Path | None = None
        self.index_problem: str | None = None


@contextmanager
def landing(root: Path, year: int, code: str, digest: str | None = None, run_id: str | None = None):
    """Reserve a run id (a new one from ``digest``, or the ``run_id`` a cluster worker named), stage the run's
    files in the body, and publish them when it ends without error; a full or read-only disk becomes one clear
    error; the reservation goes whatever happens. Every run, region run and cluster run lands through here."""
    try:
        if run_id is None:
            run_id, reservation = reserve(root, year, code, digest)
        else:
            reservation = reserve_exact(root, year, code, run_id)
    except OSError as e:
        raise disk_error(e, root) from None
    try:
        with staging(root, run_id) as tmp:
            land = Landing(run_id, tmp)
            yield land
            land.final = publish(tmp, root, year, code, run_id)
    except OSError as e:
        if e.errno not in DISK_ERRORS:
            raise
        raise disk_error(e, root) from None
    finally:
        shutil.rmtree(reservation, ignore_errors=True)
    land.index_problem = index_add(root, land.final)


def publish(tmp: Path, root: Path, year: int, code: str, run_id: str) -> Path:
    """Make the files read-only and rename the finished folder into place (never over an existing run)."""
    final = run_dir(root, year, code, run_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    for p in tmp.iterdir():
        os.chmod(p, FILE_MODE)
    if final.exists():
        raise AuditError(tr(f"{final} 已存在；档案库中的内容从不覆盖",
                            f"{final} exists already; the archive is never overwritten"))
    os.chmod(tmp, DIR_MODE & ~0o222 | 0o200)       # the owner may still rename it into place
    os.rename(tmp, final)
    os.chmod(final, DIR_MODE & ~0o222)
    return final


def statement_of(folder: Path) -> dict | None:
    """The statement in a run folder, read without verifying: for listing what a folder claims only."""
    return payload_unverified(folder)


@contextmanager
def scratch(root: Path):
    """A private scratch folder for one run (the kernel's hand-off file holds full records): under
    <archive>/.tmp, named by the process, removed at the end or by the next run if this one is killed."""
    d = Path(root) / ".tmp" / f"scratch-{time.monotonic_ns()}{owner_tag()}"
    d.mkdir(mode=0o700)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


def disk_error(e: OSError, root: Path) -> AuditError:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return AuditError(tr(f"档案库 {root} 所在磁盘已满；未归档任何内容",
                             f"the disk holding the archive {root} is full; nothing was archived"))
    return AuditError(tr(f"档案库 {root} 无法写入（{e.strerror or e}）；未归档任何内容",
                         f"the archive {root} cannot be written ({e.strerror or e}); nothing was archived"))


# ---------------------------------------------------------------- index.sqlite (derived)

SCHEMA = """create table if not exists runs (
    run_id text not null, district_code text not null, year integer not null, path text not null,
    findings_digest text, signer text, signer_keyid text, started text, finished text, supersedes text,
    primary key (year, district_code, run_id))"""


def _connect(root: Path) -> sqlite3.Connection:
    con = sqlite3.connect(root / "index.sqlite", timeout=60)
    con.execute(SCHEMA)
    return con


def _verified(folder: Path, trusted=None) -> tuple[list[str], dict | None]:
    """Runs signed by a trusted key, or by the DEMO key (listed as DEMO), at the place they name."""
    from .provenance.verify import verify

    try:
        return verify(folder, trusted, allow_demo=True)
    except (AuditError, OSError) as e:
        return [str(e)], None


def _row(root: Path, folder: Path, st: dict) -> tuple:
    p = st["predicate"]
    return (folder.name, str(p.get("district_code")), int(p.get("year")), str(folder.relative_to(root)),
            p.get("findings_digest"), p.get("signer", {}).get("name"), p.get("signer", {}).get("keyid"),
            p.get("started"), p.get("finished"), p.get("supersedes"))


def index_add(root: Path, folder: Path) -> str | None:
    """Add a published run to the index. The run is already in the archive, so a broken index is a warning
    (returned), never an error that would invite running the audit again: the index can be rebuilt."""
    problems, st = _verified(folder)
    if problems:
        return f"{folder} does not verify and was not indexed: " + "; ".join(problems)
    row = _row(root, folder, st)
    last = None
    for attempt in range(20):
        try:
            with _connect(root) as con:
                con.execute("insert or replace into runs values (?,?,?,?,?,?,?,?,?,?)", row)
            return None
        except sqlite3.OperationalError as e:
            last = e
            if "locked" not in str(e):
                break
            time.sleep(0.1 * (attempt + 1))
        except sqlite3.DatabaseError as e:
            last = e
            break
    return f"the archive index {root / 'index.sqlite'} could not be updated ({last}); run `audit archive reindex`"


def reindex(root: Path, trusted=None) -> tuple[int, list[str]]:
    """Rebuild index.sqlite from the run folders: (runs indexed, folders skipped with the reason)."""
    root = Path(root)
    if not root.is_dir():
        raise AuditError(tr(f"档案库 {root} 不是文件夹",
                            f"archive {root} is not a folder"))
    rows, skipped = [], []
    for sig in sorted(root.glob(f"[0-9]*/*/*/{SIGNATURE}")):
        folder = sig.parent
        problems, st = _verified(folder, trusted)
        if problems:
            skipped.append(f"{folder.relative_to(root)}: " + "; ".join(problems))
        else:
            rows.append(_row(root, folder, st))
    tmp = root / "index.sqlite.tmp"
    try:
        if tmp.exists():
            tmp.unlink()
        con = sqlite3.connect(tmp)
        con.execute(SCHEMA)
        con.executemany("insert or replace into runs values (?,?,?,?,?,?,?,?,?,?)", rows)
        con.commit()
        con.close()
        os.replace(tmp, root / "index.sqlite")
    except (OSError, sqlite3.Error) as e:
        raise AuditError(tr(f"档案库索引 {root / 'index.sqlite'} 无法写入（{e}）",
                            f"the archive index {root / 'index.sqlite'} cannot be written ({e})")) from None
    return len(rows), skipped


def listing(root: Path) -> list[dict]:
    root = Path(root)
    if not (root / "index.sqlite").exists():
        reindex(root)
    try:
        with _connect(root) as con:
            cur = con.execute("select run_id, district_code, year, path, findings_digest, signer, supersedes "
                              "from runs order by year, district_code, run_id")
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]
    except sqlite3.Error as e:
        raise AuditError(tr(f"档案库索引 {root / 'index.sqlite'} 无法读取（{e}）；请用 `audit archive reindex` 重建",
                            f"the archive index {root / 'index.sqlite'} is not readable ({e}); rebuild it with "
                            f"`audit archive reindex`")) from None
