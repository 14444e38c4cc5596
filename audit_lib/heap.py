"""Where the audit's memory comes from, and when what it freed goes back to the operating system.

Arrow's allocator and glibc's malloc keep the pages a step has freed, for later allocations of their own. DuckDB
allocates through an allocator of its own and cannot use them, so without giving them back a district audit's
peak is what reading left behind plus what DuckDB needs on top. The audit gives them back after reading, and
during the checks before DuckDB allocates, once the C heap holds 1 GiB or more free (``make_room``).

While a package is read, what the C heap holds free goes back after each table once it is 1 GiB or more
(``give_back_much``): tables are read on two threads, and glibc's arena for each thread kept what reading one table
freed, so that reading ten million lines peaked at 9.4-9.6 GB for 5.7 GB of tables. With it, 7.1 GB, and reading
took 18-21 s against 21-28 s (system time 12-13 s against 24-25 s), the pages given back being taken again before
the system has reclaimed them; at a million lines the heap never holds that much, and nothing changes. The checks
after it climb to the same peak either way, and take back the pages reading no longer took: the whole audit's time
was within the noise (four pairs of runs: 95-125 s without it, 107-125 s with it).

During the checks, until DuckDB needs room, the C heap keeps them for the next allocations (``freed_pages_kept``):
memory given back and taken again is fresh memory, which the system must hand over anew, and on a virtual machine
that reports free pages to its host (as the one these figures come from does) that costs 0.75-3.9 s a gigabyte,
against 0.12-0.18 s for pages reused. glibc maps each block of 32 MB or more apart and gives it back when it is
freed, and gives back the top of its heap as it frees; during the checks it does neither, and afterwards both
again. Giving everything back after every check, as the audit did before, the checks at ten million lines faulted
in 45 GB of fresh pages for a peak of 10.8 GB; keeping them, 26 GB. Measured with numpy's small pages (below) in
three pairs of runs at a million lines, each run reading then checking: checks 7.2-8.9 -> 6.8-7.2 s, of which
system time 2.8-3.5 -> 1.9-2.1 s, peak 1.55-1.63 -> 1.61-1.74 GB; at ten million lines, one pair: 105.2 -> 76.4 s,
system time 58.2 -> 35.7 s, peak 10.79 -> 11.05 GB. Where the C heap's behaviour was chosen (``MALLOC_*``
variables, ``GLIBC_TUNABLES``) it is left as chosen, and what a check frees goes back after it, as before.

numpy asks the kernel for transparent huge pages for its arrays of 4 MB and more (``small_pages`` stops it).
Where the kernel grants them on request, as it does here (``madvise``), each fault of a huge page first gathers
2 MB of contiguous memory: touching a gigabyte took 7-12 s that way against 0.75-3.9 s in small pages, and
RC03 at a million lines spent 0.85-0.92 s in the system against 0.28-0.37 s without (the checks, three pairs of
runs: 8.7-9.5 -> 7.1-7.7 s). ``NUMPY_MADVISE_HUGEPAGE`` still chooses.

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
from contextlib import contextmanager


def _glibc(name: str):
    """A function of glibc's malloc, or None where the C library has none (macOS, Windows, musl)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or None), name)
    except (OSError, AttributeError, TypeError):
        return None


_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")
_MALLINFO2 = _glibc("mallinfo2")             # glibc 2.33 and later


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]


if _MALLINFO2 is not None:
    _MALLINFO2.restype = _Mallinfo2
if _MALLOPT is not None:
    _MALLOPT.argtypes = [ctypes.c_int, ctypes.c_int]
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_GLIBC_CHOSEN = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_",
                 "GLIBC_TUNABLES")

_PURGE_ALL = b"arena.4096.purge"            # jemalloc 5: 4096 is MALLCTL_ARENAS_ALL, every arena at once
_DIRTY_ALL = b"stats.arenas.4096.pdirty"    # pages freed and not yet purged, over every arena
_KEEP_AT_MOST = 512 << 20
_HEAP_KEEPS = 1 << 30          # what the C heap may hold free before DuckDB allocates, and after a large table is read


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


_KEEPING: list = [False]
_MMAP_MAX_DEFAULT = 65536         # glibc's own maximum of blocks mapped apart
_TRIM_AFTER = 64 << 20            # after the checks, the heap's top given back once this much of it is free


@contextmanager
def freed_pages_kept():
    """While the checks run, on Linux with glibc: the C heap keeps the pages a check frees for the next
    allocations, and gives them back only when DuckDB is about to need memory (``make_room``), since DuckDB's
    allocator cannot use them (see above); afterwards they go back, and the heap behaves about as glibc would by
    itself (large blocks mapped apart again, its top given back past 64 MB free). Not where the C heap's
    behaviour was chosen (``MALLOC_*`` variables, ``GLIBC_TUNABLES``), nor where Arrow takes its buffers from a
    pool of its own."""
    if _KEEPING[0] or not _can_keep():
        yield
        return
    # Large blocks from the heap rather than mapped apart (a block mapped apart goes back to the system when it is
    # freed, and comes back fresh), and the top of the heap not given back as it frees.
    _KEEPING[0] = bool(_MALLOPT(_M_MMAP_MAX, 0) and _MALLOPT(_M_TRIM_THRESHOLD, 2**31 - 1))
    try:
        yield
    finally:
        _MALLOPT(_M_MMAP_MAX, _MMAP_MAX_DEFAULT)
        _MALLOPT(_M_TRIM_THRESHOLD, _TRIM_AFTER)
        _KEEPING[0] = False
        _TRIM(0)


def _can_keep() -> bool:
    if not sys.platform.startswith("linux") or None in (_MALLOPT, _TRIM, _MALLINFO2) or \
            any(v in os.environ for v in _GLIBC_CHOSEN):
        return False
    import pyarrow as pa

    return pa.default_memory_pool().backend_name == "system"


def keeping() -> bool:
    """Whether the C heap keeps what is freed (``freed_pages_kept``)."""
    return _KEEPING[0]


def make_room() -> None:
    """Before DuckDB allocates: the C heap's free pages go back to the system, so that DuckDB's allocator can take
    them, once they are many (``give_back_much``); fewer are left for the checks' next allocations."""
    if keeping():
        give_back_much()


def give_back_much() -> None:
    """The C heap's free pages go back to the system once they are many (``_HEAP_KEEPS``, over all its arenas)."""
    if _MALLINFO2 is not None and _TRIM is not None and _MALLINFO2().fordblks >= _HEAP_KEEPS:
        _TRIM(0)


def small_pages() -> None:
    """numpy asks the kernel for transparent huge pages for its arrays of 4 MB and more; unless
    ``NUMPY_MADVISE_HUGEPAGE`` says otherwise, it no longer does (see above)."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core import multiarray
    except ImportError:                                    # numpy 1
        from numpy.core import multiarray
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is not None:
        setter(False)


_DUCKDB_CTL: list = []          # looked up once DuckDB is loaded: it is left to whoever needs it to import it


def give_back() -> None:
    """Return the pages Arrow's memory pool, the C heap and DuckDB's allocator hold free to the operating
    system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)
    purge_duckdb()


def between_checks() -> None:
    """After each check: what DuckDB freed goes back once it is much; so does what the C heap holds free, unless
    it keeps it for the next check (``freed_pages_kept``)."""
    if keeping():
        purge_duckdb()
    else:
        give_back()


def purge_duckdb() -> None:
    """DuckDB's allocator gives back what it holds free, once it is much (``_KEEP_AT_MOST``)."""
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
