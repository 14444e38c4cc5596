"""Dask distributed: district runs and EL07 buckets sent to a bureau's cluster; results brought home. Signs nothing.

What runs where:
- on a worker: ``python -m audit_lib.cli compute ITEM`` in its own process and session (killed with its whole
  group on the timeout): the checks, the notebook, the HTML and the workpaper, written to a temporary folder
  and sent back as bytes with their sha256 and the predicate's draft. A kernel that did not start (exit 4) is
  raised, so Dask tries the task again; a task whose worker is lost is rescheduled by Dask on another worker.
- on this machine (the client): each result's files checked against their digests, the findings' own digest
  recomputed, the inputs on the shared path checked against the digests the worker recorded, the worker's code
  (notebook and each check's source) compared with ours; then signed with the bureau's key and landed in the
  archive atomically, once per district item, whatever the cluster did. No key ever leaves this machine.
- EL07: the districts are staged as Parquet on the shared path, split into hash buckets of the identity number
  (DuckDB ``PARTITION_BY``), one task per bucket runs the same query on a worker, and the results are merged in
  the same order the one-machine path gives, so findings.json is byte-identical.

Inputs are read by the workers from a shared path (the packages stay where the bureau keeps them; a district is
hundreds of megabytes, and the signed statement records the path reproduce reads them from), never sent with
the task.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import AuditError
from .i18n import lang, tr

LOCAL = "local"


class KernelDidNotStart(RuntimeError):
    """Raised on a worker so that Dask tries the task again."""


# ---------------------------------------------------------------------------------------------- connecting


def security(ca: str | None, cert: str | None, key: str | None):
    from distributed.security import Security

    given = [x for x in (ca, cert, key) if x]
    if given and len(given) != 3:
        raise AuditError(tr("--tls-ca-file、--tls-cert、--tls-key 须一起给出",
                            "--tls-ca-file, --tls-cert and --tls-key go together"))
    for f in given:
        if not Path(f).is_file():
            raise AuditError(tr(f"{f}：文件不存在", f"{f}: no such file"))
    if given:
        return Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
    return Security()            # the Dask config file's distributed.comm.tls settings, if any


@contextmanager
def client(scheduler: str, ca: str | None = None, cert: str | None = None, key: str | None = None,
           timeout: str = "20s"):
    """A Dask client for ``tcp://…``/``tls://…`` or ``local[:N]`` (a LocalCluster of N worker processes)."""
    import logging

    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler == LOCAL or scheduler.startswith(LOCAL + ":"):
            n = scheduler.partition(":")[2] or "2"
            if not n.isdigit() or int(n) < 1:
                raise AuditError(tr(f"--scheduler {scheduler}：local 后应为工作进程数，例如 local:2",
                                    f"--scheduler {scheduler}: local takes a number of workers, e.g. local:2"))
            cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            c = Client(cluster)
        else:
            if not scheduler.startswith(("tcp://", "tls://")):
                raise AuditError(tr(f"--scheduler {scheduler}：应为 tcp://主机:端口、tls://主机:端口 或 local[:N]",
                                    f"--scheduler {scheduler}: tcp://HOST:PORT, tls://HOST:PORT or local[:N] expected"))
            sec = security(ca, cert, key)
            if scheduler.startswith("tcp://") and (ca or cert or key):
                raise AuditError(tr("TLS 证书只用于 tls:// 地址", "TLS files are for a tls:// address"))
            try:
                c = Client(scheduler, security=sec, timeout=timeout)
            except (OSError, TimeoutError) as e:
                raise AuditError(tr(f"无法连接集群 {scheduler}（{type(e).__name__}: {str(e)[:200]}）；请检查地址，"
                                    f"以及 TLS 证书是否由集群信任的 CA 签发",
                                    f"cannot connect to the cluster {scheduler} ({type(e).__name__}: {str(e)[:200]}); "
                                    f"check the address, and that the TLS certificate is signed by a CA the cluster "
                                    f"trusts")) from None
        try:
            yield c
        finally:
            c.close()
    finally:
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------------------------- on a worker


def remote_run(item: str, params: str | None, language: str, signer: str, keyid: str, supersedes: str | None,
               timeout: float | None) -> dict:
    """On a worker: the run's files computed in a process of their own; returned as bytes with the draft."""
    from .batch import error_text, kill_group
    from .provenance.attest import RUN_FILES

    with tempfile.TemporaryDirectory(prefix="audit-remote-") as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "audit_lib.cli", "--lang", language, "compute", item, "--out", str(out),
               "--signer", signer, "--keyid", keyid]
        if params:
            cmd += ["--params", params]
        if supersedes:
            cmd += ["--supersedes", supersedes]
        with open(Path(tmp) / "err", "wb") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                return {"status": "timeout", "worker_seconds": timeout}
            finally:
                kill_group(proc)
        err_text = error_text(Path(tmp) / "err")
        if rc == 4:
            raise KernelDidNotStart(err_text or "exit 4")
        if rc not in (0, 1):
            return {"status": "failed", "error": err_text or f"exit {rc}"}
        draft = json.loads((out / "draft.json").read_text(encoding="utf-8"))
        return {"status": "ok", "draft": draft, "files": {n: (out / n).read_bytes() for n in RUN_FILES},
                "host": os.uname().nodename, "pid": os.getpid()}


# ---------------------------------------------------------------------------------------------- on this machine


def land(root: Path, result: dict, sk, expect: dict) -> Path:
    """Check a worker's result and sign and land it; AuditError naming what did not match (nothing lands)."""
    from . import archive, findings, inputs
    from .checks import REGISTRY
    from .provenance import attest
    from .provenance.verify import input_problems
    from .runner import NOTEBOOK, refuse_demo, seal
    from .package.load import sha256_file

    draft, files = result["draft"], result["files"]
    problems = []
    if set(files) != set(attest.RUN_FILES):
        problems.append(tr("返回的文件不全", "the files returned are not the run's four"))
    for n, b in files.items():
        if hashlib.sha256(b).hexdigest() != draft["subjects"].get(n):
            problems.append(tr(f"{n} 与其摘要不符", f"{n} does not match its digest"))
    try:
        doc = json.loads(files["findings.json"].decode("utf-8"))
        if findings.compute_digest(doc) != doc.get("digest") or doc.get("digest") != draft["findings_digest"]:
            problems.append(tr("findings.json 的摘要不符", "findings.json's digest does not match"))
    except (KeyError, ValueError):
        problems.append(tr("findings.json 无法读取", "findings.json cannot be read"))
    m = draft["meta"]
    if str(m.get("district_code")) != expect["district_code"] or int(m.get("year")) != expect["year"]:
        problems.append(tr(f"工作进程返回的是 {m.get('district_code')} {m.get('year')} 年，不是所交给的数据包",
                           f"the worker returned {m.get('district_code')} {m.get('year')}, not the package given"))
    if Path(draft["package_path"]) != Path(expect["package"]):
        problems.append(tr(f"工作进程读取的是 {draft['package_path']}，不是 {expect['package']}",
                           f"the worker read {draft['package_path']}, not {expect['package']}"))
    problems += input_problems(Path(expect["package"]), draft["files"])
    if draft["notebook_sha256"] != sha256_file(NOTEBOOK):
        problems.append(tr("工作进程的笔记本与本机不同（代码版本不一致）",
                           "the worker's notebook differs from this machine's (another code version)"))
    problems += attest.code_differences(draft["checks"], REGISTRY)
    if draft["signer"] != sk.signer or draft["keyid"] != sk.keyid:
        problems.append(tr("报告中的签名人不是本机的签名人", "the report names another signer than this machine's"))
    if problems:
        raise AuditError(tr("集群结果未通过核对，未签名：", "the cluster's result did not check out; not signed: ")
                         + "; ".join(problems))
    refuse_demo(sk, m, expect["package"])
    year, code, run_id = int(m["year"]), str(m["district_code"]), draft["run_id"]
    with archive.landing(root, year, code, run_id=run_id) as land:
        inputs.keep(root, Path(expect["package"]), draft["files"])
        inputs.keep_file(root, attest.LOCK)
        for n, b in files.items():
            (land.tmp / n).write_bytes(b)
        seal(land.tmp, draft, sk)
    if land.index_problem:
        print(tr(f"audit：警告：{land.index_problem}", f"audit: warning: {land.index_problem}"), file=sys.stderr)
    return land.final


def run_batch(client, items: list[str], archive_root: str | None = None, key: str | None = None,
              timeout: float | None = None, retries: int = 1, progress=None) -> list:
    """Each item's district run computed on the cluster, signed and landed here as results arrive."""
    from distributed import as_completed

    from . import PROJECT_ROOT, archive
    from .batch import Job, Progress
    from .package.load import read_meta
    from .provenance import keys
    from .runner import resolve

    jobs = [Job(i) for i in items]
    progress = progress or Progress(len(jobs))
    sk = keys.signing_key(keys.select_key(key))
    futures = {}
    root = None
    for j in jobs:
        try:
            package, params = resolve(j.item, None)
            meta, _ = read_meta(package)
            r = Path(archive_root or params.archive or PROJECT_ROOT / "reports").resolve()
            if root is None:
                root = archive.prepare_root(r)
            elif r != root:
                raise AuditError(tr(f"{j.item}：其参数文件指向另一个档案库 {r}", f"{j.item}: its params name another "
                                                                   f"archive {r}"))
            code, year = str(meta["district_code"]), int(meta["year"])
            previous = archive.runs_of(root, year, code)
            expect = {"district_code": code, "year": year, "package": str(Path(package).resolve())}
            item = str(Path(j.item).resolve())
            f = client.submit(remote_run, item, None, lang(), sk.signer, sk.keyid,
                              previous[-1].name if previous else None, timeout, retries=retries, pure=False,
                              key=f"audit-run-{code}-{year}-{len(futures)}")
            futures[f] = (j, expect)
            j.status, j.started, j.attempts = "running", time.perf_counter(), 1
        except AuditError as e:
            j.status, j.detail = "failed", str(e)
    progress.show(jobs)
    for f in as_completed(list(futures)):
        j, expect = futures[f]
        j.seconds = time.perf_counter() - j.started
        try:
            res = f.result()
        except Exception as e:            # the task failed on every try (a kernel that never started, a lost worker)
            j.status, j.detail = "failed", f"{type(e).__name__}: {str(e)[:300]}"
            progress.show(jobs)
            continue
        if res["status"] == "timeout":
            j.status = "timeout"
            j.detail = tr(f"超时：{timeout:g} 秒内未完成，已在工作节点上终止其整个进程组",
                          f"timed out: not done in {timeout:g} s; its whole process group was killed on the worker")
        elif res["status"] == "failed":
            j.status, j.detail = "failed", res["error"]
        else:                              # one future per item, each result once: a run lands once
            try:
                j.detail = str(land(root, res, sk, expect))
                j.status = "incomplete" if res["draft"]["in_error"] else "ok"
            except AuditError as e:
                j.status, j.detail = "failed", str(e)
        progress.show(jobs)
    progress.show(jobs, final=True)
    return jobs


# ---------------------------------------------------------------------------------------------- EL07 buckets


def el07_bucket(folder: str) -> "object":
    """On a worker: EL07 over one hash bucket of the staged lines (every line of a person is in one bucket)."""
    from .checks.eligibility import el07_query
    from .checks.staged import connect

    con = connect(Path(folder) / "spill")
    try:
        con.execute(f"CREATE TEMP VIEW ok_payments AS SELECT * FROM read_parquet('{_sql(folder)}/*.parquet')")
        return el07_query(con, "ok_payments")
    finally:
        con.close()


def _sql(s: str) -> str:
    return s.replace("'", "''")


class BucketExecutor:
    """What EL07 calls to run its query bucket by bucket on the cluster."""

    def __init__(self, client, buckets: int):
        self.client = client
        self.buckets = buckets

    def map(self, folders: list[str]) -> list:
        futures = self.client.map(el07_bucket, folders, pure=False, retries=2)
        return self.client.gather(futures)


__all__ = ["BucketExecutor", "client", "land", "remote_run", "run_batch", "security"]
