"""The region report's sections, as HTML: Chinese, every value escaped, personal data masked (the cross-district
evidence goes through the district report's own masking)."""
from __future__ import annotations

import math
from html import escape

import pandas as pd

from ..report import sections as ds
from ..report.labels import SEVERITY_ZH, STATUS_ZH
from .data import HOLDING_TARGET, RegionData



def _pct(v, down: bool = False) -> str:
    """A share as a percentage; ``down``: rounded down, so a share below a 100 % target never shows as 100.00 %."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{math.floor(v * 10000) / 100:.2f}%" if down else f"{v * 100:.2f}%"


def title(d: RegionData, run: dict) -> str:
    m = d.meta
    rid = run.get("run_id") or ""
    demo = ('<p class="demo">演示 DEMO：本报告由演示密钥签名，数据为合成数据，仅用于展示工作台功能。</p>'
            if run.get("signer") == "DEMO" else "")
    if not d.districts["run_id"].astype(bool).any():
        demo += ('<p class="demo">预览：本报告直接依据数据包计算，未依据已签名的区县运行，未签名、未归档；'
                 "正式的区域报告请用 <code>audit region</code>。</p>")
    return (f"<h1>{escape(str(m['district_name']))}{escape(str(m['year']))}年惠民惠农财政补贴“一卡通”区域审计报告</h1>"
            f"<p class=\"meta\">区划代码 {escape(str(m['district_code']))} · {len(d.districts)} 个区县 · 运行编号 "
            f"{escape(rid or '交互运行')} · 跨区检查发现清单摘要 {escape(d.findings['digest'])}</p>{demo}")


def conclusion(d: RegionData) -> str:
    t = d.districts
    risk = int(pd.to_numeric(t["at_risk_fen"]).fillna(0).sum())
    payments = int(pd.to_numeric(t["at_risk_payments"]).fillna(0).sum())
    el07 = next((c for c in d.findings["checks"] if c["id"] == "EL07"), None)
    cov = t[t["coverage"].notna() & t["coverage_target"].notna()]
    below = cov[cov["coverage"] < cov["coverage_target"]]
    hold = t[t["card_holding"].notna() & (t["card_holding"] < HOLDING_TARGET)]
    incomplete = t[t["incomplete"]]
    html = [f'<div class="conclusion"><p class="big">{len(t)} 个区县涉及疑点的发放金额合计 <b>{ds.yuan(risk)} 元</b>，'
            f"共 {payments:,} 笔（各区县内一笔发放只计一次）。</p>"]
    if el07 is not None and el07["status"] == "flagged":
        html.append(f"<p>跨区重复享受（EL07）：<b>{el07['count']:,}</b> 条（人员 × 项目 × 期次），涉及金额 "
                    f"<b>{ds.yuan(el07['amount_fen'])} 元</b>；这是单个区县的审计发现不了的问题"
                    "（可能与区县内的疑点部分重叠，不与上述金额相加）。</p>")
    elif el07 is not None:
        html.append(f"<p>跨区重复享受（EL07）：{escape(STATUS_ZH.get(el07['status'], el07['status']))}"
                    + (f"（{escape(ds.reason_zh(el07['reason']))}）" if el07["reason"] else "") + "。</p>")
    html.append(f"<p>一卡通发放率未达年度目标的区县 {len(below)} 个"
                + (f"（{escape('、'.join(below['district_name']))}）" if len(below) else "")
                + f"；补贴对象持卡率低于 95% 的区县 {len(hold)} 个"
                + (f"（{escape('、'.join(hold['district_name']))}）" if len(hold) else "") + "。</p>")
    if len(incomplete):
        html.append(f"<p class=\"demo\">以下区县的运行不完整（有检查出错）：{escape('、'.join(incomplete['district_name']))}。</p>")
    top = d.matrix[(d.matrix["status"] == "flagged") & (d.matrix["family"] != "statistics")
                   & (d.matrix["severity"] != "info")]
    g = top.groupby(["id", "title"], as_index=False).agg(districts=("district_code", "nunique"),
                                                          count=("count", "sum"), amount_fen=("amount_fen", "sum"))
    g = g.sort_values(["amount_fen", "count", "id"], ascending=[False, False, True]).head(5)
    if len(g):
        rows = [{"编号": r.id, "问题": r.title, "涉及区县数": r.districts, "疑点数": f"{r.count:,}",
                 "涉及金额（元）": ds.yuan(r.amount_fen) if r.amount_fen else ""} for r in g.itertuples()]
        html.append("<h3>全市（省）金额最大的五类问题</h3>" + ds.table(pd.DataFrame(rows)))
    html.append("</div>")
    return "\n".join(html)


def districts(d: RegionData) -> str:
    """Per district: card coverage against the year's target, card holding against 95 %, money at risk."""
    rows = []
    for r in d.districts.itertuples():
        cov_ok = None if r.coverage is None or r.coverage_target is None or pd.isna(r.coverage) \
            else r.coverage >= r.coverage_target
        hold_ok = None if r.card_holding is None or pd.isna(r.card_holding) else r.card_holding >= HOLDING_TARGET
        rows.append({"区县": f"{r.district_name}（{r.district_code}）",
                     "一卡通发放率": _pct(r.coverage, down=True), "年度目标": _pct(r.coverage_target),
                     "发放率结论": "" if cov_ok is None else ("达标" if cov_ok else "未达标"),
                     "补贴对象数": "" if r.beneficiaries is None or pd.isna(r.beneficiaries) else f"{int(r.beneficiaries):,}",
                     "持卡率": _pct(r.card_holding, down=True), "持卡结论": "" if hold_ok is None else ("达到95%" if hold_ok else "低于95%"),
                     "疑点笔数": f"{int(r.at_risk_payments or 0):,}", "疑点金额（元）": ds.yuan(int(r.at_risk_fen or 0)),
                     "与上年重复的疑点": "" if getattr(r, "repeats", None) is None or pd.isna(r.repeats)
                     else f"{int(r.repeats):,}"})
    t = pd.DataFrame(rows)
    html = ds.table(t, css="data districts")
    for bad in ("未达标", "低于95%"):          # mark the districts that miss a target (text already escaped)
        html = html.replace(f"<td>{bad}</td>", f'<td class="bad">{bad}</td>')
    return (html + "<p class=\"note\">一卡通发放率取自各区县运行的 CP01（纳入一卡通的项目中经社保卡发放金额的占比）；"
            "持卡率为补贴对象中持有正常状态社保卡的比例，按各区县运行记录的数据包计算（95% 的目标是对全体居民而言，"
            "此处以补贴对象近似）。“与上年重复的疑点”取自各区县运行与其上年运行的比较（空白：档案库中没有上年运行）。</p>")


def _shade(v: float, top: float) -> str:
    if not v or not top:
        return ""
    a = 0.12 + 0.78 * math.sqrt(v / top)
    return f' style="background: rgba(192,57,43,{a:.2f})' + ('; color: #fff"' if a > 0.6 else '"')


def matrix(d: RegionData) -> str:
    """District × check: each cell the count and the amount (万元), shaded by the amount within the check's column
    (by the count where the check attributes no amount), so each check's worst districts stand out."""
    m = d.matrix[(d.matrix["family"] != "statistics") & (d.matrix["severity"] != "info")]
    ran = m.loc[m["status"] != "skipped", "id"].unique()
    m = m[m["id"].isin(ran)]                     # a check no district ran (EL07 in a district) is not a column
    if m.empty:
        return "<p>没有可比较的检查结果。</p>"
    checks = m[["id", "title", "severity"]].drop_duplicates("id").sort_values("id")
    names = dict(zip(d.districts["district_code"], d.districts["district_name"]))
    cell = {(r.district_code, r.id): r for r in m.itertuples()}
    top_amount = m[m["status"] == "flagged"].groupby("id")["amount_fen"].max().to_dict()
    top_count = m[m["status"] == "flagged"].groupby("id")["count"].max().to_dict()
    head = '<th class="d">区县</th>' + "".join(
        f'<th title="{escape(c.title)}（{escape(SEVERITY_ZH.get(c.severity, c.severity))}风险）">{escape(c.id)} '
        f"{escape(c.title)}</th>" for c in checks.itertuples())
    body = []
    for code in d.districts["district_code"]:
        tds = [f'<td class="d">{escape(str(names.get(code, "")))}</td>']
        for c in checks.itertuples():
            r = cell.get((code, c.id))
            if r is None or r.status in ("skipped", "error"):
                label = "—" if r is None or r.status == "skipped" else "出错"
                tds.append(f'<td class="na" title="{escape(STATUS_ZH.get(getattr(r, "status", ""), "未执行"))}">{label}</td>')
            elif r.status != "flagged":
                tds.append("<td>0</td>")
            else:
                shade = _shade(r.amount_fen, top_amount.get(c.id)) if top_amount.get(c.id) \
                    else _shade(r.count, top_count.get(c.id))
                amt = f"<span>{r.amount_fen / 1_000_000:,.2f}万</span>" if r.amount_fen else ""
                tds.append(f"<td{shade}>{r.count:,}{amt}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    total = m[m["status"] == "flagged"].groupby("id")[["count", "amount_fen"]].sum()
    foot = '<td class="d"><b>合计</b></td>' + "".join(
        f"<td><b>{int(total.loc[c.id, 'count']) if c.id in total.index else 0:,}</b>"
        + (f"<span>{int(total.loc[c.id, 'amount_fen']) / 1_000_000:,.2f}万</span>"
           if c.id in total.index and total.loc[c.id, "amount_fen"] else "") + "</td>" for c in checks.itertuples())
    legend = ('<p class="legend note">每格：疑点数，下方为涉及金额（万元）。颜色越深，该区县在这项检查中的金额（无金额的检查按疑点数）'
              '越接近全市（省）最高的区县：<span style="background: rgba(192,57,43,0.15)"></span>较少'
              '<span style="background: rgba(192,57,43,0.5)"></span>较多<span style="background: rgba(192,57,43,0.9)"></span>'
              '最多；“—”为未执行（所需数据未提供或不适用），“0”为执行后未发现疑点。</p>')
    return (f'<div style="overflow-x: auto"><table class="heat"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            f"<tr>{foot}</tr></tbody></table></div>" + legend)


def cross_district(d: RegionData) -> str:
    """The cross-district checks with their masked evidence (full records in the workpaper)."""
    return "\n".join(ds.check_section(d, c) for c in d.findings["checks"])


def runs(d: RegionData) -> str:
    rows = [{"区县": f"{r.district_name}（{r.district_code}）", "运行编号": r.run_id,
             "发现清单摘要": r.findings_digest, "签名人": r.signer or "", "签名声明 SHA-256": r.attestation_sha256[:16] + "…",
             "完整": "否（有检查出错）" if r.incomplete else "是"} for r in d.districts.itertuples()]
    return ("<p>本报告依据以下区县运行；每个运行在使用前都已验证签名、签名人和每个文件的摘要，其签名声明的 SHA-256 "
            "记入本报告的签名，故 <code>audit verify</code> 会逐一复核。</p>" + ds.table(pd.DataFrame(rows)))


def appendix(d: RegionData, run: dict) -> str:
    info = ds.run_info(run, d.findings["digest"], "跨区检查发现清单摘要")
    how = ("<p>核验方法：执行 <code>audit verify RUN_DIR</code>，核对本报告的签名和每个文件，并逐一复核其依据的区县运行；"
           "执行 <code>audit reproduce RUN_DIR</code> 可按各区县运行记录的数据包重新计算跨区检查并比对发现清单摘要。</p>")
    return "<h3>运行信息</h3>" + ds.table(info) + how
