"""workpaper.xlsx (审计疑点清单): every flagged record in full, one sheet per check, marked 内部资料. A cell that
would start a formula (=, +, -, @) is written as text, so that no formula ever runs."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@")


def _cell(v):
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.strftime("%Y-%m-%d")
    if hasattr(v, "item"):
        v = v.item()
    return v


def guard(ws) -> None:
    for r in ws.iter_rows():
        for cell in r:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"          # text, not a formula
                cell.quotePrefix = True


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
    ws.append(["编号", "检查", "风险等级", "结果", "疑点数", "涉及金额（分）"])
    for c in findings["checks"]:
        ws.append([c["id"], c["title"], c["severity"], c["status"], c["count"], c["amount_fen"]])
    for c in findings["checks"]:
        ev = evidence.get(c["id"])
        if ev is None or not len(ev):
            continue
        sh = wb.create_sheet(c["id"])
        sh.append([f"内部资料 — {c['id']} {c['title']}"])
        sh["A1"].font = Font(bold=True, color="C00000")
        cols = [x for x in ev.columns if not str(x).startswith("_")]
        sh.append(cols)
        for row in ev[cols].itertuples(index=False):
            sh.append([_cell(v) for v in row])
    for sheet in wb.worksheets:                   # every cell, every sheet: data never becomes a formula
        guard(sheet)
    wb.properties.title = meta
    wb.properties.keywords = "内部资料"
    wb.properties.creator = "audit_lib"
    path = Path(path)
    wb.save(path)
    return path
