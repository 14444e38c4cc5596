"""``audit run``: the one audit pipeline -> the parameterised notebook -> HTML -> workpaper -> signature ->
archive. The checks are computed once per run (in the command; the kernel receives the results as a file)."""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from . import PROJECT_ROOT, archive, findings, inputs
from .errors import AuditError
from .package.load import sha256_file
from .params import Params
from .followup import history
from .provenance import attest, dsse, keys
from .i18n import tr

NOTEBOOK = PROJECT_ROOT / "notebooks" / "district_audit.ipynb"


def resolve(target: str, params_path: str | None) -> tuple[Path, Params]:
    """A package folder or a params YAML -> (package folder, params)."""
    t = Path(target)
    if t.is_file() and t.suffix.lower() in (".yaml", ".yml"):
        if params_path:
            raise AuditError(tr(f"{t} 已经是参数文件；--params {params_path} 会被忽略",
                                f"{t} is a params file already; --params {params_path} would be ignored"))
        params = Params.from_file(t)
        if not params.data:
            raise AuditError(tr(f"{t}：交给 audit run 的参数文件必须写明 'data'（数据包文件夹）",
                                f"{t}: 'data' (the package folder) is required in a params file given to audit run"))
        return Path(params.data), params
    if not t.is_dir():
        raise AuditError(tr(f"{t}：既不是数据包文件夹，也不是参数 .yaml 文件",
                            f"{t}: not a package folder or a params .yaml file"))
    params = Params.from_file(params_path) if params_path else Params()
    if params.data and Path(params.data).resolve() != t.resolve():
        raise AuditError(tr(f"{params_path}：'data' 指向 {params.data}，但给出的数据包是 {t}",
                            f"{params_path}: 'data' names {params.data}, but the package given is {t}"))
    return t, params


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_run(d, package: Path, params: Params, out: Path, scratch: Path, run_id: str, signer: str, keyid: str,
               supersedes: str | None, runtime_dir: Path, started: str, timings: dict) -> dict:
    """The run's four files written into ``out`` (findings, workpaper, executed notebook, HTML) and the draft of
    its predicate: everything the signature will say but the signer's key. Computing needs no key, so this part
    may run anywhere (a cluster worker); signing (``seal``) stays with the bureau."""
    from .report import render, workpaper

    code, year = d.meta["district_code"], int(d.meta["year"])
    t = time.perf_counter()
    findings.write(d.findings, out / "findings.json")
    workpaper.write(out / "workpaper.xlsx", d.findings, d.evidence)
    timings["workpaper"] = time.perf_counter() - t
    handoff = d.save(scratch / "run.pkl")
    t = time.perf_counter()
    render.execute(NOTEBOOK, out / "notebook.ipynb", {
        "district_code": code, "year": year, "package": str(package), "params_file": params.path or "",
        "run_data": str(handoff), "run_id": run_id, "signer": signer, "signer_keyid": keyid,
        "supersedes": supersedes or ""}, cwd=PROJECT_ROOT, runtime_dir=runtime_dir)
    timings["notebook"] = time.perf_counter() - t
    t = time.perf_counter()
    title = f"{d.meta.get('district_name', '')}{year}年一卡通审计报告 {run_id}"
    html = render.to_html(out / "notebook.ipynb", title)
    (out / "report.html").write_text(html, encoding="utf-8")
    timings["render"] = time.perf_counter() - t
    t = time.perf_counter()
    render.to_pdf(html, out / "report.pdf")
    timings["pdf"] = time.perf_counter() - t
    return {"run_id": run_id, "meta": {k: d.meta[k] for k in ("district_code", "district_name", "year", "synthetic")
                                       if k in d.meta},
            "supersedes": supersedes, "params": params.record(), "package_path": str(Path(package).resolve()),
            "files": d.files, "notebook_sha256": sha256_file(NOTEBOOK), "started": started, "finished": _now(),
            "findings_digest": d.findings["digest"], "signer": signer, "keyid": keyid, "checks": d.checks_code,
            "in_error": d.in_error, "not_builtin": d.not_builtin,
            "subjects": {n: sha256_file(out / n) for n in attest.RUN_FILES},
            "previous_year": history.record(d.history)}


def seal(folder: Path, draft: dict, sk) -> None:
    """Sign a run's files in ``folder`` with the draft's predicate: on the bureau's machine, with its key."""
    subjects = {n: sha256_file(folder / n) for n in attest.RUN_FILES}
    if subjects != draft["subjects"]:
        raise AuditError(tr("运行文件与其摘要不符，未签名", "the run's files do not match their digests; not signed"))
    predicate = attest.predicate(
        run_id=draft["run_id"], meta=draft["meta"], supersedes=draft["supersedes"], params=draft["params"],
        package_path=draft["package_path"], files=draft["files"], notebook=NOTEBOOK,
        notebook_sha256=draft["notebook_sha256"], started=draft["started"], finished=draft["finished"],
        findings_digest=draft["findings_digest"], signer=sk.signer, keyid=sk.keyid, checks=draft["checks"],
        in_error=draft["in_error"], previous_year=draft.get("previous_year"))
    env = dsse.sign(dsse.statement(subjects, predicate), sk.key)
    (folder / attest.SIGNATURE).write_text(json.dumps(env, indent=1) + "\n", encoding="utf-8")
    (folder / attest.PUBKEY).write_bytes(keys.public_pem(sk.key.public_key()))


def warn_run(draft: dict, warn) -> None:
    if draft["in_error"]:
        warn(tr(f"本次运行不完整：以下检查出错：{', '.join(draft['in_error'])}（已签名并标为不完整）",
                f"the run is incomplete: check(s) in error: {', '.join(draft['in_error'])} (signed and marked incomplete)"))
    for c in draft["not_builtin"]:
        warn(tr(f"检查 {c['id']} 为{c['origin']}（{c['module']}.{c['qualname']}），报告和签名中均如此注明",
                f"check {c['id']} is {c['origin']} ({c['module']}.{c['qualname']}), named so in the report and the "
                f"signature"))


def _warner(warn):
    return warn or (lambda m: print(tr(f"audit：警告：{m}", f"audit: warning: {m}"), file=sys.stderr))


def refuse_demo(sk, meta: dict, package) -> None:
    if sk.demo and not meta.get("synthetic"):
        raise AuditError(tr(f"演示密钥只签名模拟数据包（由 `audit synth` 生成）；{package} 不是。请用 `audit keygen --signer 姓名` 生成自己的密钥",
                            f"the DEMO key signs only synthetic packages (made by `audit synth`); {package} is not "
                            f"one. Make your own key with `audit keygen --signer 姓名`"))


def run(target: str, params_path: str | None = None, archive_root: str | None = None,
        key_path: str | None = None, timings: dict | None = None, warn=None) -> Path:
    from .report import data as rdata

    warn = _warner(warn)
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    started = _now()
    package, params = resolve(target, params_path)
    root = Path(archive_root or params.archive or PROJECT_ROOT / "reports").resolve()
    sk = keys.signing_key(keys.select_key(key_path or params.key))   # before any work: who signs, by name
    root = archive.prepare_root(root)

    d = rdata.prepare(package, params)
    refuse_demo(sk, d.meta, package)
    timings["checks"] = time.perf_counter() - t0
    code, year = d.meta["district_code"], int(d.meta["year"])
    previous = archive.runs_of(root, year, code)
    supersedes = previous[-1].name if previous else None
    d.history = history.compare(root, code, year, d.findings, allow_demo=sk.demo)
    if d.history and not d.history["verified"]:
        warn(tr(f"上年运行 {d.history['run']} 未通过验证，不作逐年比较：" + "; ".join(d.history["problems"]),
                f"last year's run {d.history['run']} does not verify; no comparison: " + "; ".join(d.history["problems"])))
    with archive.landing(root, year, code, digest=d.findings["digest"]) as land, archive.scratch(root) as scratch:
        draft = render_run(d, package, params, land.tmp, scratch, land.run_id, sk.signer, sk.keyid, supersedes,
                           root / ".tmp" / f"kernels{archive.owner_tag()}", started, timings)
        t = time.perf_counter()
        inputs.keep(root, package, draft["files"])        # the inputs, kept by digest, before the run lands
        inputs.keep_file(root, attest.LOCK)              # and the lock of the packages it ran on
        timings["inputs"] = time.perf_counter() - t
        t = time.perf_counter()
        seal(land.tmp, draft, sk)
        timings["sign"] = time.perf_counter() - t
    if land.index_problem:                          # the run is archived: an index problem is only a warning
        warn(land.index_problem)
    warn_run(draft, warn)
    timings["total"] = time.perf_counter() - t0
    return land.final
