"""Issue "City and province audits": EL07 across districts (hand-made tables and a synthetic city against its
city-truth.json, out of core in DuckDB), and `audit batch` in separate processes with a timeout that kills the
whole process group of a run that hangs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from audit_lib.batch import run_batch, summary
from audit_lib.errors import ParamsError
from audit_lib.pipeline import check_package, check_region
from audit_lib.provenance import keys
from audit_lib.provenance.verify import verify
from audit_lib.synth import make_package
from audit_lib.synth.city import TIANJIN, make_city
from helpers import ELDER, HEAD, base, payment, write_package
from test_truth import _compare


def _el07(doc):
    [c] = [c for c in doc["checks"] if c["id"] == "EL07"]
    return c


def test_el07_on_hand_made_districts(tmp_path):
    """Same person, item and period paid by both: flagged once, with both districts and the sum. The same person
    paid for other periods, or a line that failed in one district, or paid twice in one district: not EL07."""
    a, b = base(), base()
    a["payments"] = [payment(HEAD, period="2023-01"), payment(HEAD, period="2023-02"),
                     payment(ELDER, period="2023-03", status="failed"), payment(ELDER, period="2023-04"),
                     payment(ELDER, period="2023-04")]
    b["payments"] = [payment(HEAD, period="2023-02", amount="150.00"), payment(HEAD, period="2023-05"),
                     payment(ELDER, period="2023-03")]
    ra = write_package(tmp_path / "a", a, code="120104")
    rb = write_package(tmp_path / "b", b, code="120105")
    _, _, doc = check_region([ra, rb], {"checks": ["EL07"]})
    c = _el07(doc)
    assert c["status"] == "flagged" and c["records"] == [f"{HEAD}|A01|2023-02"]
    assert c["amount_fen"] == 10000 + 15000
    assert doc["district_code"] == "120104,120105"
    with pytest.raises(ParamsError, match="given twice"):
        check_region([ra, ra], {"checks": ["EL07"]})
    # a city whose archive holds one district's run: the cross-district checks alone, skipped for want of a pair
    _, outs, doc = check_region([ra])
    assert [o.check.id for o in outs] == ["EL07"] and outs[0].status == "skipped"
    assert "several districts" in outs[0].reason and doc["checks"][0]["status"] == "skipped"
    old = write_package(tmp_path / "c", a, year=2022, code="120106")
    with pytest.raises(ParamsError, match=f"{old}: year 2022 differs from the 2023"):
        check_region([ra, old, rb], {"checks": ["EL07"]})


def test_synthetic_city_el07_and_every_district_s_own_truth(tmp_path):
    """Each district made in two shards (as a large one is), movers planted between the first shards."""
    doc = make_city(tmp_path / "city", n=3, lines=4000, seed=11, shard_lines=2000)
    truth = json.loads((tmp_path / "city" / "city-truth.json").read_text(encoding="utf-8"))
    assert truth == doc and truth["districts"] == [c for c, _ in TIANJIN[:3]]
    for c in truth["districts"]:
        assert "made in 2 shards" in (tmp_path / "city" / c / "package.yaml").read_text(encoding="utf-8")
    want = set(truth["checks"]["EL07"])
    traps = set(truth["traps"]["moved_other_periods"]) | set(truth["traps"]["failed_in_one"])
    # each pair of neighbours: movers paid by both, one paid by each for other periods, and a failed line in
    # one paid by the other
    assert len(want) >= 4 and truth["traps"]["moved_other_periods"]
    people = {k.split("|")[0] for k in truth["traps"]["failed_in_one"]}
    assert len(truth["traps"]["failed_in_one"]) == len(people) == 2       # two pairs, two different people
    dirs = [tmp_path / "city" / c for c in truth["districts"]]
    _, _, region = check_region(dirs, {"checks": ["EL07"]})
    got = set(_el07(region)["records"])
    assert got == want and not (got & traps)
    for d in dirs:                     # movers included, each district's own truth is still exact
        dt = json.loads((d / "truth.json").read_text(encoding="utf-8"))["checks"]
        _, _, one = check_package(d)
        assert _compare(one, dt) == [], d.name
    # the same city from the command line
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "synth", "--city", "2", "--lines", "800", "--out",
                        str(tmp_path / "c2")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "c2").iterdir()) == ["120101", "120102", "city-truth.json"]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in state          # a zombie waiting for init is dead


def test_batch_lands_the_good_reports_the_broken_and_kills_the_hung(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    key, _ = keys.keygen("审计组庚")
    good = [tmp_path / "g1", tmp_path / "g2"]
    make_package(good[0], lines=1200, seed=31)
    make_package(good[1], district_code="120105", lines=1200, seed=32)
    broken = tmp_path / "broken"
    make_package(broken, district_code="120106", lines=800, seed=33)
    (broken / "payments.csv").unlink()
    hung_pkg = tmp_path / "h"
    make_package(hung_pkg, district_code="120103", lines=800, seed=34)
    pidfile = tmp_path / "child.pid"
    (tmp_path / "hang.py").write_text(
        "import subprocess, sys, time\n"
        "from audit_lib.checks import check\n\n\n"
        "@check('XX90', '挂起', 'compliance', 'low', needs=('payments',))\n"
        "def hang(t):\n"
        "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"    open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "    time.sleep(600)\n", encoding="utf-8")
    hung = tmp_path / "hung.yaml"
    hung.write_text(f"data: {hung_pkg}\nchecks_from: [hang.py]\n", encoding="utf-8")
    archive = tmp_path / "arch"
    items = [str(good[0]), str(broken), str(hung), str(good[1])]
    t = time.perf_counter()
    jobs = run_batch(items, jobs=2, archive=str(archive), key=str(key), timeout=35)
    assert time.perf_counter() - t < 240
    st = {Path(j.item).name: j for j in jobs}
    assert [j.item for j in jobs] == items
    assert st["g1"].status == st["g2"].status == "ok"
    for j in (st["g1"], st["g2"]):
        folder = Path(j.detail)
        assert folder.is_dir() and folder.parent.parent.parent == archive
        assert verify(folder)[0] == []
    assert st["broken"].status == "failed" and "payments" in st["broken"].detail
    assert st["hung.yaml"].status == "timeout"
    assert pidfile.exists() and _gone(int(pidfile.read_text()))       # the run's child went with it
    assert _gone(st["hung.yaml"].proc.pid)
    lines = summary(jobs)
    assert lines[-1].endswith("2 done, 2 failed") or "失败 2 个" in lines[-1]
    # nothing of the hung or broken district landed
    assert sorted(p.name for p in (archive / "2023").iterdir()) == ["120104", "120105"]
    # the command's exit status says some failed
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "batch", str(broken), "--archive", str(archive),
                        "--key", str(key)], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 1 and "failed" in r.stdout


def test_batch_tries_a_run_whose_kernel_did_not_start_once_more(tmp_path, monkeypatch):
    """Exit 4 (the kernel did not start) is tried again, up to --retries; any other failure is not."""
    import audit_lib.batch as batch

    script = ("import sys, pathlib\n"
              "p = pathlib.Path(sys.argv[1]); n = int(p.read_text()) if p.exists() else 0; p.write_text(str(n + 1))\n"
              "sys.exit(4 if n < int(sys.argv[2]) else 0) if sys.argv[2] != 'x' else sys.exit(2)\n")
    monkeypatch.setattr(batch, "_command", lambda item, archive, key: [sys.executable, "-c", script,
                                                                          *item.split(":")])
    flaky, dead, broken = tmp_path / "flaky", tmp_path / "dead", tmp_path / "broken"
    jobs = run_batch([f"{flaky}:1", f"{dead}:5", f"{broken}:x"], jobs=2, retries=1, poll=0.05)
    st = [(j.status, j.attempts) for j in jobs]
    assert st == [("ok", 2), ("failed", 2), ("failed", 1)]
    assert flaky.read_text() == "2" and dead.read_text() == "2" and broken.read_text() == "1"


def test_numbers_two_districts_drew_by_chance_are_renamed_apart_and_truth_still_holds(tmp_path):
    """Districts generated apart can draw one identity number for two people (an EL07 nobody planted): the city
    generator renames them, keeping place, year of birth and the masked form, and the district's truth with them."""
    from audit_lib.package.identity import masked_ids
    from audit_lib.synth.city import _all_ids, _rename_collisions
    from audit_lib.synth.district import generate
    from audit_lib.synth.writer import write_package as write_district

    first = generate(district_code="120104", lines=1500, seed=41)
    twin = generate(district_code="120104", lines=1500, seed=41)        # the same draws: every number collides
    before = sorted(_all_ids(twin))
    n = _rename_collisions(twin, _all_ids(first))
    after = sorted(_all_ids(twin))
    assert n == len(before) and not set(after) & set(before)
    assert sorted(masked_ids(pd.Series(before))) == sorted(masked_ids(pd.Series(after)))
    assert sorted(p[:10] for p in before) == sorted(p[:10] for p in after)        # place and year of birth
    write_district(tmp_path / "twin", twin)
    truth = json.loads((tmp_path / "twin" / "truth.json").read_text(encoding="utf-8"))["checks"]
    _, _, doc = check_package(tmp_path / "twin")
    assert _compare(doc, truth) == []


def test_staged_districts_are_read_in_one_scan_each_line_with_its_own_district(tmp_path):
    """Staged districts are one Parquet scan (a union of a hundred scans ran out of DuckDB's memory limit at 100 M
    lines); each line keeps the district of the file it came from, beside districts held in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from audit_lib.checks.eligibility import el07
    from audit_lib.checks.staged import StagedDistrict, connect, ok_payments

    staged = []
    for k, code in enumerate(["120101", "120102", "120103"]):
        path = tmp_path / f"{code}.parquet"
        pq.write_table(pa.table({"payment_id": [f"P{k}a", f"P{k}b"], "person_id": ["X", f"Y{k}"],
                                 "item_code": ["A01", "A01"], "period": ["2023-01", "2023-01"],
                                 "amount": pa.array([100 * (k + 1), 7], pa.int64())}), path)
        staged.append(StagedDistrict(code, code, 2023, path, 2))
    con = connect(tmp_path / "spill")
    view = ok_payments(con, staged)
    got = con.execute(f"select payment_id, district from {view} order by payment_id").fetchall()
    assert got == [("P0a", "120101"), ("P0b", "120101"), ("P1a", "120102"), ("P1b", "120102"),
                   ("P2a", "120103"), ("P2b", "120103")]
    con.close()
    res = el07(staged)
    assert res.records[["key", "n", "amount_fen", "districts"]].values.tolist() == [
        ["X|A01|2023-01", 3, 600, "120101,120102,120103"]]
