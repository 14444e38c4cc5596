"""Synthetic districts with planted problems (``audit synth``)."""
from __future__ import annotations

import shutil
from pathlib import Path

from .district import District, generate
from .writer import GENERATOR, WriteOptions, write_package


def make_package(out, district_code="120104", year=2023, lines=10000, seed=0, clean=False,
                 options: WriteOptions | None = None, district_name=None) -> District:
    d = generate(district_code=district_code, district_name=district_name, year=year, lines=lines, seed=seed,
                 clean=clean)
    write_package(Path(out), d, options)
    return d


SAMPLES = {"120104": dict(lines=20000, seed=2023), "120105": dict(lines=8000, seed=2024)}


def ensure_samples(root: Path | None = None) -> dict[str, Path]:
    """The bundled sample packages (made on first use, deterministic): demo/2023/<district_code>/."""
    from .. import PROJECT_ROOT

    base = (root or PROJECT_ROOT) / "demo" / "2023"
    out = {}
    for code, kw in SAMPLES.items():
        folder = base / code
        meta = folder / "package.yaml"
        text = meta.read_text(encoding="utf-8") if meta.exists() else ""
        if "synthetic: true" not in text or f"generator: {GENERATOR}\n" not in text:
            if folder.exists():                  # a sample made by an earlier generator
                shutil.rmtree(folder)
            make_package(folder, district_code=code, year=2023, **kw)
        out[code] = folder
    return out


__all__ = ["District", "SAMPLES", "ensure_samples", "generate", "make_package", "WriteOptions", "write_package"]
