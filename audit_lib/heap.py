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
build has no such function (DuckDB on macOS and Windows uses the system allocator) the step is skipped.

On Linux the audit also has Arrow take its buffers from the C heap (``use_c_heap``), where numpy's already are,
instead of from the mimalloc Arrow ships as its default. pandas holds the tables partly in Arrow buffers (text)
and partly in numpy arrays (numbers, dates), and a check frees one kind and makes the other: with two heaps what
one freed could not serve the other until it had gone back to the system and been taken again, fresh. Measured
on the benchmark's packages (read twice, then the checks), mimalloc against the C heap in three pairs of runs: at
ten million lines the peak 11.34-11.62 -> 10.71-10.92 GB, the checks 106-127 -> 89-106 s, of which system time
66-91 -> 48-58 s; at a million lines 1.83-1.87 -> 1.57 GB and 7.2-8.8 -> 6.1-6.2 s; the exported package at a
million lines read in 9.0-9.3 s against 9.6-10.2 s. Findings do not depend on where memory comes from. Someone
who chose Arrow's pool (``ARROW_DEFAULT_MEMORY_POOL``) keeps their choice."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
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


_POOL_SET: list = []


def use_c_heap() -> None:
    """Arrow's default memory pool set to the C heap's, on Linux, unless ``ARROW_DEFAULT_MEMORY_POOL`` says
    otherwise (see above); once in a process, so that a pool chosen later (``pa.set_memory_pool`` in a notebook)
    stays chosen. Buffers made before keep the pool they came from."""
    if _POOL_SET or not sys.platform.startswith("linux") or os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    _POOL_SET.append(True)
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


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
