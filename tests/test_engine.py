"""The engine and findings.json: shape, determinism, digest, parameters, error isolation, custom checks."""
import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from audit_lib import findings
from audit_lib.checks import REGISTRY, Context, Result, check
from audit_lib.checks.engine import effective_params, run_checks
from audit_lib.pipeline import check_package
from audit_lib.errors import ParamsError
from audit_lib.package import load_package

from helpers import HEAD, base, item, write_package

ALL = ["RC01", "RC02", "RC03", "RC04", "RC05", "RC06", "RC07", "CP01", "CP02", "CP03", "CP04", "CP05", "CP06",
       "CP07", "CP08", "CP09", "CP10", "CP11", "CP12", "EL01", "EL02", "EL03", "EL04", "EL05", "EL06", "EL07",
       "ST01", "ST02", "ST03", "ST04"]


def test_catalogue_is_complete_with_metadata():
    assert set(ALL) <= set(REGISTRY.ids())
    for cid in ALL:
        c = REGISTRY.get(cid)
        assert c.title and c.basis and "“" in c.basis and c.key and c.needs
        assert c.family in ("reconciliation", "compliance", "eligibility", "statistics")
    assert REGISTRY.get("CP10").params == {"grace_days": 30}
    assert REGISTRY.get("RC07").params == {"reissue_days": 30}
    assert REGISTRY.get("ST04").severity == "info"
    assert REGISTRY.get("RC04").key == "person_id|item_code|period"


def test_findings_shape_and_byte_identical_runs(tmp_path):
    t = base()
    del t["payments"][1]
    root = write_package(tmp_path / "p", t)
    out = []
    for k in range(2):
        r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "check", str(root), "--out",
                            str(tmp_path / f"f{k}.json")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out.append((tmp_path / f"f{k}.json").read_bytes())
    assert out[0] == out[1]
    doc = json.loads(out[0])
    assert doc["schema"] == "audit-findings/1" and doc["district_code"] == "120104" and doc["year"] == 2023
    assert [c["id"] for c in doc["checks"]] == [i for i in REGISTRY.ids()]
    rc04 = next(c for c in doc["checks"] if c["id"] == "RC04")
    assert rc04 == {"id": "RC04", "title": "应发未发", "family": "reconciliation", "severity": "medium",
                    "status": "flagged", "reason": None, "key": "person_id|item_code|period", "count": 1,
                    "amount_fen": 10000, "records": [f"{HEAD}|A01|2023-02"], "metrics": {}, "origin": "builtin"}
    statuses = {c["id"]: c["status"] for c in doc["checks"]}
    assert statuses["EL01"] == "skipped" and statuses["ST04"] == "info" and statuses["RC03"] == "clear"
    assert doc["parameters"]["CP10"] == {"grace_days": 30}
    # Anyone can recompute the digest with the published rules.
    body = {k: v for k, v in doc.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert doc["digest"] == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert str(tmp_path) not in out[0].decode("utf-8")


def test_records_sorted_and_never_truncated(tmp_path):
    t = base()
    t["payments"] = [dict(p, channel="passbook") for p in t["payments"]]
    _, _, doc = check_package(write_package(tmp_path / "p", t))
    cp02 = next(c for c in doc["checks"] if c["id"] == "CP02")
    assert cp02["records"] == sorted(p["payment_id"] for p in t["payments"]) and cp02["count"] == 3
    assert cp02["amount_fen"] == 30000


def test_an_error_in_one_check_never_stops_the_others(tmp_path):
    @check("ZZ98", "会出错的检查", "compliance", "low", needs=("payments",))
    def broken(t):
        raise RuntimeError("boom")

    try:
        pkg = load_package(write_package(tmp_path / "p", base()))
        outs = run_checks(Context.from_package(pkg))
        by = {o.check.id: o for o in outs}
        assert by["ZZ98"].status == "error" and "boom" in by["ZZ98"].reason
        assert by["RC03"].status == "clear" and by["CP01"].status == "clear"
    finally:
        REGISTRY.unregister("ZZ98")


def test_a_notebook_check_registers_in_a_few_lines_and_runs_beside_built_ins(tmp_path):
    @check("XX01", "大额单笔发放", "compliance", "low", needs=("payments",), params={"limit_fen": 15000},
           basis="分析师自定")
    def big_lines(t, limit_fen=15000):
        x = t.ok[t.ok["amount"] > limit_fen]
        return x.assign(key=x["payment_id"], amount_fen=x["amount"])

    try:
        t = base()
        t["payments"][2]["amount"] = "200.00"
        root = write_package(tmp_path / "p", t)
        _, outs, doc = check_package(root, {"parameters": {"XX01": {"limit_fen": 10000}}})
        mine = next(c for c in doc["checks"] if c["id"] == "XX01")
        assert mine["records"] == [t["payments"][2]["payment_id"]] and mine["amount_fen"] == 20000
        assert set(mine) == set(next(c for c in doc["checks"] if c["id"] == "RC01"))
        # Running the notebook cell again replaces it rather than failing.
        @check("XX01", "大额单笔发放", "compliance", "low", needs=("payments",), params={"limit_fen": 15000})
        def big_lines(t, limit_fen=15000):  # noqa: F811
            return Result(t.ok.iloc[:0].assign(key=""))
        assert REGISTRY.get("XX01").func is big_lines
    finally:
        REGISTRY.unregister("XX01")


def test_parameters_from_yaml_and_clear_errors(tmp_path):
    root = write_package(tmp_path / "p", base())
    pf = tmp_path / "params.yaml"
    pf.write_text("parameters:\n  CP10: {grace_days: 5}\nchecks: [CP10, RC03]\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "check", str(root), "--params", str(pf), "--out",
                        str(tmp_path / "f.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in doc["checks"]] == ["RC03", "CP10"]
    assert doc["parameters"] == {"CP10": {"grace_days": 5}}
    pf.write_text("parameters:\n  CP10: {grace: 5}\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "check", str(root), "--params", str(pf)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "grace" in r.stderr and "Traceback" not in r.stderr
    with pytest.raises(ParamsError):
        effective_params(REGISTRY.get("CP10"), {"grace_days": "many"})


def test_findings_helpers_round_floats_and_reject_tampering():
    doc = findings.finalise({"schema": "audit-findings/1", "x": 0.1234567891, "when": pd.Timestamp("2023-01-02")})
    assert doc["x"] == 0.123457 and doc["when"] == "2023-01-02"
    assert findings.verify_digest(doc)
    doc["x"] = 0.2
    assert not findings.verify_digest(doc)


def test_amount_fen_is_always_an_integer(tmp_path):
    t = base()
    t["policy_items"][0].update(policy_effective_date="2023-01-10", published_date="2023-02-01")   # CP04 flags
    t["policy_items"].append(item("A00", policy_effective_date="2020-01-01", published_date="2023-01-05"))
    _, _, doc = check_package(write_package(tmp_path / "p", t))
    assert all(isinstance(c["amount_fen"], int) for c in doc["checks"])
    cp04 = next(c for c in doc["checks"] if c["id"] == "CP04")
    assert cp04["status"] == "flagged" and cp04["amount_fen"] == 0


def test_check_never_writes_into_the_package_folder(tmp_path):
    root = write_package(tmp_path / "p", base())
    before = sorted(x.name for x in root.iterdir())
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "check", str(root)], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(x.name for x in root.iterdir()) == before and (tmp_path / "findings.json").exists()


def test_derivations_let_go_are_read_by_none_but_their_listed_readers(tmp_path):
    """The engine lets a shared derivation (credits, approval_match, ...) go once none of its listed readers is
    still to run. Each built-in check is run alone on a synthetic district with every planted problem, and what it
    made of them must be among what the list says it reads; and a full run leaves none of them held, with the
    same findings as checks run one by one that let nothing go."""
    from audit_lib.checks.context import RELEASABLE
    from audit_lib.checks.engine import run_one
    from audit_lib.synth import make_package

    make_package(tmp_path / "d", lines=3000, seed=5)
    pkg = load_package(tmp_path / "d")
    readers = {name: set() for name in RELEASABLE}
    alone = {}
    for cid in REGISTRY.ids():
        ctx = Context.from_package(pkg)
        c = REGISTRY.get(cid)
        alone[cid] = run_one(c, ctx, effective_params(c, None), None, REGISTRY).as_json()
        for name in RELEASABLE:
            if name in ctx.__dict__:
                readers[name].add(cid)
    for name, listed in RELEASABLE.items():
        assert readers[name] and readers[name] <= set(listed), name
    ctx = Context.from_package(pkg)
    together = {o.check.id: o.as_json() for o in run_checks(ctx)}
    assert not set(RELEASABLE) & set(ctx.__dict__)
    assert ctx.sql("select count(*) as n from duckdb_tables() where table_name in ('credits', 'near')")["n"][0] == 0
    assert together == alone
    # a check that reads one after it was let go has it made again
    assert ctx.sql(f"select count(*) as n from {ctx.credits}")["n"][0] > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="resident memory read from /proc")
def test_freed_memory_goes_back_after_reading_and_between_checks(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.compute as pc

    from audit_lib import heap
    from audit_lib.checks import engine
    from audit_lib.package import load as load_mod

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    # Many small Arrow results, freed: Arrow's pool keeps their pages until they are given back.
    base_arr = pa.array(range(20_000))
    r0 = rss()
    parts = [pc.cast(pc.add(base_arr, i), pa.string()) for i in range(500)]
    del parts
    kept = rss() - r0
    if kept < 50 * 2**20:
        pytest.skip("this allocator gave the pages back by itself")
    heap.give_back()
    assert rss() - r0 < kept / 2

    # ... and the audit has what the C heap holds looked at after each table it reads (given back if much), gives
    # it all back once after reading, and has what it holds looked at after every check.
    calls = []
    monkeypatch.setattr(load_mod, "give_back_much", lambda: calls.append("table"))
    monkeypatch.setattr(load_mod, "give_back", lambda: calls.append("read"))
    monkeypatch.setattr(engine, "between_checks", lambda: calls.append("check"))
    folder = write_package(tmp_path / "p", base())
    pkg = load_package(folder)
    assert calls == ["read"]                        # no table of 256 MB or more
    calls.clear()
    monkeypatch.setattr(load_mod, "LOOK_AFTER", 1)
    pkg = load_package(folder)
    assert calls == ["table"] * len(pkg.tables) + ["read"] and len(pkg.tables) > 3
    calls.clear()
    outs = run_checks(Context.from_package(pkg), select=["RC02", "CP01", "EL04"])
    assert len(outs) == 3 and calls == ["check", "check", "check"]


def in_own_process(code: str, folder, unset: tuple, **env) -> list[str]:
    """What ``code`` prints, run with the package folder as its argument in a Python process of its own (for the
    process-wide memory settings), without the environment variables named in ``unset`` and with ``env``."""
    import os

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    r = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                       env={**base_env, **env})
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the C heap is chosen on Linux only")
def test_reading_has_arrow_take_its_buffers_from_the_c_heap_unless_a_pool_was_chosen(tmp_path):
    """In a process of its own each time: the pool is the process's."""
    folder = write_package(tmp_path / "p", base())
    code = ("import sys, pyarrow as pa\nfrom audit_lib.package import load_package\n"
            "before = pa.default_memory_pool().backend_name\npkg = load_package(sys.argv[1])\n"
            "after = pa.default_memory_pool().backend_name\n"
            "other = [b for b in pa.supported_memory_backends() if b != after]\n"
            "if other:\n    pa.set_memory_pool(getattr(pa, other[0] + '_memory_pool')())\n"
            "chosen = pa.default_memory_pool().backend_name\nload_package(sys.argv[1])\n"
            "print(before, after, len(pkg.tables['payments']), chosen, pa.default_memory_pool().backend_name)")

    def pools(**extra):
        return in_own_process(code, folder, ("ARROW_DEFAULT_MEMORY_POOL",), **extra)

    before, after, n, chosen, then = pools()
    assert after == "system" and int(n) == len(base()["payments"])
    assert then == chosen                   # a pool chosen after the first read stays chosen at the next
    if before == "system":
        pytest.skip("this pyarrow has no pool but the C heap's")
    # Someone who chose the pool keeps it.
    assert pools(ARROW_DEFAULT_MEMORY_POOL=before)[:2] == [before, before]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap and resident memory from /proc")
def test_the_checks_keep_what_they_free_until_duckdb_needs_room_unless_the_heap_was_chosen(tmp_path):
    """In a process of its own each time: the C heap's settings are the process's."""
    folder = write_package(tmp_path / "p", base())
    code = ("import sys, numpy as np\nfrom audit_lib import heap\nfrom audit_lib.package import load_package\n"
            "from audit_lib.checks import Context, engine\n"
            "def rss():\n    return int(open('/proc/self/statm').read().split()[1]) * 4096\n"
            "pkg = load_package(sys.argv[1])\n"
            "try:\n    from numpy._core import multiarray\nexcept ImportError:\n    from numpy.core import multiarray\n"
            "huge = multiarray._get_madvise_hugepage()\n"
            "seen, run_one = [], engine.run_one\n"
            "def spy(*a, **k):\n    seen.append(heap.keeping())\n    return run_one(*a, **k)\n"
            "engine.run_one = spy\n"
            "outs = engine.run_checks(Context.from_package(pkg), select=['RC02', 'CP01'])\n"
            "heap._HEAP_KEEPS = 64 << 20\n"
            "def freed():\n    a = np.ones(96 << 17)\n    r = rss()\n    del a\n    return (r - rss()) >> 20\n"
            "with heap.freed_pages_kept():\n"
            "    kept = freed()\n    r1 = rss()\n    heap.make_room()\n    room = (r1 - rss()) >> 20\n"
            "    freed()\n    heap.between_checks()\n    after_check = (r1 - rss()) >> 20\n"
            "print(all(seen) and len(seen) == 2 and not heap.keeping(), huge, outs[0].status, kept, room, "
            "after_check, freed())")

    def run(**extra):
        kept_in_checks, huge, status, *sizes = in_own_process(
            code, folder, ("MALLOC_", "GLIBC_TUNABLES", "NUMPY_MADVISE_HUGEPAGE"), **extra)
        return (kept_in_checks == "True", huge == "True", status, *map(int, sizes))

    from audit_lib import heap

    if None in (heap._MALLOPT, heap._TRIM, heap._MALLINFO2):
        pytest.skip("this C library has no mallopt, malloc_trim and mallinfo2 (glibc 2.33 and later)")
    kept_in_checks, huge, status, kept, room, after_check, after_checks = run()
    assert kept_in_checks and not huge and status != "error"     # numpy's arrays without huge pages
    assert kept < 16                                    # 96 MB freed: kept for the next allocations
    assert room >= 64                                   # ... until DuckDB needs room: then given back
    assert after_check < 16                             # and not given back between checks
    assert after_checks >= 64                           # after the checks, a large block goes back when freed
    # Where the C heap's behaviour or numpy's pages were chosen, they are left as chosen.
    kept_in_checks, huge, status, kept, room, after_check, after_checks = run(MALLOC_TRIM_THRESHOLD_="131072",
                                                                              NUMPY_MADVISE_HUGEPAGE="1")
    assert not kept_in_checks and huge and status != "error"
    assert kept >= 64                                   # a large block mapped apart, gone back when freed


def test_what_duckdb_freed_goes_back_once_it_is_much(monkeypatch):
    """DuckDB's own jemalloc keeps the pages a query freed; give_back purges them once they pass the bound, and
    leaves less than that to DuckDB's next query."""
    import duckdb

    from audit_lib import heap

    heap.give_back()
    ctl = heap._DUCKDB_CTL[0] if heap._DUCKDB_CTL else None
    if ctl is None:
        pytest.skip("this DuckDB has no jemalloc of its own (the system allocator gives pages back itself)")
    con = duckdb.connect()
    con.execute("create table t as select range as i, range::varchar || repeat('x', 24) as s from range(2000000)")
    con.execute("select count(distinct s) from t").fetchall()
    con.execute("drop table t")
    held = heap._dirty_bytes(ctl)
    assert held > 16 << 20                          # what the table and the count freed, kept by jemalloc

    monkeypatch.setattr(heap, "_KEEP_AT_MOST", held + 1)
    heap.give_back()
    assert heap._dirty_bytes(ctl) >= held * 0.9      # under the bound: left for the next query

    monkeypatch.setattr(heap, "_KEEP_AT_MOST", 16 << 20)
    heap.give_back()
    assert heap._dirty_bytes(ctl) < 16 << 20        # past it: purged
    con.close()


def test_rows_selected_by_arrow_are_pandas_own_selection():
    import numpy as np

    from audit_lib.checks.context import month_start, select_rows

    df = pd.DataFrame({"id": pd.Series(["a", None, "c", "d", "e"], dtype="str"),
                       "amount": pd.array([1, None, 3, 4, 5], dtype="Int64"),
                       "day": pd.to_datetime(["2023-01-01", None, "2023-01-03", "2023-01-04", "2023-01-05"]),
                       "n": np.arange(5), "flag": [True, False, True, False, True]}, index=[10, 11, 12, 13, 14])
    for keep in ([True, True, False, True, False], [False] * 5, [True] * 5):
        keep = np.array(keep)
        pd.testing.assert_frame_equal(select_rows(df, keep), df[keep], check_exact=True)
    months = np.array([2023 * 12, 2023 * 12 + 11, 2024 * 12 + 1] * 2000)       # many lines: through the table
    assert (month_start(months) == (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[ns]")).all()
    assert str(month_start(months[:3])[2])[:10] == "2024-02-01"


def test_each_account_s_holder_is_its_latest_registry_row_as_a_full_sort_finds_it():
    """account_owners keeps each account's last row by (status_date, _row), a missing date first: the same rows,
    in the same order, as sorting the whole registry and keeping the last row of each account."""
    import numpy as np

    rng = np.random.default_rng(7)
    n = 4000
    dates = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
    cards = pd.DataFrame({
        "person_id": pd.Series([f"P{i}" for i in range(n)], dtype="str"),
        "account_no": pd.Series([None if rng.random() < 0.05 else f"A{rng.integers(0, 900)}" for _ in range(n)],
                                dtype="str"),
        "status_date": pd.Series(dates).where(rng.random(n) > 0.1),          # a tenth without a date
        "_row": rng.permutation(n) + 2}, index=rng.permutation(n) + 100)
    ctx = Context({"cards": cards})
    got = ctx.account_owners
    want = cards.dropna(subset=["account_no"]).sort_values(["status_date", "_row"], kind="stable",
                                                           na_position="first")
    want = want.drop_duplicates("account_no", keep="last")[["account_no", "person_id"]]
    pd.testing.assert_frame_equal(got, want)
    assert got["account_no"].is_unique and len(got) == cards["account_no"].nunique()
    assert len(Context({"cards": cards.assign(account_no=pd.Series([None] * n, dtype="str",
                                                                    index=cards.index))}).account_owners) == 0


def test_readers_of_a_shared_derivation_run_together_and_outcomes_keep_the_catalogue_order(tmp_path, monkeypatch):
    from audit_lib.checks import engine

    pkg = load_package(write_package(tmp_path / "p", base()))
    ctx = Context.from_package(pkg)
    ran, released = [], []
    real_run_one, real_release = engine.run_one, ctx.release
    monkeypatch.setattr(engine, "run_one", lambda c, *a, **k: ran.append(c.id) or real_run_one(c, *a, **k))
    monkeypatch.setattr(ctx, "release", lambda name: (released.append((name, len(ran))), real_release(name)))
    picked = ["RC01", "RC02", "RC03", "RC04", "RC05", "RC06", "RC07", "RC08", "RC09", "CP01"]
    outs = run_checks(ctx, select=picked)
    assert [o.check.id for o in outs] == picked                      # the catalogue's order, whatever ran first
    assert ran[:3] == ["RC01", "RC02", "RC08"]                        # the credits' readers one after another
    assert ("credits", 3) in released and "credits" not in ctx.__dict__   # let go before RC03 ran
    assert ran.index("RC09") == ran.index("RC06") + 1                 # and the disclosures' two readers
    assert sorted(ran) == sorted(picked)


def test_credit_days_are_each_line_s_first_successful_credit_made_before_the_credits_go(monkeypatch):
    """``credit_days``: per payment line (by its row label), the earliest date of the bank's successful returns
    for its id, whatever the order of the returns; NaT for a line whose returns all failed, have no date, or that
    has none. In a full run the engine makes it from the credits just before it lets them go, and CP14 made alone
    leaves no credits held."""
    from audit_lib.checks import engine

    ts = pd.Timestamp
    pay = pd.DataFrame({"payment_id": pd.array(["P1", "P2", "P3", "P4", "P5"], dtype="str")},
                       index=[10, 11, 12, 13, 14])
    br = pd.DataFrame({
        "payment_id": pd.array(["P1", "P1", "P2", "P3", "P3", "P9", "P5"], dtype="str"),
        "status": pd.array(["success", "success", "failed", "success", "success", "success", "success"],
                           dtype="str"),
        "credit_date": pd.to_datetime(["2024-03-05", "2024-03-02", "2024-01-01", None, "2024-04-01",
                                       "2024-01-01", None]),
        "account_no": pd.array(["A"] * 7, dtype="str"), "credited_amount": pd.array([1] * 7, dtype="Int64")})
    ctx = Context({"payments": pay, "bank_returns": br})
    got = ctx.credit_days
    assert list(got.index) == [10, 11, 12, 13, 14]
    assert list(got) == [ts("2024-03-02"), pd.NaT, ts("2024-04-01"), pd.NaT, pd.NaT]
    assert "credits" not in ctx.__dict__                      # made for this alone, and let go again
    assert ctx.sql("select count(*) as n from duckdb_tables() where table_name = 'credits'")["n"][0] == 0
    assert Context({"payments": pay}).credit_days.isna().all()   # no bank returns: every line's own pay date

    made = []
    real = Context.credit_days.func
    monkeypatch.setattr(Context, "credit_days", __import__("functools").cached_property(
        lambda self: made.append("credits" in self.__dict__) or real(self)))
    Context.credit_days.__set_name__(Context, "credit_days")
    ctx = Context({"payments": pay, "bank_returns": br})
    ran = []
    monkeypatch.setattr(engine, "run_one", lambda c, x, *a, **k: ran.append(c.id) or engine.Outcome(c, "clear"))
    ctx.credits
    run_checks(ctx, select=["RC08", "CP14"])
    assert ran == ["RC08", "CP14"] and made == [True]          # made once, while the credits were still held
    assert "credits" not in ctx.__dict__ and "credit_days" not in ctx.__dict__


def test_query_results_come_as_duckdb_would_give_them():
    """context.frame_of (DuckDB's results through Arrow) gives what DuckDB's own .df() gives, dtype for dtype:
    whole numbers and yes/no with and without missing values, text (some, all or no rows missing), dates,
    timestamps in two units, and a type it does not take through Arrow (a decimal)."""
    import duckdb

    from audit_lib.checks.context import frame_of

    con = duckdb.connect()
    con.execute("""create table t as select * from (values
        (1::bigint, 'a', DATE '2023-01-02', TIMESTAMP '2023-01-02 03:04:05', true, 1.5::double, 3::integer,
         TIMESTAMP_NS '2023-01-01 00:00:00.000000001', 7::utinyint, 1.25::decimal(10, 2)),
        (null, null, null, null, null, null, null, null, null, null)) v(i, s, d, ts, b, f, i32, tns, u8, dec)""")
    for where in ("true", "i is not null", "i is null", "false"):
        rel = con.sql(f"select * from t where {where}")
        pd.testing.assert_frame_equal(frame_of(rel), rel.df(), check_exact=True)
    mixed = con.sql("select s from t union all select 'b'")
    got = frame_of(mixed)
    assert str(got["s"].dtype) == "str" and got["s"].isna().sum() == 1
    pd.testing.assert_frame_equal(got, mixed.df())


def test_credits_are_the_bank_returns_grouped_by_payment_whether_one_row_or_several():
    """The credits table (RC01, RC02, RC08 and credit_days read it) takes a payment's one return row as it is and
    groups only payments with several rows: the table equals the plain grouping of every row by payment, column
    for column and type for type, over single and repeated rows, failed and successful, negative, zero and
    missing amounts, missing accounts and dates, and rows that name no payment."""
    rng = np.random.default_rng(11)
    n = 3000
    ids = [None if rng.random() < 0.01 else f"P{rng.integers(0, 2200)}" for _ in range(n)]
    br = pd.DataFrame({
        "payment_id": pd.array(ids, dtype="str"),
        "account_no": pd.array([None if rng.random() < 0.05 else f"A{rng.integers(0, 50)}" for _ in range(n)],
                               dtype="str"),
        "credited_amount": pd.array([None if rng.random() < 0.05 else int(v)
                                     for v in rng.integers(-300, 5000, n)], dtype="Int64"),
        "credit_date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"))
        .where(rng.random(n) > 0.05),
        "status": pd.array(rng.choice(["success", "failed", "pending"], n, p=[0.8, 0.15, 0.05]), dtype="str")})
    ctx = Context({"bank_returns": br})
    got = ctx.sql(f"select * from {ctx.credits} order by payment_id nulls last")
    want = ctx.sql("""select payment_id, sum(credited_amount) filter (where status = 'success') as credited,
                             min(account_no) filter (where status = 'success') as bank_account, count(*) as rows,
                             min(account_no) as any_account, min(credit_date) as credit_date,
                             sum(credited_amount) filter (where status = 'success' and credited_amount > 0)
                                 as credited_pos,
                             min(credit_date) filter (where status = 'success') as success_date
                      from br group by payment_id order by payment_id nulls last""", br=br)
    assert (got["rows"] > 1).sum() > 300 and (got["rows"] == 1).sum() > 300 and got["payment_id"].isna().sum() == 1
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    kinds = ctx.sql(f"select column_name, column_type from (describe {ctx.credits})")
    assert dict(zip(kinds["column_name"], kinds["column_type"]))["credited"] == "HUGEINT"
