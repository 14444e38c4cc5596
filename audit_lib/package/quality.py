"""The quarantine: rows that broke a reading rule, with file, Excel row, column, value and reason.

Nothing is dropped silently: every row removed from a table is listed here, and the list goes into
findings.json (data_quality) and the report's data-quality section.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["table", "file", "row", "column", "value", "reason"]


def entries(table: str, file: str, rows: np.ndarray, column: str, values, reasons) -> pd.DataFrame:
    """Quarantine entries for the masked rows of one column."""
    return pd.DataFrame({
        "table": table, "file": file, "row": np.asarray(rows, dtype=np.int64), "column": column,
        "value": pd.Series(values, dtype=object).astype(object).where(pd.notna(pd.Series(values, dtype=object)), ""),
        "reason": np.asarray(reasons, dtype=object),
    })


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in COLUMNS})
    q = pd.concat(parts, ignore_index=True)
    q["value"] = q["value"].astype(str)
    return q.sort_values(["table", "file", "row", "column", "reason"], kind="stable").reset_index(drop=True)


def summary(q: pd.DataFrame) -> pd.DataFrame:
    """Counts of quarantined cells and rows per table and reason."""
    if q.empty:
        return pd.DataFrame(columns=["table", "reason", "cells", "rows"])
    g = q.groupby(["table", "reason"], sort=True)
    return pd.DataFrame({"cells": g.size(), "rows": g["row"].nunique()}).reset_index()
