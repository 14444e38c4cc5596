"""The ``audit`` command: parses arguments, calls the pipeline, maps errors to exit codes (0 done, 2 bad input
or usage, 3 verification or reproduction failed). A user's mistake prints one clear message, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import AuditError


def _cmd_synth(args) -> int:
    from .synth import make_package
    from .synth.writer import WriteOptions

    opt = WriteOptions(fmt=args.format, encoding=args.encoding, chinese_headers=args.chinese_headers,
                       chinese_values=args.chinese_headers, title_rows=args.title_rows)
    d = make_package(args.out, district_code=args.district_code, year=args.year, lines=args.lines,
                     seed=args.seed, clean=args.clean, options=opt)
    n = len(d.tables["payments"])
    planted = sum(len(v) for v in d.truth.values())
    print(f"{d.meta['district_name']} ({d.meta['district_code']}) {d.meta['year']}: {n:,} payment lines, "
          f"{planted} planted records in {len(d.truth)} checks")
    for note in d.notes:
        print(f"note: {note}")
    print(Path(args.out))
    return 0


def _cmd_validate(args) -> int:
    from .package import load_package
    from .package.report import quality_summary

    pkg = load_package(args.dir)
    print(quality_summary(pkg))
    return 0


def _cmd_check(args) -> int:
    from .checks.engine import run_cli_check

    return run_cli_check(args.dirs, params_path=args.params, out=args.out)


def project_root() -> Path:
    return Path(__file__).resolve().parents[1]


SAMPLES = {"120104": dict(lines=20000, seed=2023), "120105": dict(lines=8000, seed=2024)}


def ensure_samples(root: Path | None = None) -> dict[str, Path]:
    """The bundled sample packages (made on first use, deterministic): demo/2023/<district_code>/."""
    from .synth import make_package

    base = (root or project_root()) / "demo" / "2023"
    out = {}
    for code, kw in SAMPLES.items():
        folder = base / code
        if not (folder / "package.yaml").exists():
            make_package(folder, district_code=code, year=2023, **kw)
        out[code] = folder
    return out


def _cmd_demo(args) -> int:
    from . import findings
    from .checks.engine import check_package
    from .package.report import quality_summary

    samples = ensure_samples()
    folder = samples["120104"]
    pkg, outcomes, doc = check_package(folder)
    print(quality_summary(pkg))
    print()
    flagged = [o for o in outcomes if o.status == "flagged"]
    for o in outcomes:
        j = o.as_json()
        print(f"{j['id']}  {j['status']:8s} {j['count']:>6d}  {j['title']}")
    out = folder.parent.parent / "runs" / f"{pkg.district_code}-findings.json"
    findings.write(doc, out)
    print(f"\n{len(flagged)} checks flagged records; findings digest {doc['digest']}")
    print(out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="audit", description="惠民惠农财政补贴“一卡通”审计工作台")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="make the sample packages if absent and audit one end to end")
    d.set_defaults(func=_cmd_demo)

    s = sub.add_parser("synth", help="write a realistic synthetic district package with planted problems")
    s.add_argument("--out", required=True)
    s.add_argument("--district-code", default="120104")
    s.add_argument("--year", type=int, default=2023)
    s.add_argument("--lines", type=int, default=10000, help="about how many payment lines")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--clean", action="store_true", help="plant no problems")
    s.add_argument("--format", default="csv", choices=["csv", "xlsx", "parquet"])
    s.add_argument("--encoding", default="utf-8", choices=["utf-8", "utf-8-sig", "gbk", "gb18030"])
    s.add_argument("--chinese-headers", action="store_true", help="Chinese headers and values")
    s.add_argument("--title-rows", type=int, default=0, help="title lines above the header")
    s.set_defaults(func=_cmd_synth)

    v = sub.add_parser("validate", help="read and check a package; print a data-quality summary")
    v.add_argument("dir")
    v.set_defaults(func=_cmd_validate)

    c = sub.add_parser("check", help="run the check engine; write findings.json")
    c.add_argument("dirs", nargs="+", metavar="DIR", help="a package folder (several for a province run)")
    c.add_argument("--params")
    c.add_argument("--out")
    c.set_defaults(func=_cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AuditError as e:
        print(f"audit: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("audit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
