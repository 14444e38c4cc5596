"""Giving freed memory back to the operating system between the audit's steps.

Arrow's allocator and glibc's malloc keep the pages a step has freed, for later allocations of their own. DuckDB
allocates through an allocator of its own and cannot use them, so without this a district audit's peak is what
reading left behind plus what DuckDB needs on top. The audit gives them back after reading and after each check:
a few milliseconds each time (measured at a million lines)."""
from __future__ import annotations

import ctypes
import ctypes.util


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the pages Arrow's memory pool and the C heap hold free to the operating system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)
