"""The run predicate: built and read here alone (the runner, the archive and the command line ask this module).

A run's attestation is a DSSE envelope over an in-toto Statement v1 whose subjects are the run's four files and
whose predicate records what was asked (parameters), what was read (every input file, package.yaml included,
with bytes and sha256), the code, the environment, the times, the findings digest, the signer, and where the
run belongs (run id, district code, year), so that a statement moved to another folder no longer verifies.
"""
from __future__ import annotations

import base64
import binascii
import json
import platform
import subprocess
from pathlib import Path

from .. import PROJECT_ROOT, __version__
from ..errors import VerificationError
from . import dsse
from ..i18n import tr

RUN_FILES = ("report.html", "report.pdf", "notebook.ipynb", "findings.json", "workpaper.xlsx")
# runs signed before the PDF existed carry the other four only; a run that names report.pdf must have it
REQUIRED_FILES = ("report.html", "notebook.ipynb", "findings.json", "workpaper.xlsx")
FOLLOWUP_FILES = ("followup.html", "dispositions.json")      # a follow-up's subjects (audit followup)
SIGNATURE = "attestation.dsse.json"
PUBKEY = "signer.pub.pem"
MAX_ENVELOPE = 16 << 20


def git_commit() -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           timeout=5)
        return (r.stdout.strip() or None) if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


LOCK = PROJECT_ROOT / "requirements.lock"


def installed_packages() -> dict:
    """Every distribution installed in this environment: name (normalised) -> version."""
    import re
    from importlib import metadata

    out = {}
    for d in metadata.distributions():
        name = d.metadata.get("Name")
        if name:
            out[re.sub(r"[-_.]+", "-", name).lower()] = d.version
    return dict(sorted(out.items()))


def lock_sha256() -> str | None:
    import hashlib

    try:
        return hashlib.sha256(LOCK.read_bytes()).hexdigest()
    except OSError:
        return None


def package_differences(recorded: dict | None) -> list[str]:
    """Packages whose version now differs from the one a run recorded (or that are gone, or new)."""
    if not recorded:
        return []
    now = installed_packages()
    out = []
    for name in sorted(set(recorded) | set(now)):
        a, b = recorded.get(name), now.get(name)
        if a != b and name != "audit-lib":
            out.append(tr(f"{name}：运行时 {a or '（无）'}，现在 {b or '（无）'}", f"{name}: run {a or '(none)'}, now {b or '(none)'}"))
    return out


def environment() -> dict:
    env = {"python": platform.python_version(), "platform": platform.platform(), "lock_sha256": lock_sha256(),
           "packages": installed_packages()}
    for mod in ("pandas", "numpy", "pyarrow", "duckdb", "scipy", "papermill", "nbconvert", "openpyxl",
                "cryptography"):
        try:
            env[mod] = __import__(mod).__version__
        except Exception:
            env[mod] = None
    return env


def predicate(*, run_id: str, meta: dict, supersedes: str | None, params: dict, package_path: str,
              files: list[dict], notebook: Path, notebook_sha256: str, started: str, finished: str,
              findings_digest: str, signer: str, keyid: str, checks: list[dict], in_error: list[str],
              previous_year: dict | None = None) -> dict:
    p = {
        "run_id": run_id, "district_code": str(meta["district_code"]),
        "district_name": meta.get("district_name", ""), "year": int(meta["year"]), "supersedes": supersedes,
        "parameters": params,
        "package": {"path": package_path, "files": [
            {"path": f["path"], "table": f["table"], "bytes": f["bytes"], "sha256": f["sha256"]} for f in files]},
        "code": {"audit_lib": __version__, "git_commit": git_commit(),
                 "notebook": str(notebook.relative_to(PROJECT_ROOT)) if notebook.is_relative_to(PROJECT_ROOT)
                 else notebook.name, "notebook_sha256": notebook_sha256,
                 "checks": sorted(checks, key=lambda c: c["id"])},
        "incomplete": bool(in_error), "checks_in_error": sorted(in_error),
        "environment": environment(),
        "started": started, "finished": finished, "findings_digest": findings_digest,
        "signer": {"name": signer, "keyid": keyid},
    }
    if previous_year is not None:
        p["previous_year"] = previous_year
    return p


def region_predicate(*, run_id: str, meta: dict, supersedes: str | None, params: dict, runs: list[dict],
                     notebook: Path, notebook_sha256: str, started: str, finished: str, findings_digest: str,
                     signer: str, keyid: str, checks: list[dict], in_error: list[str]) -> dict:
    """A region run's predicate: the district runs it rests on (each by place, attestation sha256, findings
    digest, signer, and the package it recorded), so verify checks the chain and reproduce re-derives it."""
    p = predicate(run_id=run_id, meta=meta, supersedes=supersedes, params=params, package_path="", files=[],
                  notebook=notebook, notebook_sha256=notebook_sha256, started=started, finished=finished,
                  findings_digest=findings_digest, signer=signer, keyid=keyid, checks=checks, in_error=in_error)
    del p["package"]
    p["kind"] = "region"
    p["district_runs"] = [{k: r[k] for k in ("run", "run_id", "district_code", "district_name",
                                             "attestation_sha256", "findings_digest", "signer", "package")}
                          for r in runs]
    return p


def code_differences(recorded: list[dict], registry) -> list[str]:
    """Checks whose code now differs from the code a run recorded (or that are not registered any more)."""
    from ..checks.registry import fingerprint

    out = []
    for rec in recorded or []:
        cid = rec.get("id")
        if cid not in registry:
            out.append(tr(f"检查 {cid}（{rec.get('origin')}，来自 {rec.get('module')}）在此未注册",
                          f"check {cid} ({rec.get('origin')}, from {rec.get('module')}) is not registered here"))
            continue
        c = registry.get(cid)
        now = fingerprint(c)
        if now["source_sha256"] != rec.get("source_sha256"):
            out.append(tr(f"检查 {cid} 的代码与运行时不同：记录的为 {rec.get('module')}.{rec.get('qualname')} "
                          f"sha256 {str(rec.get('source_sha256'))[:16]}…，现在为 {now['module']}.{now['qualname']} "
                          f"sha256 {now['source_sha256'][:16]}…（{registry.origin(c, now)}）",
                          f"check {cid}'s code differs from the run's: recorded {rec.get('module')}.{rec.get('qualname')} "
                          f"sha256 {str(rec.get('source_sha256'))[:16]}…, now {now['module']}.{now['qualname']} "
                          f"sha256 {now['source_sha256'][:16]}… ({registry.origin(c, now)})"))
    return out


def read_envelope(folder: Path) -> dict:
    """The envelope in a run folder, checked for shape; VerificationError (exit 3) when malformed."""
    p = Path(folder) / SIGNATURE
    try:
        if not p.is_file() or p.is_symlink():
            raise VerificationError(tr(f"{folder}：没有 {SIGNATURE}（不是运行文件夹，或签名缺失）",
                                       f"{folder}: no {SIGNATURE} (not a run folder, or its signature is missing)"))
        if p.stat().st_size > MAX_ENVELOPE:
            raise VerificationError(tr(f"{p}：太大，不是签名声明",
                                       f"{p}: too large to be an attestation"))
        env = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise VerificationError(tr(f"{p}：不是可读的签名声明（{type(e).__name__}）",
                                   f"{p}: not a readable attestation ({type(e).__name__})")) from None
    if not isinstance(env, dict) or not isinstance(env.get("payload"), str) \
            or not isinstance(env.get("signatures"), list) or not env["signatures"] \
            or not all(isinstance(s, dict) and isinstance(s.get("sig"), str) for s in env["signatures"]):
        raise VerificationError(tr(f"{p}：DSSE 信封格式错误（应有 payload 和 signatures）",
                                   f"{p}: malformed DSSE envelope (payload and signatures expected)"))
    return env


def statement_shape(st) -> dict:
    """The statement, if it has the shape a run's statement has; else VerificationError."""
    ok = isinstance(st, dict) and isinstance(st.get("subject"), list) and isinstance(st.get("predicate"), dict)
    if ok:
        for s in st["subject"]:
            if not (isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("digest"), dict)
                    and isinstance(s["digest"].get("sha256"), str)):
                ok = False
        pred = st["predicate"]
        for k in ("run_id", "district_code", "year", "findings_digest"):
            if k not in pred:
                ok = False
    if not ok:
        raise VerificationError(tr("签名的声明不具有运行声明的结构",
                                   "the signed statement does not have the shape of a run's statement"))
    return st


def payload_unverified(folder: Path) -> dict | None:
    """The statement without checking the signature: only for messages, never for decisions."""
    try:
        env = read_envelope(folder)
        return statement_shape(json.loads(base64.b64decode(env["payload"], validate=True)))
    except (VerificationError, ValueError, binascii.Error):
        return None


def verify_envelope(env: dict, public) -> dict:
    try:
        st = dsse.verify(env, public)
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise VerificationError(tr(f"签名验证失败：{e}",
                                   f"the signature does not verify: {e}")) from None
    return statement_shape(st)
