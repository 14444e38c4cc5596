"""GB 11643 citizen identity numbers, and the one masking helper used everywhere a report shows personal data.

An 18-character number: 6-digit region code (GB/T 2260), 8-digit birth date, 3-digit sequence (odd for men),
and a check character from ISO 7064 MOD 11-2 over the first 17 digits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .arrowtext import as_text, fixed_width_blocks, positions

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = "10X98765432"

# Province-level prefixes of GB/T 2260 (the first two digits). Only the province is validated: county codes
# are renamed and abolished over the years while people keep the numbers they were issued, so a full county
# list would call valid old numbers invalid.
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
}


def check_char(first17: str) -> str:
    digits = np.frombuffer(first17.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    return CHECK_CHARS[int((digits * WEIGHTS).sum() % 11)]


def _judge(b: np.ndarray, limit: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of 18 bytes each (a block of rows): the reason each is invalid (None where valid) and the birth
    date (NaT where impossible)."""
    from .values import _build_dates

    n = len(b)
    reason = np.full(n, None, dtype=object)
    birth = np.full(n, np.datetime64("NaT", "D"))
    d = b - np.uint8(48)                                  # digits as 0..9; anything else wraps above 9
    shape_ok = (d[:, :17] <= 9).all(axis=1) & ((d[:, 17] <= 9) | (b[:, 17] == ord("X")))
    reason[~shape_ok] = "not 18 digits (the last may be X)"
    if shape_ok.any():
        digits = d[shape_ok, :17].astype(np.int32)
        expected = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)[(digits @ WEIGHTS.astype(np.int32)) % 11]
        actual = b[shape_ok, 17]
        y = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
        m = digits[:, 10] * 10 + digits[:, 11]
        day = digits[:, 12] * 10 + digits[:, 13]
        born = _build_dates(y, m, day)
        impossible = np.isnat(born) | (y < 1850) | (born > limit)
        prov = digits[:, 0] * 10 + digits[:, 1]
        province_ok = np.isin(prov, np.array(sorted(int(p) for p in PROVINCES)))
        sub = np.full(int(shape_ok.sum()), None, dtype=object)
        sub[actual != expected] = "wrong check digit"
        sub[~province_ok] = "unknown region code"
        sub[impossible] = "impossible birth date"
        reason[shape_ok] = sub
        birth[shape_ok] = np.where(impossible, np.datetime64("NaT", "D"), born)
    return reason, birth


def validate(ids: pd.Series, latest_birth: str | None = None) -> pd.DataFrame:
    """Vectorised GB 11643 validation of identity numbers, each distinct number judged once.

    Returns one row per input row with columns ``valid`` (bool), ``reason`` (text or None) and ``birth_date``
    (datetime64, NaT where impossible). ``latest_birth`` (YYYY-MM-DD) rejects birth dates after it.
    The numbers are read from their bytes in Arrow, a million at a time, never as a Python string each.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pd.Series(ids, dtype="str").reset_index(drop=True)
    given = as_text(s, large=True)
    uniq = pc.unique(given.drop_null() if given.null_count else given)
    uniq = uniq.combine_chunks() if isinstance(uniq, pa.ChunkedArray) else uniq
    n = len(uniq)
    limit = np.datetime64(latest_birth, "D") if latest_birth else np.datetime64("2100-01-01", "D")
    reason = np.full(n, "not 18 digits (the last may be X)", dtype=object)
    birth = np.full(n, np.datetime64("NaT", "D"))
    for r, b in fixed_width_blocks(uniq, 18):                  # 18 bytes: 18 ASCII characters at most
        reason[r], birth[r] = _judge(b, limit)
    if n == len(s) and not given.null_count:
        at = np.arange(n)                  # every number distinct: the distinct numbers are the rows, in order
    else:
        at = positions(pc.index_in(given, value_set=uniq))
    found = at >= 0
    out_reason = np.append(reason, None)[np.where(found, at, n)]
    out_birth = np.append(birth, np.datetime64("NaT", "D"))[np.where(found, at, n)]
    return pd.DataFrame({"valid": found & pd.isna(out_reason), "reason": out_reason,
                         "birth_date": out_birth.astype("datetime64[ns]")})


def masked_id(value) -> str:
    """First 6 and last 4 characters with 8 ``*`` between them (checks.md): 120104********123X."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    t = str(value)
    if len(t) <= 10:
        return "*" * len(t)
    return t[:6] + "*" * 8 + t[-4:]


def masked_ids(values: pd.Series) -> pd.Series:
    """Vectorised masked_id."""
    s = pd.Series(values, dtype="str")
    long = s.str.len() > 10
    out = s.str.slice(0, 6) + "********" + s.str.slice(-4)
    out = out.where(long, s.str.replace(r".", "*", regex=True))
    return out.fillna("")


def masked_name(value) -> str:
    """A name as its first character and ``*`` (张*), which is also how disclosures are matched."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    t = str(value).strip()
    return (t[0] + "*") if t else ""


def masked_names(values: pd.Series) -> pd.Series:
    s = pd.Series(values, dtype="str").str.strip()
    return (s.str.slice(0, 1) + "*").where(s.str.len() > 0, "").fillna("")


def masked_account(value) -> str:
    """An account or card number as its last 4 digits: ****1234."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    t = str(value).strip()
    return "****" + t[-4:] if t else ""


def masked_accounts(values: pd.Series) -> pd.Series:
    s = pd.Series(values, dtype="str").str.strip()
    return ("****" + s.str.slice(-4)).where(s.str.len() > 0, "").fillna("")


def age_on(birth: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years between birth dates and dates, vectorised (NaN where the birth date is unknown)."""
    b = pd.to_datetime(birth)
    o = pd.to_datetime(on)
    years = o.dt.year - b.dt.year
    before = (o.dt.month < b.dt.month) | ((o.dt.month == b.dt.month) & (o.dt.day < b.dt.day))
    return years - before.astype("Int64")
