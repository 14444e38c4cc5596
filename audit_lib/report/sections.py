"""The report's sections as HTML: every value from the data escaped, personal data masked (identity numbers as
masked_id, names as first character + *, accounts as their last 4 digits). Full values go only to the
workpaper."""
from __future__ import annotations

import re
from html import escape

import pandas as pd

from ..package.identity import masked_account, masked_accounts, masked_id, masked_ids, masked_names
from ..package.values import fen_to_yuan_text
from ..checks.basis import holding_target_source
from ..checks.compliance import target_for
from ..checks.registry import ORIGIN_ZH
from . import charts
from .data import RunData, check_meta

from .labels import (ACCOUNT_COLS, COL_ZH, FAMILY_ZH, ID_COLS, MONEY_COLS, NAME_COLS, SEVERITY_ZH,  # noqa: F401
                     STATUS_ZH, problem_zh, param_value_zh, reason_zh)

# What each catalogue check tests, in the report's language (a notebook's own check shows its description).
WHAT_ZH = {
    "RC01": "按项目核对：拨付代发银行的资金是否等于银行成功入账加退回资金；下达资金在 idle_days 天后仍未拨付的视为闲置。",
    "RC02": "平台标记为成功的发放，银行回盘无入账、入账失败、入账金额不同或入账账号不同。",
    "RC03": "成功发放的人员、项目和所属期没有对应的审批（名单外发放、审批终止后仍发放）。",
    "RC04": "已审批的人员、项目和所属期没有成功发放（仅判断在数据最后发放日之前已结束的所属期）。",
    "RC05": "成功发放金额高于或低于核定金额（无审批时对照补贴标准），或超过项目上限。",
    "RC06": "公示名单与实际发放按项目、所属期、脱敏身份证号和脱敏姓名双向核对：公示未发、发放未公示、金额不符。",
    "RC07": "发放失败的记录在 reissue_days 天内没有成功补发（沿补发链追踪）。",
    "RC08": "平台标记为发放失败、银行回盘却显示入账成功的记录（失败后又补发即重复到账，EL04 无法发现），以及平台发放明细中不存在的银行回盘记录（平台外发放）。",
    "RC09": "要求先公示后发放的项目，成功发放日期早于其公示日期的记录（无公示的记录属于 RC06）。",
    "CP01": "纳入一卡通的项目，通过社保卡发放的金额占比低于当年目标（2021年70%、2022年90%、2023年起100%）。",
    "CP02": "纳入一卡通的项目在 card_from（默认为审计年度首日）之后仍通过社保卡以外的渠道（其他银行卡、存折、现金）发放。",
    "CP03": "发放的项目不在公开的政策清单中，或所属期在政策实施日期之前即已发放（清单公开前的发放不属本项）。",
    "CP04": "首份清单公开之后出台的政策调整，在政策实施后超过 publish_days 个自然日才公开（首份清单公开前已实施的项目不判断）。",
    "CP05": "个人补贴发入非本人账户，且该时点没有有效的代管代持（监护）登记。",
    "CP06": "家庭补贴未发入户主、登记监护人或家庭成员共同指定的账户。",
    "CP07": "同一人全年成功发放进入两个及以上账户（本人旧卡挂失或注销后换发新卡不算）。",
    "CP08": "同一账户收到 min_people 名及以上既非同一户、也无代管登记人员的补贴。",
    "CP09": "代发银行在入账时收取手续费。",
    "CP10": "成功发放日期晚于所属期结束后 grace_days 天（滞留延压）。",
    "CP11": "发放时社保卡处于未激活、挂失、注销或未制卡状态，却入账成功。",
    "CP12": "身份证号码校验码错误、出生日期不可能或地区代码不存在。",
    "CP13": "同一终端（ATM、柜面、POS）window_minutes 分钟内出现 min_cards 名及以上补贴对象社保卡账户的支出（同户或同一有效监护人的被监护人除外），且同一账户在该终端于 min_days 个以上不同日期出现：疑似他人代管代持社保卡，供复核。",
    "CP14": "补贴入账后 days 日内，账户中不少于 share 比例的补贴金额被转给非本人、非同户、非有效监护人的他人（对方不明的视为他人）。",
    "CP15": "年度内有效的代管代持登记：被代管人未领取特殊群体项目（低保、特困、残疾人、未成年人等）、登记无依据，或同一代管人代管 max_wards 名及以上非同户人员。",
    "CP16": "公示名单显示了完整或过多的身份证号码（多于前6位和后4位），或未脱敏的两字及以上姓名。",
    "EL01": "死亡月份之后的所属期仍有成功发放（死亡当月不算）。",
    "EL02": "困难救助类项目发放给该所属期内在职的财政供养人员。",
    "EL03": "补贴对象与本社区（村）干部同户，列出供复核（优亲厚友）。",
    "EL04": "同一人、同一项目、同一所属期成功发放多次（保留最早一笔；失败后的补发不算重复）。",
    "EL05": "同一人同一所属期享受同一互斥组内的两个项目。",
    "EL06": "按身份证号计算的所属期首日年龄不符合项目的年龄上下限。",
    "EL07": "同一人、同一项目、同一所属期在两个区县均获发放（省市级多区县运行）。",
    "ST01": "非固定标准项目的金额首位数字分布与 Benford 定律的偏离（MAD，Nigrini 区间；报告卡方 p 值）；笔数不足 min_n 或 p95/p5 小于 min_span 的项目不适用。",
    "ST02": "非固定标准项目中，同项目同所属期内稳健 Z 值（中位数与 MAD，默认取对数）超过 z 的单笔金额。",
    "ST03": "按月（季）发放的项目中，某所属期的笔数或金额偏离该项目中位水平超过 ratio。",
    "ST04": "以金额为单位的系统抽样（按区划、年度和种子可重现），供现场核实；仅作信息，不是疑点。",
}



# Anywhere in a text: an identity number (18 characters, or 15 digits, masked or not, any case of x), or any
# other run of 9 or more digits (accounts, cards, phone numbers).
_ID_RE = re.compile(r"(?<![0-9A-Za-z])([0-9]{6}[0-9*]{8}[0-9*]{3}[0-9Xx*]|[0-9]{15})(?![0-9A-Za-z])")
_DIGITS_RE = re.compile(r"(?<![0-9A-Za-z])[0-9０-９]{9,}(?![0-9A-Za-z])")
# Record numbers the platform and the banks give (not personal data): shown as they are.
PLAIN_COLS = {"payment_id", "txn_id", "batch_id", "reissue_of", "item_code", "period", "terminal_id"}


def yuan(fen) -> str:
    return fen_to_yuan_text(fen, grouping=True)


def mask_text(value) -> str:
    """Mask every identity number and every long digit run (account, card, phone) inside any text: a key such
    as person_id|item_code|period, a quarantined cell, a whole row's text."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    t = _ID_RE.sub(lambda m: masked_id(m.group(1)), str(value))
    return _DIGITS_RE.sub(lambda m: masked_account(m.group(0)), t)


def masked_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        if c.startswith("_"):
            continue
        s = df[c]
        if c in ID_COLS:
            out[c] = masked_ids(s).to_numpy()
        elif c in NAME_COLS:
            out[c] = masked_names(s).to_numpy()
        elif c in ACCOUNT_COLS:
            out[c] = masked_accounts(s).to_numpy()
        elif c in MONEY_COLS:
            out[c] = s.map(yuan)
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%Y-%m-%d").fillna("")
        elif c == "problem":
            out[c] = s.map(lambda v: mask_text(problem_zh(v)))
        elif c in PLAIN_COLS:
            out[c] = s.astype(object).where(s.notna(), "").astype(str)
        else:
            out[c] = s.map(mask_text)
    return out


def mask_quarantine(q: pd.DataFrame) -> pd.DataFrame:
    """Quarantined cells as the report shows them: a personal column's value masked by its own rule, every
    other value with any identity or long digit run inside it masked."""
    out = q[["table", "file", "row", "column", "value", "reason"]].copy()
    col = out["column"].astype(str)
    v = out["value"].astype(str)
    shown = v.map(mask_text)
    for cols, fn in ((ID_COLS, masked_ids), (NAME_COLS | {"counterparty_name"}, masked_names),
                     (ACCOUNT_COLS | {"card_no", "counterparty_account"}, masked_accounts)):
        hit = col.isin(cols).to_numpy()
        if hit.any():
            shown[hit] = fn(v[hit]).to_numpy()
    out["value"] = shown
    out["reason"] = out["reason"].map(reason_zh)
    return out


def params_table(params: dict, meaning: dict | None = None) -> str:
    """A check's parameters as a small Chinese table: what each means (its declaration's ``zh``) and the value
    the run used."""
    meaning = meaning or {}
    rows = [{"参数": meaning.get(n) or n, "名称": n, "取值": param_value_zh(n, v)} for n, v in params.items()]
    return table(pd.DataFrame(rows), css="data params")


def table(df: pd.DataFrame, limit: int | None = None, css: str = "data") -> str:
    """An HTML table with every header and cell escaped."""
    shown = df if limit is None else df.head(limit)
    head = "".join(f"<th>{escape(str(COL_ZH.get(c, c)))}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                   for row in shown.itertuples(index=False))
    more = f'<p class="note">仅显示前 {limit} 条，共 {len(df)} 条；全部记录见 workpaper.xlsx（内部资料）。</p>' \
        if limit is not None and len(df) > limit else ""
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'


def scope(d: RunData) -> str:
    m = d.meta
    files = pd.DataFrame(d.files)[["table", "path", "bytes", "sha256"]] if d.files else pd.DataFrame()
    rows = pd.DataFrame([{"table": t, "rows_read": r, "rows_loaded": l} for t, (r, l) in sorted(d.rows.items())])
    q = d.quarantine
    html = [f"<p>被审计单位：<b>{escape(str(m.get('district_name', '')))}</b>（区划代码 {escape(str(m['district_code']))}），"
            f"审计年度 {escape(str(m['year']))} 年。数据由 {escape(str(m.get('prepared_by', '')))} 提供。</p>"]
    html.append("<h3>输入文件</h3>" + table(files.rename(columns={"table": "数据表", "path": "文件", "bytes": "字节",
                                                               "sha256": "SHA-256"})))
    html.append("<h3>读取情况</h3>" + table(rows.rename(columns={"table": "数据表", "rows_read": "读取行数",
                                                              "rows_loaded": "载入行数"})))
    if len(q):
        qq = mask_quarantine(q.head(50))
        more = f'<p class="note">仅显示前 50 条，共 {len(q)} 条；全部见 findings.json 的 data_quality。</p>' \
            if len(q) > 50 else ""
        html.append(f"<h3>数据质量</h3><p>{len(q)} 个单元格不符合读取规则，所在行已隔离（未删除），列示如下：</p>"
                    + table(qq.rename(columns={"table": "数据表", "file": "文件", "row": "Excel行号", "column": "列",
                                               "value": "值", "reason": "原因"})) + more)
    else:
        html.append("<h3>数据质量</h3><p>全部行均通过读取规则，无隔离行。</p>")
    return "\n".join(html)


def overall(d: RunData) -> str:
    o = d.overview
    per = o["per_item"]
    year = int(d.meta["year"])
    from ..checks import REGISTRY

    targets = (d.findings.get("parameters", {}).get("CP01") or {}).get("targets")   # as the run's CP01 used them
    target = target_for(year, targets or REGISTRY.get("CP01").params["targets"])
    html = [f"<p>全年成功发放 {o['success_lines']:,} 笔、{yuan(o['amount_fen'])} 元，"
            f"涉及补贴对象 {o['beneficiaries']:,} 人；发放失败 {o['failed_lines']:,} 笔。</p>"]
    t = per[["item_code", "item_name", "lines", "people", "amount_fen", "card_share"]].copy()
    t["amount_fen"] = t["amount_fen"].map(yuan)
    t["card_share"] = (t["card_share"] * 100).round(2).astype(str) + "%"
    html.append(table(t.rename(columns={"item_code": "项目编码", "item_name": "项目名称", "lines": "笔数",
                                        "people": "人数", "amount_fen": "金额（元）", "card_share": "社保卡发放占比"})))
    top = per.sort_values("amount_fen", ascending=False).head(15)
    left = f'<p class="note">另有 {len(per) - len(top)} 个发放金额较小的项目未显示（见上表）。</p>' if len(per) > 15 else ""
    html.append(charts.bars([f"{c} {n}" for c, n in zip(top["item_code"], top["item_name"])],
                            [v / 100 for v in top["amount_fen"]], title="各项目发放金额（元）") + left)
    if target is not None:
        shown, note = per, ""
        if len(per) > 20:                 # many items: those below target first, then the largest
            below = per[per["card_share"] < float(target)]
            rest = per[per["card_share"] >= float(target)].sort_values("amount_fen", ascending=False)
            shown = pd.concat([below, rest]).head(20)
            note = f'<p class="note">图中显示未达标项目和金额最大的项目共 {len(shown)} 个，另有 {len(per) - len(shown)} 个项目未显示（见上表）。</p>'
        html.append(charts.bars(list(shown["item_code"] + " " + shown["item_name"]), list(shown["card_share"] * 100),
                                title=f"社保卡发放占比（%），{year}年目标 {float(target) * 100:.0f}%", unit="%",
                                target=float(target) * 100, target_label=f"目标 {float(target) * 100:.0f}%") + note)
    mon = o["monthly"]
    html.append(charts.lines(list(mon["period"]), {"发放金额（万元）": [v / 1e6 for v in mon["amount_fen"]]},
                             title="月度发放趋势（按所属期）"))
    holding = o["card_holding"] * 100
    html.append(f"<p>补贴对象持有正常状态社保卡的比例为 <b>{holding:.2f}%</b>（以补贴对象持卡情况作为近似："
                f"{holding_target_source(d.meta.get('district_code'))}，其95%是对全体居民而言），"
                f"{'达到' if holding >= 95 else '未达到'}该目标。</p>")
    return "\n".join(html)


def caveats(d: RunData) -> str:
    """What the reader must know before trusting the results: checks in error (the audit is incomplete), and
    checks that are not the catalogue's own code (custom, or a built-in replaced)."""
    out = []
    err = [c for c in d.findings["checks"] if c["status"] == "error"]
    if err:
        items = "；".join(f"{escape(c['id'])} {escape(c['title'])}（{escape(reason_zh(c['reason']))}）" for c in err)
        out.append(f'<p class="demo">审计结论：本次审计不完整——以下检查执行出错，其结果不可用：{items}。</p>')
    other = [c for c in d.findings["checks"] if c.get("origin", "builtin") != "builtin"]
    if other:
        items = "；".join(f"{escape(c['id'])} {escape(c['title'])}（{escape(ORIGIN_ZH.get(c['origin'], c['origin']))}）"
                         for c in other)
        out.append(f'<p class="demo">注意：以下检查不是工作台内置检查目录中的代码，其代码摘要记录在签名中：{items}。</p>')
    return "".join(out)


def at_risk(d: RunData) -> dict:
    """The money at risk as findings.json records it (each payment counted once however many checks flag it);
    the money other checks attribute to records that are not payments (unpaid approvals, idle funds…), apart;
    statistical checks and the audit sample are not money at risk."""
    others = [c for c in d.findings["checks"] if c["status"] == "flagged" and c["family"] != "statistics"
              and c["severity"] != "info" and c["key"] != "payment_id" and c["amount_fen"]]
    r = d.findings.get("at_risk") or {"payments": 0, "amount_fen": 0}
    return {"payments": r["payments"], "amount_fen": r["amount_fen"], "others": others}


def conclusion(d: RunData) -> str:
    """审计结论: the answer first — money at risk, counts by risk level, the five largest problems."""
    r = at_risk(d)
    checks = d.findings["checks"]
    flagged = [c for c in checks if c["status"] == "flagged" and c["family"] != "statistics"]
    by = []
    for sev in ("high", "medium", "low"):
        cs = [c for c in flagged if c["severity"] == sev]
        by.append(f"{SEVERITY_ZH[sev]}风险 {len(cs)} 项、{sum(c['count'] for c in cs):,} 条")
    html = [f'<div class="conclusion"><p class="big">涉及疑点的发放金额 <b>{yuan(r["amount_fen"])} 元</b>，'
            f'共 {r["payments"]:,} 笔发放（一笔发放被多项检查发现时只计一次）。</p>',
            f"<p>发现疑点的检查：{'；'.join(by)}。</p>"]
    if r["others"]:
        html.append("<p>另有非按笔发放计算的金额（不与上述金额相加）："
                    + "；".join(f"{escape(c['id'])} {escape(c['title'])} {yuan(c['amount_fen'])} 元"
                                for c in r["others"]) + "。</p>")
    stats = [c for c in checks if c["family"] == "statistics" and c["status"] == "flagged"]
    if stats:
        html.append("<p>统计分析提示（供关注，不计入疑点金额）：" + "；".join(
            f"{escape(c['id'])} {escape(c['title'])} {c['count']} 项" for c in stats) + "。</p>")
    top = sorted(flagged, key=lambda c: (-c["amount_fen"], -c["count"], c["id"]))[:5]
    if top:
        rows = [{"编号": c["id"], "问题": c["title"], "风险等级": SEVERITY_ZH.get(c["severity"], c["severity"]),
                 "疑点数": c["count"], "涉及金额（元）": yuan(c["amount_fen"]) if c["amount_fen"] else ""} for c in top]
        html.append("<h3>金额最大的五类问题</h3>" + table(pd.DataFrame(rows)))
    else:
        html.append("<p>各项检查均未发现疑点。</p>")
    html.append("</div>")
    return "\n".join(html)


def summary(d: RunData) -> str:
    rows = []
    custom = any(c.get("origin", "builtin") != "builtin" for c in d.findings["checks"])
    for c in d.findings["checks"]:
        row = {"编号": c["id"], "检查": c["title"], "类别": FAMILY_ZH.get(c["family"], c["family"]),
               "风险等级": SEVERITY_ZH.get(c["severity"], c["severity"]),
               "结果": STATUS_ZH.get(c["status"], c["status"]), "疑点数": c["count"],
               "涉及金额（元）": yuan(c["amount_fen"]) if c["amount_fen"] else ""}
        if custom:
            row["来源"] = ORIGIN_ZH.get(c.get("origin", "builtin"), c.get("origin"))
        rows.append(row)
    flagged = [c for c in d.findings["checks"] if c["status"] == "flagged"]
    high = [c for c in flagged if c["severity"] == "high"]
    return (f"<p>共执行 {len(d.findings['checks'])} 项检查，{len(flagged)} 项发现疑点，其中高风险 {len(high)} 项。</p>"
            + table(pd.DataFrame(rows), css="data summary"))


def check_section(d: RunData, c: dict, limit: int = 20) -> str:
    meta = check_meta(d, c["id"])
    origin = c.get("origin", "builtin")
    html = [f'<section class="check" id="check-{escape(c["id"])}">',
            f"<h3>{escape(c['id'])} {escape(c['title'])}"
            + (f"（{escape(ORIGIN_ZH.get(origin, origin))}）" if origin != "builtin" else "") + "</h3>",
            f"<p class=\"meta\">类别：{escape(FAMILY_ZH.get(c['family'], c['family']))}；风险等级："
            f"{escape(SEVERITY_ZH.get(c['severity'], c['severity']))}；记录键：{escape(c['key'])}</p>"]
    if meta is not None:
        what = WHAT_ZH.get(c["id"], meta["description"]) if origin == "builtin" else meta["description"]
        html.append(f"<p><b>检查内容：</b>{escape(what)}</p>")
        html.append(f"<p><b>政策依据：</b>{escape(meta['basis'])}</p>")
        params = d.findings["parameters"].get(c["id"])
        if params:
            html.append("<p><b>参数：</b></p>" + params_table(params, meta.get("params")))
    status = STATUS_ZH.get(c["status"], c["status"])
    amount = f"，涉及金额 {yuan(c['amount_fen'])} 元" if c["amount_fen"] else ""
    html.append(f"<p><b>结果：</b>{escape(status)}，{c['count']} 条{amount}。"
                + (f"（{escape(reason_zh(c['reason']))}）" if c["reason"] else "") + "</p>")
    ev = d.evidence.get(c["id"])
    if ev is not None and len(ev):
        shown = masked_frame(ev.drop(columns=["key"], errors="ignore").head(limit))   # mask what is shown
        html.append(table(shown) + (f'<p class="note">仅显示前 {limit} 条，共 {len(ev)} 条；全部记录见 '
                                    f'workpaper.xlsx（内部资料）。</p>' if len(ev) > limit else ""))
        chart = _chart_for(d, c, ev)
        if chart:
            html.append(chart)
    html.append("</section>")
    return "\n".join(html)


def _chart_for(d: RunData, c: dict, ev: pd.DataFrame) -> str:
    if c["id"] == "ST01":
        m = d.findings["checks"]
        st = next(x for x in m if x["id"] == "ST01")["metrics"]
        for item, v in st.items():
            if v.get("applicable") and v.get("first_digits"):
                import numpy as np
                n = sum(v["first_digits"])
                return charts.lines([str(i) for i in range(1, 10)],
                                    {"实际": [x / n for x in v["first_digits"]],
                                     "Benford": list(np.log10(1 + 1 / np.arange(1, 10)))},
                                    title=f"{item} 首位数字分布")
    if c["id"] == "ST03":
        im = d.overview["item_month"]
        out = []
        for item in sorted({k.split("|")[0] for k in c["records"]})[:4]:
            hi = {k.split("|")[1] for k in c["records"] if k.startswith(item + "|")}
            s = im[im["item_code"] == item]
            out.append(charts.lines(list(s["period"]), {"笔数": list(s["lines"])},
                                    title=f"{item} 月度笔数（红点为异常月份）", highlight=hi))
        return "".join(out)
    if "item_code" in ev.columns and "amount_fen" in ev.columns and len(ev) > 1:
        g = ev.groupby("item_code")["amount_fen"].sum().sort_values(ascending=False).head(10)
        return charts.bars(list(g.index), [v / 100 for v in g.values], title="按项目的涉及金额（元）")
    return ""


def checks(d: RunData) -> str:
    return "\n".join(check_section(d, c) for c in d.findings["checks"] if c["status"] in ("flagged", "info", "clear",
                                                                                         "error"))


def skipped(d: RunData) -> str:
    rows = [{"编号": c["id"], "检查": c["title"], "原因": reason_zh(c["reason"])} for c in d.findings["checks"]
            if c["status"] == "skipped"]
    if not rows:
        return "<p>全部检查均已执行。</p>"
    return ("<p>以下检查因所需数据未提供或不适用而未执行（不等于“未发现问题”）：</p>" + table(pd.DataFrame(rows)))


def run_info(run: dict, digest: str, digest_label: str = "发现清单摘要") -> pd.DataFrame:
    """运行信息: the run id, findings digest, signer (DEMO said so), key and the run superseded."""
    demo = run.get("signer") == "DEMO"
    return pd.DataFrame([
        {"项目": "运行编号 run id", "值": run.get("run_id") or "（交互运行，未归档）"},
        {"项目": f"{digest_label} findings digest", "值": digest},
        {"项目": "签名人 signer", "值": (run.get("signer") or "（未签名）") + ("（演示密钥 DEMO，不具证明效力）" if demo else "")},
        {"项目": "签名密钥 key id", "值": run.get("signer_keyid") or ""},
        {"项目": "替代的运行 supersedes", "值": run.get("supersedes") or ""},
    ])


def appendix(d: RunData, run: dict) -> str:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    params = d.findings["parameters"]
    prow = pd.DataFrame([{"检查": k, "参数": str(v)} for k, v in sorted(params.items())])
    env = {"Python": platform.python_version(), "audit_lib": __version__}
    # read from the installed packages' metadata: importing them for their version cost the report 1.6 s
    for mod in ("pandas", "pyarrow", "duckdb", "scipy", "papermill", "nbconvert", "cryptography"):
        try:
            env[mod] = version(mod)
        except PackageNotFoundError:
            pass
    erow = pd.DataFrame([{"组件": k, "版本": v} for k, v in env.items()])
    info = run_info(run, d.findings["digest"])
    how = ("<p>核验方法：在运行目录执行 <code>audit verify RUN_DIR</code>，核对签名（DSSE 信封，Ed25519，"
           "in-toto Statement v1）及每个文件的 SHA-256；执行 <code>audit reproduce RUN_DIR</code> 可按记录的输入和参数"
           "重新计算并比对发现清单摘要。findings.json 的摘要可按 outputs.md 的规则独立复算。</p>")
    return ("<h3>运行信息</h3>" + table(info) + "<h3>参数</h3>" + table(prow) + "<h3>环境</h3>" + table(erow) + how)


def history(d: RunData) -> str:
    """与上年比较: the repeats first, then each check's new and repeated findings and last year's that are gone."""
    h = d.history
    year = int(d.meta["year"])
    if h is None:
        return f"<p>档案库中没有本区县 {year - 1} 年的运行，未作逐年比较。</p>"
    if not h.get("verified"):
        return (f"<p>上年运行 {escape(h['run'])} 未通过验证，不作比较：" + escape("；".join(h.get("problems", [])))
                + "</p>")
    rows, repeats = [], []
    for cid, c in sorted(h["checks"].items(), key=lambda kv: (-len(kv[1]["repeat"]), kv[0])):
        rows.append({"编号": cid, "检查": c["title"], "本年疑点": c["now"], "新发现": c["new"],
                     "重复出现": len(c["repeat"]), "上年已整改未复发": c["rectified"],
                     "上年疑点本年未再出现": c["gone"] - c["rectified"]})
        repeats += [{"编号": cid, "检查": c["title"], "键": mask_text(k)} for k in c["repeat"]]
    n_rep = len(repeats)
    fu = f"，整改跟踪记录 {escape(h['followup'])}" if h.get("followup") else "（上年没有整改跟踪记录）"
    html = [f"<p>对照 {year - 1} 年运行 {escape(h['run_id'])}{fu}：本年疑点中 <b>{n_rep:,}</b> 条与上年相同（重复出现），"
            f"其余为新发现。</p>"]
    if repeats:
        html.append("<h3>重复出现的疑点</h3>" + table(pd.DataFrame(repeats), limit=50))
    if rows:
        html.append("<h3>各检查逐年比较</h3>" + table(pd.DataFrame(rows)))
    return "\n".join(html)
