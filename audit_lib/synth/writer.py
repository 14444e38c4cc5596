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


def _path(folder: Path, name: str, opt: WriteOptions) -> Path:
    spec = TABLE_BY_NAME[name]
    return folder / f"{spec.zh if opt.chinese_file_names else spec.name}.{opt.format_of(name)}"


def _csv_bytes(name: str, df: pd.DataFrame, opt: WriteOptions, title: str, first: bool) -> bytes:
    """The table as an export writes it: the title rows, header and byte-order mark only for the ``first`` part
    of a file written in parts."""
    import pyarrow.csv as pacsv

    spec = TABLE_BY_NAME[name]
    buf = io.BytesIO()
    pacsv.write_csv(to_text_table(name, df, opt), buf,
                    pacsv.WriteOptions(quoting_style="needed", batch_size=1 << 16, include_header=first))
    data = buf.getvalue()
    if opt.title_rows and first:
        head = "".join(f"{title or spec.zh}{'' if i == 0 else '（续）'}\n" for i in range(opt.title_rows))
        data = head.encode("utf-8") + data
    if opt.encoding in ("gbk", "gb18030"):
        data = data.decode("utf-8").encode(opt.encoding)
    elif opt.encoding == "utf-8-sig" and first:
        data = b"\xef\xbb\xbf" + data
    return data


def write_table(folder: Path, name: str, df: pd.DataFrame, opt: WriteOptions, title: str = "") -> Path:
    spec = TABLE_BY_NAME[name]
    fmt = opt.format_of(name)
    path = _path(folder, name, opt)
    if fmt == "parquet":
        import pyarrow.parquet as pq
        pq.write_table(_typed_table(name, df, opt), path, compression="zstd")
        return path
    if fmt == "csv":
        path.write_bytes(_csv_bytes(name, df, opt, title, first=True))
        return path
    if fmt == "xlsx":
        _write_xlsx(path, name, df, to_text_table(name, df, opt), opt, title or spec.zh)
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


XLSX_ROWS = 1_048_576                   # a worksheet's rows


class PackageWriter:
    """Writes a package table by table as its parts arrive (the shards of a large district), so that no more
    than one part is in memory: CSV appended, Parquet by row group. Workbooks cannot be appended to, so an XLSX
    table is held until ``close`` (the registries and approvals exports hand over as XLSX are the small tables).
    Tables that describe the district rather than its people (the policy list) must be the same in every part
    and are written once. The truth is the union of the parts' truths, with CP01 judged on the sums of all."""

    ONCE = ("policy_items",)

    def __init__(self, folder: str | Path, meta: dict, opt: WriteOptions | None = None):
        self.opt = opt or WriteOptions()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.meta = dict(meta)
        self.meta["synthetic"] = True            # made by `audit synth`: the only data the DEMO key may sign
        self.meta["generator"] = GENERATOR       # the bundled samples are made again when the generator changes
        (self.folder / "package.yaml").write_text(yaml.safe_dump(self.meta, allow_unicode=True, sort_keys=False),
                                                  encoding="utf-8")
        self.parts = 0
        self.truth: dict[str, set] = {}
        self.notes: list[str] = []
        self.cp01_items: set = set()
        self.card_sums = None
        self._once: dict[str, pd.DataFrame] = {}
        self._parquet: dict = {}
        self._xlsx: dict[str, list[pd.DataFrame]] = {}

    def _title(self, name: str) -> str:
        return f"{self.meta['district_name']}{self.meta['year']}年{TABLE_BY_NAME[name].zh}"

    def add(self, district) -> None:
        from .tables import card_sums

        first = self.parts == 0
        for name, df in district.tables.items():
            if name in self.ONCE:
                if first:
                    self._once[name] = df
                elif not df.equals(self._once[name]):
                    raise ValueError(f"the shards disagree on {name}")
                else:
                    continue
            fmt = self.opt.format_of(name)
            path = _path(self.folder, name, self.opt)
            if fmt == "csv":
                with open(path, "wb" if first else "ab") as fh:
                    fh.write(_csv_bytes(name, df, self.opt, self._title(name), first=first))
            elif fmt == "parquet":
                import pyarrow.parquet as pq
                table = _typed_table(name, df, self.opt)
                if name not in self._parquet:
                    self._parquet[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
                self._parquet[name].write_table(table.cast(self._parquet[name].schema))
            elif fmt == "xlsx":
                self._xlsx.setdefault(name, []).append(df)
            else:
                raise ValueError(f"unknown format {fmt}")
        for check, keys in district.truth.items():
            self.truth.setdefault(check, set()).update(keys)
        self.notes += [n for n in district.notes if first or n not in self.notes]
        self.cp01_items.update(district.cp01_items)
        sums = card_sums(district.tables["payments"])
        self.card_sums = sums if self.card_sums is None else self.card_sums.add(sums, fill_value=0)
        self.parts += 1

    def close(self, truth: bool = True) -> dict[str, list[str]]:
        from .tables import cp01_truth

        for w in self._parquet.values():
            w.close()
        for name, parts in self._xlsx.items():
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            if len(df) + 1 + self.opt.title_rows > XLSX_ROWS:
                raise ValueError(f"{name}: {len(df):,} rows do not fit in one worksheet ({XLSX_ROWS:,} rows); "
                                 f"write it as CSV or Parquet")
            write_table(self.folder, name, df, self.opt, title=self._title(name))
        if self.parts > 1:
            self.truth["CP01"] = cp01_truth(None, sorted(self.cp01_items), int(self.meta["year"]), self.card_sums)
        found = {k: sorted(v) for k, v in sorted(self.truth.items()) if v}
        if truth:
            doc = {"schema": "audit-truth/1", "district_code": self.meta["district_code"], "year": self.meta["year"],
                   "checks": found, "notes": self.notes}
            (self.folder / "truth.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True)
                                                    + "\n", encoding="utf-8")
        return found


def write_package(folder: str | Path, district, opt: WriteOptions | None = None, truth: bool = True) -> Path:
    """Write a generated district (tables, package.yaml and truth.json) into ``folder``."""
    w = PackageWriter(folder, district.meta, opt)
    w.add(district)
    w.close(truth)
    return w.folder
