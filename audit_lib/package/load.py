"""Load a data package folder into typed tables and a quarantine.

Finds each table's file (English or Chinese name; CSV, XLSX or Parquet), detects the encoding and the header
row, maps headers (English or Chinese, full-width folded) to the schema, parses every value, and quarantines
rows that break a rule. Fatal problems (missing package.yaml, table or column; an unreadable or empty file; an
identity column that arrived as numbers) raise PackageError with one clear message.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import yamlsafe
from ..errors import PackageError
from ..heap import give_back, give_back_much, small_pages, use_c_heap
from . import quality, values
from .arrowtext import as_text, one_piece, positions
from .passing import Passing, count_newlines
from .schema import ENUMS, FILE_EXTENSIONS, TABLES, Table
from ..i18n import tr

HEADER_SCAN_ROWS = 30
# What the C heap holds free is looked at after reading a table only if its file has this many bytes: a smaller one
# does not leave the 1 GiB free that is given back, and looking takes each arena's lock in turn to walk its free
# lists (up to 50 ms while another table is being read; 0.13 s over the tables of a million-line package).
LOOK_AFTER = 256 << 20
# Free text is trimmed but not folded with NFKC (names have no full-width forms worth folding, and folding
# every name costs time); codes, numbers, dates and places are folded.
FREE_TEXT = {"name", "item_name", "department", "legal_basis", "account_holder_name", "bank", "fail_reason",
             "employer", "position", "basis", "source", "level", "doc_no"}


@dataclass
class InputFile:
    table: str
    path: str            # relative to the package folder
    bytes: int
    root: Path | None = None
    _sha256: str | None = None

    @property
    def sha256(self) -> str:
        """The file's sha256, computed when first asked for (provenance needs it; reading does not)."""
        if self._sha256 is None:
            self._sha256 = sha256_file(self.root / self.path)
        return self._sha256


@dataclass
class Package:
    root: Path
    meta: dict
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    files: list[InputFile] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def district_code(self) -> str:
        return self.meta["district_code"]

    @property
    def district_name(self) -> str:
        return self.meta.get("district_name", "")

    @property
    def year(self) -> int:
        return int(self.meta["year"])

    def has(self, table: str) -> bool:
        return table in self.tables


def _norm_header(text) -> str:
    if text is None:
        return ""
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return t.replace(" ", "").replace("\u3000", "").lstrip("\ufeff")


def _header_map(table: Table) -> dict[str, str]:
    m = {}
    for c in table.columns:
        m[_norm_header(c.name)] = c.name
        m[_norm_header(c.zh)] = c.name
    for header, column in table.header_aliases:       # package.yaml's `columns:`, as the auditor confirmed them
        m[_norm_header(header)] = column
    return m


def _find_header(rows: list[list], table: Table) -> int | None:
    """Index of the first row that holds the table's column names (title rows above it are skipped)."""
    hm = _header_map(table)
    need = max(1, sum(c.required for c in table.columns) // 2)
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = sum(1 for cell in row if _norm_header(cell) in hm)
        if hits >= need:
            return i
    return None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def read_meta(root: Path) -> tuple[dict, bytes]:
    """package.yaml's fields, checked, and the bytes they were read from."""
    path = root / "package.yaml"
    if not path.exists():
        raise PackageError(tr(f"{root}：缺少 package.yaml（必须写明 district_code、district_name、year）",
                              f"{root}: package.yaml is missing (district_code, district_name, year are required)"))
    _refuse_special(root, path)
    try:
        if path.stat().st_size > yamlsafe.MAX_BYTES:
            raise yamlsafe.YamlProblem(f"the file is larger than {yamlsafe.MAX_BYTES:,} bytes")
        data = path.read_bytes()
        meta = yamlsafe.loads(data) or {}
    except (OSError, yamlsafe.YamlProblem) as e:
        raise PackageError(tr(f"{path}：{e}",
                              f"{path}: {e}")) from None
    if not isinstance(meta, dict):
        raise PackageError(tr(f"{path}：应为“字段: 值”的映射",
                              f"{path}: expected a mapping of fields"))
    for key in ("district_code", "year"):
        if meta.get(key) in (None, ""):
            raise PackageError(tr(f"{path}：必须有字段 '{key}'",
                                  f"{path}: field '{key}' is required"))
    code = str(meta["district_code"]).strip()
    if not (len(code) == 6 and code.isdigit()):
        raise PackageError(tr(f"{path}：district_code 应为 6 位 GB/T 2260 区划代码，实为 '{code}'",
                              f"{path}: district_code must be a 6-digit GB/T 2260 code, got '{code}'"))
    meta["district_code"] = code
    try:
        meta["year"] = int(meta["year"])
    except (TypeError, ValueError):
        raise PackageError(tr(f"{path}：year 应为整数，实为 '{meta['year']}'",
                              f"{path}: year must be a whole number, got '{meta['year']}'")) from None
    meta.setdefault("district_name", "")
    meta["district_name"] = str(meta["district_name"])
    meta["synthetic"] = meta.get("synthetic") is True
    _check_mappings(meta, path)
    return meta, data


def _check_mappings(meta: dict, path: Path) -> None:
    """package.yaml may name a table's file (`tables: {payments: 导出明细.xlsx}`) and map headers to columns
    (`columns: {payments: {证件号码: person_id}}`), as `audit init` writes them; both are checked here."""
    from .schema import TABLE_BY_NAME

    tables, columns = meta.get("tables") or {}, meta.get("columns") or {}
    if not isinstance(tables, dict) or not isinstance(columns, dict):
        raise PackageError(tr(f"{path}：'tables' 和 'columns' 应为按表名的映射",
                              f"{path}: 'tables' and 'columns' must be mappings by table name"))
    for t, f in tables.items():
        if t not in TABLE_BY_NAME:
            raise PackageError(tr(f"{path}：'tables' 中有未知的数据表 '{t}'",
                                  f"{path}: 'tables' names an unknown table '{t}'"))
        if not isinstance(f, str) or "/" in f or "\\" in f or f.startswith("."):
            raise PackageError(tr(f"{path}：'tables'：{t} 应为数据包文件夹中的文件名，实为 {f!r}",
                                  f"{path}: 'tables': {t} must be a file name in the package folder, got {f!r}"))
    for t, m in columns.items():
        if t not in TABLE_BY_NAME or not isinstance(m, dict):
            raise PackageError(tr(f"{path}：'columns' 应把表名映射为 {{表头: 列名}}，实为 {t!r}",
                                  f"{path}: 'columns' must map a table name to {{header: column}}, got {t!r}"))
        names = {c.name for c in TABLE_BY_NAME[t].columns}
        for h, c in m.items():
            if c not in names:
                raise PackageError(tr(f"{path}：'columns'：{t} 没有 '{c}' 列（表头 '{h}'）",
                                      f"{path}: 'columns': {t} has no column '{c}' (for header '{h}')"))


def _refuse_special(root: Path, path: Path) -> None:
    """A table file must be a plain file inside the package: not a directory, FIFO or device (reading one
    hangs or fails), and not a link that leads out of the package folder."""
    import os
    import stat

    try:
        real = Path(os.path.realpath(path))
        mode = os.stat(path).st_mode
    except OSError as e:
        raise PackageError(tr(f"{path.name}：无法读取（{e.strerror or e}）",
                              f"{path.name}: cannot be read ({e.strerror or e})")) from None
    if path.is_symlink() and not real.is_relative_to(Path(os.path.realpath(root))):
        raise PackageError(tr(f"{path.name}：是指向数据包文件夹之外 {real} 的链接；请把文件复制到数据包中",
                              f"{path.name}: a link to {real}, outside the package folder; copy the file into the "
                              f"package instead"))
    if not stat.S_ISREG(mode):
        kind = tr("文件夹", "a folder") if stat.S_ISDIR(mode) else tr("管道", "a FIFO") if stat.S_ISFIFO(mode) else \
            tr("设备", "a device") if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else tr("非普通文件", "not a plain file")
        raise PackageError(tr(f"{path.name}：是{kind}，不是数据文件",
                              f"{path.name}: is {kind}, not a data file"))


def find_table_file(root: Path, table: Table, meta: dict | None = None) -> Path | None:
    named = ((meta or {}).get("tables") or {}).get(table.name)
    if named:
        path = root / named
        if not path.exists() and not path.is_symlink():
            raise PackageError(tr(f"{root}：package.yaml 为 {table.name}（{table.zh}）指定的文件 {named} 不存在",
                                  f"{root}: package.yaml names {named} for {table.name} ({table.zh}), which is missing"))
        _refuse_special(root, path)
        return path
    mapped = {str(f) for f in ((meta or {}).get("tables") or {}).values()}
    names = {table.name.lower(), _norm_header(table.zh), *(_norm_header(a) for a in table.aliases)}
    found = []
    for p in sorted(root.iterdir()):
        if p.suffix.lower() in FILE_EXTENSIONS and _norm_header(p.stem) in names and p.name not in mapped:
            _refuse_special(root, p)
            found.append(p)
    if len(found) > 1:
        raise PackageError(tr(f"{root}：数据表 {table.name}（{table.zh}）由多个文件给出：" + "、".join(p.name for p in found),
        f"{root}: table {table.name} ({table.zh}) is given by more than one file: "
        + ", ".join(p.name for p in found)))
    return found[0] if found else None


# ---------------------------------------------------------------- raw readers: file -> text columns

@dataclass
class Raw:
    columns: dict[str, pa.ChunkedArray]   # canonical name -> text column
    rows: np.ndarray                      # Excel-style source row number of each data row
    ignored: list[str]
    rejected: list[pd.DataFrame]          # rows the reader itself could not split


def _decode_head(raw: bytes, path: Path) -> tuple[str, str]:
    """The text of the file's first 64 KiB and the encoding guessed from it: utf-8 or gb18030 (a superset of
    GBK). A UTF-8 guess is confirmed by Arrow, which validates every cell, when the whole file is read."""
    head = raw[: 1 << 16]
    try:
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        if e.start > len(head) - 4 and len(raw) > len(head):      # a character cut by the head's end
            return head[: e.start].decode("utf-8"), "utf-8"
    try:
        return head.decode("gb18030", errors="ignore" if len(raw) > len(head) else "strict"), "gb18030"
    except UnicodeDecodeError:
        pass
    enc, text, _ = _one_encoding(head)           # a mixed head: the encoding of most of its lines
    return text.decode("utf-8", errors="replace"), enc


class _NotUtf8(Exception):
    pass


def _map_columns(header: list, table: Table, fname: str) -> tuple[dict[int, str], list[str]]:
    hm = _header_map(table)
    mapping: dict[int, str] = {}
    ignored = []
    for i, h in enumerate(header):
        key = hm.get(_norm_header(h))
        if key is None:
            if _norm_header(h):
                ignored.append(str(h))
            continue
        if key in mapping.values():
            raise PackageError(tr(f"{fname}：表头中 {key} 列出现了两次",
                                  f"{fname}: column {key} appears twice in the header"))
        mapping[i] = key
    missing = [c for c in table.columns if c.required and c.name not in mapping.values()]
    if missing:
        names = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        raise PackageError(tr(f"{fname}：缺少必需的列：{names}",
                              f"{fname}: required column missing: {names}"))
    return mapping, ignored


def _newlines(raw: bytes) -> bytes:
    """Line ends as LF: Excel for Mac writes a lone CR between records."""
    if b"\r" not in raw or raw.count(b"\r") == raw.count(b"\r\n"):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _one_encoding(raw: bytes) -> tuple[str, bytes, list[int]]:
    """A file that is not wholly one encoding: the encoding most of its non-ASCII lines are in (UTF-8 or
    GB18030), the file as UTF-8 with every line not in that encoding blanked (so row numbers stay), and the
    1-based numbers of those lines, to be quarantined. Never re-decodes a line into another encoding's garbage."""
    lines = raw.split(b"\n")
    utf_ok, utf_bad = [], []
    for i, ln in enumerate(lines):
        if ln.isascii():
            continue
        try:
            ln.decode("utf-8")
            utf_ok.append(i)
        except UnicodeDecodeError:
            utf_bad.append(i)
    if len(utf_ok) >= len(utf_bad):
        enc, bad = "utf-8", set(utf_bad)
    else:
        enc, bad = "gb18030", set(utf_ok)           # a line that is valid UTF-8 here is not GB18030 text
        for i in utf_bad:
            try:
                lines[i].decode("gb18030")
            except UnicodeDecodeError:
                bad.add(i)
    out = []
    for i, ln in enumerate(lines):
        if i in bad:
            out.append(b"")
        elif enc == "gb18030" and not ln.isascii():
            out.append(ln.decode("gb18030").encode("utf-8"))
        else:
            out.append(ln)
    return enc, b"\n".join(out), sorted(i + 1 for i in bad)


def _read_csv(path: Path, table: Table, raw: bytes) -> Raw:
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    if not raw[: 1 << 16].strip() and not raw.strip():
        raise PackageError(tr(f"{path.name}：文件为空",
                              f"{path.name}: the file is empty"))
    raw = _newlines(raw)
    head_text, encoding = _decode_head(raw, path)
    head_rows = list(csv.reader(head_text.splitlines()[:HEADER_SCAN_ROWS]))
    h = _find_header(head_rows, table)
    if h is None:
        raise PackageError(tr(f"{path.name}：前 {HEADER_SCAN_ROWS} 行中没有含 {table.name}（{table.zh}）各列的表头行",
                              f"{path.name}: no header row with the columns of {table.name} ({table.zh}) "
                              f"in its first {HEADER_SCAN_ROWS} rows"))
    header = head_rows[h]
    mapping, ignored = _map_columns(header, table, path.name)
    if encoding == "utf-8":
        try:
            return _parse_csv(path, table, raw, h, len(header), mapping, ignored)
        except _NotUtf8:
            pass
    else:
        try:
            data = raw.decode("gb18030").encode("utf-8")
            return _parse_csv(path, table, data, h, len(header), mapping, ignored)
        except (UnicodeDecodeError, _NotUtf8):
            pass
    # Not wholly one encoding: choose one for the file, quarantine the rows that are not in it.
    encoding, data, bad_lines = _one_encoding(raw)
    if any(n <= h + 1 for n in bad_lines):
        raise PackageError(tr(f"{path.name}：表头行不能按 {encoding} 编码读取",
                              f"{path.name}: the header row is not readable as {encoding} text"))
    try:
        out = _parse_csv(path, table, data, h, len(header), mapping, ignored)
    except _NotUtf8:
        raise PackageError(tr(f"{path.name}：不能按 UTF-8、GBK 或 GB18030 编码读取",
                              f"{path.name}: not readable as UTF-8, GBK or GB18030 text")) from None
    out.rejected.append(quality.entries(
        table.name, path.name, bad_lines, "*", [""] * len(bad_lines),
        [f"row not readable as {encoding.upper()}, the encoding of the rest of the file"] * len(bad_lines)))
    return out


def _arrow_csv(source, path: Path, h: int, ncol: int) -> tuple[pa.Table, list[dict]]:
    """Arrow's CSV reader over UTF-8 bytes (a buffer or a stream): every column as text, the rows after the
    header, and the rows it could not split (ragged)."""
    import pyarrow.csv as pacsv

    rejected: list[dict] = []

    def on_invalid(row):
        rejected.append({"row": row.number, "text": row.text, "n": row.actual_columns})
        return "skip"

    try:
        tbl = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(skip_rows=h + 1, column_names=[f"c{i}" for i in range(ncol)],
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(ncol)},
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as e:
        if "utf8" in str(e).lower():
            raise _NotUtf8() from None
        raise PackageError(tr(f"{path.name}：不能按 CSV 读取（{e}）",
                              f"{path.name}: not readable as CSV ({e})")) from None
    return tbl, rejected


def _rows_are_lines(tbl: pa.Table, rejected: list, lines: int, h: int) -> bool:
    """Whether the rows Arrow split are the file's lines after the header, one for one, so that a row's number
    is its line's. Arrow does not say which line a ragged row was on, so any ragged row says no. A record over
    two lines (a cell holds a new line) and a blank line (which Arrow skips) each make one row fewer than lines,
    so the counts agree only when there are neither: no cell needs to be searched for new lines."""
    return not rejected and tbl.num_rows == lines - (h + 1)


def _text_columns(tbl: pa.Table, mapping: dict) -> dict[str, pa.ChunkedArray]:
    return {name: tbl.column(f"c{i}") for i, name in mapping.items()}


def _parse_csv(path: Path, table: Table, data: bytes, h: int, ncol: int, mapping: dict, ignored: list) -> Raw:
    """Split UTF-8 CSV bytes into text columns, with each record's row number as Excel would show it."""
    tbl, rejected = _arrow_csv(pa.BufferReader(pa.py_buffer(data)), path, h, ncol)
    # Blank lines, ragged rows and records over several lines send the file to the slow path below, which
    # knows every record's line number.
    if not _rows_are_lines(tbl, rejected, count_newlines(data) + (0 if data.endswith(b"\n") else 1), h):
        tbl = None
        rejected.clear()
    if tbl is not None:
        rows = np.arange(h + 2, h + 2 + tbl.num_rows, dtype=np.int64)
        cols = _text_columns(tbl, mapping)
    else:
        # Records spanning lines or blank lines: Python's csv module knows each record's line number.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8() from None
        reader = csv.reader(io.StringIO(text))
        recs, rownums = [], []
        for _ in range(h + 1):
            next(reader, None)
        for rec in reader:
            line = reader.line_num
            if not rec or all(not c.strip() for c in rec):
                continue
            if len(rec) != ncol:
                rejected.append({"row": line, "text": ",".join(rec), "n": len(rec)})
                continue
            recs.append(rec)
            rownums.append(line)
        rows = np.asarray(rownums, dtype=np.int64)
        cols = {name: pa.chunked_array([pa.array([r[i] for r in recs], type=pa.string())])
                for i, name in mapping.items()}
    # The row's text is not kept: it holds identity and account numbers, and the report shows this list.
    rej = [quality.entries(table.name, path.name, [r["row"] or 0], "*", [""],
                           [f"wrong number of columns ({r['n']} instead of {ncol})"]) for r in rejected]
    return Raw(cols, rows, ignored, rej)


def _stream_csv(path: Path, table: Table) -> tuple[Raw, str, int] | None:
    """A CSV file parsed as it is read, never held whole (``Passing``): its text columns, the sha256 of the
    bytes parsed and their number. Only a file that is UTF-8 throughout, has no lone carriage returns, and holds
    one record per line, each with the header's number of cells, as exports mostly are; for any other (and for
    any file with a problem to report) None, and the file is read again, whole, by ``_read_csv``, whose slow paths
    and messages need it all: the digest recorded is then that second reading's. A GB18030 file is read whole:
    through Arrow's transcoding stream (the text decoded in Python a block at a time) the exported package's
    reading peaked 0.1 GB higher at a million lines (1.60-1.66 -> 1.74-1.75 GB, three runs each), near its 2 GB."""
    with open(path, "rb") as f:
        src = Passing(f)
        head = src.head((1 << 16) + 4)
        if head[:3] == b"\xef\xbb\xbf":
            src.skip(3)
            head = head[3:]
        if not head[: 1 << 16].strip() or (b"\r" in head and head.count(b"\r") != head.count(b"\r\n")):
            return None
        head_text, encoding = _decode_head(head, path)
        if encoding != "utf-8":
            return None
        head_rows = list(csv.reader(head_text.splitlines()[:HEADER_SCAN_ROWS]))
        h = _find_header(head_rows, table)
        if h is None:
            return None
        try:
            mapping, ignored = _map_columns(head_rows[h], table, path.name)
            tbl, rejected = _arrow_csv(pa.PythonFile(src, mode="r"), path, h, len(head_rows[h]))
        except (PackageError, _NotUtf8):
            return None
        lines = src.newlines + (0 if src.last == b"\n" else 1)
        if src.cr != src.crlf or not _rows_are_lines(tbl, rejected, lines, h):
            return None
    rows = np.arange(h + 2, h + 2 + tbl.num_rows, dtype=np.int64)
    return Raw(_text_columns(tbl, mapping), rows, ignored, []), src.hexdigest(), src.size


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


XLSX_MAX_UNPACKED = 4 << 30        # a workbook that unpacks to more than this is refused (zip bombs)
XLSX_MAX_RATIO = 200               # nor may any part unpack to more than 200 times its packed size (past 64 MiB)


def _check_zip(path: Path, raw: bytes) -> None:
    """Bound what a workbook may unpack to, from the sizes its zip directory declares (Python's zip reader
    stops at the declared size), before any XML is parsed: a shared-strings bomb is refused, not expanded."""
    import zipfile

    try:
        infos = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except (zipfile.BadZipFile, ValueError) as e:
        raise PackageError(tr(f"{path.name}：不是可读取的 Excel 工作簿（{e}）",
                              f"{path.name}: not a readable Excel workbook ({e})")) from None
    total = sum(i.file_size for i in infos)
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1), default=None)
    if total > XLSX_MAX_UNPACKED or (worst is not None and worst.file_size > 64 << 20
                                     and worst.file_size > XLSX_MAX_RATIO * max(worst.compress_size, 1)):
        raise PackageError(tr(f"{path.name}：该工作簿解压后将达 {total:,} 字节（仅其中 {worst.filename} 就从 {worst.compress_size:,} 解压到 {worst.file_size:,}），疑为压缩炸弹，拒绝读取。请用 Excel 重新保存，或把该表导出为 CSV",
                              f"{path.name}: the workbook would unpack to {total:,} bytes (its part {worst.filename} "
                              f"alone to {worst.file_size:,} from {worst.compress_size:,}); refused as a possible zip "
                              f"bomb. Save it again from Excel, or export the table as CSV"))


def _xlsx_column(values: tuple, fname: str, label: str, rows: np.ndarray, is_id: bool,
                 ctype: str = "str") -> pa.ChunkedArray:
    """One workbook column as text. Text cells go to Arrow as they are; numbers, dates and booleans (Excel
    dates, money typed as numbers) are written out once per distinct value. A number in an identity column has
    lost digits: fatal."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pa.chunked_array([pa.array(values, type=pa.string())])
    if is_id:
        hits = [(int(r), _cell_text(v)) for r, v in zip(rows, values)
                if isinstance(v, (int, float)) and not isinstance(v, bool)][:3]
        if hits:
            _lost_digits_error(fname, label, hits)
    text: dict = {}
    out = []
    for v in values:
        t = text.get(v) if type(v) is not bool else None
        if t is None:
            t = _cell_text(v) if v != "" else ""
            if ctype == "datetime" and type(v) is dt.date:       # a time of 00:00 comes back as a date
                t += " 00:00:00"
            if type(v) is not bool:
                text[v] = t
        out.append(t)
    return pa.chunked_array([pa.array(out, type=pa.string())])


def _read_xlsx(path: Path, table: Table, raw: bytes) -> Raw:
    """A workbook through python-calamine (Rust): the visible sheet named after the table, else the first
    visible sheet; the header is the first row holding the table's columns; row numbers as Excel shows them."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    _check_zip(path, raw)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        visible = [m.name for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible]
        wanted = {_norm_header(table.name), _norm_header(table.zh)}
        name = next((n for n in visible if _norm_header(n) in wanted), visible[0] if visible else None)
        if name is None:
            raise PackageError(tr(f"{path.name}：工作簿的所有工作表都是隐藏的",
                                  f"{path.name}: every sheet of the workbook is hidden"))
        grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except PackageError:
        raise
    except Exception as e:  # a damaged workbook raises many kinds
        raise PackageError(tr(f"{path.name}：不是可读取的 Excel 工作簿（{type(e).__name__}: {e}）",
                              f"{path.name}: not a readable Excel workbook ({type(e).__name__}: {e})")) from None
    head = grid[:HEADER_SCAN_ROWS]
    h = _find_header(head, table)
    if h is None:
        if not any(any(c not in (None, "") for c in r) for r in head):
            raise PackageError(tr(f"{path.name}：文件为空",
                                  f"{path.name}: the file is empty"))
        raise PackageError(tr(f"{path.name}：工作表“{name}”的前 {HEADER_SCAN_ROWS} 行中没有含 {table.name}（{table.zh}）各列的表头行",
                              f"{path.name}: no header row with the columns of {table.name} ({table.zh}) "
                              f"in its first {HEADER_SCAN_ROWS} rows of sheet '{name}'"))
    header = list(grid[h])
    mapping, ignored = _map_columns(header, table, path.name)
    width = max(mapping) + 1
    body, rownums = [], []
    for k, row in enumerate(grid[h + 1:], start=h + 2):
        if any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in row):
            body.append(row if len(row) >= width else list(row) + [""] * (width - len(row)))
            rownums.append(k)
    del grid
    rows = np.asarray(rownums, dtype=np.int64)
    columns = list(zip(*body)) if body else [()] * width
    cols = {}
    for i, cname in mapping.items():
        ctype = table.column(cname).type
        cols[cname] = _xlsx_column(columns[i], path.name, f"{cname} ({header[i]})", rows, ctype == "id", ctype)
    return Raw(cols, rows, ignored, [])


def _parquet_text(col: pa.ChunkedArray, ctype: str, enum, fname: str, label: str) -> pa.ChunkedArray:
    """A typed Parquet column as the text the value parsers read. Parquet carries types, so they are read as
    what they are: a date or timestamp as its date (a zoned timestamp at its own zone's wall-clock time), an
    integer in a date column as a day number since 1970-01-01 (Parquet's DATE; Excel serials are for Excel), a
    boolean status as success/failed. Nested columns are refused."""
    t = col.type
    if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t) or \
            pa.types.is_fixed_size_binary(t):
        raise PackageError(tr(f"{fname}：{label} 列含 {t} 类型的值；只能读取普通值（文本、数字、日期、布尔值）",
                              f"{fname}: column {label} holds {t} values; only plain values (text, numbers, dates, "
                              f"booleans) can be read"))
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            col = pc.local_timestamp(col)
        if ctype == "date":
            return pc.cast(pc.cast(col, pa.timestamp("s")).cast(pa.date32()), pa.string())
        return pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
    if ctype == "date" and pa.types.is_integer(t):
        return pc.cast(pc.cast(pc.cast(col, pa.int32()), pa.date32()), pa.string())
    if pa.types.is_boolean(t) and ctype == "enum" and enum and {"success", "failed"} <= set(ENUMS.get(enum, ())):
        return pc.if_else(col, pa.scalar("success"), pa.scalar("failed"))
    return col


def _read_parquet(path: Path, table: Table, raw: bytes) -> Raw:
    import pyarrow.parquet as pq

    try:
        tbl = pq.read_table(pa.BufferReader(raw))
    except Exception as e:
        raise PackageError(tr(f"{path.name}：不是可读取的 Parquet 文件（{type(e).__name__}: {e}）",
                              f"{path.name}: not a readable Parquet file ({type(e).__name__}: {e})")) from None
    mapping, ignored = _map_columns(tbl.column_names, table, path.name)
    cols = {}
    for i, name in mapping.items():
        col = tbl.column(i)
        spec = table.column(name)
        label = f"{name} ({tbl.column_names[i]})"
        if spec.type == "id" and (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            vals = col.slice(0, 5).to_pylist()
            _lost_digits_error(path.name, label, [(k + 2, str(v)) for k, v in enumerate(vals)])
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        cols[name] = _parquet_text(col, spec.type, spec.enum, path.name, label)
    return Raw(cols, np.arange(2, 2 + tbl.num_rows, dtype=np.int64), ignored, [])


def _lost_digits_error(fname: str, column: str, rows: list[tuple[int, str]]):
    shown = "; ".join(f"row {r}: {v}" for r, v in rows[:3])
    raise PackageError(
        tr(f"{fname}：{column} 列的身份证号以数字形式存储，已丢失无法恢复的位数（{shown}）。请把该列导出为文本后重新读取数据包。",
           f"{fname}: column {column} holds identity numbers stored as numbers, which have lost digits "
           f"that cannot be recovered ({shown}). Export the column as text and read the package again."))


READERS = {".csv": _read_csv, ".xlsx": _read_xlsx, ".parquet": _read_parquet}


# ---------------------------------------------------------------- typing and quarantine

def _empty_column(type_: str, n: int) -> pd.Series:
    if type_ == "money" or type_ == "int":
        return pd.Series(pd.array([pd.NA] * n, dtype="Int64"))
    if type_ in ("date", "datetime"):
        return pd.Series(np.full(n, np.datetime64("NaT", "ns")))
    if type_ == "bool":
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    return pd.Series([None] * n, dtype="str")


_SMALL = 1 << 18


def _all_distinct(arr: pa.ChunkedArray) -> bool:
    """Whether no value repeats (nulls never repeat). At once when the column has no nulls and is in strictly
    increasing order, as an export sorted by its numbers is; else by DuckDB's count of distinct values, which
    runs on every core (Arrow's hash table of ten million numbers takes three times as long on one)."""
    n = len(arr)
    if n < 2:
        return True
    if not arr.null_count and pc.all(pc.greater(arr.slice(1), arr.slice(0, n - 1))).as_py():
        return True
    if n < _SMALL:                         # a small table: Arrow's count is quicker than starting DuckDB
        return pc.count_distinct(arr).as_py() == n - arr.null_count
    import duckdb

    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("t", pa.table({"v": arr}))
        return bool(con.execute("select count(distinct v) = count(v) from t").fetchone()[0])
    finally:
        con.close()


def _repeats(s: pd.Series) -> np.ndarray:
    """Rows whose value appeared on an earlier row (nulls never repeat): none when every value is distinct
    (``_all_distinct``), else found by Arrow's dictionary encoding."""
    arr = as_text(s, large=True)
    if _all_distinct(arr):
        return np.zeros(len(arr), dtype=bool)              # every value distinct: the common case
    enc = pc.dictionary_encode(arr).combine_chunks()
    idx = positions(enc.indices)
    # Dictionary codes are given in order of first appearance: a row is a first occurrence exactly when its
    # code is above every code before it.
    before = np.maximum.accumulate(np.concatenate(([-1], idx[:-1])))
    return (idx >= 0) & (idx <= before)


def type_table(raw: Raw, table: Table, fname: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse every column of a raw table; return the typed rows that passed and their quarantine entries. Each
    text column is taken out of ``raw`` as it is parsed, so that its memory goes once nothing else holds it."""
    n = len(raw.rows)
    frame = {}
    bad_any = np.zeros(n, dtype=bool)
    parts = list(raw.rejected)
    for col in table.columns:
        if col.name not in raw.columns:
            frame[col.name] = _empty_column(col.type, n)
            continue
        original = raw.columns.pop(col.name)
        text = values.normalize(original, fold=col.name not in FREE_TEXT)
        if col.type == "id":
            lost = values.lost_digits(text)
            if lost.any():
                idx = np.flatnonzero(lost)[:3]
                orig = original.take(pa.array(idx)).to_pylist()
                _lost_digits_error(fname, col.name, [(int(raw.rows[i]), v) for i, v in zip(idx, orig)])
        p = values.parse(text, col.type, col.enum)
        bad, reasons = p.bad, p.reasons
        if col.nonnull and text.null_count:
            empty = ~np.asarray(pc.is_valid(text).to_numpy(zero_copy_only=False), dtype=bool)
            reasons = np.array(reasons, dtype=object)          # a copy to write in (the parser's may be a view)
            reasons[empty & ~bad] = "empty value"
            bad = bad | empty
        if bad.any():
            idx = np.flatnonzero(bad)
            parts.append(quality.entries(table.name, fname, raw.rows[idx], col.name,
                                         original.take(pa.array(idx)).to_pylist(), reasons[idx]))
            bad_any |= bad
        frame[col.name] = one_piece(p.values.reset_index(drop=True))     # (see arrowtext.one_piece)
    df = pd.DataFrame(frame)
    df["_row"] = raw.rows
    for col in table.columns:
        if col.unique:
            dup = _repeats(df[col.name]) & ~bad_any
            if dup.any():
                first = df.loc[~df[col.name].duplicated(keep="first"), [col.name, "_row"]]
                firsts = df.loc[dup, [col.name]].merge(first, on=col.name, how="left")["_row"].to_numpy()
                parts.append(quality.entries(table.name, fname, df.loc[dup, "_row"].to_numpy(), col.name,
                                             df.loc[dup, col.name].tolist(),
                                             [f"duplicate {col.name} (first at row {r})" for r in firsts]))
                bad_any |= dup
    kept = df.loc[~bad_any].reset_index(drop=True) if bad_any.any() else df
    return kept, quality.combine(parts)


def _load_table(root: Path, table: Table, meta: dict | None = None):
    """Read, type and quarantine one table: (InputFile, DataFrame, quarantine, rows read, ignored columns)."""
    import dataclasses

    extra = ((meta or {}).get("columns") or {}).get(table.name)
    if extra:
        table = dataclasses.replace(table, header_aliases=tuple((str(h), str(c)) for h, c in extra.items()))
    path = find_table_file(root, table, meta)
    if path is None:
        if table.required:
            raise PackageError(tr(f"{root}：缺少必需的数据表 {table.name}（{table.zh}）：应有 {table.name}.csv、.xlsx 或 .parquet（或 {table.zh}.*）",
                                  f"{root}: required table {table.name} ({table.zh}) is missing: expected "
                                  f"{table.name}.csv, .xlsx or .parquet (or {table.zh}.*)"))
        return None
    # The digest of the bytes that were parsed, not of the file later: what is signed is what was read.
    streamed = _stream_csv(path, table) if path.suffix.lower() == ".csv" else None
    if streamed is not None:
        parsed, digest, size = streamed
    else:
        raw = path.read_bytes()
        if not raw:
            raise PackageError(tr(f"{path.name}：文件为空",
                                  f"{path.name}: the file is empty"))
        digest, size = hashlib.sha256(raw).hexdigest(), len(raw)
        parsed = READERS[path.suffix.lower()](path, table, raw)
        del raw
    info = InputFile(table.name, path.name, size, root, digest)
    if len(parsed.rows) == 0 and not parsed.rejected and table.required:
        raise PackageError(tr(f"{path.name}：数据表 {table.name}（{table.zh}）只有表头，没有数据行",
                              f"{path.name}: table {table.name} ({table.zh}) has a header but no rows"))
    df, q = type_table(parsed, table, path.name)
    if size >= LOOK_AFTER:
        give_back_much()                    # what reading it freed, before the next table (see heap.py)
    return info, df, q, len(parsed.rows) + len(parsed.rejected), parsed.ignored


def load_package(root: str | Path, tables: list[str] | None = None, threads: int = 2) -> Package:
    """Read a package folder. ``tables`` limits reading to those tables (required tables are always read).
    Tables are read on ``threads`` threads (Arrow's readers and compute release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    root = Path(root)
    if not root.is_dir():
        raise PackageError(tr(f"{root}：不是文件夹",
                              f"{root}: not a folder"))
    meta, meta_bytes = read_meta(root)
    use_c_heap()                           # Arrow's buffers where numpy's are (see heap.py)
    small_pages()                          # numpy's without huge pages (see heap.py)
    pkg = Package(root=root, meta=meta, tables={}, quarantine=quality.combine([]))
    wanted = [t for t in TABLES if tables is None or t.name in tables or t.required]

    def size(t):
        try:                               # a table's own errors are raised by its reading, in table order
            path = find_table_file(root, t, meta) if threads > 1 else None
            # Roughly what a byte costs to read: a workbook is compressed and read cell by cell.
            weight = {".xlsx": 16, ".parquet": 2}.get(path.suffix.lower(), 1) if path is not None else 0
            return path.stat().st_size * weight if path is not None else 0
        except (PackageError, OSError):
            return 0

    # The largest files first, so that the last one to finish does not start last (results stay in order).
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = {t.name: pool.submit(_load_table, root, t, meta) for t in sorted(wanted, key=size, reverse=True)}
        results = [futures[t.name].result() for t in wanted]
    q_parts = []
    for table, res in zip(wanted, results):
        if res is None:
            continue
        info, df, q, n, ignored = res
        pkg.files.append(info)
        pkg.tables[table.name] = df
        pkg.rows_read[table.name] = n
        if ignored:
            pkg.ignored_columns[table.name] = ignored
        q_parts.append(q)
    pkg.quarantine = quality.combine(q_parts)
    pkg.files.append(InputFile("package", "package.yaml", len(meta_bytes), root,
                               hashlib.sha256(meta_bytes).hexdigest()))
    pkg.files.sort(key=lambda f: f.path)
    give_back()                            # what reading freed goes back before the checks (see heap.py)
    return pkg
