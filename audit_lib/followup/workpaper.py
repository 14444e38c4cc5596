"""A filled-in workpaper read back: every disposition checked against the run it belongs to.

The run's own workpaper (signed, in the run folder) says which records each check flagged and their amounts;
the filled copy may only add what the auditor found. Anything that does not belong — a sheet or key the run did
not flag, a conclusion or status not in the lists, an amount that is not money, a confirmed amount above the
record's, a recovered amount above the confirmed, a workpaper of another run — is reported with its sheet,
Excel row and column, all of them at once; nothing is dropped.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import AuditError
from ..i18n import tr
from ..report.workpaper import (CONCLUSIONS, FILL_MONEY, KEY_HEADER, RECTIFICATION, SAMPLE_COLUMNS, VERIFY_COLUMNS)

AMOUNT_HEADER = "涉及金额（元）"
HITS_HEADER = "抽中次数"


@dataclass
class Sheet:
    records: dict[str, dict]            # key -> {row, amount_fen, hits}
    headers: list[str]


@dataclass
class Filled:
    digest: str
    dispositions: list[dict] = field(default_factory=list)     # one per flagged record of every check sheet
    sample: list[dict] = field(default_factory=list)           # ST04 items: key, book_fen, audited_fen, hits


def _open(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, data_only=True, read_only=False)
    except Exception as e:                  # a file that is not a workbook
        raise AuditError(tr(f"{path}：不是可读的 Excel 工作簿（{type(e).__name__}）",
                            f"{path}: not a readable Excel workbook ({type(e).__name__})")) from None


def _digest(wb) -> str | None:
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=1, max_row=6, max_col=2, values_only=True):
        if row and row[0] == "发现清单摘要":
            return str(row[1])
    return None


def _money(v) -> int | None:
    """A cell as integer fen: a number or text of 元 with at most two decimals, not negative; ValueError else."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        raise ValueError
    text = re.sub(r"[,，\s元¥￥]", "", str(v)) if isinstance(v, str) else repr(v)
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if isinstance(v, float):
        d = d.quantize(Decimal("0.01")) if abs(d - d.quantize(Decimal("0.01"))) < Decimal("1e-9") else d
    if d < 0 or d != d.quantize(Decimal("0.01")) or not d.is_finite():
        raise ValueError
    return int(d * 100)


def _date(v) -> str | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    m = re.fullmatch(r"\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*", str(v))
    if not m:
        raise ValueError
    return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()


def _text(v) -> str:
    return "" if v is None else str(v).strip()


def _sheet(ws) -> Sheet:
    headers = [_text(c.value) for c in ws[2]] if ws.max_row >= 2 else []
    records = {}
    if KEY_HEADER not in headers:
        return Sheet(records, headers)
    k = headers.index(KEY_HEADER)
    a = headers.index(AMOUNT_HEADER) if AMOUNT_HEADER in headers else None
    h = headers.index(HITS_HEADER) if HITS_HEADER in headers else None
    for i, row in enumerate(ws.iter_rows(min_row=3, values_only=True), 3):
        if not row or row[0] == "合计":
            break
        key = _text(row[k])
        if key:
            amount = _money(row[a]) if a is not None and row[a] is not None else None
            records[key] = {"row": i, "amount_fen": amount, "hits": int(row[h]) if h is not None and row[h] else 1}
    return Sheet(records, headers)


def read(filled: Path, signed: Path, findings: dict) -> Filled:
    """The filled workpaper ``filled`` of the run whose own workpaper is ``signed``."""
    from openpyxl.utils import get_column_letter

    run_wb, wb = _open(signed), _open(filled)
    digest = _digest(wb)
    if digest != findings["digest"]:
        raise AuditError(tr(f"{filled}：不是这次运行的工作底稿（汇总页的发现清单摘要为 {digest}，本次运行为 {findings['digest']}）",
                            f"{filled}: not this run's workpaper (its 汇总 sheet gives findings digest {digest}, the run "
                            f"has {findings['digest']})"))
    checks = {c["id"]: c for c in findings["checks"]}
    out, problems = Filled(digest), []
    for ws in wb.worksheets[1:]:
        name = ws.title
        if name not in run_wb.sheetnames or name not in checks:
            problems.append(tr(f"工作表 {name}：本次运行没有这项检查的疑点", f"sheet {name}: the run flagged nothing "
                                                                 f"under this name"))
            continue
        original = _sheet(run_wb[name])
        sheet = _sheet(ws)
        fill = SAMPLE_COLUMNS if name == "ST04" else VERIFY_COLUMNS
        missing = [c for c in (KEY_HEADER,) + fill if c not in sheet.headers]
        if missing:
            problems.append(tr(f"工作表 {name}：缺少列 {'、'.join(missing)}", f"sheet {name}: column(s) missing: "
                                                                       f"{', '.join(missing)}"))
            continue
        col = {h: sheet.headers.index(h) for h in (KEY_HEADER,) + fill}
        seen = set()
        rows = list(ws.iter_rows(min_row=3, values_only=True))
        for i, row in enumerate(rows, 3):
            if not row or row[0] == "合计":
                break
            key = _text(row[col[KEY_HEADER]])
            values = {h: row[j] if j < len(row) else None for h, j in col.items()}
            filled_any = any(_text(values[h]) for h in fill)
            where = f"{name}!{get_column_letter(col[KEY_HEADER] + 1)}{i}"
            if not key:
                if filled_any:
                    problems.append(tr(f"{where}：有核实内容但没有键", f"{where}: verification filled in but no key"))
                continue
            if key not in original.records:
                problems.append(tr(f"{where}：键 {key} 不是本次运行 {name} 的疑点", f"{where}: key {key} is not a record "
                                                                           f"{name} flagged in this run"))
                continue
            if key in seen:
                problems.append(tr(f"{where}：键 {key} 重复出现", f"{where}: key {key} appears twice"))
                continue
            seen.add(key)
            rec = original.records[key]
            parsed, bad = {}, False
            for h in fill:
                cell = f"{name}!{get_column_letter(col[h] + 1)}{i}（{h}）"
                v = values[h]
                try:
                    if h in FILL_MONEY:
                        parsed[h] = _money(v)
                    elif h == "核实日期":
                        parsed[h] = _date(v)
                    else:
                        parsed[h] = _text(v)
                except (ValueError, OverflowError):
                    problems.append(tr(f"{cell}：{v!r} 不是{'金额（元，最多两位小数，不为负）' if h in FILL_MONEY else '日期'}",
                                       f"{cell}: {v!r} is not {'money (元, two decimals at most, not negative)' if h in FILL_MONEY else 'a date'}"))
                    bad = True
            if bad:
                continue
            if name == "ST04":
                audited = parsed["审定金额（元）"]
                out.sample.append({"key": key, "book_fen": rec["amount_fen"], "audited_fen": audited,
                                   "hits": rec["hits"], "note": parsed["核实说明"], "verifier": parsed["核实人"],
                                   "date": parsed["核实日期"], "row": i})
                continue
            conclusion = parsed["核实结论"] or "待核实"
            status = parsed["整改状态"]
            cell = lambda h: f"{name}!{get_column_letter(col[h] + 1)}{i}（{h}）"   # noqa: E731
            if conclusion not in CONCLUSIONS:
                problems.append(tr(f"{cell('核实结论')}：{conclusion!r} 不是 {'、'.join(CONCLUSIONS)} 之一",
                                   f"{cell('核实结论')}: {conclusion!r} is not one of {', '.join(CONCLUSIONS)}"))
                continue
            if status and status not in RECTIFICATION:
                problems.append(tr(f"{cell('整改状态')}：{status!r} 不是 {'、'.join(RECTIFICATION)} 之一",
                                   f"{cell('整改状态')}: {status!r} is not one of {', '.join(RECTIFICATION)}"))
                continue
            confirmed, recovered = parsed["确认金额（元）"], parsed["追回金额（元）"]
            if confirmed is not None and rec["amount_fen"] is not None and confirmed > rec["amount_fen"]:
                problems.append(tr(f"{cell('确认金额（元）')}：确认金额 {confirmed / 100:,.2f} 元高于该疑点的金额 "
                                   f"{rec['amount_fen'] / 100:,.2f} 元",
                                   f"{cell('确认金额（元）')}: confirmed {confirmed / 100:,.2f} is above the record's "
                                   f"amount {rec['amount_fen'] / 100:,.2f}"))
                continue
            if recovered is not None and (confirmed is None or recovered > confirmed):
                problems.append(tr(f"{cell('追回金额（元）')}：追回金额高于确认金额", f"{cell('追回金额（元）')}: recovered "
                                                                          f"is above the confirmed amount"))
                continue
            if conclusion == "不属实" and confirmed:
                problems.append(tr(f"{cell('确认金额（元）')}：核实结论为不属实，却有确认金额",
                                   f"{cell('确认金额（元）')}: concluded 不属实 but an amount is confirmed"))
                continue
            out.dispositions.append({"check": name, "key": key, "conclusion": conclusion, "note": parsed["核实说明"],
                                     "amount_fen": rec["amount_fen"], "confirmed_fen": confirmed,
                                     "recovered_fen": recovered, "status": status or None,
                                     "verifier": parsed["核实人"] or None, "date": parsed["核实日期"], "row": i})
        for key, rec in original.records.items():        # a record the auditor's copy lost is still open
            if key not in seen and name != "ST04":
                out.dispositions.append({"check": name, "key": key, "conclusion": "待核实", "note": "",
                                         "amount_fen": rec["amount_fen"], "confirmed_fen": None, "recovered_fen": None,
                                         "status": None, "verifier": None, "date": None, "row": None})
    for name in run_wb.sheetnames[1:]:                     # a sheet deleted from the copy: its records stay open
        if name not in wb.sheetnames and name != "ST04":
            for key, rec in _sheet(run_wb[name]).records.items():
                out.dispositions.append({"check": name, "key": key, "conclusion": "待核实", "note": "",
                                         "amount_fen": rec["amount_fen"], "confirmed_fen": None, "recovered_fen": None,
                                         "status": None, "verifier": None, "date": None, "row": None})
    if problems:
        raise AuditError(tr(f"{filled}：以下内容不属于这次运行，未生成整改跟踪记录：\n  " + "\n  ".join(problems),
                            f"{filled}: these do not belong to the run; no follow-up was written:\n  " + "\n  ".join(problems)))
    out.dispositions.sort(key=lambda d: (d["check"], d["key"]))
    return out
