"""workpaper.xlsx (审计疑点清单): every flagged record in full, one sheet per check, marked 内部资料, laid out as
an auditor works in Excel: Chinese headers, amounts in 元 as numbers with two decimals, dates as Excel dates,
the header row frozen, filters on, columns sized, a totals row; a first sheet 汇总 with every check's count and
amount. A cell from the data that would start a formula (=, +, -, @) is written as text: no formula ever runs.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .labels import COL_ZH, FAMILY_ZH, MONEY_COLS, SEVERITY_ZH, STATUS_ZH, problem_zh

FORMULA_START = ("=", "+", "-", "@")

# What the auditor fills in the field, one set of columns per check sheet (audit followup reads them back).
CONCLUSIONS = ("属实", "部分属实", "不属实", "待核实")
RECTIFICATION = ("未整改", "整改中", "已整改")
VERIFY_COLUMNS = ("核实结论", "核实说明", "确认金额（元）", "追回金额（元）", "整改状态", "核实人", "核实日期")
SAMPLE_COLUMNS = ("审定金额（元）", "核实说明", "核实人", "核实日期")      # the audit sample (ST04)
FILL_MONEY = ("确认金额（元）", "追回金额（元）", "审定金额（元）")
KEY_HEADER = "键"
YUAN = "#,##0.00"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"


def yuan(fen) -> Decimal | None:
    """Integer fen as an exact decimal number of 元 (never a binary float on the way)."""
    if fen is None or fen is pd.NA or (isinstance(fen, float) and pd.isna(fen)):
        return None
    return Decimal(int(fen)).scaleb(-2)


def _cell(v):
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        if pd.isna(v):
            return None
        return v.to_pydatetime() if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date()
    if hasattr(v, "item"):
        v = v.item()
    return v


def guard(ws) -> None:
    for r in ws.iter_rows():
        for cell in r:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"          # text, not a formula
                cell.quotePrefix = True


def _widths(ws, header_row: int) -> None:
    from openpyxl.utils import get_column_letter

    for i, col in enumerate(ws.iter_cols(min_row=header_row, max_row=min(ws.max_row, header_row + 200)), 1):
        longest = max((len(str(c.value)) + sum(1 for ch in str(c.value) if ord(ch) > 0x2E80)
                       for c in col if c.value is not None), default=6)
        ws.column_dimensions[get_column_letter(i)].width = min(max(8, longest + 2), 48)


def _check_sheet(wb, c: dict, ev: pd.DataFrame) -> None:
    from openpyxl.styles import Font, PatternFill

    sh = wb.create_sheet(c["id"])
    sh.append([f"内部资料 — {c['id']} {c['title']}（风险等级：{SEVERITY_ZH.get(c['severity'], c['severity'])}）"])
    sh["A1"].font = Font(bold=True, color="C00000")
    cols = [x for x in ev.columns if not str(x).startswith("_")]
    money = [x in MONEY_COLS for x in cols]
    sh.append([COL_ZH.get(x, x) + ("（元）" if m else "") for x, m in zip(cols, money)])
    for cell in sh[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF2F6")
    totals = [0] * len(cols)
    for row in ev[cols].itertuples(index=False):
        out = []
        for k, (v, m) in enumerate(zip(row, money)):
            if m and v is not None and not (isinstance(v, float) and pd.isna(v)) and v is not pd.NA:
                totals[k] += int(v)
                out.append(yuan(v))
            elif cols[k] == "problem":
                out.append(problem_zh(v))
            else:
                out.append(_cell(v))
        sh.append(out)
    last = sh.max_row
    for k, m in enumerate(money, 1):
        for (cell,) in sh.iter_rows(min_row=3, max_row=last, min_col=k, max_col=k):
            if m:
                cell.number_format = YUAN
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = DATETIME
            elif isinstance(cell.value, dt.date):
                cell.number_format = DATE
    sh.append(["合计"] + [yuan(t) if m else None for t, m in zip(totals[1:], money[1:])])
    for cell in sh[sh.max_row]:
        cell.font = Font(bold=True)
        cell.number_format = YUAN
    fill = SAMPLE_COLUMNS if c["id"] == "ST04" else VERIFY_COLUMNS
    _fill_columns(sh, len(cols), fill, last)
    sh.freeze_panes = "A3"
    sh.auto_filter.ref = f"A2:{sh.cell(row=last, column=len(cols) + len(fill)).column_letter}{last}"
    _widths(sh, 2)


def _fill_columns(sh, after: int, names: tuple, last: int) -> None:
    """The columns the auditor fills in (yellow), with drop-down lists where the answer is one of a few."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    yellow = PatternFill("solid", fgColor="FFF2CC")
    for i, name in enumerate(names, after + 1):
        cell = sh.cell(row=2, column=i, value=name)
        cell.font = Font(bold=True)
        cell.fill = yellow
        col = get_column_letter(i)
        if last < 3:
            continue
        cells = f"{col}3:{col}{last}"
        if name in ("核实结论", "整改状态"):
            options = CONCLUSIONS if name == "核实结论" else RECTIFICATION
            dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle=name, error="请从下拉列表中选择：" + "、".join(options))
            sh.add_data_validation(dv)
            dv.add(cells)
        for (c,) in sh.iter_rows(min_row=3, max_row=last, min_col=i, max_col=i):
            c.fill = yellow
            if name in FILL_MONEY:
                c.number_format = YUAN
            elif name == "核实日期":
                c.number_format = DATE


def write(path: str | Path, findings: dict, evidence: dict[str, pd.DataFrame]) -> Path:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "汇总"
    meta = f"{findings.get('district_name', '')}（{findings['district_code']}）{findings['year']}年 审计疑点清单"
    ws.append(["内部资料 — 含个人信息，仅供现场核实使用，不得外传"])
    ws["A1"].font = Font(bold=True, color="C00000")
    ws.append([meta])
    ws.append(["发现清单摘要", findings["digest"]])
    ws.append([])
    ws.append(["编号", "检查", "类别", "风险等级", "结果", "疑点数", "涉及金额（元）"])
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for c in findings["checks"]:
        ws.append([c["id"], c["title"], FAMILY_ZH.get(c.get("family"), c.get("family")),
                   SEVERITY_ZH.get(c["severity"], c["severity"]), STATUS_ZH.get(c["status"], c["status"]),
                   c["count"], yuan(c["amount_fen"])])
        ws.cell(row=ws.max_row, column=7).number_format = YUAN
    ws.freeze_panes = "A6"
    ws.auto_filter.ref = f"A5:G{ws.max_row}"
    _widths(ws, 5)
    for c in findings["checks"]:
        ev = evidence.get(c["id"])
        if ev is not None and len(ev):
            _check_sheet(wb, c, ev)
    for sheet in wb.worksheets:                   # every cell, every sheet: data never becomes a formula
        guard(sheet)
    wb.properties.title = meta
    wb.properties.keywords = "内部资料"
    wb.properties.creator = "audit_lib"
    path = Path(path)
    wb.save(path)
    return path
