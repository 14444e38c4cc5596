"""Synthetic districts with planted problems (``audit synth``)."""
from __future__ import annotations

import shutil
from pathlib import Path

from .district import SHARD_LINES, District, generate, sharded_meta, shards
from .writer import GENERATOR, PackageWriter, WriteOptions, write_package


def make_package(out, district_code="120104", year=2023, lines=10000, seed=0, clean=False,
                 options: WriteOptions | None = None, district_name=None,
                 shard_lines: int = SHARD_LINES) -> dict:
    """Write a synthetic district package into ``out``, shard by shard (memory stays that of one shard), and
    return a summary: the payment lines written, the shards, and the truth (check -> keys)."""
    writer, lines_out, meta = None, 0, None
    for i, d in enumerate(shards(district_code=district_code, district_name=district_name, year=year, lines=lines,
                                 seed=seed, clean=clean, shard_lines=shard_lines)):
        if writer is None:
            meta = sharded_meta(d.meta, lines, shard_lines)
            writer = PackageWriter(Path(out), meta, options)
        lines_out += len(d.tables["payments"])
        writer.add(d)
        del d
    truth = writer.close()
    return {"payments": lines_out, "shards": writer.parts, "truth": truth, "notes": writer.notes, "meta": meta}


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


__all__ = ["District", "SAMPLES", "ensure_samples", "generate", "make_package", "PackageWriter", "SHARD_LINES", "shards",
           "WriteOptions", "write_package"]
