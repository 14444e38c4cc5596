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

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not args.force:
            raise AuditError(f"{out} exists and is not empty: choose an empty or new folder, or pass --force to "
                             f"replace what is in it")
        if not out.is_dir() or not (out / "package.yaml").exists() and any(out.iterdir()):
            raise AuditError(f"{out} does not hold a package; --force replaces only a package folder")
        import shutil

        shutil.rmtree(out)
    if args.as_exported:
        opt = WriteOptions.as_exported()
    else:
        opt = WriteOptions(fmt=args.format, encoding=args.encoding, chinese_headers=args.chinese_headers,
                           chinese_values=args.chinese_headers, title_rows=args.title_rows,
                           money_style=args.money_style, mixed_forms=args.mixed_forms)
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
    from . import findings
    from .params import Params
    from .pipeline import check_package, check_region

    params = Params.from_file(args.params) if args.params else Params()
    if len(args.dirs) == 1:
        _, outcomes, doc = check_package(args.dirs[0], params)
    else:
        _, outcomes, doc = check_region(args.dirs, params)
    path = Path(args.out) if args.out else Path("findings.json")     # never into the package folder handed over
    findings.write(doc, path)
    for o in outcomes:
        j = o.as_json()
        amount = f"{j['amount_fen'] / 100:,.2f}" if j["amount_fen"] else ""
        print(f"{j['id']}  {j['severity']:6s} {j['status']:8s} {j['count']:>7d} {amount:>16s}  {j['title']}"
              + (f"  ({j['reason']})" if j["reason"] else ""))
    print(path)
    errors = [o.check.id for o in outcomes if o.status == "error"]
    if errors:
        print(f"audit: incomplete: check(s) in error: {', '.join(errors)}", file=sys.stderr)
        return 1
    return 0


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
    return _incomplete(folder)


def _cmd_run(args) -> int:
    from .runner import run

    timings: dict = {}
    folder = run(args.target, params_path=args.params, archive_root=args.archive, key_path=args.key,
                 timings=timings)
    print("times: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    print(folder)
    return _incomplete(folder)


def _incomplete(folder: Path) -> int:
    """1 when the run was signed incomplete (a check in error), else 0."""
    from .archive import statement_of

    st = statement_of(folder) or {}
    return 1 if st.get("predicate", {}).get("incomplete") else 0


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

    path, kid = keys.keygen(args.signer, overwrite=args.force, passphrase=args.passphrase)
    print(f"private key: {path} (mode 600; keep it out of the archive and the repository)")
    print(f"public key added to the trusted set as '{args.signer}': {keys.trusted_dir()}")
    print(kid)
    return 0


def _cmd_trust(args) -> int:
    from .provenance import keys

    folder = Path(args.trusted_keys) if args.trusted_keys else None
    if args.action == "add":
        if not args.pem or not args.signer:
            raise AuditError("usage: audit trust add PEM --signer 姓名")
        try:
            pem = Path(args.pem).read_bytes()[: 1 << 16]
        except OSError as e:
            raise AuditError(f"{args.pem}: cannot be read ({e.strerror or e})") from None
        out = keys.add_trusted(pem, args.signer, folder)
        print(f"trusted: {out.stem} as '{args.signer}' ({out})")
        return 0
    if args.action == "remove":
        if not args.pem:
            raise AuditError("usage: audit trust remove KEYID")
        out = keys.remove_trusted(args.pem, folder)
        print(f"removed from the trusted set: {out.stem}")
        return 0
    ts = keys.trusted_keys(folder)
    for kid, t in sorted(ts.items(), key=lambda x: (x[1].signer or "", x[0])):
        print(f"{kid}  {t.signer or '(no name: signs nothing until added again with --signer)'}")
    print(f"{len(ts)} trusted keys in {folder or keys.trusted_dir()}")
    return 0


def _cmd_verify(args) -> int:
    from .provenance.verify import verify

    problems, st = verify(args.run_dir, args.trusted_keys, allow_demo=args.demo)
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

    problems, pred = reproduce(args.run_dir, args.package, args.trusted_keys, allow_demo=args.demo)
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
        n, skipped = archive.reindex(root)
        for s in skipped:
            print(f"skipped (does not verify): {s}")
        print(f"{n} runs indexed in {root / 'index.sqlite'}" + (f", {len(skipped)} skipped" if skipped else ""))
        return 0
    rows = archive.listing(root)
    for r in rows:
        print(f"{r['year']}  {r['district_code']}  {r['run_id']}  {r['signer'] or '':10s} {r['findings_digest']}"
              + (f"  supersedes {r['supersedes']}" if r["supersedes"] else ""))
    print(f"{len(rows)} runs in {root}")
    return 0


def _cmd_checks(args) -> int:
    from .docs import catalogue_markdown, catalogue_rows

    if args.markdown:
        print(catalogue_markdown(), end="")
        return 0
    rows = list(catalogue_rows())
    for r in rows:
        print(f"{r['编号']}  {r['风险等级']}  {r['类别']:4s}  {r['检查']}  [{r['记录键']}]  需要：{r['所需数据表']}"
              + (f"  参数：{r['参数（默认值与范围）']}" if r["参数（默认值与范围）"] else ""))
    print(f"共 {len(rows)} 项检查")
    return 0


def _cmd_init(args) -> int:
    from .package.survey import init

    _, lines, complete = init(args.dir, args.district_code, args.district_name, args.year, args.force)
    for line in lines:
        print(line)
    return 0 if complete else 2


def _cmd_template(args) -> int:
    from .package.template import write_templates

    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise AuditError(f"{out} exists and is not empty: choose an empty or new folder, or pass --force")
    for p in write_templates(out):
        print(p)
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
    r.add_argument("--key", help="a key id (or its first 8+ characters) or a private key file; needed only "
                                 "when you have several keys")
    r.set_defaults(func=_cmd_run)

    b = sub.add_parser("batch", help="run many districts at once; one failure does not stop the rest")
    b.add_argument("items", nargs="+", metavar="DIR|PARAMS.yaml")
    b.add_argument("--jobs", type=int, default=2)
    b.add_argument("--archive")
    b.add_argument("--key")
    b.set_defaults(func=_cmd_batch)

    k = sub.add_parser("keygen", help="make an Ed25519 signing key and trust its public key")
    k.add_argument("--signer", required=True)
    k.add_argument("--force", action="store_true", help="make another key for a signer who has one")
    k.add_argument("--passphrase", action="store_true",
                   help="encrypt the private key with a passphrase (asked, or from AUDIT_KEY_PASSPHRASE)")
    k.set_defaults(func=_cmd_keygen)

    tr = sub.add_parser("trust", help="the trusted set of signers' public keys: add PEM --signer NAME, list, "
                                      "remove KEYID")
    tr.add_argument("action", choices=["add", "list", "remove"])
    tr.add_argument("pem", nargs="?", metavar="PEM|KEYID")
    tr.add_argument("--signer", help="the name the trusted set vouches for (add)")
    tr.add_argument("--trusted-keys", help="the trusted set's folder (default: ~/.config/audit-workbench/trusted)")
    tr.set_defaults(func=_cmd_trust)

    vf = sub.add_parser("verify", help="check a run's signature, signer, place and every file's digest")
    vf.add_argument("run_dir")
    vf.add_argument("--trusted-keys")
    vf.add_argument("--demo", action="store_true", help="accept the local DEMO key (demo runs only)")
    vf.set_defaults(func=_cmd_verify)

    rp = sub.add_parser("reproduce", help="verify a run, then re-run its checks from its recorded inputs")
    rp.add_argument("run_dir")
    rp.add_argument("--package", help="where the package is now, if it moved")
    rp.add_argument("--trusted-keys")
    rp.add_argument("--demo", action="store_true", help="accept the local DEMO key (demo runs only)")
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
    s.add_argument("--force", action="store_true", help="replace the package already in --out")
    s.add_argument("--money-style", default="plain", choices=["plain", "comma", "yen", "yuan", "yen_comma"],
                   help="how money is written: 1234.50, 1,234.50, ¥1234.50, 1234.50元, ￥1,234.50")
    s.add_argument("--mixed-forms", action="store_true",
                   help="dates written three ways and periods two ways within one column")
    s.add_argument("--as-exported", action="store_true",
                   help="as exports come: GB18030 CSV, Chinese headers and values, ￥1,140.00, mixed date and "
                        "period forms, approvals and registries as XLSX under a title row")
    s.set_defaults(func=_cmd_synth)

    it = sub.add_parser("init", help="recognise a folder of exports (tables and columns from their headers) and "
                                     "write its package.yaml; lists what it could not place and what is missing")
    it.add_argument("dir")
    it.add_argument("--district-code", help="6-digit GB/T 2260 code")
    it.add_argument("--district-name")
    it.add_argument("--year", type=int)
    it.add_argument("--force", action="store_true", help="write package.yaml again")
    it.set_defaults(func=_cmd_init)

    ck = sub.add_parser("checks", help="the check catalogue: id, title, severity, tables, key, parameters")
    ck.add_argument("--markdown", action="store_true", help="as the Markdown table in docs/checks.md")
    ck.set_defaults(func=_cmd_checks)

    tp = sub.add_parser("template", help="an empty Excel template per table (Chinese headers, an example row, 说明)")
    tp.add_argument("--out", required=True)
    tp.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    tp.set_defaults(func=_cmd_template)

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
