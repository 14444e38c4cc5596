"""Synthetic districts: every check finds exactly what truth.json planted, and nothing on a clean district."""
import json

import pytest

from audit_lib.pipeline import check_package, check_region as check_province
from audit_lib.synth import make_package
from audit_lib.synth.writer import WriteOptions

INFO = {"ST04"}


def _compare(doc, truth):
    problems = []
    for c in doc["checks"]:
        if c["id"] in INFO:
            continue
        want = set(truth.get(c["id"], []))
        got = set(c["records"])
        if c["status"] == "error" or got != want:
            problems.append((c["id"], c["status"], sorted(want - got)[:3], sorted(got - want)[:3], c["reason"]))
    return problems


@pytest.mark.parametrize("seed,lines", [(1, 3000), (2, 12000), (3, 60000)])
def test_each_check_finds_every_planted_record_and_nothing_else(tmp_path, seed, lines):
    make_package(tmp_path / "p", lines=lines, seed=seed)
    truth = json.loads((tmp_path / "p" / "truth.json").read_text(encoding="utf-8"))["checks"]
    _, _, doc = check_package(tmp_path / "p")
    assert _compare(doc, truth) == []
    flagged = {c["id"] for c in doc["checks"] if c["status"] == "flagged"}
    assert flagged == set(truth)


def test_statistical_plants_are_found_at_size(tmp_path):
    make_package(tmp_path / "p", lines=60000, seed=8)
    _, _, doc = check_package(tmp_path / "p")
    by = {c["id"]: c for c in doc["checks"]}
    assert by["ST01"]["status"] == by["ST02"]["status"] == by["ST03"]["status"] == "flagged"
    assert by["ST01"]["metrics"]["MZ018"]["conformity"] == "nonconformity"


@pytest.mark.parametrize("seed,lines", [(4, 3000), (5, 60000)])
def test_clean_district_gives_no_finding(tmp_path, seed, lines):
    make_package(tmp_path / "p", lines=lines, seed=seed, clean=True)
    _, _, doc = check_package(tmp_path / "p")
    assert [c["id"] for c in doc["checks"] if c["status"] in ("flagged", "error")] == []
    if lines >= 60000:   # at this size the temporary-aid item is large enough for Benford, and conforms
        st01 = next(c for c in doc["checks"] if c["id"] == "ST01")
        assert st01["status"] == "clear" and st01["metrics"]["MZ018"]["applicable"]


def test_another_district_year_and_format(tmp_path):
    make_package(tmp_path / "p", district_code="410303", year=2022, lines=4000, seed=9,
                 options=WriteOptions(encoding="gbk", chinese_headers=True, chinese_values=True,
                                      formats={"cards": "xlsx", "beneficiaries": "parquet"}))
    truth = json.loads((tmp_path / "p" / "truth.json").read_text(encoding="utf-8"))["checks"]
    pkg, _, doc = check_package(tmp_path / "p")
    assert pkg.district_name == "西工区" and doc["year"] == 2022
    assert _compare(doc, truth) == []


def test_el07_across_districts(tmp_path):
    """Two districts' packages; a person paid for the same item and period by both is flagged."""
    import pandas as pd

    make_package(tmp_path / "a", district_code="120104", lines=2000, seed=1, clean=True)
    make_package(tmp_path / "b", district_code="120105", lines=2000, seed=2, clean=True)
    pa_ = pd.read_csv(tmp_path / "a" / "payments.csv", dtype=str)
    pb = pd.read_csv(tmp_path / "b" / "payments.csv", dtype=str)
    moved = pa_[(pa_["item_code"] == "MZ007") & (pa_["status"] == "success")].iloc[:2].copy()
    moved["payment_id"] = "X" + moved["payment_id"]
    pd.concat([pb, moved]).to_csv(tmp_path / "b" / "payments.csv", index=False)
    _, outcomes, doc = check_province([tmp_path / "a", tmp_path / "b"], {"checks": ["EL07"]})
    [c] = doc["checks"]
    assert c["id"] == "EL07" and c["status"] == "flagged"
    assert c["records"] == sorted(moved["person_id"] + "|" + moved["item_code"] + "|" + moved["period"])
    assert doc["district_code"] == "120104,120105"


def test_findings_are_byte_identical_in_every_form_a_package_comes_in(tmp_path):
    """The same district written as tidy CSV, as exports come (GB18030, Chinese headers, ￥1,140.00, dates three
    ways, registries in XLSX), all XLSX and all Parquet gives the same findings.json, byte for byte."""
    from audit_lib import findings

    forms = {"csv": WriteOptions(), "exported": WriteOptions.as_exported(), "xlsx": WriteOptions(fmt="xlsx"),
             "parquet": WriteOptions(fmt="parquet")}
    texts = {}
    for name, opt in forms.items():
        make_package(tmp_path / name, lines=6000, seed=21, options=opt)
        _, _, doc = check_package(tmp_path / name)
        texts[name] = findings.dumps(doc)
    assert len(set(texts.values())) == 1, {k: json.loads(v)["digest"] for k, v in texts.items()}
    assert json.loads(texts["csv"])["data_quality"] == []
