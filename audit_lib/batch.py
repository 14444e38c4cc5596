"""``audit batch``: many district audits at once, each in its own process.

Each district runs as a fresh ``python -m audit_lib.cli run`` (a new interpreter: spawned, never forked from an
orchestrator holding threads and open kernels), in its own session, so that on a timeout its whole process group
(the run, its notebook kernel and anything the kernel started) is killed, never left behind. A run whose kernel
did not start or died (exit 4: killed for memory, a port clash) is tried again; every other failure is reported
as it is. One line of progress is kept up to date by the orchestrator; a summary table follows; the exit status
is non-zero when any district failed. A run that succeeds has landed in the archive (``audit run`` lands it).
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import lang, tr

KERNEL_EXIT = 4


@dataclass
class Job:
    item: str
    attempts: int = 0
    status: str = "waiting"          # waiting, running, ok, incomplete, failed, timeout
    detail: str = ""                 # the run folder, or the error
    seconds: float = 0.0
    proc: subprocess.Popen | None = field(default=None, repr=False)
    started: float = 0.0
    out: Path | None = None
    err: Path | None = None


def _command(item: str, archive: str | None, key: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "audit_lib.cli", "--lang", lang(), "run", item]
    if archive:
        cmd += ["--archive", archive]
    if key:
        cmd += ["--key", key]
    return cmd


def kill_group(proc: subprocess.Popen) -> None:
    """Kill the run and everything it started (its session's process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _last_line(path: Path) -> str:
    try:
        lines = [x for x in path.read_text(encoding="utf-8", errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def error_text(path: Path) -> str:
    """The error an ``audit run`` printed (its last ``audit: error`` line, else its last line)."""
    try:
        lines = [x for x in path.read_text(encoding="utf-8", errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    mine = [x for x in lines if x.startswith(("audit: error:", "audit：错误："))]
    return (mine[-1] if mine else lines[-1] if lines else "").strip()


class Progress:
    """One line, rewritten in place on a terminal (a line per change otherwise): done, running, failed, elapsed,
    and the district in each slot."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self.last: tuple = ()

    def show(self, jobs: list[Job], final: bool = False) -> None:
        done = sum(j.status in ("ok", "incomplete") for j in jobs)
        failed = sum(j.status in ("failed", "timeout") for j in jobs)
        running = [j for j in jobs if j.status == "running"]
        slots = " ".join(f"[{Path(j.item).name}]" for j in running)
        secs = time.perf_counter() - self.t0
        line = tr(f"完成 {done}/{self.total}  运行中 {len(running)}  失败 {failed}  用时 {secs:5.0f} 秒  {slots}",
                  f"done {done}/{self.total}  running {len(running)}  failed {failed}  elapsed {secs:5.0f}s  {slots}")
        state = (done, failed, slots)
        if self.tty:                      # the line rewritten in place, the clock ticking
            self.stream.write("\r\x1b[K" + line + ("\n" if final else ""))
        elif state != self.last or final:   # a log: a line when something changed
            self.stream.write(line + "\n")
        self.stream.flush()
        self.last = state


def run_batch(items: list[str], jobs: int = 2, archive: str | None = None, key: str | None = None,
              timeout: float | None = None, retries: int = 1, progress: Progress | None = None,
              poll: float = 0.2) -> list[Job]:
    """Run each item's ``audit run`` in its own process, ``jobs`` at a time; returns the jobs in the order given."""
    todo = [Job(i) for i in items]
    queue = list(todo)
    running: list[Job] = []
    progress = progress or Progress(len(todo))
    logs = tempfile.TemporaryDirectory(prefix="audit-batch-")
    n_logs = itertools.count()
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                j = queue.pop(0)
                j.attempts += 1
                j.out = Path(logs.name) / f"{next(n_logs)}.out"
                j.err = j.out.with_suffix(".err")
                with open(j.out, "wb") as o, open(j.err, "wb") as e:
                    j.proc = subprocess.Popen(_command(j.item, archive, key), stdout=o, stderr=e,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
                j.started = time.perf_counter()
                j.status = "running"
                running.append(j)
            progress.show(todo)
            time.sleep(poll)
            for j in list(running):
                rc = j.proc.poll()
                elapsed = time.perf_counter() - j.started
                if rc is None:
                    if timeout is not None and elapsed > timeout:
                        kill_group(j.proc)
                        j.status = "timeout"
                        j.seconds += elapsed
                        j.detail = tr(f"超时：{timeout:g} 秒内未完成，已终止其整个进程组",
                                      f"timed out: not done in {timeout:g} s; its whole process group was killed")
                        running.remove(j)
                    continue
                kill_group(j.proc)            # anything the run left behind in its group (a stray kernel)
                running.remove(j)
                j.seconds += elapsed
                if rc in (0, 1):
                    j.status = "ok" if rc == 0 else "incomplete"
                    j.detail = _last_line(j.out)
                elif rc == KERNEL_EXIT and j.attempts <= retries:
                    j.status = "waiting"
                    queue.insert(0, j)         # the kernel did not start: once more
                else:
                    j.status = "failed"
                    j.detail = error_text(j.err) or tr(f"退出码 {rc}", f"exit status {rc}")
        progress.show(todo, final=True)
        return todo
    except BaseException:
        for j in running:
            kill_group(j.proc)
        raise
    finally:
        logs.cleanup()


RUN_STATUS_ZH = {"ok": "完成", "incomplete": "不完整", "failed": "失败", "timeout": "超时"}


def summary(jobs: list[Job]) -> list[str]:
    """The summary table the command prints: status, seconds, tries, item, and the run folder or the error."""
    out = [tr(f"{'状态':6s} {'用时(秒)':>8s} {'次数':>4s}  数据  →  运行文件夹或错误",
              f"{'status':10s} {'seconds':>8s} {'tries':>5s}  item  ->  run folder or error")]
    for j in jobs:
        st = tr(RUN_STATUS_ZH.get(j.status, j.status), j.status)
        out.append(tr(f"{st:6s} {j.seconds:8.1f} {j.attempts:4d}  {j.item}  →  {j.detail}",
                      f"{st:10s} {j.seconds:8.1f} {j.attempts:5d}  {j.item}  ->  {j.detail}"))
    failed = sum(j.status in ("failed", "timeout") for j in jobs)
    out.append(tr(f"完成 {len(jobs) - failed} 个，失败 {failed} 个", f"{len(jobs) - failed} done, {failed} failed"))
    return out
