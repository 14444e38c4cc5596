"""The ``audit`` command: parses arguments, calls the pipeline, maps errors to exit codes (0 done, 2 bad input
or usage, 3 verification or reproduction failed). A user's mistake prints one clear message, never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import AuditError
from .i18n import tr


def _cmd_synth(args) -> int:
    from .synth import make_package
    from .synth.writer import WriteOptions

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not args.force:
            raise AuditError(tr(f"{out} 已存在且不为空：请选择一个空的或新的文件夹，或加 --force 替换其中的内容",
                                f"{out} exists and is not empty: choose an empty or new folder, or pass --force to "
                                f"replace what is in it"))
        if not out.is_dir() or not ((out / "package.yaml").exists() or (out / "city-truth.json").exists()) \
                and any(out.iterdir()):
            raise AuditError(tr(f"{out} 不是数据包文件夹；--force 只替换数据包文件夹",
                                f"{out} does not hold a package; --force replaces only a package folder"))
        import shutil

        shutil.rmtree(out)
    if args.as_exported:
        opt = WriteOptions.as_exported()
    elif args.city:
        opt = None
    else:
        opt = WriteOptions(fmt=args.format, encoding=args.encoding, chinese_headers=args.chinese_headers,
                           chinese_values=args.chinese_headers, title_rows=args.title_rows,
                           money_style=args.money_style, mixed_forms=args.mixed_forms)
    if args.city:
        from .synth.city import make_city

        if not 2 <= args.city <= 16:
            raise AuditError(tr("--city 应为 2 至 16 之间的区县数（天津市的 16 个区）",
                                "--city takes 2 to 16 districts (天津市's sixteen)"))
        doc = make_city(out, n=args.city, lines=args.lines, seed=args.seed, year=args.year, options=opt,
                        clean=args.clean)
        print(tr(f"{doc['city_name']} {args.year}年：{args.city} 个区县，每个约 {args.lines:,} 行发放明细；"
                 f"跨区重复享受（EL07）{len(doc['checks']['EL07'])} 条，陷阱 "
                 f"{sum(len(v) for v in doc['traps'].values())} 条（见 city-truth.json）",
                 f"{doc['city_name']} {args.year}: {args.city} districts of about {args.lines:,} payment lines; "
                 f"{len(doc['checks']['EL07'])} EL07 keys and {sum(len(v) for v in doc['traps'].values())} traps "
                 f"(city-truth.json)"))
        print(out)
        return 0
    d = make_package(args.out, district_code=args.district_code, year=args.year, lines=args.lines,
                     seed=args.seed, clean=args.clean, options=opt)
    n, truth, meta = d["payments"], d["truth"], d["meta"]
    planted = sum(len(v) for v in truth.values())
    shards = (tr(f"（分 {d['shards']} 批生成）", f" (made in {d['shards']} shards)") if d["shards"] > 1 else "")
    print(tr(f"{meta['district_name']}（{meta['district_code']}）{meta['year']}年：发放明细 {n:,} 行，"
             f"{len(truth)} 项检查共植入 {planted} 条问题记录{shards}",
             f"{meta['district_name']} ({meta['district_code']}) {meta['year']}: {n:,} payment lines, "
             f"{planted} planted records in {len(truth)} checks{shards}"))
    for note in d["notes"]:
        print(tr(f"说明：{note}", f"note: {note}"))
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
    if args.scheduler and len(args.dirs) < 2:
        raise AuditError(tr("--scheduler 用于多个数据包的跨区检查；单个区县请直接运行 audit check",
                            "--scheduler is for the cross-district checks over several packages; check one district "
                            "without it"))
    if len(args.dirs) == 1:
        _, outcomes, doc = check_package(args.dirs[0], params)
    elif args.scheduler:
        from .checks.staged import using_executor
        from .cluster import BucketExecutor, client

        if args.buckets < 1:
            raise AuditError(tr("--buckets 至少为 1", "--buckets must be at least 1"))
        with client(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key) as c, \
                using_executor(BucketExecutor(c, args.buckets)):
            _, outcomes, doc = check_region(args.dirs, params, stage_dir=args.shared)
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
        print(tr(f"audit：未完成：以下检查出错：{', '.join(errors)}",
                 f"audit: incomplete: check(s) in error: {', '.join(errors)}"), file=sys.stderr)
        return 1
    return 0


def _cmd_demo(args) -> int:
    from .provenance import keys
    from .runner import run

    from .synth import ensure_samples

    samples = ensure_samples()
    key = keys.demo_key()
    print(tr(f"示例数据包：{', '.join(str(p) for p in samples.values())}",
             f"sample packages: {', '.join(str(p) for p in samples.values())}"))
    print(tr(f"用本机演示密钥 {key} 签名（报告中标为 DEMO）",
             f"signing with the local DEMO key {key} (labelled DEMO in the report)"))
    timings: dict = {}
    folder = run(str(samples["120104"]), key_path=str(key), archive_root=args.archive, timings=timings)
    _print_times(timings)
    print(folder)
    return _incomplete(folder)


_TIMING_ZH = {"inputs": "保存输入", "verify": "验证", "checks": "检查", "workpaper": "工作底稿", "notebook": "笔记本", "render": "报告", "pdf": "PDF", "sign": "签名",
              "total": "合计"}


def _print_times(timings: dict) -> None:
    from .i18n import lang

    if lang() == "en":
        print("times: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    else:
        print("用时：" + "，".join(f"{_TIMING_ZH.get(k, k)} {v:.1f} 秒" for k, v in timings.items()))


def _cmd_run(args) -> int:
    from .runner import run

    timings: dict = {}
    folder = run(args.target, params_path=args.params, archive_root=args.archive, key_path=args.key,
                 timings=timings)
    _print_times(timings)
    print(folder)
    return _incomplete(folder)


def _incomplete(folder: Path) -> int:
    """1 when the run was signed incomplete (a check in error), else 0."""
    from .archive import statement_of

    st = statement_of(folder) or {}
    return 1 if st.get("predicate", {}).get("incomplete") else 0


def _cmd_compute(args) -> int:
    """On a cluster worker: a district run's files, unsigned, and the draft of its statement."""
    import json
    import tempfile

    from . import archive
    from .report import data as rdata
    from .runner import _now, render_run, resolve

    _die_with_parent()
    started = _now()
    package, params = resolve(args.target, args.params)
    d = rdata.prepare(package, params)
    import datetime as dt

    run_id = archive.run_id_for(d.findings["digest"], dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=False)
    with tempfile.TemporaryDirectory(prefix="audit-compute-") as scratch:
        draft = render_run(d, package, params, out, Path(scratch), run_id, args.signer, args.keyid,
                           args.supersedes, Path(scratch) / "kernels", started, {})
    (out / "draft.json").write_text(json.dumps(draft, ensure_ascii=False, default=str), encoding="utf-8")
    print(out)
    return 0


def _die_with_parent() -> None:
    """A worker's run goes when the worker goes (a worker lost in the middle of a batch leaves nothing computing):
    the run and its kernel are killed, as a group, once the parent process is gone."""
    import os
    import signal
    import threading
    import time

    parent = os.getppid()

    def watch():
        while True:
            if os.getppid() != parent:
                if os.getpgrp() == os.getpid():      # a group of its own (as the worker starts it): all of it
                    os.killpg(os.getpgrp(), signal.SIGKILL)
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def _cmd_followup(args) -> int:
    from .followup.runner import followup

    folder = followup(args.run_dir, args.workpaper, key_path=args.key, materiality=args.materiality,
                      confidence=args.confidence, method=args.method, trusted=args.trusted_keys)
    print(tr(f"整改跟踪记录已签名归档，核验：audit verify {folder}", f"follow-up signed and archived; check it with "
                                                          f"audit verify {folder}"))
    print(folder)
    return 0


def _cmd_sample(args) -> int:
    from .followup import sampling

    if args.action == "plan":
        population, book = args.population_size, args.book_value
        if args.run_dir:
            import json

            from .provenance.verify import verify

            problems, _ = verify(args.run_dir, args.trusted_keys, allow_demo=True)
            if problems:
                raise AuditError(tr(f"{args.run_dir} 验证未通过：", f"{args.run_dir} does not verify: ") + "; ".join(problems))
            doc = json.loads((Path(args.run_dir) / "findings.json").read_text(encoding="utf-8"))
            st04 = next((c for c in doc["checks"] if c["id"] == "ST04"), None)
            book = st04["metrics"].get("population_fen") if st04 else None
            population = population or (book if book else None)       # monetary units: one per fen
        elif book is not None:
            from .followup.workpaper import _money

            try:
                book = _money(book)
            except ValueError:
                raise AuditError(tr(f"--book-value {book!r} 不是金额（元）", f"--book-value {book!r} is not money (元)")) from None
        pl = sampling.plan(args.materiality, args.confidence, args.expected, args.likelihood, population, book)
        print(tr(f"样本量 {pl.n}（{pl.likelihood}，重要性水平 {pl.materiality:.2%}，置信度 {pl.confidence:.0%}，"
                 f"可容忍的样本错报 {pl.errors:g}）", f"sample size {pl.n} ({pl.likelihood}, materiality "
                 f"{pl.materiality:.2%}, confidence {pl.confidence:.0%}, errors allowed in the sample {pl.errors:g})"))
        if pl.interval_fen:
            print(tr(f"货币单位抽样间隔 {pl.interval_fen / 100:,.2f} 元（总体账面金额 {book / 100:,.2f} 元）",
                     f"monetary-unit interval {pl.interval_fen / 100:,.2f} (book value {book / 100:,.2f})"))
        print(tr(f"按此抽样：在参数文件中写 parameters: {{ST04: {{size: {pl.n}}}}}",
                 f"to draw it: parameters: {{ST04: {{size: {pl.n}}}}} in the params file"))
        print(pl.n)
        return 0
    import json

    from .followup.runner import evaluate_sample
    from .followup.workpaper import read
    from .provenance.verify import verify

    if not args.run_dir or not args.workpaper:
        raise AuditError(tr("用法：audit sample evaluate 运行文件夹 --workpaper 已填写的工作底稿.xlsx",
                            "usage: audit sample evaluate RUN_DIR --workpaper FILLED.xlsx"))
    problems, _ = verify(args.run_dir, args.trusted_keys, allow_demo=True)
    if problems:
        raise AuditError(tr(f"{args.run_dir} 验证未通过：", f"{args.run_dir} does not verify: ") + "; ".join(problems))
    run = Path(args.run_dir)
    doc = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    filled = read(Path(args.workpaper), run / "workpaper.xlsx", doc)
    st04 = next((c for c in doc["checks"] if c["id"] == "ST04"), None)
    ev, why = evaluate_sample(filled, st04, args.materiality, args.confidence, args.method)
    if ev is None:
        raise AuditError(why)
    print(tr(f"方法 {ev.method}：样本 {ev.n} 个抽样单位，{ev.errors} 个有错报；最可能错报 {ev.mle:.4%}，"
             f"错报上限 {ev.upper:.4%}（置信度 {ev.confidence:.0%}），重要性水平 {ev.materiality:.2%}",
             f"method {ev.method}: {ev.n} sampling units, {ev.errors} misstated; most likely misstatement "
             f"{ev.mle:.4%}, upper bound {ev.upper:.4%} at {ev.confidence:.0%}, materiality {ev.materiality:.2%}"))
    if ev.book_value_fen:
        print(tr(f"折合金额：最可能错报 {ev.fen(ev.mle) / 100:,.2f} 元，上限 {ev.fen(ev.upper) / 100:,.2f} 元",
                 f"in money: most likely {ev.fen(ev.mle) / 100:,.2f}, upper bound {ev.fen(ev.upper) / 100:,.2f}"))
    print(tr("结论：可以接受" if ev.accepted else "结论：不能接受（错报上限不低于重要性水平）",
             "conclusion: accept" if ev.accepted else "conclusion: do not accept (the upper bound reaches materiality)"))
    return 0 if ev.accepted else 1


def _cmd_region(args) -> int:
    from .region.runner import run_region

    timings: dict = {}
    folder = run_region(args.year, runs=args.runs or None, archive_root=args.archive, code=args.code,
                        name=args.name, key_path=args.key, params_path=args.params, trusted=args.trusted_keys,
                        timings=timings)
    _print_times(timings)
    print(folder)
    return _incomplete(folder)


def _cmd_batch(args) -> int:
    from .batch import run_batch, summary

    if args.jobs < 1:
        raise AuditError(tr("--jobs 至少为 1", "--jobs must be at least 1"))
    if args.timeout is not None and args.timeout <= 0:
        raise AuditError(tr("--timeout 应为正的秒数", "--timeout must be a positive number of seconds"))
    if args.scheduler:
        from . import cluster

        with cluster.client(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key) as c:
            jobs = cluster.run_batch(c, args.items, archive_root=args.archive, key=args.key, timeout=args.timeout,
                                     retries=args.retries)
    else:
        jobs = run_batch(args.items, jobs=args.jobs, archive=args.archive, key=args.key, timeout=args.timeout,
                         retries=args.retries)
    for line in summary(jobs):
        print(line)
    return 1 if any(j.status in ("failed", "timeout") for j in jobs) else 0


def _cmd_keygen(args) -> int:
    from .provenance import keys

    path, kid = keys.keygen(args.signer, overwrite=args.force, passphrase=args.passphrase)
    print(tr(f"私钥：{path}（权限 600；不要放入档案库或代码库）",
             f"private key: {path} (mode 600; keep it out of the archive and the repository)"))
    print(tr(f"公钥已以签名人“{args.signer}”加入受信任公钥集：{keys.trusted_dir()}",
             f"public key added to the trusted set as '{args.signer}': {keys.trusted_dir()}"))
    print(kid)
    return 0


def _cmd_trust(args) -> int:
    from .provenance import keys

    folder = Path(args.trusted_keys) if args.trusted_keys else None
    if args.action == "add":
        if not args.pem or not args.signer:
            raise AuditError(tr("用法：audit trust add 公钥文件.pem --signer 姓名", "usage: audit trust add PEM --signer NAME"))
        try:
            pem = Path(args.pem).read_bytes()[: 1 << 16]
        except OSError as e:
            raise AuditError(tr(f"{args.pem}：无法读取（{e.strerror or e}）",
                                f"{args.pem}: cannot be read ({e.strerror or e})")) from None
        out = keys.add_trusted(pem, args.signer, folder)
        print(tr(f"已信任：{out.stem}，签名人“{args.signer}”（{out}）", f"trusted: {out.stem} as '{args.signer}' ({out})"))
        return 0
    if args.action == "remove":
        if not args.pem:
            raise AuditError(tr("用法：audit trust remove 密钥编号", "usage: audit trust remove KEYID"))
        out = keys.remove_trusted(args.pem, folder)
        print(tr(f"已从受信任公钥集移除：{out.stem}", f"removed from the trusted set: {out.stem}"))
        return 0
    ts = keys.trusted_keys(folder)
    for kid, t in sorted(ts.items(), key=lambda x: (x[1].signer or "", x[0])):
        print(f"{kid}  " + (t.signer or tr("（无签名人姓名：用 --signer 重新加入之前不可用于签名）",
                                           "(no name: signs nothing until added again with --signer)")))
    print(tr(f"{folder or keys.trusted_dir()} 中共 {len(ts)} 个受信任公钥",
             f"{len(ts)} trusted keys in {folder or keys.trusted_dir()}"))
    return 0


def _cmd_verify(args) -> int:
    from .provenance.verify import verify

    problems, st = verify(args.run_dir, args.trusted_keys, allow_demo=args.demo)
    signer = st["predicate"].get("signer", {})
    for s in st["subject"]:
        bad = [p for p in problems if p.endswith((": " + s["name"], "：" + s["name"]))]
        print(f"{_fail() if bad else _ok()}  {s['name']}  sha256:{s['digest']['sha256'][:16]}…")
    for p in problems:
        print(f"{_fail()}  {p}")
    print(tr(f"签名人 {signer.get('name')}，密钥 {signer.get('keyid')}", f"signer {signer.get('name')} key {signer.get('keyid')}"))
    if problems:
        print(tr("验证未通过 NOT VERIFIED", "NOT VERIFIED"))
        return 3
    print(tr("验证通过 verified", "verified"))
    return 0


def _fail() -> str:
    return tr("不符", "FAIL")


def _ok() -> str:
    return tr("通过", "ok  ")


def _cmd_reproduce(args) -> int:
    from .provenance.verify import reproduce

    problems, pred = reproduce(args.run_dir, args.package, args.trusted_keys, allow_demo=args.demo)
    differ = pred.get("package_differences") or []
    if differ:
        print(tr(f"运行时的软件包版本与现在不同（{len(differ)} 个）：", f"package versions differ from the run's ({len(differ)}):"))
        for n in differ:
            print(f"  {n}")
    if pred.get("reproduce_notes"):
        print(tr("记录的数据包已不在原处或已改动，改用档案库保存的输入（按 SHA-256）重现：",
                 "the recorded package is gone or changed; re-produced from the inputs the archive keeps (by "
                 "sha256):"))
        for n in pred["reproduce_notes"]:
            print(f"  {n}")
    for p in problems:
        print(f"{_fail()}  {p}")
    if problems:
        if differ and any("findings differ" in p or "审计发现不同" in p for p in problems):
            print(tr("以上软件包版本差异可能是审计发现不同的原因；请按运行记录的版本（requirements.lock）重建环境后再试",
                     "the package differences above may be why the findings differ; rebuild the environment at the "
                     "run's versions (requirements.lock) and try again"))
        print(tr("不能重现 NOT REPRODUCIBLE", "NOT REPRODUCIBLE"))
        return 3
    if differ:
        print(tr("版本差异不影响结果：审计发现逐字节相同", "the version differences did not matter: the findings are the "
                                              "same bytes"))
    print(tr(f"可重现 reproducible：审计发现摘要 {pred['findings_digest']}",
             f"reproducible: findings digest {pred['findings_digest']}"))
    return 0


def _cmd_archive(args) -> int:
    from . import PROJECT_ROOT, archive

    root = Path(args.archive or PROJECT_ROOT / "reports")
    if args.action == "export":
        from .bag import export

        if not args.run_dir or not args.out:
            raise AuditError(tr("用法：audit archive export 运行文件夹 --out 文件夹", "usage: audit archive export RUN_DIR --out DIR"))
        out = export(args.run_dir, args.out)
        print(tr(f"移交封装包（BagIt）已写出；核验：audit verify {out}；重现：audit reproduce {out}",
                 f"transfer bag (BagIt) written; check it with audit verify {out}, re-produce with audit reproduce {out}"))
        print(out)
        return 0
    if args.action == "reindex":
        n, skipped = archive.reindex(root)
        for s in skipped:
            print(tr(f"跳过（验证未通过）：{s}", f"skipped (does not verify): {s}"))
        print(tr(f"{root / 'index.sqlite'} 已索引 {n} 次审计运行" + (f"，跳过 {len(skipped)} 次" if skipped else ""),
                 f"{n} runs indexed in {root / 'index.sqlite'}" + (f", {len(skipped)} skipped" if skipped else "")))
        return 0
    rows = archive.listing(root)
    for r in rows:
        print(f"{r['year']}  {r['district_code']}  {r['run_id']}  {r['signer'] or '':10s} {r['findings_digest']}"
              + (tr(f"  取代 {r['supersedes']}", f"  supersedes {r['supersedes']}") if r["supersedes"] else ""))
    print(tr(f"{root} 中共 {len(rows)} 次审计运行", f"{len(rows)} runs in {root}"))
    return 0


def _cmd_checks(args) -> int:
    from .docs import catalogue_markdown, catalogue_rows

    if args.markdown:
        print(catalogue_markdown(), end="")
        return 0
    rows = list(catalogue_rows())
    for r in rows:
        print(f"{r['编号']}  {r['风险等级']}  {r['类别']:4s}  {r['检查']}  [{r['记录键']}]  "
              + tr(f"需要：{r['所需数据表']}", f"needs: {r['所需数据表']}")
              + (tr(f"  参数：{r['参数（默认值与范围）']}", f"  parameters: {r['参数（默认值与范围）']}")
                 if r["参数（默认值与范围）"] else ""))
    print(tr(f"共 {len(rows)} 项检查", f"{len(rows)} checks"))
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
        raise AuditError(tr(f"{out} 已存在且不为空：请选择一个空的或新的文件夹，或加 --force",
                            f"{out} exists and is not empty: choose an empty or new folder, or pass --force"))
    for p in write_templates(out):
        print(p)
    return 0


def _cluster_options(p) -> None:
    p.add_argument("--scheduler", metavar=tr("地址", "ADDRESS"),
                   help=tr("交给 Dask 集群：tcp://主机:端口、tls://主机:端口，或 local[:N]（本机启动 N 个工作进程）；"
                           "签名始终在本机", "send the work to a Dask cluster: tcp://HOST:PORT, tls://HOST:PORT, or "
                                         "local[:N] (N worker processes here); signing stays on this machine"))
    p.add_argument("--tls-ca-file", help=tr("集群 CA 证书（tls://）", "the cluster's CA certificate (tls://)"))
    p.add_argument("--tls-cert", help=tr("本机客户端证书（tls://）", "this client's certificate (tls://)"))
    p.add_argument("--tls-key", help=tr("本机客户端私钥（tls://）", "this client's private key (tls://)"))


def build_parser() -> argparse.ArgumentParser:
    from .i18n import install_argparse

    install_argparse()
    p = argparse.ArgumentParser(prog="audit", description=tr(
        "惠民惠农财政补贴“一卡通”审计工作台。各命令的用法：audit 命令 -h。",
        "Audit workbench for the 惠民惠农财政补贴“一卡通” reform. Each command's usage: audit COMMAND -h."))
    p.add_argument("--lang", choices=["zh", "en"], help=tr("提示与帮助的语言：zh 中文（默认）、en 英文；也可设环境变量 AUDIT_LANG",
                                                            "language of help and messages: zh Chinese (default) or en "
                                                            "English; or set AUDIT_LANG"))
    sub = p.add_subparsers(dest="command", required=True, metavar=tr("命令", "COMMAND"),
                           title=tr("可用命令", "commands"))
    ARCHIVE = tr("档案库根目录（默认：项目中的 reports/）", "archive root (default: reports/ in the project)")
    KEY = tr("签名密钥：密钥编号（或其前 8 位以上）或私钥文件；只有多个密钥时才需要",
             "a key id (or its first 8+ characters) or a private key file; needed only when you have several keys")
    TRUSTED = tr("受信任公钥集所在文件夹（默认：~/.config/audit-workbench/trusted）",
                 "the trusted set's folder (default: ~/.config/audit-workbench/trusted)")
    DEMO = tr("接受本机演示密钥（仅限演示运行）", "accept the local DEMO key (demo runs only)")

    d = sub.add_parser("demo", help=tr("生成示例数据包（如没有）并完整审计其中一个", "make the sample packages if absent and "
                                                                       "audit one end to end"))
    d.add_argument("--archive", help=ARCHIVE)
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", help=tr("审计一个区县：笔记本 → HTML 报告 → 工作底稿 → 签名 → 归档",
                                      "audit one district: notebook -> HTML report -> workpaper -> signature -> archive"))
    r.add_argument("target", metavar=tr("数据包文件夹|参数文件.yaml", "DIR|PARAMS.yaml"),
                   help=tr("数据包文件夹，或写明 data 的参数文件", "a package folder, or a params file naming its data"))
    r.add_argument("--params", help=tr("参数文件（区划、年度、检查及其参数）", "params file (district, year, checks, parameters)"))
    r.add_argument("--archive", help=ARCHIVE)
    r.add_argument("--key", help=KEY)
    r.set_defaults(func=_cmd_run)

    b = sub.add_parser("batch", help=tr("同时审计多个区县；一个失败不影响其余", "run many districts at once; one failure "
                                                                 "does not stop the rest"))
    b.add_argument("items", nargs="+", metavar=tr("数据包文件夹|参数文件.yaml", "DIR|PARAMS.yaml"),
                   help=tr("各区县的数据包文件夹或参数文件", "each district's package folder or params file"))
    _cluster_options(b)
    b.add_argument("--jobs", type=int, default=2, help=tr("同时运行的进程数（默认 2）", "processes at once (default 2)"))
    b.add_argument("--timeout", type=float, help=tr("每个区县的时限（秒）；超时即终止其整个进程组",
                                                    "each district's time limit in seconds; past it, its whole "
                                                    "process group is killed"))
    b.add_argument("--retries", type=int, default=1, help=tr("内核未能启动时重试的次数（默认 1）",
                                                             "tries again when the kernel fails to start (default 1)"))
    b.add_argument("--archive", help=ARCHIVE)
    b.add_argument("--key", help=KEY)
    b.set_defaults(func=_cmd_batch)

    cp = sub.add_parser("compute", help=tr("（集群工作节点使用）计算一次区县运行的文件，不签名",
                                           "(used on cluster workers) compute a district run's files, unsigned"))
    cp.add_argument("target", metavar=tr("数据包文件夹|参数文件.yaml", "DIR|PARAMS.yaml"),
                    help=tr("数据包文件夹，或写明 data 的参数文件（工作节点可见的共享路径）",
                            "a package folder, or a params file naming its data (a path the worker shares)"))
    cp.add_argument("--params", help=tr("参数文件", "params file"))
    cp.add_argument("--out", required=True, help=tr("输出文件夹（须不存在）", "output folder (must not exist)"))
    cp.add_argument("--signer", required=True, help=tr("报告中写明的签名人", "the signer the report names"))
    cp.add_argument("--keyid", required=True, help=tr("签名人的密钥编号", "the signer's key id"))
    cp.add_argument("--supersedes", help=tr("所替代的运行编号", "the run id superseded"))
    cp.set_defaults(func=_cmd_compute)

    fu = sub.add_parser("followup", help=tr("整改跟踪：读取已填写的工作底稿，核对后签名归档于运行旁",
                                            "follow a run up from its filled-in workpaper: checked, signed, archived "
                                            "beside the run"))
    fu.add_argument("run_dir", metavar=tr("运行文件夹", "RUN_DIR"), help=tr("所跟踪的区县运行", "the district run followed up"))
    fu.add_argument("--workpaper", required=True, help=tr("已填写核实结论的工作底稿", "the filled-in workpaper"))
    fu.add_argument("--key", help=KEY)
    fu.add_argument("--trusted-keys", help=TRUSTED)
    SAMPLING = dict(materiality=tr("重要性水平（占账面金额的比例，默认 0.05）", "materiality, a fraction of the book value "
                                                                   "(default 0.05)"),
                    confidence=tr("置信度（默认 0.95）", "confidence (default 0.95)"),
                    method=tr("评价方法：stringer（默认）、poisson、binomial", "evaluation: stringer (default), poisson, "
                                                                      "binomial"))
    fu.add_argument("--materiality", type=float, default=0.05, help=SAMPLING["materiality"])
    fu.add_argument("--confidence", type=float, default=0.95, help=SAMPLING["confidence"])
    fu.add_argument("--method", default="stringer", choices=["stringer", "poisson", "binomial"], help=SAMPLING["method"])
    fu.set_defaults(func=_cmd_followup)

    sp = sub.add_parser("sample", help=tr("审计抽样：plan 计算样本量；evaluate 评价已审定的样本",
                                          "audit sampling: plan the sample size; evaluate the audited sample"))
    sp.add_argument("action", choices=["plan", "evaluate"], help=tr("plan 或 evaluate", "plan or evaluate"))
    sp.add_argument("run_dir", nargs="?", metavar=tr("运行文件夹", "RUN_DIR"),
                    help=tr("区县运行（plan：以其发放总额为总体；evaluate：必需）",
                            "a district run (plan: its paid total is the population; evaluate: required)"))
    sp.add_argument("--materiality", type=float, default=0.05, help=SAMPLING["materiality"])
    sp.add_argument("--confidence", type=float, default=0.95, help=SAMPLING["confidence"])
    sp.add_argument("--expected", type=float, default=0.0, help=tr("预期错报（比例；不小于 1 时为错误个数），默认 0",
                                                                   "expected misstatement (a fraction; 1 or more: a "
                                                                   "number of errors), default 0"))
    sp.add_argument("--likelihood", default="poisson", choices=["poisson", "binomial", "hypergeometric"],
                    help=tr("计算样本量所用的分布（默认 poisson）", "the distribution for the size (default poisson)"))
    sp.add_argument("--population-size", type=int, help=tr("总体单位数（hypergeometric 需要）", "population size "
                                                                                     "(hypergeometric needs it)"))
    sp.add_argument("--book-value", help=tr("总体账面金额（元），用于算出抽样间隔", "the book value in 元, for the interval"))
    sp.add_argument("--workpaper", help=tr("evaluate：已填写审定金额的工作底稿", "evaluate: the workpaper with audited "
                                                                         "amounts"))
    sp.add_argument("--method", default="stringer", choices=["stringer", "poisson", "binomial"], help=SAMPLING["method"])
    sp.add_argument("--trusted-keys", help=TRUSTED)
    sp.set_defaults(func=_cmd_sample)

    rg = sub.add_parser("region", help=tr("市/省区域报告：先验证各区县运行，再做跨区检查（EL07），签名并归档",
                                          "the city or province report: verify each district run, then the "
                                          "cross-district checks (EL07); signed and archived"))
    rg.add_argument("runs", nargs="*", metavar=tr("区县运行文件夹", "DISTRICT_RUN"),
                    help=tr("所依据的区县运行（默认：档案库中该年度每个区县的最新运行）",
                            "the district runs to rest on (default: the latest run of each district of the year in "
                            "the archive)"))
    rg.add_argument("--year", type=int, required=True, help=tr("审计年度", "the audit year"))
    rg.add_argument("--archive", help=ARCHIVE)
    rg.add_argument("--code", help=tr("市或省的区划代码，例如 120000（默认：由各区县代码推出）",
                                      "the city's or province's code, e.g. 120000 (default: from the districts' codes)"))
    rg.add_argument("--name", help=tr("市或省的名称，例如 天津市（省级可省略）",
                                      "the city's or province's name, e.g. 天津市 (optional for a province)"))
    rg.add_argument("--params", help=tr("区域参数文件（跨区检查的参数）", "region params file (the cross-district checks' "
                                                                "parameters)"))
    rg.add_argument("--key", help=KEY)
    rg.add_argument("--trusted-keys", help=TRUSTED)
    rg.set_defaults(func=_cmd_region)

    k = sub.add_parser("keygen", help=tr("生成 Ed25519 签名密钥并信任其公钥", "make an Ed25519 signing key and trust its "
                                                                   "public key"))
    k.add_argument("--signer", required=True, help=tr("签名人姓名（报告与验证中显示）", "the signer's name (shown in the "
                                                                              "report and by verify)"))
    k.add_argument("--force", action="store_true", help=tr("为已有密钥的签名人再生成一个", "make another key for a signer "
                                                                                "who has one"))
    k.add_argument("--passphrase", action="store_true",
                   help=tr("用口令加密私钥（提示输入，或取自 AUDIT_KEY_PASSPHRASE）",
                           "encrypt the private key with a passphrase (asked, or from AUDIT_KEY_PASSPHRASE)"))
    k.set_defaults(func=_cmd_keygen)

    tr_ = sub.add_parser("trust", help=tr("受信任的签名人公钥：add 公钥 --signer 姓名，list 列出，remove 密钥编号 移除",
                                          "the trusted set of signers' public keys: add PEM --signer NAME, list, "
                                          "remove KEYID"))
    tr_.add_argument("action", choices=["add", "list", "remove"], help=tr("add 加入、list 列出、remove 移除",
                                                                         "add, list or remove"))
    tr_.add_argument("pem", nargs="?", metavar=tr("公钥文件|密钥编号", "PEM|KEYID"),
                     help=tr("add：公钥 PEM 文件；remove：密钥编号", "add: the public key's PEM file; remove: its key id"))
    tr_.add_argument("--signer", help=tr("受信任公钥集为之担保的签名人姓名（add）", "the name the trusted set vouches for (add)"))
    tr_.add_argument("--trusted-keys", help=TRUSTED)
    tr_.set_defaults(func=_cmd_trust)

    vf = sub.add_parser("verify", help=tr("验证一次运行：签名、签名人、存放位置和每个文件的摘要",
                                          "check a run's signature, signer, place and every file's digest"))
    vf.add_argument("run_dir", metavar=tr("运行文件夹", "RUN_DIR"), help=tr("档案库中的运行文件夹，或移交封装包（BagIt）",
                                                                        "a run folder in the archive, or a transfer bag"))
    vf.add_argument("--trusted-keys", help=TRUSTED)
    vf.add_argument("--demo", action="store_true", help=DEMO)
    vf.set_defaults(func=_cmd_verify)

    rp = sub.add_parser("reproduce", help=tr("先验证一次运行，再用其记录的输入重跑检查并比对结果",
                                             "verify a run, then re-run its checks from its recorded inputs"))
    rp.add_argument("run_dir", metavar=tr("运行文件夹", "RUN_DIR"), help=tr("档案库中的运行文件夹，或移交封装包（BagIt）",
                                                                        "a run folder in the archive, or a transfer bag"))
    rp.add_argument("--package", help=tr("数据包移动后的位置", "where the package is now, if it moved"))
    rp.add_argument("--trusted-keys", help=TRUSTED)
    rp.add_argument("--demo", action="store_true", help=DEMO)
    rp.set_defaults(func=_cmd_reproduce)

    ar = sub.add_parser("archive", help=tr("档案库：list 列出、reindex 重建索引、export 导出移交封装包（BagIt）",
                                           "the archive: list, reindex, or export a run as a transfer bag (BagIt)"))
    ar.add_argument("action", choices=["list", "reindex", "export"],
                    help=tr("list 列出已归档的运行；reindex 重建索引（只收录验证通过的）；export 运行文件夹 --out 文件夹：移交封装包",
                            "list the archived runs; reindex rebuilds the index (verified runs only); export RUN_DIR "
                            "--out DIR: the transfer bag"))
    ar.add_argument("run_dir", nargs="?", metavar=tr("运行文件夹", "RUN_DIR"), help=tr("export 的运行文件夹", "the run to export"))
    ar.add_argument("--out", help=tr("export 的输出文件夹（须为新的或空的）", "export's output folder (new or empty)"))
    ar.add_argument("--archive", help=ARCHIVE)
    ar.set_defaults(func=_cmd_archive)

    s = sub.add_parser("synth", help=tr("生成带植入问题的模拟区县数据包", "write a realistic synthetic district package "
                                                                 "with planted problems"))
    s.add_argument("--out", required=True, help=tr("输出文件夹", "output folder"))
    s.add_argument("--district-code", default="120104", help=tr("区划代码（默认 120104 南开区）",
                                                                "district code (default 120104)"))
    s.add_argument("--year", type=int, default=2023, help=tr("审计年度（默认 2023）", "audit year (default 2023)"))
    s.add_argument("--lines", type=int, default=10000, help=tr("大约多少行发放明细（超过 50 万行时分批生成并随写随放，内存约 2 GB）",
                                                                   "about how many payment lines (above 500,000 made in "
                                                                   "shards, written as they come: about 2 GB of memory)"))
    s.add_argument("--seed", type=int, default=0, help=tr("随机种子（同一种子生成相同数据）", "random seed (the same seed "
                                                                                   "gives the same data)"))
    s.add_argument("--clean", action="store_true", help=tr("不植入问题", "plant no problems"))
    s.add_argument("--format", default="csv", choices=["csv", "xlsx", "parquet"], help=tr("文件格式", "file format"))
    s.add_argument("--encoding", default="utf-8", choices=["utf-8", "utf-8-sig", "gbk", "gb18030"],
                   help=tr("CSV 的编码", "CSV encoding"))
    s.add_argument("--chinese-headers", action="store_true", help=tr("中文表头和取值", "Chinese headers and values"))
    s.add_argument("--title-rows", type=int, default=0, help=tr("表头上方的标题行数", "title lines above the header"))
    s.add_argument("--force", action="store_true", help=tr("替换 --out 中已有的数据包", "replace the package already in --out"))
    s.add_argument("--city", type=int, metavar="N",
                   help=tr("生成一个市的 N 个区县数据包（天津市的真实区划）到 --out/区划代码/，另写 city-truth.json（跨区重复享受）",
                           "write N district packages of one city (天津市's real districts) into --out/<code>/, with "
                           "city-truth.json (EL07)"))
    s.add_argument("--money-style", default="plain", choices=["plain", "comma", "yen", "yuan", "yen_comma"],
                   help=tr("金额写法：1234.50、1,234.50、¥1234.50、1234.50元、￥1,234.50",
                           "how money is written: 1234.50, 1,234.50, ¥1234.50, 1234.50元, ￥1,234.50"))
    s.add_argument("--mixed-forms", action="store_true",
                   help=tr("同一列中日期有三种写法、所属期有两种写法", "dates written three ways and periods two ways "
                                                                   "within one column"))
    s.add_argument("--as-exported", action="store_true",
                   help=tr("按实际导出的样子：GB18030 编码 CSV、中文表头和取值、￥1,140.00、混合的日期和所属期写法、"
                           "审批和登记表为带标题行的 XLSX",
                           "as exports come: GB18030 CSV, Chinese headers and values, ￥1,140.00, mixed date and "
                           "period forms, approvals and registries as XLSX under a title row"))
    s.set_defaults(func=_cmd_synth)

    it = sub.add_parser("init", help=tr("识别一个导出文件夹（按表头识别各表和各列），写出 package.yaml；列出未能识别的和缺少的",
                                        "recognise a folder of exports (tables and columns from their headers) and "
                                        "write its package.yaml; lists what it could not place and what is missing"))
    it.add_argument("dir", metavar=tr("文件夹", "DIR"), help=tr("放导出文件的文件夹", "the folder of exports"))
    it.add_argument("--district-code", help=tr("6 位区划代码（GB/T 2260）", "6-digit GB/T 2260 code"))
    it.add_argument("--district-name", help=tr("区县名称", "district name"))
    it.add_argument("--year", type=int, help=tr("审计年度", "audit year"))
    it.add_argument("--force", action="store_true", help=tr("重新写出 package.yaml", "write package.yaml again"))
    it.set_defaults(func=_cmd_init)

    ck = sub.add_parser("checks", help=tr("检查目录：编号、名称、风险等级、所需数据表、记录键、参数",
                                          "the check catalogue: id, title, severity, tables, key, parameters"))
    ck.add_argument("--markdown", action="store_true", help=tr("输出 docs/checks.md 中的 Markdown 表格",
                                                               "as the Markdown table in docs/checks.md"))
    ck.set_defaults(func=_cmd_checks)

    tp = sub.add_parser("template", help=tr("每张表一个空白 Excel 模板（中文表头、示例行、说明页）",
                                            "an empty Excel template per table (Chinese headers, an example row, 说明)"))
    tp.add_argument("--out", required=True, help=tr("输出文件夹", "output folder"))
    tp.add_argument("--force", action="store_true", help=tr("写入不为空的文件夹", "write into a folder that is not empty"))
    tp.set_defaults(func=_cmd_template)

    v = sub.add_parser("validate", help=tr("读取并校验数据包，输出数据质量摘要", "read and check a package; print a "
                                                                      "data-quality summary"))
    v.add_argument("dir", metavar=tr("数据包文件夹", "DIR"), help=tr("数据包文件夹", "a package folder"))
    v.set_defaults(func=_cmd_validate)

    c = sub.add_parser("check", help=tr("运行检查，写出 findings.json", "run the check engine; write findings.json"))
    c.add_argument("dirs", nargs="+", metavar=tr("数据包文件夹", "DIR"),
                   help=tr("一个数据包文件夹（跨区县检查给多个）", "a package folder (several for a province run)"))
    c.add_argument("--params", help=tr("参数文件", "params file"))
    c.add_argument("--out", help=tr("findings.json 的写出位置（默认：当前目录的 findings.json）",
                                    "where findings.json goes (default: findings.json here)"))
    _cluster_options(c)
    c.add_argument("--shared", help=tr("集群各节点共享的文件夹，暂存 Parquet（默认：本机临时文件夹，只适用于 local）",
                                       "a folder every cluster node shares, for the staged Parquet (default: a "
                                       "temporary folder here, good for local only)"))
    c.add_argument("--buckets", type=int, default=16, help=tr("EL07 按身份证号哈希分桶的桶数（默认 16）",
                                                              "EL07's hash buckets of the identity number (default 16)"))
    c.set_defaults(func=_cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    from . import i18n

    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = i18n.from_argv(argv)
    if chosen is not None:
        i18n.set_lang(chosen)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AuditError as e:
        print(tr(f"audit：错误：{e}", f"audit: error: {e}"), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(tr("audit：已中断", "audit: interrupted"), file=sys.stderr)
        return 130
    finally:
        if chosen is not None:
            i18n.set_lang(None)


if __name__ == "__main__":
    sys.exit(main())
