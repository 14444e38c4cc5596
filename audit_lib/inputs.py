"""The archive's store of run inputs, content-addressed: <archive>/.inputs/sha256/<2 hex>/<64 hex>.

Every input file a run read is kept once, by its sha256, read-only, however many runs share it: the archive
grows with distinct inputs, not with runs. A file is copied in through a temporary name and renamed into place
only when its bytes have the digest the run recorded, so a name in the store always means those bytes (and
whoever reads one checks again). ``audit reproduce`` rebuilds a package from the store when the original
folder is gone or has changed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from .errors import AuditError
from .i18n import tr

STORE = ".inputs"
FILE_MODE = 0o440


def path_of(root: Path, sha256: str) -> Path:
    return Path(root) / STORE / "sha256" / sha256[:2] / sha256


def keep(root: Path, package: Path, files: list[dict]) -> int:
    """Copy each recorded input of ``package`` into the store unless it is there; returns how many were new.
    AuditError when a file's bytes are no longer those the run read (it changed during the run)."""
    new = 0
    for f in files:
        dst = path_of(root, f["sha256"])
        if dst.is_file():
            continue
        if not copy_checked(Path(package) / f["path"], dst, f["sha256"]):
            raise AuditError(tr(f"{Path(package) / f['path']} 在审计期间被改动（sha256 与读取时不同）；未归档",
                                f"{Path(package) / f['path']} changed during the audit (its sha256 differs from what "
                                f"was read); nothing archived"))
        new += 1
    return new


def copy_checked(src: Path, dst: Path, sha256: str) -> bool:
    """Copy ``src`` to ``dst`` (read-only) if its bytes have ``sha256``; False (nothing written) otherwise."""
    h = hashlib.sha256()
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    with open(src, "rb") as a, open(tmp, "wb") as b:
        for chunk in iter(lambda: a.read(1 << 22), b""):
            h.update(chunk)
            b.write(chunk)
    if h.hexdigest() != sha256:
        tmp.unlink(missing_ok=True)
        return False
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, dst)
    return True


def keep_file(root: Path, path: Path) -> str | None:
    """Keep one file (the lock file) in the store by its digest; its sha256, or None when it cannot be read."""
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
    dst = path_of(root, digest)
    if not dst.is_file():
        copy_checked(Path(path), dst, digest)
    return digest


def rebuild(root: Path, files: list[dict], out: Path) -> list[str]:
    """A package folder made from the store: each recorded file under its recorded name, its digest checked.
    Returns the problems (a file missing from the store, or not the bytes its name says)."""
    problems = []
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        rel = Path(f["path"])
        if rel.is_absolute() or ".." in rel.parts:
            problems.append(tr(f"输入路径不在数据包内：{f['path']}", f"input path not inside the package: {f['path']}"))
            continue
        src = path_of(root, f["sha256"])
        if not src.is_file():
            problems.append(tr(f"档案库中没有保存该输入：{f['path']}（sha256 {f['sha256'][:16]}…）",
                               f"the archive does not keep this input: {f['path']} (sha256 {f['sha256'][:16]}…)"))
            continue
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        h = hashlib.sha256(dst.read_bytes()).hexdigest()
        if h != f["sha256"]:
            problems.append(tr(f"档案库保存的输入已改动：{f['path']}", f"the archive's copy of an input changed: {f['path']}"))
    return problems
