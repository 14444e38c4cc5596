"""After the report: audit sampling (against jfa's published figures and scipy), and the follow-up of a run
from its filled-in workpaper."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from scipy import stats

from audit_lib.errors import AuditError
from audit_lib.followup import sampling
from audit_lib.followup.runner import followup
from audit_lib.provenance import keys
from audit_lib.provenance.verify import verify
from audit_lib.runner import run
from audit_lib.synth import make_package


# ---------------------------------------------------------------- sampling


@pytest.mark.parametrize("likelihood,materiality,expected,n,errors", [
    # jfa's own test values (tests/testthat/test-consistency-planning.R, frequentist, confidence 0.95, N = 1000)
    ("poisson", 0.01, 0, 300, 0), ("poisson", 0.05, 0, 60, 0), ("poisson", 0.05, 0.025, 231, 5.775),
    ("poisson", 0.05, 2, 126, 2), ("binomial", 0.01, 0, 299, 0), ("binomial", 0.05, 0, 59, 0),
    ("binomial", 0.05, 0.025, 234, 6), ("binomial", 0.05, 2, 124, 2), ("hypergeometric", 0.01, 0, 258, 0),
    ("hypergeometric", 0.05, 0, 57, 0), ("hypergeometric", 0.05, 0.025, 197, 5), ("hypergeometric", 0.05, 2, 119, 2)])
def test_plan_gives_jfa_s_sample_sizes(likelihood, materiality, expected, n, errors):
    p = sampling.plan(materiality, 0.95, expected, likelihood, population=1000)
    assert (p.n, p.errors) == (n, pytest.approx(errors))


def test_plan_with_no_expected_errors_is_the_closed_form():
    for m in (0.02, 0.03, 0.07):
        for c in (0.9, 0.95, 0.99):
            assert sampling.plan(m, c).n == math.ceil(-math.log(1 - c) / m - 1e-12)
            # binomial: the smallest n with (1 - m)^n < 1 - c
            assert sampling.plan(m, c, likelihood="binomial").n == math.floor(math.log(1 - c) / math.log(1 - m)) + 1


def test_plan_refuses_what_cannot_be_planned():
    with pytest.raises(AuditError, match="below --materiality"):
        sampling.plan(0.05, 0.95, 0.06)
    with pytest.raises(AuditError, match="population size"):
        sampling.plan(0.05, 0.95, likelihood="hypergeometric")
    assert sampling.plan(0.05, book_value_fen=6_000_000).interval_fen == 100_000


def test_evaluation_matches_jfa_and_the_distributions():
    # jfa: 60 items, none misstated, Stringer bound 0.04870291 (test-evaluation.R)
    assert sampling.evaluate([], 60, 0.05).upper == pytest.approx(0.04870291, abs=1e-8)
    # jfa's documented example: 93 items, one overstatement of 500 on a book value of 1561.871 -> 3.756 %
    e = sampling.evaluate([sampling.taint(156187, 106187)], 93, 0.05)
    assert e.upper == pytest.approx(0.03756, abs=5e-6) and e.accepted
    # Stringer by hand: binomial upper limits, steps weighted by the taints in decreasing order
    n, t = 100, [0.4, 1.0]
    p = [stats.beta.ppf(0.95, k + 1, n - k) for k in range(3)]
    assert sampling.evaluate(t, n, 0.05).upper == pytest.approx(p[0] + (p[1] - p[0]) * 1.0 + (p[2] - p[1]) * 0.4)
    assert sampling.evaluate(t, n, 0.05).mle == pytest.approx(0.014)
    # Poisson and binomial: the gamma and beta bounds on the taints' sum
    assert sampling.evaluate(t, n, 0.05, method="poisson").upper == pytest.approx(stats.gamma.ppf(0.95, 2.4) / 100)
    assert sampling.evaluate(t, n, 0.05, method="binomial").upper == pytest.approx(stats.beta.ppf(0.95, 2.4, 98.6))
    bad = sampling.evaluate([1.0] * 4, 60, 0.05)
    assert not bad.accepted and bad.upper > 0.05


# ---------------------------------------------------------------- follow-up


@pytest.fixture(scope="module")
def a_run(tmp_path_factory):
    """One signed run for the follow-up tests (the one test that damages it comes last)."""
    tmp_path = tmp_path_factory.mktemp("followup")
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    mp.setenv("AUDIT_LANG", "en")
    key, _ = keys.keygen("审计组子")
    pkg = tmp_path / "pkg"
    make_package(pkg, lines=2000, seed=81)
    r = run(str(pkg), archive_root=str(tmp_path / "arch"), key_path=str(key))
    yield {"run": r, "key": key, "pkg": pkg, "tmp": tmp_path}
    mp.undo()


def _headers(ws):
    return {c.value: c.column for c in ws[2] if c.value}


def _fill(src: Path, dst: Path, edit) -> Path:
    wb = openpyxl.load_workbook(src)
    edit(wb)
    wb.save(dst)
    return dst


def test_the_workpaper_has_verification_columns_with_drop_downs(a_run):
    wb = openpyxl.load_workbook(a_run["run"] / "workpaper.xlsx")
    ws = wb["EL06"]
    h = _headers(ws)
    for name in ("核实结论", "核实说明", "确认金额（元）", "追回金额（元）", "整改状态", "核实人", "核实日期"):
        assert name in h
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"属实,部分属实,不属实,待核实"' in lists and '"未整改,整改中,已整改"' in lists
    assert "审定金额（元）" in _headers(wb["ST04"]) and "抽中次数" in _headers(wb["ST04"])


def test_followup_refuses_what_does_not_belong_naming_sheet_row_and_column(a_run, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(a_run["tmp"] / "cfg"))
    r, tmp = a_run["run"], a_run["tmp"]

    def edit(wb):
        ws = wb["EL06"]
        h = _headers(ws)
        amount = ws.cell(row=3, column=h["涉及金额（元）"]).value
        ws.cell(row=3, column=h["核实结论"], value="属实")
        ws.cell(row=3, column=h["确认金额（元）"], value=float(amount) + 1)      # above the record
        ws.cell(row=4, column=h["核实结论"], value="大概")                       # not in the list
        ws.cell(row=5, column=h["确认金额（元）"], value="十元")                   # not money
        ws.cell(row=5, column=h["整改状态"], value="完成")
        ws.cell(row=6, column=h["键"], value="P9999999")                          # not flagged
        ws.cell(row=6, column=h["核实结论"], value="属实")
        ws.cell(row=7, column=h["核实结论"], value="属实")
        ws.cell(row=7, column=h["整改状态"], value="完成")                         # not in the list

    filled = _fill(r / "workpaper.xlsx", tmp / "bad.xlsx", edit)
    with pytest.raises(AuditError) as e:
        followup(r, filled, key_path=str(a_run["key"]))
    msg = str(e.value)
    h = _headers(openpyxl.load_workbook(filled)["EL06"])
    col = lambda name: openpyxl.utils.get_column_letter(h[name])   # noqa: E731
    assert f"EL06!{col('确认金额（元）')}3（确认金额（元））: confirmed" in msg
    assert f"EL06!{col('核实结论')}4（核实结论）: '大概' is not one of" in msg
    assert f"EL06!{col('确认金额（元）')}5（确认金额（元））: '十元' is not money" in msg
    assert "key P9999999 is not a record EL06 flagged" in msg
    assert f"EL06!{col('整改状态')}7（整改状态）: '完成' is not one of 未整改, 整改中, 已整改" in msg
    assert not (r.parent / f"{r.name}.followup").exists()
    # a workpaper of another run
    other = make_package(tmp / "other", district_code="120105", lines=1500, seed=82) and tmp / "other"
    r2 = run(str(other), archive_root=str(tmp / "arch"), key_path=str(a_run["key"]))
    with pytest.raises(AuditError, match="not this run's workpaper"):
        followup(r, r2 / "workpaper.xlsx", key_path=str(a_run["key"]))
    out = subprocess.run([sys.executable, "-m", "audit_lib.cli", "followup", str(r), "--workpaper", str(filled),
                          "--key", str(a_run["key"])], capture_output=True, text=True,
                         env=dict(os.environ, AUDIT_CONFIG_DIR=str(a_run["tmp"] / "cfg")))
    assert out.returncode == 2 and "Traceback" not in out.stderr and "EL06!" in out.stderr


def test_year_over_year_marks_repeats_new_and_rectified(tmp_path, monkeypatch):
    from audit_lib.followup.history import compare
    from audit_lib.pipeline import check_package

    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    key, _ = keys.keygen("审计组丑")
    arch = tmp_path / "arch"
    make_package(tmp_path / "y22", year=2022, lines=1500, seed=91)
    make_package(tmp_path / "y23", year=2023, lines=1500, seed=91)
    r22 = run(str(tmp_path / "y22"), archive_root=str(arch), key_path=str(key))
    f22 = json.loads((r22 / "findings.json").read_text(encoding="utf-8"))
    f23_ahead = check_package(tmp_path / "y23")[2]
    judged = lambda c: c["status"] == "flagged" and c["family"] != "statistics" and c["severity"] != "info"  # noqa
    now = {c["id"]: set(c["records"]) for c in f23_ahead["checks"] if judged(c)}
    sheets = openpyxl.load_workbook(r22 / "workpaper.xlsx").sheetnames
    # last year's follow-up: one record that will not come back is rectified
    cid, rkey = next((c["id"], k) for c in f22["checks"] if judged(c) and c["id"] in sheets and c["id"] in now
                     for k in c["records"] if k not in now[c["id"]])

    def edit(wb):
        ws = wb[cid]
        h = _headers(ws)
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(row=r, column=h["键"]).value == rkey)
        ws.cell(row=row, column=h["核实结论"], value="属实")
        ws.cell(row=row, column=h["整改状态"], value="已整改")

    followup(r22, _fill(r22 / "workpaper.xlsx", tmp_path / "f.xlsx", edit), key_path=str(key))
    r23 = run(str(tmp_path / "y23"), archive_root=str(arch), key_path=str(key))
    st = verify(r23)[1]["predicate"]
    assert st["previous_year"]["run"] == f"2022/120104/{r22.name}" and st["previous_year"]["followup"]
    f23 = json.loads((r23 / "findings.json").read_text(encoding="utf-8"))
    prev = {c["id"]: set(c["records"]) for c in f22["checks"] if c["status"] == "flagged"}
    expected = sum(len(set(c["records"]) & prev.get(c["id"], set())) for c in f23["checks"] if judged(c))
    assert st["previous_year"]["repeats"] == expected and expected > 0
    html = (r23 / "report.html").read_text(encoding="utf-8")
    assert "与上年比较" in html and f"本年疑点中 <b>{expected:,}</b> 条与上年相同" in html
    h = compare(arch, "120104", 2023, f23)
    c = h["checks"][cid]
    assert c["rectified"] == 1 and c["gone"] >= 1
    assert c["new"] == len(now[cid] - prev[cid]) and c["repeat"] == sorted(now[cid] & prev[cid])
    # a district's first year: no comparison, and the report says so
    make_package(tmp_path / "y24", district_code="120105", year=2023, lines=1200, seed=92)
    r = run(str(tmp_path / "y24"), archive_root=str(arch), key_path=str(key))
    assert "previous_year" not in verify(r)[1]["predicate"]
    assert "未作逐年比较" in (r / "report.html").read_text(encoding="utf-8")


def test_followup_reads_signs_and_verify_checks_it_and_the_run(a_run, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(a_run["tmp"] / "cfg"))
    r, tmp = a_run["run"], a_run["tmp"]

    def edit(wb):
        ws = wb["EL06"]
        h = _headers(ws)
        amount = ws.cell(row=3, column=h["涉及金额（元）"]).value
        ws.cell(row=3, column=h["核实结论"], value="属实")
        ws.cell(row=3, column=h["确认金额（元）"], value=float(amount))
        ws.cell(row=3, column=h["追回金额（元）"], value=float(amount) / 2)
        ws.cell(row=3, column=h["整改状态"], value="整改中")
        ws.cell(row=3, column=h["核实人"], value="张审计")
        ws.cell(row=3, column=h["核实日期"], value="2024-03-05")
        ws.cell(row=4, column=h["核实结论"], value="不属实")
        s = wb["ST04"]
        hs = _headers(s)
        for row in range(3, s.max_row):
            if s.cell(row=row, column=1).value == "合计":
                break
            book = s.cell(row=row, column=hs["涉及金额（元）"]).value
            s.cell(row=row, column=hs["审定金额（元）"], value=book if row != 3 else 0)

    filled = _fill(r / "workpaper.xlsx", tmp / "filled.xlsx", edit)
    folder = followup(r, filled, key_path=str(a_run["key"]))
    assert folder.parent.name == f"{r.name}.followup" and folder.parent.parent == r.parent
    problems, st = verify(folder)
    assert problems == [] and st["predicate"]["kind"] == "followup"
    d = json.loads((folder / "dispositions.json").read_text(encoding="utf-8"))
    el06 = [x for x in d["dispositions"] if x["check"] == "EL06"]
    assert el06[0]["conclusion"] == "属实" and el06[0]["confirmed_fen"] == el06[0]["amount_fen"]
    assert el06[1]["conclusion"] == "不属实" and all(x["conclusion"] == "待核实" for x in el06[2:])
    findings = json.loads((r / "findings.json").read_text(encoding="utf-8"))
    assert len(d["dispositions"]) == sum(c["count"] for c in findings["checks"]
                                         if c["count"] and c["id"] != "ST04" and c["status"] == "flagged")
    ev = d["evaluation"]
    assert ev["errors"] >= 1 and ev["method"] == "stringer" and 0 < ev["mle"] < ev["upper"]
    html = (folder / "followup.html").read_text(encoding="utf-8")
    assert "核实覆盖" in html and "审计抽样结论" in html
    # a later follow-up supersedes this one; both stay
    again = followup(r, filled, key_path=str(a_run["key"]))
    assert verify(again)[1]["predicate"]["supersedes"] == folder.name and folder.exists()
    # the follow-up changed, or the run it follows: verify names it
    os.chmod(folder, 0o750)
    os.chmod(folder / "followup.html", 0o640)
    (folder / "followup.html").write_text("x", encoding="utf-8")
    assert "changed: followup.html" in verify(folder)[0]
    os.chmod(r, 0o750)
    os.chmod(r / "report.html", 0o640)
    (r / "report.html").write_text("x", encoding="utf-8")
    assert f"the run followed up, {r.name}: changed: report.html" in verify(again)[0]
