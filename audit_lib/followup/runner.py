"""``audit followup``: a run's filled-in workpaper -> dispositions -> a Chinese report -> a signature naming the
run it follows up (its attestation's sha256) -> the archive, beside the run:
<archive>/<year>/<code>/<run_id>.followup/<followup_id>/ (append-only; a later follow-up supersedes an earlier)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from html import escape
from pathlib import Path

import pandas as pd

from .. import archive, findings
from ..errors import AuditError, VerificationError
from ..i18n import tr
from ..package.load import sha256_file
from ..provenance import attest, dsse, keys
from . import sampling
from .workpaper import Filled, read

FILES = attest.FOLLOWUP_FILES
SCHEMA = "audit-followup/1"


def followups_of(run_dir: Path) -> list[Path]:
    folder = run_dir.parent / f"{run_dir.name}.followup"
    return sorted(p for p in folder.iterdir() if (p / attest.SIGNATURE).exists()) if folder.is_dir() else []


def summarise(f: Filled) -> pd.DataFrame:
    d = pd.DataFrame(f.dispositions, columns=["check", "key", "conclusion", "amount_fen", "confirmed_fen",
                                               "recovered_fen", "status"])
    if d.empty:
        return d
    d["verified"] = d["conclusion"] != "待核实"
    d["true"] = d["conclusion"].isin(["属实", "部分属实"])
    for c in ("confirmed_fen", "recovered_fen"):
        d[c] = pd.to_numeric(d[c]).fillna(0).astype("int64")
    d["rectified"] = d["status"] == "已整改"
    return d.groupby("check", as_index=False).agg(records=("key", "size"), verified=("verified", "sum"),
                                                  true=("true", "sum"), confirmed_fen=("confirmed_fen", "sum"),
                                                  recovered_fen=("recovered_fen", "sum"),
                                                  rectified=("rectified", "sum"))


def evaluate_sample(f: Filled, st04: dict | None, materiality: float, confidence: float, method: str):
    """The audited sample against materiality, or the reason it is not evaluated."""
    if not f.sample or st04 is None:
        return None, "工作底稿中没有填写审定金额的样本"
    if any(s["audited_fen"] is None for s in f.sample) or len(f.sample) < len(st04["records"]):
        done = sum(s["audited_fen"] is not None for s in f.sample)
        return None, f"样本尚未全部审定（{done}/{len(st04['records'])}），不作总体结论"
    n = sum(s["hits"] for s in f.sample)
    taints = [t for s in f.sample for t in [sampling.taint(s["book_fen"], s["audited_fen"])] * s["hits"] if t != 0]
    return sampling.evaluate(taints, n, materiality, confidence, method,
                             st04["metrics"].get("population_fen")), None


def _yuan(fen) -> str:
    return "" if fen is None or pd.isna(fen) else f"{int(fen) / 100:,.2f}"


def render(meta: dict, run: dict, f: Filled, summary: pd.DataFrame, ev, why: str | None, titles: dict) -> str:
    from ..report.render import CSS
    from ..report.sections import mask_text, table

    d = pd.DataFrame(f.dispositions)
    total = len(d)
    verified = int((d["conclusion"] != "待核实").sum()) if total else 0
    true = d[d["conclusion"].isin(["属实", "部分属实"])] if total else d
    confirmed = int(pd.to_numeric(true["confirmed_fen"]).fillna(0).sum()) if total else 0
    recovered = int(pd.to_numeric(d["recovered_fen"]).fillna(0).sum()) if total else 0
    html = [f"<h1>{escape(meta['district_name'])}{meta['year']}年一卡通审计 整改跟踪记录</h1>",
            f"<p class=\"meta\">跟踪的运行 {escape(run['run_id'])} · 发现清单摘要 {escape(f.digest)} · 签名人 "
            f"{escape(run['signer'])}</p>",
            f'<div class="conclusion"><p class="big">核实覆盖 <b>{verified:,}/{total:,}</b> 条疑点'
            f"（{verified / total:.0%}）；属实或部分属实 <b>{len(true):,}</b> 条，确认金额 <b>{_yuan(confirmed)} 元</b>，"
            f"已追回 <b>{_yuan(recovered)} 元</b>；尚待核实 {total - verified:,} 条。</p></div>" if total else
            '<div class="conclusion"><p>本次运行没有需要核实的疑点。</p></div>']
    if len(summary):
        rows = [{"编号": r.check, "检查": titles.get(r.check, ""), "疑点数": r.records, "已核实": r.verified,
                 "属实（含部分）": r.true, "确认金额（元）": _yuan(r.confirmed_fen), "追回金额（元）": _yuan(r.recovered_fen),
                 "已整改": r.rectified} for r in summary.itertuples()]
        html.append("<h2>按检查汇总</h2>" + table(pd.DataFrame(rows)))
    if total:
        open_ = d[(d["conclusion"] == "待核实") | (d["conclusion"].isin(["属实", "部分属实"]) & (d["status"] != "已整改"))]
        rows = [{"编号": r.check, "键": mask_text(r.key), "核实结论": r.conclusion, "整改状态": r.status or "",
                 "涉及金额（元）": _yuan(r.amount_fen), "确认金额（元）": _yuan(r.confirmed_fen)}
                for r in open_.itertuples()]
        html.append(f"<h2>未结事项（{len(rows)} 条）</h2>" + (table(pd.DataFrame(rows), limit=200) if rows else "<p>无。</p>"))
    html.append("<h2>审计抽样结论</h2>")
    if ev is None:
        html.append(f"<p>{escape(why)}。</p>")
    else:
        ok = "总体错报低于重要性水平，可以接受" if ev.accepted else "总体错报可能超过重要性水平，不能接受，需扩大审计范围"
        html.append(table(pd.DataFrame([
            {"项目": "评价方法", "值": ev.method}, {"项目": "样本量（抽样单位）", "值": ev.n},
            {"项目": "有错报的抽样单位", "值": ev.errors}, {"项目": "错报比例合计（taint）", "值": f"{ev.taint_sum:.4f}"},
            {"项目": "最可能错报", "值": f"{ev.mle:.4%}" + (f"（{_yuan(ev.fen(ev.mle))} 元）" if ev.book_value_fen else "")},
            {"项目": f"错报上限（置信度 {ev.confidence:.0%}）",
             "值": f"{ev.upper:.4%}" + (f"（{_yuan(ev.fen(ev.upper))} 元）" if ev.book_value_fen else "")},
            {"项目": "重要性水平", "值": f"{ev.materiality:.2%}"}, {"项目": "结论", "值": ok}])))
    body = "\n".join(html)
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            f"content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>整改跟踪记录 {escape(run['run_id'])}</title>"
            f'<style>{CSS}</style></head><body><div class="report">{body}</div></body></html>')


def followup(run_dir: str | Path, workpaper: str | Path, key_path: str | None = None, materiality: float = 0.05,
             confidence: float = 0.95, method: str = "stringer", trusted=None) -> Path:
    from ..provenance.verify import verify

    run_dir = Path(run_dir).resolve()
    sk = keys.signing_key(keys.select_key(key_path))
    problems, st = verify(run_dir, trusted, allow_demo=sk.demo)
    if problems:
        raise VerificationError(tr(f"{run_dir} 验证未通过，不能据此跟踪整改：", f"{run_dir} does not verify; no follow-up "
                                                                  f"rests on it: ") + "; ".join(problems))
    pred = st["predicate"]
    if pred.get("kind") in ("region", "followup"):
        raise AuditError(tr("整改跟踪针对区县运行", "a follow-up is of a district run"))
    if sk.demo and pred.get("signer", {}).get("keyid") != sk.keyid:
        raise AuditError(tr("演示密钥只跟踪演示运行", "the DEMO key follows up DEMO runs only"))
    wp = Path(workpaper)
    if not wp.is_file():
        raise AuditError(tr(f"{wp}：文件不存在", f"{wp}: no such file"))
    doc = json.loads((run_dir / "findings.json").read_text(encoding="utf-8"))
    filled = read(wp, run_dir / "workpaper.xlsx", doc)
    summary = summarise(filled)
    st04 = next((c for c in doc["checks"] if c["id"] == "ST04"), None)
    ev, why = evaluate_sample(filled, st04, materiality, confidence, method)
    root = run_dir.parent.parent.parent
    previous = followups_of(run_dir)
    dispositions = findings.finalise({
        "schema": SCHEMA, "run_id": pred["run_id"], "district_code": pred["district_code"], "year": pred["year"],
        "findings_digest": pred["findings_digest"], "dispositions": filled.dispositions, "sample": filled.sample,
        "evaluation": None if ev is None else {**ev.__dict__, "accepted": ev.accepted},
        "by_check": summary.to_dict("records")})
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    folder = run_dir.parent / f"{run_dir.name}.followup"
    folder.mkdir(exist_ok=True)
    while (folder / archive.run_id_for(dispositions["digest"], now)).exists():     # never over an earlier one
        now += dt.timedelta(seconds=1)
    fid = archive.run_id_for(dispositions["digest"], now)
    final = folder / fid
    tmp = archive.prepare_root(root) / ".tmp" / f"followup-{fid}{archive.owner_tag()}"
    tmp.mkdir(mode=0o700)
    try:
        titles = {c["id"]: c["title"] for c in doc["checks"]}
        (tmp / "followup.html").write_text(render(pred, {"run_id": pred["run_id"], "signer": sk.signer}, filled, summary,
                                                  ev, why, titles), encoding="utf-8")
        findings.write(dispositions, tmp / "dispositions.json")
        subjects = {n: sha256_file(tmp / n) for n in FILES}
        p = {"kind": "followup", "run_id": fid, "district_code": pred["district_code"],
             "district_name": pred.get("district_name", ""), "year": pred["year"],
             "findings_digest": pred["findings_digest"], "dispositions_digest": dispositions["digest"],
             "follows": {"run_id": pred["run_id"], "attestation_sha256": sha256_file(run_dir / attest.SIGNATURE)},
             "supersedes": previous[-1].name if previous else None,
             "workpaper": {"name": wp.name, "sha256": sha256_file(wp)},
             "sampling": {"materiality": materiality, "confidence": confidence, "method": method},
             "environment": attest.environment(), "finished": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "signer": {"name": sk.signer, "keyid": sk.keyid}}
        env = dsse.sign(dsse.statement(subjects, p), sk.key)
        (tmp / attest.SIGNATURE).write_text(json.dumps(env, indent=1) + "\n", encoding="utf-8")
        (tmp / attest.PUBKEY).write_bytes(keys.public_pem(sk.key.public_key()))
        for x in tmp.iterdir():
            os.chmod(x, archive.FILE_MODE)
        os.rename(tmp, final)
        os.chmod(final, 0o550)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final
