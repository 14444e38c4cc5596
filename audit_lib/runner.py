"""``audit run``: the parameterised notebook -> HTML -> workpaper -> signature -> archive, computing the
checks once per run (in the command; the kernel receives the results as a file)."""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from . import PROJECT_ROOT, __version__, archive, findings
from .checks.engine import read_params
from .errors import AuditError
from .provenance import dsse, keys

from .package.load import sha256_file

NOTEBOOK = PROJECT_ROOT / "notebooks" / "district_audit.ipynb"


def resolve(target: str, params_path: str | None) -> tuple[Path, dict, str | None]:
    """A package folder or a params YAML -> (package folder, params, params file)."""
    t = Path(target)
    if t.is_file() and t.suffix.lower() in (".yaml", ".yml"):
        params = read_params(t)
        if not params.get("data"):
            raise AuditError(f"{t}: 'data' (the package folder) is required in a params file given to audit run")
        return Path(params["data"]), params, str(t)
    if not t.is_dir():
        raise AuditError(f"{t}: not a package folder or a params .yaml file")
    params = read_params(params_path) if params_path else {}
    return t, params, params_path


def _git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           timeout=5)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict:
    env = {"python": platform.python_version(), "platform": platform.platform()}
    for mod in ("pandas", "numpy", "pyarrow", "duckdb", "scipy", "papermill", "nbconvert", "openpyxl",
                "cryptography"):
        try:
            env[mod] = __import__(mod).__version__
        except Exception:
            env[mod] = None
    return env


def default_key() -> Path:
    env = os.environ.get("AUDIT_KEY")
    if env:
        return Path(env)
    folder = keys.keys_dir()
    found = sorted(folder.glob("*.pem"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
    found = [p for p in found if p.stem != "DEMO"] or found
    if not found:
        raise AuditError("no signing key: make one with `audit keygen --signer NAME`, or pass --key")
    return found[-1]


def run(target: str, params_path: str | None = None, archive_root: str | None = None,
        key_path: str | None = None, timings: dict | None = None) -> Path:
    from .report import data as rdata
    from .report import render, workpaper

    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    package, params, params_file = resolve(target, params_path)
    root = Path(archive_root or params.get("archive") or PROJECT_ROOT / "reports").resolve()
    key, signer = keys.load_private(Path(key_path or params.get("key") or default_key()))
    kid = keys.key_id(key.public_key())

    d = rdata.prepare(package, params)
    timings["checks"] = time.perf_counter() - t0
    code, year = d.meta["district_code"], int(d.meta["year"])
    root.mkdir(parents=True, exist_ok=True)
    previous = archive.runs_of(root, year, code)
    supersedes = previous[-1].name if previous else None
    run_id, reservation = archive.reserve(root, year, code, d.findings["digest"])
    try:
        with archive.staging(root, run_id) as tmp, tempfile.TemporaryDirectory(prefix="audit-run-") as scratch:
            t = time.perf_counter()
            findings.write(d.findings, tmp / "findings.json")
            workpaper.write(tmp / "workpaper.xlsx", d.findings, d.evidence)
            timings["workpaper"] = time.perf_counter() - t
            handoff = d.save(Path(scratch) / "run.pkl")
            t = time.perf_counter()
            render.execute(NOTEBOOK, tmp / "notebook.ipynb", {
                "district_code": code, "year": year, "package": str(package), "params_file": params_file or "",
                "run_data": str(handoff), "run_id": run_id, "signer": signer, "signer_keyid": kid,
                "supersedes": supersedes or ""}, cwd=PROJECT_ROOT)
            timings["notebook"] = time.perf_counter() - t
            t = time.perf_counter()
            title = f"{d.meta.get('district_name', '')}{year}年一卡通审计报告 {run_id}"
            (tmp / "report.html").write_text(render.to_html(tmp / "notebook.ipynb", title), encoding="utf-8")
            timings["render"] = time.perf_counter() - t
            t = time.perf_counter()
            subjects = {n: sha256_file(tmp / n) for n in archive.RUN_FILES}
            predicate = {
                "run_id": run_id, "district_code": code, "district_name": d.meta.get("district_name", ""),
                "year": year, "supersedes": supersedes,
                "parameters": {"file": params_file, "checks": params.get("checks"),
                               "parameters": d.findings["parameters"]},
                "package": {"path": str(Path(package).resolve()), "files": [
                    {"path": f["path"], "table": f["table"], "bytes": f["bytes"], "sha256": f["sha256"]}
                    for f in d.files]},
                "code": {"audit_lib": __version__, "git_commit": _git_commit(),
                         "notebook": "notebooks/district_audit.ipynb", "notebook_sha256": sha256_file(NOTEBOOK)},
                "environment": environment(),
                "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "finished": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "findings_digest": d.findings["digest"],
                "signer": {"name": signer, "keyid": kid},
            }
            env = dsse.sign(dsse.statement(subjects, predicate), key)
            (tmp / archive.SIGNATURE).write_text(json.dumps(env, indent=1) + "\n", encoding="utf-8")
            (tmp / archive.PUBKEY).write_bytes(keys.public_pem(key.public_key()))
            timings["sign"] = time.perf_counter() - t
            final = archive.publish(tmp, root, year, code, run_id)
    finally:
        try:
            reservation.rmdir()
        except OSError:
            pass
    archive.index_add(root, final)
    timings["total"] = time.perf_counter() - t0
    return final
