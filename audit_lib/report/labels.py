"""The Chinese labels the report and the workpaper share: column names, statuses, severities, families, and
which columns hold identity numbers, names, accounts and money."""

ID_COLS = {"person_id", "holder_id", "account_holder_id", "guardian_id", "cadre_id", "counterparty_id"}
NAME_COLS = {"name", "account_holder_name"}
ACCOUNT_COLS = {"account_no", "bank_account", "counterparty_account"}
STATUS_ZH = {"flagged": "发现疑点", "clear": "未发现", "skipped": "未执行", "error": "出错", "info": "信息"}
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低", "info": "信息"}
FAMILY_ZH = {"reconciliation": "对账", "compliance": "合规", "eligibility": "资格", "statistics": "统计分析"}
COL_ZH = {"payment_id": "流水号", "person_id": "身份证号", "name": "姓名", "item_code": "项目编码", "period": "所属期",
          "amount": "金额", "amount_fen": "涉及金额", "hits": "抽中次数", "pay_date": "发放日期", "account_no": "收款账号",
          "holder_id": "账户持有人", "problem": "问题", "expected": "应发金额", "reason": "原因", "key": "键",
          "death_date": "死亡日期", "days_late": "延迟天数", "card_status": "卡状态", "age": "年龄",
          "employer": "工作单位", "channel": "渠道", "masked_id": "身份证号（脱敏）", "fee": "手续费",
          "community": "社区村", "position": "职务", "cadre_id": "干部身份证号", "z": "稳健Z值", "mad": "MAD",
          "p_value": "p值", "n": "笔数", "count": "笔数"}
COL_ZH.update({"txn_ids": "交易流水（全部）", "terminal_id": "终端或网点", "txns": "交易笔数", "dates": "日期", "times": "时间",
               "moved": "转出金额", "transfers": "转出笔数", "receivers": "收款人", "credit_day": "入账日",
               "credit_date": "入账日期", "guardian_id": "监护人", "basis": "依据", "valid_from": "生效日期",
               "valid_to": "失效日期", "published_date": "公示日期", "disbursed": "拨付代发银行", "credited": "银行入账", "returned": "退回", "difference": "差额",
               "idle_since": "闲置起始日", "idle_amount": "闲置金额", "bank_account": "银行入账账号",
               "approved_amount": "核定金额", "max_amount": "上限", "amount_paid": "实发金额",
               "amount_disclosed": "公示金额", "reissued_on": "补发日期", "credited_amount": "入账金额",
               "accounts": "账户数", "people": "人数", "households": "户数", "share": "社保卡占比", "target": "目标",
               "total": "成功发放金额", "card": "社保卡发放金额", "first_paid": "首次发放日", "lines": "笔数",
               "published_date": "公开日期", "policy_effective_date": "实施日期", "days": "天数",
               "item_name": "项目名称", "tables": "所在数据表", "min_age": "年龄下限", "max_age": "年龄上限",
               "start_date": "起始日期", "end_date": "终止日期", "items": "项目", "codes": "项目", "districts": "区县",
               "exclusive_group": "互斥组", "median_count": "中位笔数", "median_amount": "中位金额"})

MONEY_COLS = {"amount", "amount_fen", "expected", "fee", "credited", "credited_amount", "approved_amount",
              "amount_paid", "amount_disclosed", "max_amount", "median_amount", "disbursed", "returned",
              "difference", "idle_amount", "total", "card", "moved"}

# What the checks write in their "problem" column, as the report and the workpaper show it.
PROBLEM_ZH = {
    "disbursed ≠ credited + returned": "拨付资金≠银行入账+退回", "idle money": "资金闲置",
    "no bank credit": "银行无入账记录", "bank credit failed": "银行入账失败", "credited amount differs": "入账金额不符",
    "credited to another account": "入账账号不符", "differs from approved amount": "与核定金额不符",
    "differs from standard": "与补贴标准不符", "above the item's maximum": "超过项目上限",
    "paid but not disclosed": "已发放未公示", "disclosed but not paid": "已公示未发放", "amounts differ": "公示与发放金额不符",
    "no successful reissue": "未成功补发", "reissued late": "补发超时", "platform failed, bank credited": "平台失败但银行已入账",
    "bank return for no payment line": "平台无此发放记录的银行回盘", "not on the policy list": "不在政策清单内",
    "paid for a period before the policy took effect": "所属期早于政策实施日期", "ward receives no special-group item":
    "被代管人未领取特殊群体项目", "no basis": "无代管依据", "identity number not masked": "身份证号未脱敏",
    "name not masked": "姓名未脱敏",
}


def problem_zh(text) -> str:
    """A problem text in Chinese (parts joined by "; " each translated; a guardian's ward count kept)."""
    import re

    if text is None or (isinstance(text, float) and text != text):
        return ""
    out = []
    for part in str(text).split("; "):
        m = re.fullmatch(r"guardian holds (\d+) wards outside the household", part)
        out.append(f"代管人代管 {m.group(1)} 名非同户人员" if m else PROBLEM_ZH.get(part, part))
    return "；".join(out)


# Why a row was quarantined or a check did not run, as findings.json records it (stable English, the same in every
# language) and as the report and the workpaper show it. Unknown texts are shown as they are.
_WHAT_ZH = {"yes/no value": "是否值", "value": "取值", "region code": "区划代码"}
_REASON_PATTERNS = [
    (r"negative amount", lambda m: "金额为负数"),
    (r"unreadable amount", lambda m: "金额无法识别"),
    (r"unreadable date", lambda m: "日期无法识别"),
    (r"unreadable date-time \(a date and a time of day are needed\)", lambda m: "日期时间无法识别（需要日期和时刻）"),
    (r"unreadable number", lambda m: "数字无法识别"),
    (r"unreadable period", lambda m: "所属期无法识别"),
    (r"empty value", lambda m: "必填值为空"),
    (r"wrong check digit", lambda m: "身份证号校验位错误"),
    (r"not 18 digits \(the last may be X\)", lambda m: "身份证号不是 18 位（末位可为 X）"),
    (r"unknown (.+)", lambda m: f"未知的{_WHAT_ZH.get(m.group(1), m.group(1))}"),
    (r"duplicate (\w+) \(first at row (\d+)\)", lambda m: f"{COL_ZH.get(m.group(1), m.group(1))}重复（首次出现在第 {m.group(2)} 行）"),
    (r"wrong number of columns \((\d+) instead of (\d+)\)", lambda m: f"列数不符（{m.group(1)} 列，应为 {m.group(2)} 列）"),
    (r"row not readable as (\S+), the encoding of the rest of the file",
     lambda m: f"该行不能按文件其余部分的编码 {m.group(1)} 读取"),
    (r"data not provided: (.+)", lambda m: f"未提供数据：{m.group(1)}"),
    (r"not executed: (.+)", lambda m: f"未执行：{reason_zh(m.group(1))}"),
    (r"(.+): ([\d,]+) of ([\d,]+) rows of (\w+) \((.+?)\) were quarantined \((\d+%), above the limit of (\d+%)\); "
     r"most common: (.+)", lambda m: f"{m.group(1)}：{m.group(4)}（{m.group(5)}）的 {m.group(3)} 行中有 {m.group(2)} 行被隔离"
                                     f"（{m.group(6)}，超过上限 {m.group(7)}）；最常见的原因：{reason_zh(m.group(8))}"),
    (r"(.+) \((\d+)\)", lambda m: f"{reason_zh(m.group(1))}（{m.group(2)}）"),
    (r"needs several districts: run `audit check` on several package folders",
     lambda m: "需要多个区县：请对多个数据包文件夹运行 `audit check`"),
    (r"no card-coverage target for (\d+)", lambda m: f"{m.group(1)} 年没有社保卡发放占比目标"),
    (r"no published_date in the policy list", lambda m: "政策清单没有公布日期（published_date）"),
    (r"policy_items.disclose_before_pay \(先公示后发放\) not provided", lambda m: "政策清单未提供“先公示后发放”（disclose_before_pay）"),
    (r"not applicable: (.+)", lambda m: f"不适用：{m.group(1)}"),
]


def reason_zh(text) -> str:
    """A quarantine reason or a check's skipped reason in Chinese (parts joined by "; " each translated)."""
    import re

    if text is None or (isinstance(text, float) and text != text):
        return ""
    text = str(text)
    for pat, fn in _REASON_PATTERNS:          # the whole text first: some reasons hold "; " themselves
        m = re.fullmatch(pat, text, flags=re.S)
        if m:
            return fn(m)
    if "; " in text:
        return "；".join(reason_zh(part) for part in text.split("; "))
    return text


def param_value_zh(name: str, value) -> str:
    """A parameter's value as an auditor reads it: a year mapping as 年度 → value, fractions of targets in %."""
    if isinstance(value, dict):
        if name == "targets":
            return "；".join(f"{k} 年 {float(v) * 100:g}%" for k, v in sorted(value.items(), key=lambda x: str(x[0])))
        return "；".join(f"{k}：{v}" for k, v in sorted(value.items(), key=lambda x: str(x[0])))
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "（默认）"
    return str(value)
