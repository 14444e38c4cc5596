"""Write a district's typed tables as a data package: any table in CSV (UTF-8, UTF-8 with BOM, GBK, GB18030),
XLSX or Parquet, English or Chinese headers and values, money in several written styles, title rows above the
header as exports have. The reader's tests use these options to produce every form the contract allows.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from ..package.schema import ENUMS, TABLE_BY_NAME

GENERATOR = 4                          # raise when the generator writes new tables or plants
MONEY_STYLES = ("plain", "comma", "yen", "yuan", "yen_comma")
DATE_FORMS = ("%Y-%m-%d", "%Y/%-m/%-d", "%Y年%-m月%-d日")      # the three ways one export column writes dates
PERIOD_FORMS = ("%Y-%m", "%Y%m")
DATETIME_FORMS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y年%-m月%-d日 %H时%M分")
# The tables registries and approval systems hand over as workbooks.
EXPORT_XLSX = ("beneficiaries", "deaths", "public_employees", "cadres", "households", "guardianships")


@dataclass
class WriteOptions:
    fmt: str = "csv"                                   # csv, xlsx or parquet: the default for every table
    formats: dict[str, str] = field(default_factory=dict)   # per-table override
    encoding: str = "utf-8"                            # utf-8, utf-8-sig, gbk, gb18030 (CSV only)
    chinese_headers: bool = False
    chinese_values: bool = False                       # enums and booleans in Chinese
    title_rows: int = 0                                # lines of title above the header (CSV and XLSX)
    money_style: str = "plain"
    chinese_file_names: bool = False
    mixed_forms: bool = False                          # dates and periods written several ways in one column

    @classmethod
    def as_exported(cls) -> "WriteOptions":
        """A package as the one-card platform, the banks and the registries hand it over: GB18030 CSV with
        Chinese headers and values, money as ￥1,140.00, dates written three ways and periods two ways in one
        column, approvals and registries as Excel workbooks under a title row."""
        return cls(encoding="gb18030", chinese_headers=True, chinese_values=True, money_style="yen_comma",
                   mixed_forms=True, formats={t: "xlsx" for t in EXPORT_XLSX}, title_rows=1)

    def format_of(self, table: str) -> str:
        return self.formats.get(table, self.fmt)


def _money_text(fen: pd.Series, style: str) -> pa.Array:
    if style not in MONEY_STYLES:
        raise ValueError(f"money_style must be one of {MONEY_STYLES}, not {style!r}")
    arr = pa.array(pd.array(fen, dtype="Int64"), type=pa.int64())
    neg = pc.less(arr, 0)
    absv = pc.abs(arr)
    whole = pc.cast(pc.divide(absv, 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pc.subtract(absv, pc.multiply(pc.divide(absv, 100), 100)), pa.string()), 2, "0")
    if style in ("comma", "yen_comma"):
        whole = pa.array([None if w is None else f"{int(w):,}" for w in whole.to_pylist()], type=pa.string())
    text = pc.binary_join_element_wise(whole, frac, ".")
    text = pc.if_else(neg, pc.binary_join_element_wise("-", text, ""), text)
    if style == "yen":
        text = pc.binary_join_element_wise("¥", text, "")
    elif style == "yen_comma":
        text = pc.binary_join_element_wise("￥", text, "")
    elif style == "yuan":
        text = pc.binary_join_element_wise(text, "元", "")
    return text


def _rotate(d: pd.Series, forms: tuple) -> pa.Array:
    """Each row's date written in one of ``forms`` in turn, as merged exports do (one per distinct value kept
    cheap: strftime over the distinct dates)."""
    d = pd.Series(d).reset_index(drop=True)
    out = pd.Series([None] * len(d), dtype=object)
    k = pd.Series(range(len(d))) % len(forms)
    for i, f in enumerate(forms):
        sel = (k == i).to_numpy() & d.notna().to_numpy()
        uniq = pd.Series(d[sel].unique())
        text = dict(zip(uniq, uniq.dt.strftime(f)))
        out[sel] = d[sel].map(text).to_numpy()
    return pa.array(out, type=pa.string(), from_pandas=True)


def _enum_zh(enum: str) -> dict:
    return {k: v[0] for k, v in ENUMS[enum].items()}


def _table(name: str, df: pd.DataFrame, opt: WriteOptions, convert) -> pa.Table:
    """The contract's columns present in ``df``, each converted by ``convert(column, series)``."""
    cols, names = [], []
    for c in TABLE_BY_NAME[name].columns:
        if c.name in df.columns:
            cols.append(convert(c, df[c.name]))
            names.append(c.zh if opt.chinese_headers else c.name)
    return pa.table(cols, names=names)


def to_text_table(name: str, df: pd.DataFrame, opt: WriteOptions) -> pa.Table:
    """The table as text columns, the way an export would write them."""
    def text(c, s):
        if c.type == "money":
            return _money_text(s, opt.money_style)
        if c.type == "date":
            d = pd.to_datetime(s)
            if opt.mixed_forms:
                return _rotate(d, DATE_FORMS)
            return pa.array(d.dt.strftime("%Y-%m-%d"), type=pa.string(), from_pandas=True)
        if c.type == "datetime":
            d = pd.to_datetime(s)
            if opt.mixed_forms:
                return _rotate(d, DATETIME_FORMS)
            return pa.array(d.dt.strftime("%Y-%m-%d %H:%M:%S"), type=pa.string(), from_pandas=True)
        if c.type == "period" and opt.mixed_forms:
            return _rotate(pd.to_datetime(pd.Series(s, dtype=object), format="%Y-%m", errors="coerce"), PERIOD_FORMS)
        if c.type == "bool":
            t, f = ("是", "否") if opt.chinese_values else ("Y", "N")
            return pa.array(pd.Series(s, dtype="boolean").map({True: t, False: f}).astype(object),
                            type=pa.string(), from_pandas=True)
        if c.type == "enum" and opt.chinese_values:
            return pa.array(pd.Series(s, dtype=object).map(_enum_zh(c.enum)), type=pa.string(), from_pandas=True)
        if c.type == "int":
            return pa.array(pd.Series(s, dtype="Int64").astype("string"), type=pa.string(), from_pandas=True)
        return pa.array(pd.Series(s, dtype=object), type=pa.string(), from_pandas=True)
    return _table(name, df, opt, text)


def _typed_table(name: str, df: pd.DataFrame, opt: WriteOptions) -> pa.Table:
    """A Parquet table with native types: text, booleans, dates, money as decimal yuan."""
    def typed(c, s):
        if c.type == "money":
            return pc.cast(_money_text(s, "plain"), pa.decimal128(14, 2))
        if c.type == "date":
            return pa.array(pd.to_datetime(s).dt.date, type=pa.date32(), from_pandas=True)
        if c.type == "datetime":
            return pa.array(pd.to_datetime(s), type=pa.timestamp("s"), from_pandas=True)
        if c.type == "bool":
            return pa.array(pd.Series(s, dtype="boolean"), type=pa.bool_(), from_pandas=True)
        if c.type == "int":
            return pa.array(pd.Series(s, dtype="Int64"), type=pa.int64(), from_pandas=True)
        return pa.array(pd.Series(s, dtype=object), type=pa.string(), from_pandas=True)
    return _table(name, df, opt, typed)


def write_table(folder: Path, name: str, df: pd.DataFrame, opt: WriteOptions, title: str = "") -> Path:
    spec = TABLE_BY_NAME[name]
    fmt = opt.format_of(name)
    stem = spec.zh if opt.chinese_file_names else spec.name
    path = folder / f"{stem}.{fmt}"
    if fmt == "parquet":
        import pyarrow.parquet as pq
        pq.write_table(_typed_table(name, df, opt), path, compression="zstd")
        return path
    table = to_text_table(name, df, opt)
    if fmt == "csv":
        import pyarrow.csv as pacsv
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed", batch_size=1 << 16))
        data = buf.getvalue()
        if opt.title_rows:
            head = "".join(f"{title or spec.zh}{'' if i == 0 else '（续）'}\n" for i in range(opt.title_rows))
            data = head.encode("utf-8") + data
        if opt.encoding in ("gbk", "gb18030"):
            data = data.decode("utf-8").encode(opt.encoding)
        elif opt.encoding == "utf-8-sig":
            data = b"\xef\xbb\xbf" + data
        path.write_bytes(data)
        return path
    if fmt == "xlsx":
        _write_xlsx(path, name, df, table, opt, title or spec.zh)
        return path
    raise ValueError(f"unknown format {fmt}")


def _write_xlsx(path: Path, name: str, df: pd.DataFrame, text: pa.Table, opt: WriteOptions, title: str):
    import openpyxl

    spec = TABLE_BY_NAME[name]
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(spec.zh if opt.chinese_headers else spec.name)
    for _ in range(opt.title_rows):
        ws.append([title])
    ws.append(text.column_names)
    # Money and dates go in as Excel numbers and dates, the way exports write them; all else as text.
    data = {}
    for c, h in zip([c for c in spec.columns if c.name in df.columns], text.column_names):
        if c.type == "money":
            data[h] = [None if pd.isna(v) else int(v) / 100 for v in df[c.name]]
        elif c.type in ("date", "datetime"):
            data[h] = [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in df[c.name]]
        else:
            data[h] = text.column(h).to_pylist()
    for row in zip(*data.values()):
        ws.append(list(row))
    wb.save(path)


def write_package(folder: str | Path, district, opt: WriteOptions | None = None, truth: bool = True) -> Path:
    """Write a generated district (tables, package.yaml and truth.json) into ``folder``."""
    opt = opt or WriteOptions()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(district.meta)
    meta["synthetic"] = True            # made by `audit synth`: the only data the DEMO key may sign
    meta["generator"] = GENERATOR       # the bundled samples are made again when the generator changes
    (folder / "package.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    for name, df in district.tables.items():
        write_table(folder, name, df, opt, title=f"{meta['district_name']}{meta['year']}年{TABLE_BY_NAME[name].zh}")
    if truth:
        doc = {"schema": "audit-truth/1", "district_code": meta["district_code"], "year": meta["year"],
               "checks": district.truth, "notes": district.notes}
        (folder / "truth.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
    return folder
