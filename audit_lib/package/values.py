"""Vectorised parsing of text cells into typed values: money to integer fen, dates, periods, booleans, enums.

Every parser takes a pyarrow string array that has already been normalised (``normalize``) and returns a
``Parsed``: the values as a pandas Series, and a boolean numpy mask of cells that could not be read with the
reason. Empty cells are null values, not errors; whether a value is required is load.py's business.
No float ever touches money: amounts are split into integer and fraction digits as text.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .arrowtext import fixed_width_blocks, has_bytes, positions
from .schema import ENUMS


@dataclass
class Parsed:
    values: pd.Series
    bad: np.ndarray          # bool mask: cell present but unreadable or breaking a rule
    reasons: np.ndarray      # object array of reasons, meaningful where bad (a read-only view when none is)


def _np_bool(arr) -> np.ndarray:
    """A pyarrow boolean array (nulls as False) as a numpy bool array."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def no_reasons(n: int) -> np.ndarray:
    """The reasons of a column with no bad cell: n times None, as a read-only view of one None. An n-long
    object array would be filled, copied and freed one reference at a time, for every column read."""
    return np.broadcast_to(np.array(None, dtype=object), (n,))


def _reasons(n: int, *pairs: tuple[np.ndarray, str]) -> tuple[np.ndarray, np.ndarray]:
    """The bad mask and each bad cell's first reason (an object array only where some cell is bad)."""
    bad = np.zeros(n, dtype=bool)
    reasons = None
    for mask, reason in pairs:
        new = mask & ~bad
        if new.any():
            reasons = np.full(n, None, dtype=object) if reasons is None else reasons
            reasons[new] = reason
        bad |= mask
    return bad, no_reasons(n) if reasons is None else reasons


def _in_rows(n: int, rows: np.ndarray, sub: "Parsed") -> tuple[np.ndarray, np.ndarray]:
    """A sub-parse of the cells ``rows`` picks out, as the whole column's bad mask and reasons."""
    bad = np.zeros(n, bool)
    bad[rows] = sub.bad
    if not sub.bad.any():
        return bad, no_reasons(n)
    reasons = np.full(n, None, dtype=object)
    reasons[rows] = sub.reasons
    return bad, reasons


def normalize(arr: pa.ChunkedArray | pa.Array, fold: bool = True) -> pa.ChunkedArray:
    """Cast to text, fold full-width forms (NFKC, unless ``fold`` is off for free text such as names), trim
    white space, and make empty cells null. Each step is skipped when the column cannot need it."""
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    ascii_only = not has_bytes(arr, from_byte=0x80)
    if fold and not ascii_only:
        arr = pc.utf8_normalize(arr, form="NFKC")
    if not ascii_only:
        arr = pc.utf8_trim_whitespace(arr)
    elif has_bytes(arr, up_to=ord(" ")):            # what ascii_trim_whitespace trims is among these bytes
        # (tab to carriage return, and the space): with none of them there is nothing to trim, and no copy
        arr = pc.ascii_trim_whitespace(arr)
    if pc.any(pc.equal(arr, "")).as_py():
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return arr


def _to_pandas_str(arr) -> pd.Series:
    s = arr.to_pandas()
    if s.dtype == object:
        s = s.astype("string")
    return s


def parse_str(arr) -> Parsed:
    n = len(arr)
    return Parsed(_to_pandas_str(arr), np.zeros(n, bool), no_reasons(n))


_LOST_DIGITS = r"^[0-9.]+[eE][+-]?[0-9]+$|^[0-9]+\.[0-9]*$"


def parse_id(arr) -> Parsed:
    """Identity numbers stay text; a trailing lower-case x becomes X. Validation is identity.py's (CP12)."""
    if not has_bytes(arr, from_byte=ord("a")):      # nothing to upper-case (no a-z, no non-ASCII byte)
        up = arr
    else:
        up = pc.ascii_upper(arr) if pc.all(pc.string_is_ascii(arr)).as_py() is not False else pc.utf8_upper(arr)
    if has_bytes(up, b" ") and pc.any(pc.match_substring(up, " ")).as_py():
        up = pc.replace_substring_regex(up, r"\s+", "")
    n = len(arr)
    return Parsed(_to_pandas_str(up), np.zeros(n, bool), no_reasons(n))


def lost_digits(arr) -> np.ndarray:
    """Cells of an identity column that arrived as numbers (scientific notation or a decimal point)."""
    if not has_bytes(arr, b".Ee"):                  # a byte scan rules most columns out
        return np.zeros(len(arr), dtype=bool)
    return _np_bool(pc.match_substring_regex(arr, _LOST_DIGITS))


_MONEY = r"^(?P<sign>[-+]?)(?P<int>[0-9]{1,15})(?:\.(?P<frac>[0-9]{0,2})0*)?$"


def parse_money(arr) -> Parsed:
    """Yuan as written (1234.5, 1,234.50, ¥1234.50, 1234.50元, full-width digits) to integer fen.

    Plain decimals go through Arrow's exact decimal cast; anything else (symbols, separators, more than two
    decimals, text) through the pattern below, which splits whole and fraction digits as text."""
    n = len(arr)
    try:
        dec = pc.cast(arr, pa.decimal128(17, 2))
        fen = pc.cast(pc.multiply(dec, pa.scalar(100, pa.decimal128(5, 0))), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _parse_money_text(arr)
    present = _np_bool(pc.is_valid(arr))
    vals = np.asarray(fen.to_numpy(zero_copy_only=False), dtype=float)
    neg = present & (np.nan_to_num(vals, nan=0) < 0)
    bad, reasons = _reasons(n, (neg, "negative amount"))
    values = pd.Series(pd.array(np.nan_to_num(vals, nan=0).astype(np.int64), dtype="Int64"))
    values[~present] = pd.NA
    return Parsed(values, bad, reasons)


def _parse_money_text(arr) -> Parsed:
    n = len(arr)
    clean = pc.replace_substring_regex(arr, r"^(?:RMB|CNY)|[¥,\s]|元$", "")
    present = _np_bool(pc.is_valid(arr))
    ok = _np_bool(pc.match_substring_regex(clean, _MONEY))
    parts = pc.extract_regex(pc.if_else(pc.match_substring_regex(clean, _MONEY), clean, "0"), _MONEY)
    sign = _np_bool(pc.equal(pc.struct_field(parts, "sign"), "-"))
    whole = pc.cast(pc.struct_field(parts, "int"), pa.int64()).to_numpy(zero_copy_only=False)
    frac_txt = pc.utf8_rpad(pc.fill_null(pc.struct_field(parts, "frac"), ""), 2, "0")
    frac = pc.cast(frac_txt, pa.int64()).to_numpy(zero_copy_only=False)
    fen = whole * 100 + frac
    fen = np.where(sign, -fen, fen)
    good = present & ok
    bad, reasons = _reasons(n, (present & ~ok, "unreadable amount"), (good & (fen < 0), "negative amount"))
    values = pd.Series(pd.array(np.where(good, fen, 0), dtype="Int64"))
    values[~good] = pd.NA
    return Parsed(values, bad, reasons)


_DATE_SEP = r"^(?P<y>[0-9]{4})[-/.年](?P<m>[0-9]{1,2})[-/.月](?P<d>[0-9]{1,2})日?(?:[ T][0-9:.]*)?$"
_DATE_COMPACT = r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$"
_SERIAL = r"^(?P<s>[0-9]{1,5})(?:\.0+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def _ymd(arr, pattern):
    m = pc.match_substring_regex(arr, pattern)
    parts = pc.extract_regex(pc.if_else(m, arr, None), pattern)
    cols = {}
    for f in ("y", "m", "d"):
        cols[f] = pc.cast(pc.struct_field(parts, f), pa.int64()).to_numpy(zero_copy_only=False)
    return _np_bool(m), cols


def _build_dates(y, m, d) -> np.ndarray:
    """Vectorised calendar dates from year, month, day arrays (float with nan allowed); NaT where impossible."""
    y = np.nan_to_num(np.asarray(y, dtype=float), nan=0).astype(np.int64)
    m = np.nan_to_num(np.asarray(m, dtype=float), nan=0).astype(np.int64)
    d = np.nan_to_num(np.asarray(d, dtype=float), nan=0).astype(np.int64)
    valid = (y >= 1800) & (y <= 2200) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    ys, ms, ds = np.where(valid, y, 2000), np.where(valid, m, 1), np.where(valid, d, 1)
    month_start = (ys - 1970) * 12 + (ms - 1)
    first = month_start.astype("datetime64[M]").astype("datetime64[D]")
    next_first = (month_start + 1).astype("datetime64[M]").astype("datetime64[D]")
    days = first + (ds - 1)
    valid &= days < next_first
    return np.where(valid, days, np.datetime64("NaT", "D"))


def _iso_fast(arr, fmt: str):
    """Arrow's strptime for cells already in the canonical zero-padded form (YYYY-MM-DD or YYYY-MM); returns
    the day values and which cells matched. strptime rolls 2023-02-30 into March, so the day written must be
    the day parsed."""
    ts = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    width = 10 if fmt == "%Y-%m-%d" else 7
    same = pc.and_(pc.is_valid(ts), pc.equal(pc.utf8_length(arr), width))
    if width == 10:
        written = pc.cast(pc.utf8_slice_codeunits(pc.if_else(same, arr, "0000-00-00"), 8, 10), pa.int64())
        same = pc.and_(same, pc.equal(pc.day(ts), written))
    days = np.asarray(ts.to_numpy(zero_copy_only=False)).astype("datetime64[D]")
    return days, _np_bool(same)


def parse_date(arr) -> Parsed:
    """2023-05-10, 2023/5/10, 20230510, 2023年5月10日, an Excel serial number, or a date-time."""
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    days, same = _iso_fast(arr, "%Y-%m-%d")
    rest = present & ~same
    if not rest.any():
        return Parsed(pd.Series(days.astype("datetime64[ns]")), np.zeros(n, bool), no_reasons(n))
    sub = _parse_date_text(pc.filter(arr, pa.array(rest)))
    days[rest] = sub.values.to_numpy().astype("datetime64[D]")
    bad, reasons = _in_rows(n, rest, sub)
    return Parsed(pd.Series(days.astype("datetime64[ns]")), bad, reasons)


def _parse_date_text(arr) -> Parsed:
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    out = np.full(n, np.datetime64("NaT", "D"))
    matched = np.zeros(n, bool)
    for pattern in (_DATE_SEP, _DATE_COMPACT):
        m, c = _ymd(arr, pattern)
        days = _build_dates(c["y"], c["m"], c["d"])
        take = m & ~matched
        out[take] = days[take]
        matched |= m
    sm = pc.match_substring_regex(arr, _SERIAL)
    smask = _np_bool(sm) & ~matched
    if smask.any():
        serial = pc.cast(pc.struct_field(pc.extract_regex(pc.if_else(sm, arr, None), _SERIAL), "s"),
                         pa.int64()).to_numpy(zero_copy_only=False)
        serial = np.nan_to_num(np.asarray(serial, dtype=float), nan=0).astype(np.int64)
        plausible = smask & (serial >= 1) & (serial <= 73050)   # up to 2099
        out[plausible] = _EXCEL_EPOCH + serial[plausible]
        matched |= smask
    good = present & ~np.isnat(out)
    bad, reasons = _reasons(n, (present & ~good, "unreadable date"))
    return Parsed(pd.Series(out.astype("datetime64[ns]")), bad, reasons)


_PERIOD = r"^(?P<y>[0-9]{4})(?:[-/.年](?P<m>[0-9]{1,2})月?|(?P<m2>[0-9]{2}))$"


def parse_period(arr) -> Parsed:
    """2023-05, 202305, 2023年5月 (and a full date, which Excel makes of 2023-05) to canonical YYYY-MM."""
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    _, same = _iso_fast(arr, "%Y-%m")
    rest = present & ~same
    text = pc.if_else(pa.array(same), arr, pa.scalar(None, pa.string()))
    if not rest.any():
        return Parsed(_to_pandas_str(text).astype("str"), np.zeros(n, bool), no_reasons(n))
    sub = _parse_period_text(pc.filter(arr, pa.array(rest)))
    out = np.array(text.to_pylist(), dtype=object)
    out[rest] = sub.values.astype(object).to_numpy()
    bad, reasons = _in_rows(n, rest, sub)
    return Parsed(pd.Series(out, dtype="str"), bad, reasons)


def _parse_period_text(arr) -> Parsed:
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    m = pc.match_substring_regex(arr, _PERIOD)
    parts = pc.extract_regex(pc.if_else(m, arr, None), _PERIOD)
    y = pc.cast(pc.struct_field(parts, "y"), pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    m1 = pc.cast(pc.if_else(pc.equal(pc.struct_field(parts, "m"), ""), None, pc.struct_field(parts, "m")),
                 pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    m2 = pc.cast(pc.if_else(pc.equal(pc.struct_field(parts, "m2"), ""), None, pc.struct_field(parts, "m2")),
                 pa.int64()).to_numpy(zero_copy_only=False).astype(float)
    mon = np.where(np.isnan(m1), m2, m1)
    matched = _np_bool(m)
    rest = present & ~matched
    if rest.any():
        d = parse_date(pc.if_else(pa.array(rest), arr, pa.scalar(None, pa.string())))
        dd = d.values.to_numpy()
        has = ~np.isnat(dd)
        y = np.where(has, dd.astype("datetime64[Y]").astype(int) + 1970, y)
        mon = np.where(has, dd.astype("datetime64[M]").astype(int) % 12 + 1, mon)
        matched |= has
    good = present & matched & (mon >= 1) & (mon <= 12) & (y >= 1900) & (y <= 2200)
    yi = np.nan_to_num(y, nan=0).astype(int)
    mi = np.nan_to_num(mon, nan=0).astype(int)
    text = pd.Series(np.char.add(np.char.add(np.char.zfill(yi.astype(str), 4), "-"),
                                 np.char.zfill(mi.astype(str), 2)), dtype="string")
    text[~good] = pd.NA
    bad, reasons = _reasons(n, (present & ~good, "unreadable period"))
    return Parsed(text.astype("str"), bad, reasons)


_TRUE = {"是", "y", "yes", "1", "1.0", "true", "t", "√", "对"}
_FALSE = {"否", "n", "no", "0", "0.0", "false", "f", "×", "x"}


def _map_unique(arr, mapping: dict, what: str, type_: pa.DataType):
    """Map low-cardinality text through a dictionary, matched without case, once per distinct value; the
    mapped values are taken to the rows by Arrow, never made a Python object per row. Returns the mapped
    values (null where empty or unknown) and the unknown cells' bad mask and reasons."""
    n = len(arr)
    enc = pc.dictionary_encode(pa.chunked_array(arr) if isinstance(arr, pa.Array) else arr).combine_chunks()
    found = [mapping.get(str(w).lower(), _MISSING) for w in enc.dictionary.to_pylist()]
    mapped = pa.array([None if f is _MISSING else f for f in found], type=type_)
    unknown = np.array([f is _MISSING for f in found] + [False], dtype=bool)
    bad, reasons = _reasons(n, (unknown[positions(enc.indices)], f"unknown {what}"))
    return mapped.take(enc.indices), bad, reasons


_MISSING = object()


def parse_bool(arr) -> Parsed:
    mapping = {w: True for w in _TRUE} | {w: False for w in _FALSE}
    values, bad, reasons = _map_unique(arr, mapping, "yes/no value", pa.bool_())
    return Parsed(values.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get), bad, reasons)


def parse_enum(arr, enum: str) -> Parsed:
    """A code list's value as its canonical word."""
    mapping = {}
    for canonical, spellings in ENUMS[enum].items():
        mapping[canonical.lower()] = canonical
        for s in spellings:
            mapping[s.lower()] = canonical
    values, bad, reasons = _map_unique(arr, mapping, "value", pa.string())
    return Parsed(_to_pandas_str(values), bad, reasons)


_INT = r"^[-+]?[0-9]{1,15}(?:\.0+)?$"


def parse_int(arr) -> Parsed:
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    ok = _np_bool(pc.match_substring_regex(arr, _INT))
    txt = pc.replace_substring_regex(pc.if_else(pa.array(ok), arr, "0"), r"\.0+$", "")
    vals = pc.cast(txt, pa.int64()).to_numpy(zero_copy_only=False)
    values = pd.Series(pd.array(vals, dtype="Int64"))
    values[~(present & ok)] = pd.NA
    bad, reasons = _reasons(n, (present & ~ok, "unreadable number"))
    return Parsed(values, bad, reasons)


_DT_SEP = (r"^(?P<y>[0-9]{4})[-/.年](?P<m>[0-9]{1,2})[-/.月](?P<d>[0-9]{1,2})日?[ T]+"
           r"(?P<H>[0-9]{1,2})[:时](?P<M>[0-9]{1,2})(?:分?$|分?[:]?(?P<S>[0-9]{1,2})(?:\.[0-9]+)?秒?$)")
_DT_COMPACT = r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})[ T]?(?P<H>[0-9]{2})(?P<M>[0-9]{2})(?P<S>[0-9]{2})?$"
_DT_SERIAL = r"^(?P<s>[0-9]{1,5})\.(?P<f>[0-9]+)$"


def _datetime_bytes(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 19 bytes written YYYY-MM-DD HH:MM:SS: their values and which rows are such a date-time."""
    b = b - np.uint8(48)                                  # digits as 0..9; anything else wraps above 9
    shape = np.ones(len(b), dtype=bool)
    for i, ch in enumerate("0000-00-00 00:00:00"):
        shape &= (b[:, i] <= 9) if ch == "0" else (b[:, i] == np.uint8((ord(ch) - 48) % 256))

    def num(i, w):
        v = np.zeros(len(b), dtype=np.int64)
        for k in range(w):
            v = v * 10 + b[:, i + k]
        return v

    y, m, d = num(0, 4), num(5, 2), num(8, 2)
    hh, mi, ss = num(11, 2), num(14, 2), num(17, 2)
    days = _build_dates(np.where(shape, y, 0), m, d)
    good = shape & ~np.isnat(days) & (hh <= 23) & (mi <= 59) & (ss <= 59)
    secs = hh * 3600 + mi * 60 + ss
    return days.astype("datetime64[s]") + secs.astype("timedelta64[s]"), good


def _canonical_datetimes(arr) -> tuple[np.ndarray, np.ndarray]:
    """Cells written exactly YYYY-MM-DD HH:MM:SS, read straight from their bytes (no pattern, no Python per
    cell): the values (NaT elsewhere) and which cells they are. Anything else, an impossible day or hour
    included, is left for the patterns."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    n = len(arr)
    out = np.full(n, np.datetime64("NaT", "s"))
    done = np.zeros(n, bool)
    for r, b in fixed_width_blocks(arr, 19):
        values, ok = _datetime_bytes(b)
        out[r[ok]] = values[ok]
        done[r[ok]] = True
    return out, done


def parse_datetime(arr) -> Parsed:
    """A date in any of the date forms followed by HH:MM or HH:MM:SS (2023-05-10 14:03:22, 20230510140322,
    2023年5月10日 14时03分), or an Excel serial with a fraction of a day; local time, to the second. A date with no
    time of day is not a date-time: a window of minutes cannot rest on it."""
    n = len(arr)
    present = _np_bool(pc.is_valid(arr))
    out, matched = _canonical_datetimes(arr)
    if matched.sum() == present.sum():
        return Parsed(pd.Series(out.astype("datetime64[ns]")), np.zeros(n, bool), no_reasons(n))
    for pattern in (_DT_SEP, _DT_COMPACT):
        m = pc.match_substring_regex(arr, pattern)
        mm = _np_bool(m) & ~matched
        if not mm.any():
            continue
        parts = pc.extract_regex(pc.if_else(m, arr, None), pattern)
        f = {k: np.asarray(pc.cast(pc.if_else(pc.equal(pc.struct_field(parts, k), ""), None,
                                              pc.struct_field(parts, k)), pa.int64())
                           .to_numpy(zero_copy_only=False), dtype=float) for k in ("y", "m", "d", "H", "M", "S")}
        days = _build_dates(f["y"], f["m"], f["d"])
        hh, mi, ss = (np.nan_to_num(f[k], nan=0) for k in ("H", "M", "S"))
        ok = mm & ~np.isnat(days) & (hh <= 23) & (mi <= 59) & (ss <= 59)
        secs = (hh * 3600 + mi * 60 + ss).astype(np.int64)
        out[ok] = days[ok].astype("datetime64[s]") + secs[ok].astype("timedelta64[s]")
        matched |= mm
    sm = pc.match_substring_regex(arr, _DT_SERIAL)
    smask = _np_bool(sm) & ~matched
    if smask.any():
        parts = pc.extract_regex(pc.if_else(sm, arr, None), _DT_SERIAL)
        whole = np.nan_to_num(np.asarray(pc.cast(pc.struct_field(parts, "s"), pa.int64())
                                         .to_numpy(zero_copy_only=False), dtype=float), nan=0).astype(np.int64)
        frac = pc.cast(pc.binary_join_element_wise("0.", pc.struct_field(parts, "f"), ""), pa.float64())
        frac = np.nan_to_num(np.asarray(frac.to_numpy(zero_copy_only=False), dtype=float), nan=0)
        plausible = smask & (whole >= 1) & (whole <= 73050)
        secs = np.rint(frac * 86400).astype(np.int64)
        out[plausible] = (_EXCEL_EPOCH + whole[plausible]).astype("datetime64[s]") + secs[plausible].astype("timedelta64[s]")
        matched |= smask
    good = present & ~np.isnat(out)
    bad, reasons = _reasons(n, (present & ~good, "unreadable date-time (a date and a time of day are needed)"))
    return Parsed(pd.Series(out.astype("datetime64[ns]")), bad, reasons)


PARSERS = {
    "id": parse_id, "masked_id": parse_id, "str": parse_str, "int": parse_int, "money": parse_money,
    "date": parse_date, "datetime": parse_datetime, "period": parse_period, "bool": parse_bool,
}


# Columns whose values repeat (dates, periods, amounts, codes): parsed once per distinct value. Date-times are
# not among them: a bank's transaction times are nearly all distinct, and the dictionary pass would be wasted.
DISTINCT_TYPES = {"date", "period", "money", "bool", "enum", "int"}


def parse(arr, type_: str, enum: str | None = None) -> Parsed:
    """Parse a normalised text column. Where its values repeat, each distinct value is parsed once (Arrow's
    dictionary encoding) and the results are taken back to the rows, so a messy column of a million dates
    written three ways costs what its few hundred distinct spellings cost."""
    fn = (lambda a: parse_enum(a, enum)) if type_ == "enum" else PARSERS[type_]
    n = len(arr)
    if type_ not in DISTINCT_TYPES or n < 4096:
        return fn(arr)
    enc = pc.dictionary_encode(arr)
    enc = enc.combine_chunks() if isinstance(enc, pa.ChunkedArray) else enc
    if len(enc.dictionary) * 4 > n or len(enc.dictionary) == 0:
        return fn(arr)
    sub = fn(enc.dictionary)
    idx = positions(enc.indices)
    valid = idx >= 0
    take = np.where(valid, idx, 0)
    values = sub.values.take(take).reset_index(drop=True)
    bad = sub.bad[take] & valid
    reasons = no_reasons(n)
    if bad.any():
        reasons = sub.reasons[take]
        reasons[~valid] = None
    if not valid.all():
        values = values.where(valid)
    return Parsed(values, bad, reasons)


def fen_to_yuan_text(fen, grouping: bool = False) -> str:
    """Integer fen as a yuan string with two decimals (1234.50, or 1,234.50 with ``grouping``), by integer
    arithmetic; empty for a missing amount."""
    if fen is None or fen is pd.NA or (isinstance(fen, float) and np.isnan(fen)):
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    whole = f"{fen // 100:,}" if grouping else str(fen // 100)
    return f"{sign}{whole}.{fen % 100:02d}"

