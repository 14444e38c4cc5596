"""`audit init DIR`: look at a folder of exports, recognise each table and column from its headers, and write
package.yaml. Nothing is guessed silently: the files and headers it mapped are written into package.yaml
(`tables:`, `columns:`) for the auditor to see and the reader to follow; a file it could not place, a header
that could be two columns, and a required table or column it did not find are listed."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import PackageError
from .load import HEADER_SCAN_ROWS, _decode_head, _header_map, _norm_header, _refuse_special
from .schema import FILE_EXTENSIONS, TABLES, Table
from ..i18n import tr

# Headers seen in exports that are not the contract's own names: header -> column. A header listed for several
# columns is ambiguous and left for the auditor.
VARIANTS = {
    "证件号码": ("person_id",), "公民身份号码": ("person_id",), "身份证号码": ("person_id",), "身份证": ("person_id",),
    "姓名/户主": ("name",), "户主姓名": ("name",), "补贴对象姓名": ("name",),
    "补贴项目编码": ("item_code",), "项目代码": ("item_code",), "补贴项目名称": ("item_name",),
    "发放金额（元）": ("amount",), "发放金额(元)": ("amount",), "实发金额": ("amount",), "金额（元）": ("amount",),
    "所属期间": ("period",), "所属月份": ("period",), "发放月份": ("period",),
    "银行账号": ("account_no", "counterparty_account"), "账号": ("account_no",), "卡号": ("card_no", "account_no"),
    "社会保障卡号": ("card_no",), "开户银行": ("bank",), "银行名称": ("bank",),
    "日期": ("pay_date", "status_date", "credit_date", "date", "published_date"),
    "状态": ("status",), "交易时间": ("txn_time",), "交易日期时间": ("txn_time",),
    "业务流水号": ("payment_id", "txn_id"), "流水号码": ("payment_id",),
}


@dataclass
class FileMatch:
    file: str
    table: str | None
    header_row: int | None
    mapped: dict = field(default_factory=dict)        # header -> column (variants only; contract names need none)
    ambiguous: dict = field(default_factory=dict)     # header -> candidate columns
    unplaced: list = field(default_factory=list)      # headers matching no column
    missing: list = field(default_factory=list)       # required columns not found
    candidates: list = field(default_factory=list)    # tables that fit equally well


def _rows(path: Path) -> list[list]:
    """The first rows of a file as text, whatever its form."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()[: 1 << 16]
        if raw[:3] == b"\xef\xbb\xbf":
            raw = raw[3:]
        text, _ = _decode_head(raw, path)
        return list(csv.reader(io.StringIO(text)))[:HEADER_SCAN_ROWS]
    if suffix == ".xlsx":
        from python_calamine import CalamineWorkbook, SheetVisibleEnum

        wb = CalamineWorkbook.from_path(str(path))
        visible = [m.name for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
        if not visible:
            return []
        return [[str(c) for c in r] for r in wb.get_sheet_by_name(visible[0]).to_python(nrows=HEADER_SCAN_ROWS)]
    import pyarrow.parquet as pq

    return [pq.read_schema(path).names]


def _score(row: list, table: Table) -> tuple[int, dict, dict, list]:
    own = _header_map(table)
    names = {c.name for c in table.columns}
    hits, mapped, ambiguous, unplaced = 0, {}, {}, []
    for cell in row:
        h = _norm_header(cell)
        if not h:
            continue
        if h in own:
            hits += 1
            continue
        cands = [c for c in VARIANTS.get(str(cell).strip(), ()) if c in names]
        if len(cands) == 1:
            hits += 1
            mapped[str(cell).strip()] = cands[0]
        elif len(cands) > 1:
            ambiguous[str(cell).strip()] = cands
        else:
            unplaced.append(str(cell).strip())
    return hits, mapped, ambiguous, unplaced


def match_file(path: Path) -> FileMatch:
    rows = _rows(path)
    best: tuple | None = None
    ties = []
    for t in TABLES:
        need = max(2, sum(c.required for c in t.columns) // 2)
        for i, row in enumerate(rows):
            hits, mapped, ambiguous, unplaced = _score(row, t)
            if hits < need:
                continue
            key = (hits / len(t.columns), hits)
            if best is None or key > best[0]:
                best, ties = (key, t, i, mapped, ambiguous, unplaced), [t.name]
            elif key == best[0] and t.name not in ties:
                ties.append(t.name)
            break
    if best is None:
        return FileMatch(path.name, None, None)
    _, t, i, mapped, ambiguous, unplaced = best
    found = {_header_map(t).get(_norm_header(c)) for c in rows[i]} | set(mapped.values())
    missing = [f"{c.name}（{c.zh}）" for c in t.columns if c.required and c.name not in found]
    return FileMatch(path.name, t.name if len(ties) == 1 else None, i + 1, mapped, ambiguous, unplaced, missing,
                     ties if len(ties) > 1 else [])


def survey(folder: str | Path) -> list[FileMatch]:
    folder = Path(folder)
    if not folder.is_dir():
        raise PackageError(tr(f"{folder}：不是文件夹",
                              f"{folder}: not a folder"))
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in FILE_EXTENSIONS:
            _refuse_special(folder, p)
            out.append(match_file(p))
    return out


def init(folder: str | Path, district_code: str | None = None, district_name: str | None = None,
         year: int | None = None, force: bool = False) -> tuple[Path | None, list[str], bool]:
    """Survey the folder and write package.yaml: (its path or None, the lines to print, whether it is complete)."""
    from ..synth.catalogue import DISTRICTS

    folder = Path(folder)
    target = folder / "package.yaml"
    if target.exists() and not force:
        raise PackageError(tr(f"{target} 已存在；加 --force 重新写出",
                              f"{target} exists already; pass --force to write it again"))
    matches = survey(folder)
    lines, tables, columns = [], {}, {}
    by_table: dict[str, list[FileMatch]] = {}
    for m in matches:
        if m.table:
            by_table.setdefault(m.table, []).append(m)
    complete = True
    zh = {t.name: t.zh for t in TABLES}
    for m in matches:
        if m.table is None:
            why = f"可能是：{'、'.join(zh[c] for c in m.candidates)}，请在 package.yaml 的 tables 中指定" if m.candidates \
                else "表头与任何数据表都不符"
            lines.append(f"未能识别：{m.file}（{why}）")
            continue
        if len(by_table[m.table]) > 1:
            lines.append(f"有歧义：{m.file} 与 {'、'.join(x.file for x in by_table[m.table] if x is not m)} 都像"
                         f"{zh[m.table]}（{m.table}），请只保留一个")
            complete = False
            continue
        tables[m.table] = m.file
        lines.append(f"已识别：{m.file} → {zh[m.table]}（{m.table}），表头在第 {m.header_row} 行")
        if m.mapped:
            columns[m.table] = m.mapped
            lines += [f"    列：{h} → {c}" for h, c in m.mapped.items()]
        for h, cands in m.ambiguous.items():
            lines.append(f"    有歧义的列：{h} 可能是 {' 或 '.join(cands)}，请在 package.yaml 的 columns 中指定")
        if m.unplaced:
            lines.append(f"    未使用的列：{'、'.join(m.unplaced)}")
        if m.missing:
            lines.append(f"    缺少必需的列：{'、'.join(m.missing)}")
            complete = False
    for t in TABLES:
        if t.required and t.name not in tables:
            lines.append(f"缺少必需的数据表：{t.zh}（{t.name}）")
            complete = False
    meta = {}
    if district_code:
        meta["district_code"] = str(district_code)
    if district_name or (district_code and str(district_code) in DISTRICTS):
        meta["district_name"] = district_name or DISTRICTS[str(district_code)]
    if year:
        meta["year"] = int(year)
    for key, zh_name, flag in (("district_code", "区划代码", "--district-code"), ("year", "审计年度", "--year")):
        if key not in meta:
            lines.append(f"请补充{zh_name}（{key}）：用 {flag} 给出，或写入 package.yaml")
            complete = False
    meta.update({"prepared_by": "audit init", "tables": tables})
    if columns:
        meta["columns"] = columns
    target.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    lines.append(f"已写入 {target}" + ("" if complete else "（尚不完整：补充上述内容后再运行 audit validate）"))
    return target, lines, complete
