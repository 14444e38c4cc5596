"""Benchmark: synthesise packages of several sizes, then time reading (beside a plain pyarrow read of the same
files), each check family and the whole suite, and measure peak memory; beside them, in the same run, the
shared DuckDB anchor's figures (five core rules in DuckDB SQL and in plain pandas).

    python -m audit_lib.bench [--sizes 100000 1000000 10000000] [--exported 1000000] [--anchor PATH] [--keep DIR]

Two kinds of package: "tidy" (the generator's own UTF-8 CSVs) at every size, and "exported" (exports as they
come: GB18030 CSV with Chinese headers, ￥1,140.00, dates three ways and periods two ways in one column,
approvals and registries as XLSX under a title row; written by `audit synth --as-exported`) at the sizes given
to --exported. The plain read beside ours is pyarrow for CSV (told the encoding) and python-calamine for XLSX.

Each size runs in a fresh process so that its peak memory is its own. Figures are printed, never asserted:
machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAMILIES = ("reconciliation", "compliance", "eligibility", "statistics")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plain_read(folder: Path) -> None:
    """What a plain read of the package's files costs: no typing, no rules."""
    import pyarrow.csv as pacsv
    from python_calamine import CalamineWorkbook

    for f in sorted(folder.iterdir()):
        if f.suffix == ".csv":
            with open(f, "rb") as fh:
                head = fh.read(65536)
            try:
                head.decode("utf-8")
                enc = "utf8"
            except UnicodeDecodeError as e:                 # a character cut by the head's end is still UTF-8
                enc = "utf8" if e.start >= len(head) - 3 else "gb18030"
            lines = head.split(b"\n")
            skip = next(i for i, ln in enumerate(lines) if b"," in ln)      # title rows above the header
            pacsv.read_csv(f, read_options=pacsv.ReadOptions(encoding=enc, skip_rows=skip))
        elif f.suffix == ".xlsx":
            wb = CalamineWorkbook.from_path(str(f))
            for name in wb.sheet_names:
                wb.get_sheet_by_name(name).to_python()


def _folder(workdir: Path, n: int, kind: str) -> Path:
    return workdir / (f"pkg-{n}" if kind == "tidy" else f"exported-{n}")


def measure_synth(n: int, workdir: Path, kind: str = "tidy") -> dict:
    """`audit synth` at one size, in this process (its peak is the generator's; 0 s when kept from before)."""
    from .synth import make_package
    from .synth.writer import WriteOptions

    folder = _folder(workdir, n, kind)
    t = time.perf_counter()
    made = not (folder / "package.yaml").exists() or not (folder / "truth.json").exists()
    if made:
        make_package(folder, lines=n, seed=1, options=WriteOptions.as_exported() if kind == "exported" else None)
    return {"synth_s": time.perf_counter() - t, "peak_mb": _peak_mb(), "made": made}


def measure(n: int, workdir: Path, kind: str = "tidy") -> dict:
    """One size, in this process (the package made before, by ``measure_synth``, and the plain read timed, by
    ``measure_plain``, each in a process of its own): read, run the suite. The peak is the audit's: reading and
    checking."""
    from .checks import Context
    from .checks.engine import run_checks
    from .package import load_package

    folder = _folder(workdir, n, kind)

    # Read twice, best of two, like the anchor: the page cache otherwise decides the ratio. The plain read is
    # timed in a process of its own (``measure_plain``), so that the peak here is the audit's alone.
    read_s = float("inf")
    for _ in range(2):
        pkg = None                     # the first read let go: an audit holds one package, not two
        t = time.perf_counter()
        pkg = load_package(folder)
        read_s = min(read_s, time.perf_counter() - t)
    lines = len(pkg.tables["payments"])

    ctx = Context.from_package(pkg)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    outcomes = run_checks(ctx)
    checks_s = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    fam = {f: 0.0 for f in FAMILIES}
    for o in outcomes:
        fam[o.check.family] += o.seconds
    slowest = sorted(((o.seconds, o.check.id) for o in outcomes), reverse=True)[:5]
    errors = [o.check.id for o in outcomes if o.status == "error"]
    return {"n": n, "kind": kind, "lines": lines, "read_s": read_s,
            "checks_s": checks_s, "families_s": fam, "slowest": slowest, "peak_mb": _peak_mb(), "errors": errors,
            # what the checks cost the processor, and the system's share: on a host where fresh memory is dear
            # (a virtual machine handing pages back to its host) the system's share says how far to trust times
            "checks_user_s": r1.ru_utime - r0.ru_utime, "checks_sys_s": r1.ru_stime - r0.ru_stime,
            "pool": _pool()}


def _pool() -> str:
    import pyarrow as pa

    return pa.default_memory_pool().backend_name


def measure_plain(n: int, workdir: Path, kind: str) -> dict:
    """The plain read of a package's files, warm, best of two (in a process of its own)."""
    folder = _folder(workdir, n, kind)
    plain_s = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        plain_read(folder)
        plain_s = min(plain_s, time.perf_counter() - t)
    return {"plain_read_s": plain_s}


def card_tables(n: int, seed: int = 0) -> dict:
    """Typed tables for timing CP13 and CP14 on n card transactions (500 k accounts per 5 M debits; a million
    card payments per 5 M), made directly in numpy: the generator's plants are not what is timed here."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    accounts = max(n // 10, 10)
    ids = np.char.add("1201041950", np.char.zfill(np.arange(accounts).astype(str), 8)).astype(object)
    accs = np.char.add("62220200", np.char.zfill(np.arange(accounts).astype(str), 11)).astype(object)
    s = lambda a: pd.Series(a, dtype="str")                                   # noqa: E731
    cards = pd.DataFrame({"person_id": s(ids), "card_no": s(accs), "bank": "工行", "account_no": s(accs),
                          "status": "normal", "status_date": pd.Timestamp("2020-01-01"),
                          "activated_date": pd.Timestamp("2020-01-01"), "_row": np.arange(accounts)})
    m = max(n // 5, 10)
    who = rng.integers(0, accounts, m)
    pay_date = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, m), unit="D")
    payments = pd.DataFrame({
        "payment_id": s(np.char.add("P", np.arange(m).astype(str))), "batch_id": "B", "item_code": "A01",
        "period": s(pay_date.strftime("%Y-%m")), "person_id": s(ids[who]), "name": "某人", "channel": "card",
        "account_no": s(accs[who]), "account_holder_id": s(np.full(m, None)), "account_holder_name": None,
        "bank": "工行", "amount": pd.array(rng.integers(10000, 200000, m), dtype="Int64"), "pay_date": pay_date,
        "status": "success", "fail_reason": None, "reissue_of": s(np.full(m, None)), "_row": np.arange(m)})
    items = pd.DataFrame({"item_code": ["A01"], "item_name": ["项目"], "department": ["民政"], "in_one_card": [True],
                          "unit": ["person"], "frequency": ["monthly"],
                          "standard_amount": pd.array([None], dtype="Int64"), "max_amount": pd.array([None], dtype="Int64"),
                          "means_tested": [False], "min_age": pd.array([None], dtype="Int64"),
                          "max_age": pd.array([None], dtype="Int64"), "exclusive_group": [None], "_row": [0]})
    ben = pd.DataFrame({"person_id": s(ids), "name": "某人", "household_id": s(np.char.add("H", (np.arange(accounts) // 2).astype(str))),
                        "is_household_head": True, "item_code": "A01", "_row": np.arange(accounts)})
    kind = rng.random(n)
    tr = kind >= 0.9
    terminal = np.char.add("T", rng.integers(0, max(n // 250, 10), n).astype(str)).astype(object)
    terminal[tr] = None
    cp = rng.integers(0, accounts, n)
    tx = pd.DataFrame({
        "txn_id": s(np.char.add("X", np.arange(n).astype(str))), "account_no": s(accs[rng.integers(0, accounts, n)]),
        "txn_time": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s"),
        "txn_type": s(np.where(tr, "transfer_out", np.where(kind < 0.7, "withdrawal", "purchase"))),
        "channel": s(np.where(tr, "online", "atm")), "terminal_id": s(terminal),
        "amount": pd.array(rng.integers(1000, 200000, n), dtype="Int64"),
        "counterparty_account": s(np.where(tr, accs[cp], None)), "counterparty_id": s(np.full(n, None)),
        "counterparty_name": None, "_row": np.arange(n)})
    return {"cards": cards, "payments": payments, "policy_items": items, "beneficiaries": ben,
            "card_transactions": tx}


def measure_card(n: int) -> dict:
    from .checks import Context
    from .checks.engine import run_checks

    t = time.perf_counter()
    tables = card_tables(n)
    make_s = time.perf_counter() - t
    ctx = Context(tables, "120104", 2023)
    t = time.perf_counter()
    outs = run_checks(ctx, select=["CP13", "CP14"])
    return {"n": n, "kind": "card", "make_s": make_s, "total_s": time.perf_counter() - t,
            "checks": {o.check.id: {"s": o.seconds, "status": o.status, "count": len(o.keys), "reason": o.reason}
                       for o in outs}, "peak_mb": _peak_mb()}


def measure_city_synth(n: int, lines: int, workdir: Path) -> dict:
    """`audit synth --city`: n districts of about ``lines`` payment lines, in this process (its peak is the
    generator's)."""
    from .synth.city import make_city

    folder = workdir / f"city-{n}x{lines}"
    t = time.perf_counter()
    if not (folder / "city-truth.json").exists():
        make_city(folder, n=n, lines=lines, seed=1)
    return {"synth_s": time.perf_counter() - t, "peak_mb": _peak_mb()}


def measure_city_check(n: int, lines: int, workdir: Path) -> dict:
    """EL07 over the city as `audit check D1 D2 …` runs it (each package read, staged, let go; DuckDB over the
    staged files), checked against city-truth.json; beside it, the floor: the same GROUP BY in DuckDB straight
    over the payment CSVs, with no reading rules at all."""
    import duckdb

    from .pipeline import check_region

    folder = workdir / f"city-{n}x{lines}"
    truth = json.loads((folder / "city-truth.json").read_text(encoding="utf-8"))
    dirs = [folder / c for c in truth["districts"]]
    t = time.perf_counter()
    _, _, doc = check_region(dirs, {"checks": ["EL07"]})
    el07_s = time.perf_counter() - t
    [c] = doc["checks"]
    exact = set(c["records"]) == set(truth["checks"]["EL07"])
    # and each district's own truth, movers and renamed numbers included (outside the timing)
    from .pipeline import check_package

    own_ok, differ = 0, {}
    for d in dirs:
        want = json.loads((d / "truth.json").read_text(encoding="utf-8"))["checks"]
        _, _, one = check_package(d)
        bad = [x["id"] for x in one["checks"] if x["id"] != "ST04" and (x["status"] == "error" or set(x["records"])
                                                                       != set(want.get(x["id"], [])))]
        own_ok += not bad                # as tests/test_truth.py compares (ST04 is the audit sample)
        if bad:
            differ[d.name] = bad
    files = [str(d / "payments.csv") for d in dirs]
    t = time.perf_counter()
    con = duckdb.connect()
    n_plain = con.execute("""
        SELECT count(*) FROM (SELECT person_id, item_code, period FROM read_csv(?, all_varchar = true, filename = true)
        WHERE status = 'success' GROUP BY person_id, item_code, period HAVING count(DISTINCT filename) >= 2)""",
                          [files]).fetchone()[0]
    plain_s = time.perf_counter() - t
    lines_total = con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true)", [files]).fetchone()[0]
    return {"el07_s": el07_s, "plain_s": plain_s, "own_truth_exact": own_ok, "own_truth_differs": differ, "districts": len(dirs), "flagged": c["count"], "plain_flagged": n_plain, "exact": exact,
            "lines": lines_total, "peak_mb": _peak_mb()}


def measure_batch(n: int, lines: int, workdir: Path) -> None:
    """The city's district audits as `audit batch` runs them, with 1 and 2 local processes and on a local Dask
    cluster of two workers; and EL07 over the city on one machine and on that cluster (same bytes). Printed as
    it goes (each a full command, its wall time)."""
    import filecmp
    import shutil

    from .provenance import keys

    folder = workdir / f"city-{n}x{lines}"
    if not (folder / "city-truth.json").exists():
        measure_city_synth(n, lines, workdir)
    truth = json.loads((folder / "city-truth.json").read_text(encoding="utf-8"))
    dirs = [str(folder / c) for c in truth["districts"]]
    key = str(keys.demo_key())
    env = dict(os.environ, AUDIT_LANG="en")

    def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "audit_lib.cli", *args], capture_output=True, text=True, env=env)
        return time.perf_counter() - t, r

    print(f"\n== {n} district audits of about {lines:,} lines (audit batch, full runs: checks, notebook, HTML, PDF, "
          f"workpaper, signature)")
    for label, extra in (("1 process", ["--jobs", "1"]), ("2 processes", ["--jobs", "2"]),
                         ("Dask local:2", ["--scheduler", "local:2"])):
        arch = workdir / f"batch-archive-{label.replace(' ', '_').replace(':', '')}"
        shutil.rmtree(arch, ignore_errors=True)
        s, r = timed(["batch", *dirs, "--archive", str(arch), "--key", key, *extra])
        done = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]
        print(f"{label:13s} {s:8.1f}s   {done}")
        shutil.rmtree(arch, ignore_errors=True)
    print(f"\n== EL07 over the city ({n} districts)")
    outs = []
    for label, extra in (("one machine", []), ("Dask local:2", ["--scheduler", "local:2"])):
        out = workdir / f"el07-{len(outs)}.json"
        s, r = timed(["check", *dirs, "--out", str(out), *extra])
        outs.append(out)
        print(f"{label:13s} {s:8.1f}s   " + ("ok" if r.returncode == 0 else r.stderr[-300:]))
    print("findings.json " + ("byte-identical" if filecmp.cmp(outs[0], outs[1], shallow=False) else "DIFFER"))


def measure_el07(n: int, workdir: Path, districts: int = 100) -> dict:
    """EL07's query alone at province size: ``n`` successful lines staged as Parquet across ``districts``
    districts (written by DuckDB: no package reading is timed here, the city figures time that), one person in a
    thousand also paid by the next district for every month; EL07 must flag exactly those (person, month)s."""
    import duckdb

    from .checks.eligibility import el07
    from .checks.staged import StagedDistrict

    folder = workdir / f"el07-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    m = n // districts // 12 * 12                          # lines per district, whole years of months
    con = duckdb.connect()
    staged = []
    t = time.perf_counter()
    for k in range(districts):
        path = folder / f"{k}.parquet"
        if not path.exists():
            nxt = (k + 1) % districts
            con.execute(f"""COPY (
                SELECT 'P' || i AS payment_id, printf('%018d', i // 12) AS person_id, 'MZ001' AS item_code,
                       printf('2023-%02d', i % 12 + 1) AS period, 10000::BIGINT AS amount
                FROM range({k * m}, {(k + 1) * m}) t(i)
                UNION ALL
                SELECT 'M' || i, printf('%018d', i // 12), 'MZ001', printf('2023-%02d', i % 12 + 1), 10000::BIGINT
                FROM range({nxt * m}, {(nxt + 1) * m}) t(i) WHERE (i // 12) % 1000 = 0
            ) TO '{path}' (FORMAT parquet)""")
        staged.append(StagedDistrict(f"{110000 + k:06d}", f"区{k}", 2023, path, m))
    make_s = time.perf_counter() - t
    lines, expected = con.execute(f"SELECT count(*), count(*) FILTER (payment_id LIKE 'M%') "
                                  f"FROM read_parquet('{folder}/*.parquet')").fetchone()
    con.close()
    t = time.perf_counter()
    res = el07(staged)
    return {"lines": lines, "el07_s": time.perf_counter() - t, "make_s": make_s, "flagged": len(res.records),
            "expected": expected, "peak_mb": _peak_mb(), "districts": districts}


def run_anchor(path: Path, n: int) -> dict | None:
    if not path.exists():
        return None
    r = subprocess.run([sys.executable, str(path), str(n)], capture_output=True, text=True)
    m = re.search(r"anchor N=(\d+) duckdb_s=([\d.]+) pandas_s=([\d.]+)", r.stdout)
    if not m:
        return {"error": (r.stderr or r.stdout)[-300:]}
    return {"duckdb_s": float(m.group(2)), "pandas_s": float(m.group(3))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--anchor", default=str(Path(__file__).resolve().parents[2] / "shared" / "bench" /
                                            "duckdb_anchor.py"))
    ap.add_argument("--exported", type=int, nargs="*", default=[1_000_000],
                    help="sizes of the 'exports as they come' package")
    ap.add_argument("--card-transactions", type=int, nargs="*", default=[5_000_000],
                    help="sizes (card transactions) at which CP13 and CP14 are timed")
    ap.add_argument("--city", nargs="*", default=["16x1000000"], metavar="NxLINES",
                    help="synthetic cities to time EL07 on, e.g. 16x1000000 (16 districts of 1 M lines)")
    ap.add_argument("--el07", type=int, nargs="*", default=[], metavar="LINES",
                    help="time EL07's DuckDB query alone on this many staged lines across 100 districts")
    ap.add_argument("--batch", nargs="*", default=[], metavar="NxLINES",
                    help="a synthetic city's district audits with audit batch at 1 and 2 processes and on a local Dask "
                         "cluster of two workers, and EL07 on one machine and on that cluster, e.g. 16x1000000")
    ap.add_argument("--keep", help="folder for the generated packages (kept between runs)")
    ap.add_argument("--lines", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="tidy", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="audit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.one:
        out = measure_card(args.one) if args.kind == "card" else \
            measure_city_synth(args.one, args.lines, workdir) if args.kind == "citysynth" else \
            measure_city_check(args.one, args.lines, workdir) if args.kind == "citycheck" else \
            measure_el07(args.one, workdir) if args.kind == "el07" else \
            measure_synth(args.one, workdir, args.kind.split("-")[1]) if args.kind.startswith("synth-") else \
            measure_plain(args.one, workdir, args.kind.split("-")[1]) if args.kind.startswith("plain-") else \
            measure(args.one, workdir, args.kind)
        print(json.dumps(out))
        return 0
    rows = []
    for n, kind in [(n, "tidy") for n in args.sizes] + [(n, "exported") for n in args.exported] + \
            [(n, "card") for n in args.card_transactions]:
        synth = None
        if kind != "card":               # the generator in a process of its own: its peak is its own
            r = subprocess.run([sys.executable, "-m", "audit_lib.bench", "--one", str(n), "--kind", f"synth-{kind}",
                                "--keep", str(workdir)], capture_output=True, text=True, env=dict(os.environ))
            if r.returncode:
                print(f"size {n}: synthesis failed\n{r.stderr[-2000:]}")
                continue
            synth = json.loads(r.stdout.strip().splitlines()[-1])
        r = subprocess.run([sys.executable, "-m", "audit_lib.bench", "--one", str(n), "--kind", kind, "--keep",
                            str(workdir)], capture_output=True, text=True, env=dict(os.environ))
        if r.returncode:
            print(f"size {n}: failed\n{r.stderr[-2000:]}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if kind != "card":
            r = subprocess.run([sys.executable, "-m", "audit_lib.bench", "--one", str(n), "--kind", f"plain-{kind}",
                                "--keep", str(workdir)], capture_output=True, text=True, env=dict(os.environ))
            if r.returncode:
                print(f"size {n}: the plain read failed\n{r.stderr[-2000:]}")
                continue
            res.update(json.loads(r.stdout.strip().splitlines()[-1]))
        if kind == "card":
            print(f"\n== CP13 and CP14 on {n:,} card transactions ({n // 10:,} accounts, {n // 5:,} card payments)")
            for cid, c in res["checks"].items():
                print(f"{cid}       {c['s']:7.2f}s   {c['status']} {c['count']:,}" + (f" ({c['reason']})" if c["reason"] else ""))
            print(f"peak memory {res['peak_mb'] / 1024:.2f} GB (tables made in {res['make_s']:.1f}s)")
            continue
        res["synth"] = synth
        res["anchor"] = run_anchor(Path(args.anchor), res["lines"])
        rows.append(res)
        _print_row(res)
    for spec in args.city:
        n, lines = (int(x) for x in spec.lower().split("x"))
        res = {}
        for kind in ("citysynth", "citycheck"):        # each in its own process: its peak is its own
            r = subprocess.run([sys.executable, "-m", "audit_lib.bench", "--one", str(n), "--lines", str(lines),
                                "--kind", kind, "--keep", str(workdir)], capture_output=True, text=True,
                               env=dict(os.environ))
            if r.returncode:
                print(f"city {spec}: {kind} failed\n{r.stderr[-2000:]}")
                break
            res[kind] = json.loads(r.stdout.strip().splitlines()[-1])
        else:
            s, c = res["citysynth"], res["citycheck"]
            print(f"\n== city: {n} districts, {c['lines']:,} payment lines")
            print(f"synthesise {s['synth_s']:7.2f}s   peak memory {s['peak_mb'] / 1024:.2f} GB (0 s: kept from an "
                  f"earlier run)")
            print(f"EL07       {c['el07_s']:7.2f}s   peak memory {c['peak_mb'] / 1024:.2f} GB   flagged {c['flagged']:,} "
                  f"({'= city-truth' if c['exact'] else 'DIFFERS from city-truth'})")
            print(f"own truth  exact in {c['own_truth_exact']} of {c['districts']} districts"
                  + "".join(f"; {k} differs in {', '.join(v)}" for k, v in c.get("own_truth_differs", {}).items()))
            print(f"floor      {c['plain_s']:7.2f}s   DuckDB GROUP BY straight over the payment CSVs (flagged "
                  f"{c['plain_flagged']:,})  ->  ratio {c['el07_s'] / c['plain_s']:.1f}x")
    for n in args.el07:
        r = subprocess.run([sys.executable, "-m", "audit_lib.bench", "--one", str(n), "--kind", "el07", "--keep",
                            str(workdir)], capture_output=True, text=True, env=dict(os.environ))
        if r.returncode:
            print(f"EL07 {n}: failed\n{r.stderr[-2000:]}")
            continue
        e = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"\n== EL07 alone: {e['lines']:,} staged lines in {e['districts']} districts (staged in {e['make_s']:.1f}s)")
        print(f"EL07       {e['el07_s']:7.2f}s   peak memory {e['peak_mb'] / 1024:.2f} GB   flagged {e['flagged']:,} "
              f"({'as planted' if e['flagged'] == e['expected'] else 'DIFFERS from ' + format(e['expected'], ',')})")
    for spec in args.batch:
        n, lines = (int(x) for x in spec.lower().split("x"))
        measure_batch(n, lines, workdir)
    tidy = [r for r in rows if r["kind"] == "tidy"]
    if len(tidy) >= 2:
        a, b = tidy[-2], tidy[-1]
        scale = b["lines"] / a["lines"]
        ta, tb = a["read_s"] + a["checks_s"], b["read_s"] + b["checks_s"]
        print(f"\nscaling {a['lines']:,} -> {b['lines']:,} lines (x{scale:.1f}): audit (read + checks) "
              f"x{tb / ta:.1f} (goal: x{scale * 1.05:.1f}), checks x{b['checks_s'] / a['checks_s']:.1f}, "
              f"read x{b['read_s'] / a['read_s']:.1f}")
        for r in (a, b):
            print(f"  {r['lines']:>11,} lines: audit peak {r['peak_mb'] / 1024:5.2f} GB = "
                  f"{r['peak_mb'] / 1024 / (r['lines'] / 1e6):.2f} GB per million lines (goal: 1.2); generator peak "
                  + (f"{r['synth']['peak_mb'] / 1024:.2f} GB" if r["synth"]["made"] else "not measured (kept)"))
    return 0


def _print_row(r: dict) -> None:
    a = r.get("anchor") or {}
    fam = "  ".join(f"{k[:5]} {v:6.2f}s" for k, v in r["families_s"].items())
    print(f"\n== {r['kind']}: {r['lines']:,} payment lines (asked {r['n']:,})")
    s = r.get("synth") or {}
    print(f"synthesise {s.get('synth_s', 0):7.2f}s   peak memory " + (f"{s['peak_mb'] / 1024:.2f} GB" if s.get("made")
                                                                    else "- (kept from an earlier run)"))
    print(f"read       {r['read_s']:7.2f}s   plain read of the same files (pyarrow CSV, calamine XLSX) "
          f"{r['plain_read_s']:6.2f}s (ratio {r['read_s'] / r['plain_read_s']:.2f}; goal {'2' if r['kind'] == 'tidy' else '3'}x)")
    print(f"checks     {r['checks_s']:7.2f}s   {fam}")
    print("slowest    " + ", ".join(f"{cid} {sec:.2f}s" for sec, cid in r.get("slowest", [])))
    if "checks_sys_s" in r:
        slow = r["checks_sys_s"] > r["checks_user_s"] / 2
        print(f"checks cpu user {r['checks_user_s']:.2f}s, system {r['checks_sys_s']:.2f}s"
              + (" (much system time: the machine was slow to hand over memory; the times are not to be trusted)"
                 if slow else "") + f"; Arrow's memory pool: {r['pool']}")
    print(f"suite      {r['read_s'] + r['checks_s']:7.2f}s   peak memory {r['peak_mb'] / 1024:.2f} GB "
          f"(reading and checks, in a process of their own)")
    if "duckdb_s" in a:
        print(f"anchor     duckdb {a['duckdb_s']:.2f}s  pandas {a['pandas_s']:.2f}s  ->  checks / anchor duckdb = "
              f"{r['checks_s'] / a['duckdb_s']:.1f}x (goal: 3x)")
    elif a:
        print(f"anchor     failed: {a.get('error')}")
    else:
        print("anchor     not found (pass --anchor PATH)")
    if r["errors"]:
        print(f"errors in checks: {r['errors']}")


if __name__ == "__main__":
    sys.exit(main())
