"""Synthetic districts with planted problems (``audit synth``)."""
from __future__ import annotations

from pathlib import Path

from .district import District, generate
from .writer import WriteOptions, write_package


def make_package(out, district_code="120104", year=2023, lines=10000, seed=0, clean=False,
                 options: WriteOptions | None = None, district_name=None) -> District:
    d = generate(district_code=district_code, district_name=district_name, year=year, lines=lines, seed=seed,
                 clean=clean)
    write_package(Path(out), d, options)
    return d


__all__ = ["District", "generate", "make_package", "WriteOptions", "write_package"]
