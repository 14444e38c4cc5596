"""GB 11643 citizen identity numbers, and the one masking helper used everywhere a report shows personal data.

An 18-character number: 6-digit region code (GB/T 2260), 8-digit birth date, 3-digit sequence (odd for men),
and a check character from ISO 7064 MOD 11-2 over the first 17 digits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

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


def validate(ids: pd.Series, latest_birth: str | None = None) -> pd.DataFrame:
    """Vectorised GB 11643 validation of distinct identity numbers.

    Returns one row per input row with columns ``valid`` (bool), ``reason`` (text or None) and ``birth_date``
    (datetime64, NaT where impossible). ``latest_birth`` (YYYY-MM-DD) rejects birth dates after it.
    """
    s = pd.Series(ids, dtype="str").reset_index(drop=True)
    uniq = pd.unique(s.dropna())
    n = len(uniq)
    text = np.asarray(uniq, dtype=object).astype(str) if n else np.array([], dtype=str)
    reason = np.full(n, None, dtype=object)
    birth = np.full(n, np.datetime64("NaT", "D"))
    import pyarrow as pa
    import pyarrow.compute as pc

    shaped = pc.match_substring_regex(pa.array(text, type=pa.string()), r"^[0-9]{17}[0-9X]$")
    fit = np.asarray(shaped.to_numpy(zero_copy_only=False), dtype=bool) if n else np.zeros(0, bool)
    codes = np.zeros((n, 18), dtype=np.int64)
    if fit.any():
        codes[fit] = np.frombuffer(text[fit].astype("S18").tobytes(), dtype=np.uint8).reshape(-1, 18)
    digits17 = ((codes[:, :17] >= 48) & (codes[:, :17] <= 57)).all(axis=1)
    last_ok = ((codes[:, 17] >= 48) & (codes[:, 17] <= 57)) | (codes[:, 17] == ord("X"))
    shape_ok = fit & digits17 & last_ok
    reason[~shape_ok] = "not 18 digits (the last may be X)"
    if shape_ok.any():
        from .values import _build_dates

        digits = codes[shape_ok, :17] - 48
        expected = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)[(digits * WEIGHTS).sum(axis=1) % 11]
        actual = codes[shape_ok, 17]
        y = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
        m = digits[:, 10] * 10 + digits[:, 11]
        d = digits[:, 12] * 10 + digits[:, 13]
        b = _build_dates(y, m, d)
        limit = np.datetime64(latest_birth, "D") if latest_birth else np.datetime64("2100-01-01", "D")
        impossible = np.isnat(b) | (y < 1850) | (b > limit)
        prov = digits[:, 0] * 10 + digits[:, 1]
        province_ok = np.isin(prov, np.array(sorted(int(p) for p in PROVINCES)))
        sub = np.full(shape_ok.sum(), None, dtype=object)
        sub[actual != expected] = "wrong check digit"
        sub[~province_ok] = "unknown region code"
        sub[impossible] = "impossible birth date"
        reason[shape_ok] = sub
        birth[shape_ok] = np.where(impossible, np.datetime64("NaT", "D"), b)
    per_id = pd.DataFrame({"id": text, "reason": reason, "birth_date": birth.astype("datetime64[ns]")})
    if len(per_id) == len(s) and s.notna().all() and (per_id["id"].to_numpy() == s.to_numpy()).all():
        out = per_id
    else:
        out = pd.DataFrame({"id": s}).merge(per_id, on="id", how="left")
    out["valid"] = out["reason"].isna() & out["id"].notna()
    return out[["valid", "reason", "birth_date"]].reset_index(drop=True)


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
