"""Text columns between pandas and Arrow, and Arrow's lookup indices as numpy positions.

Reading and the checks both hand text columns to Arrow compute (hash lookups, dictionary encoding, counting
distinct values) and take the answers back to rows by position. These two helpers are the one way that is done.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_text(s: pd.Series, large: bool = False) -> pa.ChunkedArray:
    """A column as Arrow text, without copying when pandas already holds it in Arrow.

    Missing values stay null. By default the result is ``string`` (32-bit offsets), which every value set
    compared with it uses; ``large=True`` keeps pandas' own 64-bit offsets where it has them, for a column
    that may hold more than 2 GB of text and is only read, never compared with a ``string`` value set.
    Columns that are not text (integers, Python objects) are written as text first, missing kept missing."""
    arr = getattr(s, "array", None)
    if hasattr(arr, "__arrow_array__") and str(s.dtype) in ("str", "string"):
        a = arr.__arrow_array__()
        a = a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a])
        if a.type == pa.string() or (large and a.type == pa.large_string()):
            return a
        return a.cast(pa.string())
    return pa.chunked_array([pa.array(s.astype("str"), type=pa.string(), from_pandas=True)])


def positions(indices) -> np.ndarray:
    """Arrow indices (``index_in``, a dictionary's indices; null where not found) as int64 positions, -1 where
    null."""
    return np.asarray(pc.fill_null(indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
