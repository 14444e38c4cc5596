"""``audit region``: the district runs (verified) -> the cross-district checks over their recorded packages ->
the region notebook -> HTML -> workpaper -> a signature naming each district attestation -> the archive, under
<archive>/<year>/<region_code>/<run_id>/, the same way a district run lands."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .. import PROJECT_ROOT, archive, findings, inputs
from ..errors import AuditError, ParamsError
from ..i18n import tr
from ..package.load import sha256_file
from ..params import Params
from ..provenance import attest, dsse, keys
from ..runner import _now
from . import select
from .data import prepare

NOTEBOOK = PROJECT_ROOT / "notebooks" / "region_audit.ipynb"


def region_meta(runs: list, year: int, code: str | None, name: str | None) -> dict:
    codes = [r.code for r in runs]
    if code is None:
        code = select.region_of(codes)
        if code is None:
            raise AuditError(tr(f"这些区县（{', '.join(codes)}）不属于同一个市或省：请用 --code 指定区划代码",
                                f"these districts ({', '.join(codes)}) are not of one city or province: name the "
                                f"region with --code"))
    name = name or select.region_name(code)
    if not name:
        raise AuditError(tr(f"请用 --name 给出 {code} 的名称（例如 --name 新乡市）",
                            f"name the region {code} with --name (e.g. --name 新乡市)"))
    return {"district_code": code, "district_name": name, "year": int(year)}


def region_params(params_path: str | None, year: int, code: str | None) -> Params:
    params = Params.from_file(params_path) if params_path else Params(year=year)
    if params.year is not None and int(params.year) != int(year):
        raise ParamsError(tr(f"{params_path}：年度 {params.year} 与 --year {year} 不一致",
                             f"{params_path}: year {params.year} differs from --year {year}"))
    if params.district_code is not None and params.district_code != code:
        raise ParamsError(tr(f"{params_path}：district_code {params.district_code} 不是区域代码 {code}；区域运行不使用区县参数",
                             f"{params_path}: district_code {params.district_code} is not the region's {code}; a "
                             f"region run does not take a district's parameters"))
    if params.data:
        raise ParamsError(tr(f"{params_path}：区域运行依据各区县运行记录的数据包，不使用 'data'",
                             f"{params_path}: a region run reads the packages its district runs recorded, not 'data'"))
    return Params(**{**params.__dict__, "year": int(year)})


def run_region(year: int, runs: list | None = None, archive_root: str | None = None, code: str | None = None,
               name: str | None = None, key_path: str | None = None, params_path: str | None = None,
               trusted: str | None = None, timings: dict | None = None, warn=None) -> Path:
    from ..report import render, workpaper

    warn = warn or (lambda m: print(tr(f"audit：警告：{m}", f"audit: warning: {m}"), file=sys.stderr))
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    started = _now()
    if code is not None:
        select.check_code(code)
    if archive_root:
        root = Path(archive_root)
    elif runs:
        root = Path(runs[0]).resolve().parent.parent.parent
    else:
        root = PROJECT_ROOT / "reports"
    root = root.resolve()
    sk = keys.signing_key(keys.select_key(key_path))
    root = archive.prepare_root(root)
    # the DEMO key signs only over DEMO district runs; a real key only over runs its trusted set vouches for
    chosen = select.district_runs(root, year, runs, code, trusted, allow_demo=sk.demo)
    if sk.demo and any(r.predicate.get("signer", {}).get("keyid") != sk.keyid for r in chosen):
        raise AuditError(tr("演示密钥只签名依据演示运行的区域报告；请用自己的密钥（audit keygen --signer 姓名）",
                            "the DEMO key signs only a region report over DEMO runs; use your own key "
                            "(audit keygen --signer 姓名)"))
    meta = region_meta(chosen, year, code, name)
    params = region_params(params_path, year, meta["district_code"])
    timings["verify"] = time.perf_counter() - t0
    t = time.perf_counter()
    d = prepare(chosen, params, meta)
    timings["checks"] = time.perf_counter() - t
    rcode = meta["district_code"]
    previous = archive.runs_of(root, year, rcode)
    supersedes = previous[-1].name if previous else None
    with archive.landing(root, year, rcode, digest=d.findings["digest"]) as land, archive.scratch(root) as scratch:
        tmp, run_id = land.tmp, land.run_id
        findings.write(d.findings, tmp / "findings.json")
        workpaper.write(tmp / "workpaper.xlsx", d.findings, d.evidence)
        handoff = d.save(scratch / "region.pkl")
        t = time.perf_counter()
        render.execute(NOTEBOOK, tmp / "notebook.ipynb", {
            "region_code": rcode, "year": int(year), "archive": str(root), "run_data": str(handoff),
            "run_id": run_id, "signer": sk.signer, "signer_keyid": sk.keyid, "supersedes": supersedes or ""},
            cwd=PROJECT_ROOT, runtime_dir=root / ".tmp" / f"kernels{archive.owner_tag()}")
        timings["notebook"] = time.perf_counter() - t
        title = f"{meta['district_name']}{year}年一卡通区域审计报告 {run_id}"
        html = render.to_html(tmp / "notebook.ipynb", title)
        (tmp / "report.html").write_text(html, encoding="utf-8")
        render.to_pdf(html, tmp / "report.pdf")
        subjects = {n: sha256_file(tmp / n) for n in attest.RUN_FILES}
        pred = attest.region_predicate(
            run_id=run_id, meta=meta, supersedes=supersedes, params=params.record(), runs=d.runs,
            notebook=NOTEBOOK, notebook_sha256=sha256_file(NOTEBOOK), started=started, finished=_now(),
            findings_digest=d.findings["digest"], signer=sk.signer, keyid=sk.keyid, checks=d.checks_code,
            in_error=d.in_error)
        env = dsse.sign(dsse.statement(subjects, pred), sk.key)
        (tmp / attest.SIGNATURE).write_text(json.dumps(env, indent=1) + "\n", encoding="utf-8")
        (tmp / attest.PUBKEY).write_bytes(keys.public_pem(sk.key.public_key()))
        inputs.keep_file(root, attest.LOCK)
    if land.index_problem:
        warn(land.index_problem)
    if d.in_error:
        warn(tr(f"本次区域运行不完整：以下检查出错：{', '.join(d.in_error)}",
                f"the region run is incomplete: check(s) in error: {', '.join(d.in_error)}"))
    timings["total"] = time.perf_counter() - t0
    return land.final
