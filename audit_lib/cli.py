"""The ``audit`` command: parses arguments, calls the pipeline, maps errors to exit codes (0 done, 2 bad input
or usage, 3 verification or reproduction failed). A user's mistake prints one clear message, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
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


def _cmd_demo(args) -> int:
    from .provenance import keys
    from .runner import run

    from .synth import ensure_samples

    samples = ensure_samples()
    key = keys.demo_key()
    print(f"sample packages: {', '.join(str(p) for p in samples.values())}")
    print(f"signing with the local DEMO key {key} (labelled DEMO in the report)")
    timings: dict = {}
    folder = run(str(samples["120104"]), key_path=str(key), archive_root=args.archive, timings=timings)
    print("times: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    print(folder)
    return 0


def _cmd_run(args) -> int:
    from .runner import run

    timings: dict = {}
    folder = run(args.target, params_path=args.params, archive_root=args.archive, key_path=args.key,
                 timings=timings)
    print("times: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    print(folder)
    return 0


def _batch_one(job):
    item, archive_root, key = job
    from .runner import run

    t = time.perf_counter()
    try:
        folder = run(item, archive_root=archive_root, key_path=key)
        return item, "ok", str(folder), time.perf_counter() - t
    except AuditError as e:
        return item, "failed", str(e), time.perf_counter() - t
    except Exception as e:  # one district's failure never stops the others
        return item, "failed", f"{type(e).__name__}: {e}", time.perf_counter() - t


def _cmd_batch(args) -> int:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    jobs = [(i, args.archive, args.key) for i in args.items]
    results = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_batch_one, j) for j in jobs]
        for k, f in enumerate(as_completed(futures), 1):
            item, status, detail, secs = f.result()
            results.append((item, status, detail, secs))
            bar = "#" * int(30 * k / len(jobs))
            print(f"[{bar:<30s}] {k}/{len(jobs)}  {status:6s} {item}", file=sys.stderr, flush=True)
    results.sort()
    print(f"{'status':7s} {'seconds':>8s}  item  ->  run folder or error")
    for item, status, detail, secs in results:
        print(f"{status:7s} {secs:8.1f}  {item}  ->  {detail}")
    failed = sum(1 for r in results if r[1] != "ok")
    print(f"{len(results) - failed} done, {failed} failed")
    return 1 if failed else 0


def _cmd_keygen(args) -> int:
    from .provenance import keys

    path, kid = keys.keygen(args.signer, overwrite=args.force)
    print(f"private key: {path} (mode 600; keep it out of the archive and the repository)")
    print(f"public key added to the trusted set: {keys.trusted_dir()}")
    print(kid)
    return 0


def _cmd_verify(args) -> int:
    from .provenance.verify import verify

    problems, st = verify(args.run_dir, args.trusted_keys)
    signer = st["predicate"].get("signer", {})
    for s in st["subject"]:
        bad = [p for p in problems if p.endswith(": " + s["name"])]
        print(f"{'FAIL' if bad else 'ok  '}  {s['name']}  sha256:{s['digest']['sha256'][:16]}…")
    for p in problems:
        print(f"FAIL  {p}")
    print(f"signer {signer.get('name')} key {signer.get('keyid')}")
    if problems:
        print("NOT VERIFIED")
        return 3
    print("verified")
    return 0


def _cmd_reproduce(args) -> int:
    from .provenance.verify import reproduce

    problems, pred = reproduce(args.run_dir, args.package)
    for p in problems:
        print(f"FAIL  {p}")
    if problems:
        print("NOT REPRODUCIBLE")
        return 3
    print(f"reproducible: findings digest {pred['findings_digest']}")
    return 0


def _cmd_archive(args) -> int:
    from . import PROJECT_ROOT, archive

    root = Path(args.archive or PROJECT_ROOT / "reports")
    if args.action == "reindex":
        n = archive.reindex(root)
        print(f"{n} runs indexed in {root / 'index.sqlite'}")
        return 0
    rows = archive.listing(root)
    for r in rows:
        print(f"{r['year']}  {r['district_code']}  {r['run_id']}  {r['signer'] or '':10s} {r['findings_digest']}"
              + (f"  supersedes {r['supersedes']}" if r["supersedes"] else ""))
    print(f"{len(rows)} runs in {root}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="audit", description="惠民惠农财政补贴“一卡通”审计工作台")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="make the sample packages if absent and audit one end to end")
    d.add_argument("--archive", help="archive root (default: reports/ in the project)")
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", help="notebook -> HTML report -> workpaper -> signature -> archive")
    r.add_argument("target", metavar="DIR|PARAMS.yaml")
    r.add_argument("--params")
    r.add_argument("--archive")
    r.add_argument("--key")
    r.set_defaults(func=_cmd_run)

    b = sub.add_parser("batch", help="run many districts at once; one failure does not stop the rest")
    b.add_argument("items", nargs="+", metavar="DIR|PARAMS.yaml")
    b.add_argument("--jobs", type=int, default=2)
    b.add_argument("--archive")
    b.add_argument("--key")
    b.set_defaults(func=_cmd_batch)

    k = sub.add_parser("keygen", help="make an Ed25519 signing key and trust its public key")
    k.add_argument("--signer", required=True)
    k.add_argument("--force", action="store_true", help="replace an existing key of that signer")
    k.set_defaults(func=_cmd_keygen)

    vf = sub.add_parser("verify", help="check a run's signature and every file's digest")
    vf.add_argument("run_dir")
    vf.add_argument("--trusted-keys")
    vf.set_defaults(func=_cmd_verify)

    rp = sub.add_parser("reproduce", help="re-run a run's checks from its recorded inputs and compare")
    rp.add_argument("run_dir")
    rp.add_argument("--package", help="where the package is now, if it moved")
    rp.set_defaults(func=_cmd_reproduce)

    ar = sub.add_parser("archive", help="the archive index")
    ar.add_argument("action", choices=["list", "reindex"])
    ar.add_argument("--archive")
    ar.set_defaults(func=_cmd_archive)

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
