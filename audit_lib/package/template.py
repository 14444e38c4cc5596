"""Empty Excel templates, one per table of the data contract: Chinese headers, one example row, and a 说明
sheet with each column's meaning, form and whether it is required (`audit template --out DIR`)."""
from __future__ import annotations

from pathlib import Path

from .schema import ENUMS, TABLES

FORM_ZH = {"id": "18位身份证号，按文本填写（末位x写作X）", "masked_id": "身份证号，可脱敏（前6位与后4位之外用*）",
           "str": "文本", "int": "整数", "money": "金额，单位元，如 1234.50、1,234.50、￥1234.50",
           "date": "日期，如 2023-05-10、2023/5/10、2023年5月10日", "datetime": "日期时间，如 2023-05-10 14:03:22",
           "period": "所属期，如 2023-05、202305、2023年5月", "bool": "是/否", "enum": "下列取值之一"}

EXAMPLE_ID = "11010519491231002X"        # the example of GB 11643 itself
EXAMPLES = {"id": EXAMPLE_ID, "masked_id": "110105********002X", "str": "示例", "int": "60", "money": "100.00",
            "date": "2023-05-10", "datetime": "2023-05-10 14:03:22", "period": "2023-05", "bool": "是"}
BY_NAME = {"item_code": "MZ001", "item_name": "最低生活保障", "department": "区民政局", "payment_id": "P000001",
           "txn_id": "T000001", "batch_id": "B202305", "name": "张三", "account_no": "6222020000000000011",
           "card_no": "A00000011", "bank": "中国工商银行", "household_id": "H0001", "terminal_id": "ATM0001",
           "counterparty_account": "6222020000000000022", "end_period": "", "end_date": "", "valid_to": "",
           "reissue_of": "", "fail_reason": "", "max_amount": "", "min_age": "", "max_age": "",
           "exclusive_group": "", "designated_account_no": ""}


def example(column) -> str:
    if column.name in BY_NAME:
        return BY_NAME[column.name]
    if column.type == "enum":
        return next(iter(ENUMS[column.enum].values()))[0]
    return EXAMPLES.get(column.type, "")


def write_templates(out: str | Path) -> list[Path]:
    import openpyxl
    from openpyxl.styles import Font

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for t in TABLES:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = t.zh
        ws.append([c.zh for c in t.columns])
        ws.append([example(c) for c in t.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for cell in ws[2]:
            cell.data_type = "s"                    # identity and account numbers stay text
        ws.freeze_panes = "A2"
        doc = wb.create_sheet("说明")
        doc.append(["中文列名", "英文列名", "是否必需", "填写形式", "取值"])
        for c in t.columns:
            values = "、".join(f"{v[0]}（{k}）" for k, v in ENUMS[c.enum].items()) if c.enum else ""
            doc.append([c.zh, c.name, "必需" if c.required else "可选", FORM_ZH.get(c.type, c.type), values])
        doc.append([])
        doc.append([f"本表（{t.zh}，{t.name}）为{'必需' if t.required else '可选'}数据；示例行请替换为实际数据。"])
        path = out / f"{t.zh}.xlsx"
        wb.save(path)
        written.append(path)
    return written
