"""Giving freed memory back to the operating system between the audit's steps.

Arrow's allocator and glibc's malloc keep the pages a step has freed, for later allocations of their own. DuckDB
allocates through an allocator of its own and cannot use them, so without this a district audit's peak is what
reading left behind plus what DuckDB needs on top. The audit gives them back after reading and after each check:
a few milliseconds each time (measured at a million lines).

DuckDB's allocator is a jemalloc of its own, which holds what a query freed (hash tables, the text it copied in)
until later allocations in the same arena or a decay timer come round; DuckDB's worker threads sit idle between
the checks, so neither does. At ten million lines CP13 alone left 2.2 GB held that way, and over the checks a
district audit ratcheted up 2.5 GB above what it used. So the audit also asks DuckDB's jemalloc to purge all its
arenas, through the control function DuckDB's library exports (``duckdb_je_mallctl``), once they hold 512 MiB or
more of freed pages. Less than that is left for DuckDB's next query: purging after every check cost 0.5 s of the
checks' 6.5 s at a million lines (the next query takes the pages back, fresh) for a peak 0.07 GB lower. Where a
build has no such function (DuckDB on macOS and Windows uses the system allocator) the step is skipped."""
from __future__ import annotations

import ctypes
import ctypes.util
import sys


def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


_TRIM = _malloc_trim()

_PURGE_ALL = b"arena.4096.purge"            # jemalloc 5: 4096 is MALLCTL_ARENAS_ALL, every arena at once
_DIRTY_ALL = b"stats.arenas.4096.pdirty"    # pages freed and not yet purged, over every arena
_KEEP_AT_MOST = 512 << 20


def _duckdb_mallctl():
    """``mallctl`` of the jemalloc inside DuckDB's compiled module, or None where it has none."""
    module = sys.modules.get("_duckdb") or sys.modules.get("duckdb.duckdb")     # 1.4 and later; earlier
    try:
        ctl = ctypes.CDLL(module.__file__).duckdb_je_mallctl
    except (OSError, AttributeError, TypeError):
        return None
    ctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    ctl.restype = ctypes.c_int
    return ctl


_DUCKDB_CTL: list = []          # looked up once DuckDB is loaded: it is left to whoever needs it to import it


def give_back() -> None:
    """Return the pages Arrow's memory pool, the C heap and DuckDB's allocator hold free to the operating
    system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)
    if "duckdb" in sys.modules:
        if not _DUCKDB_CTL:
            _DUCKDB_CTL.append(_duckdb_mallctl())
        ctl = _DUCKDB_CTL[0]
        if ctl is not None and _dirty_bytes(ctl) >= _KEEP_AT_MOST:
            ctl(_PURGE_ALL, None, None, None, 0)        # a failure only leaves the pages where they are


def _dirty_bytes(ctl) -> int:
    """How much DuckDB's jemalloc holds freed (taken as enough to purge where its statistics cannot be read)."""
    epoch = ctypes.c_uint64(1)
    pages, page = ctypes.c_size_t(), ctypes.c_size_t()
    size = ctypes.c_size_t(ctypes.sizeof(pages))
    if ctl(b"epoch", None, None, ctypes.byref(epoch), ctypes.sizeof(epoch)) or \
            ctl(_DIRTY_ALL, ctypes.byref(pages), ctypes.byref(size), None, 0) or \
            ctl(b"arenas.page", ctypes.byref(page), ctypes.byref(size), None, 0):
        return _KEEP_AT_MOST
    return pages.value * page.value
