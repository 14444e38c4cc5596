"""The synthetic district: deterministic, realistic, and planting what truth.json says."""
import hashlib
import json

import pandas as pd
import pytest

from audit_lib.package import load_package
from audit_lib.package.identity import validate
from audit_lib.synth import generate, make_package
from audit_lib.synth import catalogue as cat

CATALOGUE_IDS = ["RC01", "RC02", "RC03", "RC04", "RC05", "RC06", "RC07", "CP01", "CP02", "CP03", "CP04", "CP05",
                 "CP06", "CP07", "CP08", "CP09", "CP10", "CP11", "CP12", "EL01", "EL02", "EL03", "EL04", "EL05",
                 "EL06"]


@pytest.fixture(scope="module")
def d():
    return generate(lines=20000, seed=21)


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    make_package(tmp_path / "a", lines=2000, seed=5)
    make_package(tmp_path / "b", lines=2000, seed=5)
    make_package(tmp_path / "c", lines=2000, seed=6)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


@pytest.mark.parametrize("n", [300, 5000, 40000])
def test_about_n_lines(n):
    got = len(generate(lines=n, seed=1, clean=True).tables["payments"])
    assert 0.8 * n <= got <= 1.25 * n or (n < 1000 and got < 1000)


def test_every_rc_cp_el_anomaly_is_planted_and_statistics_at_size(d):
    assert set(CATALOGUE_IDS) <= set(d.truth)
    big = generate(lines=60000, seed=2)
    assert {"ST01", "ST02", "ST03"} <= set(big.truth)


def test_clean_plants_nothing():
    assert generate(lines=5000, seed=3, clean=True).truth == {}


def test_identity_numbers_valid_with_real_regions_except_planted(d):
    ids = pd.Series(pd.concat([d.tables["payments"]["person_id"], d.tables["beneficiaries"]["person_id"],
                               d.tables["households"]["person_id"]]).unique())
    v = validate(ids)
    bad = set(ids[~v["valid"]])
    assert bad == set(d.truth["CP12"])
    assert set(ids[v["valid"]].str.slice(0, 6)) <= set(cat.REGIONS) | {"120104"}


def test_fixed_items_are_paid_their_standard(d):
    items = d.tables["policy_items"].set_index("item_code")
    p = d.tables["payments"]
    p = p[p["status"] == "success"].join(items[["standard_amount", "max_amount"]], on="item_code")
    planted = set(d.truth.get("RC05", []))
    fixed = p[p["standard_amount"].notna() & ~p["payment_id"].isin(planted)]
    assert (fixed["amount"] == fixed["standard_amount"]).all()
    varying = p[p["standard_amount"].isna() & p["max_amount"].notna() & ~p["payment_id"].isin(planted)]
    assert (varying["amount"] <= varying["max_amount"]).all() and (varying["amount"] > 0).all()
    # Amounts are money: whole fen, realistic sizes (monthly minimum-living top-ups of a few hundred to a few
    # thousand yuan around a 1,200 yuan median).
    mz1 = p.loc[p["item_code"] == "MZ001", "amount"]
    assert 60000 <= mz1.median() <= 240000


def test_households_have_exactly_one_head_and_household_items_go_to_heads(d):
    h = d.tables["households"]
    heads = h[h["relation"] == "本人"].groupby("household_id").size()
    assert (heads == 1).all() and set(heads.index) == set(h["household_id"])
    b = d.tables["beneficiaries"]
    items = d.tables["policy_items"].set_index("item_code")
    hh = b[b["item_code"].map(items["unit"]) == "household"]
    assert hh["is_household_head"].all()
    sizes = h.groupby("household_id").size()
    assert sizes.max() >= 4 and (sizes == 1).sum() > 0


def test_cards_from_several_banks_with_some_inactive_or_lost(d):
    c = d.tables["cards"]
    assert c["bank"].nunique() >= 5
    assert {"normal", "lost", "inactive"} <= set(c["status"])


def test_failed_lines_are_reissued_and_bank_returns_cover_lines(d):
    p = d.tables["payments"]
    failed = p[p["status"] == "failed"]
    assert len(failed) > 0
    reissued = set(p["reissue_of"].dropna())
    assert len(reissued & set(failed["payment_id"])) >= len(failed) - len(d.truth["RC07"])
    assert len(d.tables["bank_returns"]) >= len(p) - len(d.truth["RC02"])


def test_frequencies_and_periods(d):
    p = d.tables["payments"]
    items = d.tables["policy_items"].set_index("item_code")
    f = p["item_code"].map(items["frequency"])
    assert set(f.dropna()) == {"monthly", "quarterly", "annual", "one_off"}
    assert set(p.loc[f == "quarterly", "period"].str.slice(5)) <= {"01", "04", "07", "10"}
    assert set(p.loc[f == "annual", "period"].str.slice(5)) == {"01"}


def test_truth_file_and_package_load(tmp_path):
    make_package(tmp_path / "p", lines=1000, seed=4)
    truth = json.loads((tmp_path / "p" / "truth.json").read_text(encoding="utf-8"))
    assert truth["district_code"] == "120104" and truth["checks"]
    pkg = load_package(tmp_path / "p")
    assert pkg.quarantine.empty and len(pkg.tables) == 13


# ---------------------------------------------------------------------------------------------- shards

def test_a_district_in_one_shard_is_the_unsharded_district(tmp_path):
    from audit_lib.synth import write_package

    make_package(tmp_path / "a", lines=3000, seed=12)                 # one shard (the default shard is 500,000)
    write_package(tmp_path / "b", generate(lines=3000, seed=12))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


@pytest.mark.parametrize("fmt", ["csv", "exported"])
def test_a_sharded_district_is_one_package_with_exact_truth(tmp_path, fmt):
    """Three shards written one after another: no key shared between shards, the policy list once, the title
    and header once, and every check finds exactly the union of the shards' truths."""
    from audit_lib.pipeline import check_package
    from audit_lib.synth.writer import WriteOptions
    from test_truth import _compare

    opt = WriteOptions.as_exported() if fmt == "exported" else None
    got = make_package(tmp_path / "p", lines=30000, seed=14, shard_lines=10000, options=opt)
    assert got["shards"] == 3
    pkg = load_package(tmp_path / "p")
    assert len(pkg.quarantine) == 0
    t = pkg.tables
    assert len(t["payments"]) == got["payments"] and t["payments"]["payment_id"].is_unique
    assert t["card_transactions"]["txn_id"].is_unique
    assert t["policy_items"]["item_code"].is_unique
    assert t["households"]["person_id"].is_unique                      # nobody drawn twice by two shards
    holders = t["cards"].dropna(subset=["account_no"]).groupby("account_no")["person_id"].nunique()
    assert holders.max() == 1                                          # no account shared between shards
    allocations = t["fund_flows"][t["fund_flows"]["doc_no"].fillna("").str.startswith("南财社指")]
    assert allocations.groupby("doc_no")[["item_code", "date"]].nunique().max().max() == 1   # one document each
    truth = json.loads((tmp_path / "p" / "truth.json").read_text(encoding="utf-8"))["checks"]
    assert {f"FF1201042023X{i:07d}" for i in (1, 2, 3)} <= set(truth["RC08"])   # each shard's own
    _, _, doc = check_package(tmp_path / "p")
    assert _compare(doc, truth) == []
    assert {c["id"] for c in doc["checks"] if c["status"] == "flagged"} == set(truth)


def test_a_workbook_too_large_for_excel_is_refused_by_name(tmp_path, monkeypatch):
    from audit_lib.synth import writer
    from audit_lib.synth.writer import WriteOptions

    monkeypatch.setattr(writer, "XLSX_ROWS", 500)
    with pytest.raises(ValueError, match="beneficiaries: .* rows do not fit in one worksheet"):
        make_package(tmp_path / "p", lines=3000, seed=15, shard_lines=1000,
                     options=WriteOptions(formats={"beneficiaries": "xlsx"}))
