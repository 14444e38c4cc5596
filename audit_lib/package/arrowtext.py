"""Text columns between pandas and Arrow, Arrow's lookup indices as numpy positions, and fixed-width text cells
as bytes.

Reading and the checks both hand text columns to Arrow compute (hash lookups, dictionary encoding, counting
distinct values) and take the answers back to rows by position; date-times and identity numbers are judged from
their bytes. These helpers are the one way each is done.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_text(s: pd.Series, large: bool = False) -> pa.ChunkedArray:
    """A column as Arrow text, without copying when pandas already holds it in Arrow.

    Missing values stay null. By default the result is ``string`` (32-bit offsets), for code that combines it
    with other ``string`` arrays; ``large=True`` keeps pandas' own 64-bit offsets where it has them, with no
    copy: for a column that is only read or looked up (Arrow's ``is_in`` and ``index_in`` cast their value set
    to the column's type). A cast is a copy of the whole column: fresh memory, which at ten million lines costs
    more than the lookup itself. Columns that are not text (integers, Python objects) are written as text first,
    missing kept missing."""
    arr = getattr(s, "array", None)
    if hasattr(arr, "__arrow_array__") and str(s.dtype) in ("str", "string"):
        a = arr.__arrow_array__()
        a = a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a])
        if a.type == pa.string() or (large and a.type == pa.large_string()):
            return a
        return a.cast(pa.string())
    return pa.chunked_array([pa.array(s.astype("str"), type=pa.string(), from_pandas=True)])


def one_piece(s: pd.Series) -> pd.Series:
    """A text column held by Arrow in one chunk (the same values, dtype and row labels): what the readers give
    comes in one chunk per block read (12 for a million payment lines, over a hundred for ten million). Taking
    rows out of a column in several chunks (``df[mask]``, ``df.loc``) makes Arrow join its chunks into one
    first, a copy of the whole column each time however few rows are taken: at a million lines five times the
    cost of the take itself, over the nine hundred takes of the check suite 0.9 s against 0.2 s. Joined once
    when the column is read, every later take is of one piece."""
    arr = s.array
    if isinstance(arr, pd.arrays.ArrowStringArray):
        a = arr.__arrow_array__()
        if isinstance(a, pa.ChunkedArray) and a.num_chunks > 1:
            whole = pa.chunked_array([a.combine_chunks()], type=a.type)
            return pd.Series(pd.arrays.ArrowStringArray(whole, dtype=s.dtype), index=s.index, name=s.name)
    return s


def positions(indices) -> np.ndarray:
    """Arrow indices (``index_in``, a dictionary's indices; null where not found) as int64 positions, -1 where
    null."""
    return np.asarray(pc.fill_null(indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


_BLOCK = 1 << 20


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _offsets(arr: pa.Array) -> np.ndarray:
    """A text array's n + 1 value offsets (32- or 64-bit, as Arrow holds them), a view of its buffer."""
    wide = pa.types.is_large_string(arr.type)
    return np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32, count=len(arr) + 1,
                         offset=arr.offset * (8 if wide else 4))


def _value_bytes(arr) -> list[np.ndarray]:
    """The bytes of each chunk's values, back to back, as views of Arrow's buffers (nothing copied)."""
    out = []
    for ch in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]):
        if len(ch) and _is_text(ch.type) and ch.buffers()[2] is not None:
            offsets = _offsets(ch)
            out.append(np.frombuffer(ch.buffers()[2], dtype=np.uint8)[int(offsets[0]):int(offsets[-1])])
    return out


def has_bytes(arr, chars: bytes = b"", from_byte: int | None = None, up_to: int | None = None) -> bool:
    """Whether any of ``chars`` (a few ASCII bytes), any byte from ``from_byte`` up or any byte up to ``up_to``
    occurs in the values of a text array: a scan of its bytes, a block at a time, ten times quicker than a
    per-value pattern. It may say yes for bytes under a null slot (Arrow lets a null slot span bytes), never no
    when a value holds one: a quick way to rule a column out before the exact test."""
    if not _is_text(arr.type):
        return True                                         # not text: ruled out by nothing here
    parts = _value_bytes(arr)
    buf = np.empty(min(_BLOCK, max((len(d) for d in parts), default=0)), dtype=bool)
    for d in parts:
        for lo in range(0, len(d), _BLOCK):
            piece = d[lo:lo + _BLOCK]
            hit = buf[:len(piece)]
            if from_byte is not None:
                np.greater_equal(piece, from_byte, out=hit)
                if hit.any():
                    return True
            if up_to is not None:
                np.less_equal(piece, up_to, out=hit)
                if hit.any():
                    return True
            for c in chars:
                np.equal(piece, c, out=hit)
                if hit.any():
                    return True
    return False


def fixed_width_blocks(arr: pa.Array, width: int, block: int | None = None):
    """The cells of a text array exactly ``width`` bytes long (nulls never), as (row numbers, a rows x width
    uint8 matrix of their bytes), ``block`` rows at a time (a million unless given): the temporaries stay a few megabytes, reused, where
    whole columns of ten million would each be fresh memory from the system (three times the time at that size).
    Cells stored back to back are a view of Arrow's buffer, nothing copied."""
    block = block or _BLOCK
    n = len(arr)
    if not n or not _is_text(arr.type):
        return
    offsets = _offsets(arr)
    start = offsets[:-1].astype(np.int64)
    fit = offsets[1:] - offsets[:-1] == width
    if arr.null_count:
        fit &= np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(fit)
    if not len(rows):
        return
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    back_to_back = len(rows) == n and start[-1] - start[0] == width * (n - 1)
    for lo in range(0, len(rows), block):
        r = rows[lo:lo + block]
        if back_to_back:
            yield r, data[start[r[0]]:start[r[0]] + width * len(r)].reshape(len(r), width)
        else:
            yield r, data[start[r, None] + np.arange(width)]
