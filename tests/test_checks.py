"""Every check on small hand-made tables where the answer is obvious, with the catalogue's edge cases."""
import pytest

from helpers import (ACC, CHILD, ELDER, HEAD, SPOUSE, STRANGER, approval, base, card, item, outcome, payment,
                     pid, run)


def pay_ids(t, *idx):
    return sorted(t["payments"][i]["payment_id"] for i in idx)


# ------------------------------------------------------------------------------------------ reconciliation

def test_rc01_balanced_item_is_clear_and_unbalanced_or_idle_is_flagged(tmp_path):
    t = base()
    t["bank_returns"] = [{"payment_id": p["payment_id"], "account_no": p["account_no"], "credited_amount": "100.00",
                          "credit_date": p["pay_date"], "status": "success"} for p in t["payments"]]
    flows = [{"item_code": "A01", "flow_type": "allocated", "amount": "300.00", "date": "2023-01-03"},
             {"item_code": "A01", "flow_type": "disbursed", "amount": "300.00", "date": "2023-01-15"}]
    t["fund_flows"] = flows
    assert run(tmp_path / "a", t, "RC01") == []
    t["fund_flows"] = flows + [{"item_code": "A01", "flow_type": "disbursed", "amount": "50.00",
                                "date": "2023-02-01"}]
    assert run(tmp_path / "b", t, "RC01") == ["A01"]
    # Idle: 1,000 allocated on 1 Jan, only 300 ever disbursed; judged once 1 Jan + 30 days has passed.
    t["fund_flows"] = [dict(flows[0], amount="1000.00"), flows[1]]
    assert run(tmp_path / "c", t, "RC01", idle_days=30) == ["A01"]
    assert run(tmp_path / "d", t, "RC01", idle_days=120) == []       # the horizon is after the last pay date


def _idle_by_loop(ff, last, idle_days):
    """RC01's idle money the plain way, item by item and date by date (as RC01 found it before): for each
    allocation date, allocated up to it against the net disbursed up to its horizon; each item's worst."""
    import pandas as pd

    idle = []
    net = ff[ff["flow_type"].isin(["disbursed", "returned"])].copy()
    net["signed"] = net["amount"].where(net["flow_type"] == "disbursed", -net["amount"])
    for it, a in ff[ff["flow_type"] == "allocated"].groupby("item_code", sort=True):
        cum_alloc = a.groupby("date")["amount"].sum().cumsum()
        cum_net = net[net["item_code"] == it].groupby("date")["signed"].sum().cumsum()
        for d, to_d in cum_alloc.items():
            if d + pd.Timedelta(days=idle_days) > last:
                continue
            before = cum_net[cum_net.index <= d + pd.Timedelta(days=idle_days)]
            spent = int(before.iloc[-1]) if len(before) else 0
            if to_d > spent:
                idle.append({"item_code": it, "allocation_date": d, "idle": int(to_d - spent)})
    if not idle:
        return {}
    worst = pd.DataFrame(idle).sort_values("idle", ascending=False).drop_duplicates("item_code")
    return {r.item_code: (r.allocation_date, r.idle) for r in worst.itertuples()}


def _idle_found(ff, days=90, pay_date="2023-09-30"):
    """RC01 run on these fund flows (one payment, on pay_date, the bank's credit of it): the idle money it
    reports, item -> (allocation date, idle amount)."""
    import pandas as pd

    from audit_lib.checks import Context
    from audit_lib.checks.engine import run_checks

    when = pd.Series([pd.Timestamp(pay_date) if pay_date else pd.NaT], dtype="datetime64[ns]")
    pay = pd.DataFrame({"payment_id": pd.array(["P1"], dtype="str"), "item_code": pd.array(["I1"], dtype="str"),
                        "pay_date": when})
    br = pd.DataFrame({"payment_id": pd.array(["P1"], dtype="str"), "account_no": pd.array(["A"], dtype="str"),
                       "credited_amount": pd.array([100], dtype="Int64"), "credit_date": when,
                       "status": pd.array(["success"], dtype="str")})
    out = run_checks(Context({"fund_flows": ff, "payments": pay, "bank_returns": br}), {"RC01": {"idle_days": days}},
                     select=["RC01"])[0]
    assert out.status in ("flagged", "clear"), out.reason
    r = out.records
    return {} if "idle_since" not in r else {
        x.item_code: (x.idle_since, x.idle_amount) for x in r[r["idle_since"].notna()].itertuples()}


@pytest.mark.parametrize("seed", range(6))
def test_rc01_idle_money_is_each_item_s_worst_allocation_date_as_the_plain_loop_finds_it(seed):
    """Idle money over random fund flows (several items, several flows a day, returns, missing dates and items,
    equal idle amounts on different dates) is what the item-by-item loop finds: the same items, each with the
    same allocation date and idle amount."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = 400
    ff = pd.DataFrame({
        "item_code": pd.array([None if rng.random() < 0.02 else f"I{rng.integers(0, 7)}" for _ in range(n)],
                              dtype="str"),
        "flow_type": pd.array(rng.choice(["allocated", "disbursed", "returned"], n, p=[0.3, 0.6, 0.1]), dtype="str"),
        "amount": pd.array(rng.integers(1, 40, n) * 100, dtype="Int64"),
        "date": (pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"))
        .where(rng.random(n) > 0.03)})
    for days in (0, 30, 90):
        want = _idle_by_loop(ff, pd.Timestamp("2023-09-30"), days)
        assert _idle_found(ff, days) == want
        assert days == 90 or want                  # the random flows leave money idle at the shorter horizons


@pytest.mark.parametrize("flows", [
    [("I1", "allocated", 500, "2023-01-01"), ("I2", "allocated", 100, "2023-02-01")],          # nothing disbursed
    [("I1", "disbursed", 500, "2023-01-01")],                                                 # nothing allocated
    [],                                                                                       # no flows at all
    [("I1", "allocated", 500, "2023-01-01"), ("I1", "disbursed", None, "2023-01-05"),
     ("I1", "returned", 20, "2023-01-06")]])                                                  # an amount missing
def test_rc01_idle_money_where_a_kind_of_flow_is_missing_is_what_the_plain_loop_finds(flows):
    import pandas as pd

    ff = pd.DataFrame({"item_code": pd.array([f[0] for f in flows], dtype="str"),
                       "flow_type": pd.array([f[1] for f in flows], dtype="str"),
                       "amount": pd.array([f[2] for f in flows], dtype="Int64"),
                       "date": pd.to_datetime([f[3] for f in flows])})
    assert _idle_found(ff) == _idle_by_loop(ff, pd.Timestamp("2023-09-30"), 90)
    assert _idle_found(ff, pay_date=None) == {}                  # no pay date in the data: nothing judged idle


def test_rc02_bank_return_mismatches(tmp_path):
    t = base()
    t["payments"].append(payment(HEAD, "2023-04"))
    p = t["payments"]
    t["bank_returns"] = [
        {"payment_id": p[0]["payment_id"], "account_no": p[0]["account_no"], "credited_amount": "100.00",
         "credit_date": "2023-01-15", "status": "success"},
        {"payment_id": p[1]["payment_id"], "account_no": p[1]["account_no"], "credited_amount": "90.00",
         "credit_date": "2023-02-15", "status": "success"},
        {"payment_id": p[2]["payment_id"], "account_no": "6222029999999999999", "credited_amount": "100.00",
         "credit_date": "2023-03-15", "status": "success"},
    ]
    assert run(tmp_path, t, "RC02") == pay_ids(t, 1, 2, 3)


def test_rc03_paid_without_approval_for_person_item_or_period(tmp_path):
    t = base()
    t["beneficiaries"] = [approval(HEAD, end="2023-02")]
    t["payments"].append(payment(STRANGER, "2023-01"))
    assert run(tmp_path, t, "RC03") == pay_ids(t, 2, 3)


def test_rc03_quarterly_period_within_approval(tmp_path):
    t = base()
    t["policy_items"] = [item(frequency="quarterly")]
    t["beneficiaries"] = [approval(HEAD, start="2023-02")]        # approved from the quarter's second month
    t["payments"] = [payment(HEAD, "2023-01"), payment(HEAD, "2023-04")]
    assert run(tmp_path, t, "RC03") == []


def test_rc04_unpaid_periods_only_when_ended(tmp_path):
    t = base()          # approved all year, paid Jan-Mar; last pay date 15 March
    assert run(tmp_path / "a", t, "RC04") == []
    del t["payments"][1]   # February unpaid
    assert run(tmp_path / "b", t, "RC04") == [f"{HEAD}|A01|2023-02"]


def test_rc04_failed_line_alone_is_not_paid(tmp_path):
    t = base()
    t["payments"][1]["status"] = "failed"
    assert run(tmp_path, t, "RC04") == [f"{HEAD}|A01|2023-02"]


def test_rc05_amount_against_approval_standard_and_maximum(tmp_path):
    t = base()
    t["policy_items"].append(item("V01", standard="", max_amount="500.00"))
    t["beneficiaries"].append(approval(SPOUSE, "V01", amount="600.00"))
    t["payments"][1]["amount"] = "120.00"
    t["payments"].append(payment(STRANGER, code="A01", amount="100.00"))     # no approval, standard amount
    t["payments"].append(payment(SPOUSE, code="V01", amount="600.00"))       # as approved, above the maximum
    assert run(tmp_path / "a", t, "RC05") == pay_ids(t, 1, 4)
    assert run(tmp_path / "b", t, "RC05", tolerance=2000) == pay_ids(t, 4)


def test_approval_match_lists_lines_without_approval_and_lines_off_the_nearest_amount(tmp_path):
    from audit_lib.checks import Context
    from audit_lib.package import load_package
    from helpers import write_package

    t = base()                                   # HEAD approved at 100.00: Jan-Mar paid 100.00
    t["payments"][1]["amount"] = "115.00"        # Feb: 115.00 against approvals of 100.00 and 120.00
    t["beneficiaries"].append(approval(HEAD, amount="120.00", start="2023-02", end="2023-02"))
    t["payments"].append(payment(HEAD, period="2023-02", amount="120.00"))      # equal to one of the two: neither
    t["payments"].append(payment(STRANGER, amount="100.00"))                     # no approval at all
    t["payments"].append(payment(STRANGER, period="2023-02", amount="100.00", status="failed"))   # not a success
    t["beneficiaries"].append(approval(HEAD, amount="120.00", start="2023-03", end="2023-03"))
    t["payments"].append(payment(HEAD, period="2023-03", amount="110.00"))      # as near 100.00 as 120.00: the lower
    pkg = load_package(write_package(tmp_path / "p", t))
    am = Context.from_package(pkg).approval_match
    ids = [r["payment_id"] for r in t["payments"]]
    assert am["unapproved"]["payment_id"].tolist() == [ids[4]]
    d = am["differs"]
    assert d["payment_id"].tolist() == [ids[1], ids[6]]
    assert d["diff"].tolist() == [500, 1000] and d["expected"].tolist() == [12000, 10000]   # fen: 5.00 from 120.00
    assert str(d["diff"].dtype) == "int64" and str(d["expected"].dtype) == "int64"


def test_rc06_disclosure_matched_on_masked_id_and_name(tmp_path):
    t = base()
    masked = HEAD[:6] + "********" + HEAD[-4:]
    t["disclosures"] = [
        {"item_code": "A01", "period": "2023-01", "person_id": masked, "name": "张*国", "amount": "100.00"},
        {"item_code": "A01", "period": "2023-02", "person_id": masked, "name": "张*", "amount": "90.00"},
        {"item_code": "A01", "period": "2023-03", "person_id": STRANGER, "name": "赵强", "amount": "100.00"},
    ]
    keys = run(tmp_path, t, "RC06")
    s_masked = STRANGER[:6] + "********" + STRANGER[-4:]
    assert keys == sorted([f"A01|2023-02|{masked}", f"A01|2023-03|{masked}", f"A01|2023-03|{s_masked}"])


def test_rc07_reissue_within_days_following_chains(tmp_path):
    t = base()
    p = t["payments"]
    p[0]["status"] = "failed"
    p.append(payment(HEAD, "2023-01", pay_date="2023-01-25", status="failed", reissue_of=p[0]["payment_id"]))
    p.append(payment(HEAD, "2023-01", pay_date="2023-02-05", reissue_of=p[3]["payment_id"]))
    p[1]["status"] = "failed"                                  # never re-paid
    p.append(payment(HEAD, "2023-06", pay_date="2023-06-15"))    # moves the last pay date on
    assert run(tmp_path / "a", t, "RC07") == pay_ids(t, 1)
    assert run(tmp_path / "b", t, "RC07", reissue_days=10) == pay_ids(t, 0, 1, 3)   # 20 and 11 days


def test_rc07_not_judged_before_the_days_have_passed(tmp_path):
    t = base()
    t["payments"][2]["status"] = "failed"        # the last line: 30 days have not passed in the data
    assert run(tmp_path, t, "RC07") == []


# ------------------------------------------------------------------------------------------ compliance

def test_cp01_cp02_card_share_against_year_target(tmp_path):
    t = base()
    t["payments"][0].update(channel="passbook", account="6013000000000000001", account_holder_id=HEAD)
    assert run(tmp_path / "a", t, "CP01") == ["A01"]
    assert run(tmp_path / "b", t, "CP02") == pay_ids(t, 0)
    assert run(tmp_path / "c", t, "CP01", year=2022) == ["A01"]           # 2/3 < 0.90
    t["payments"] += [payment(HEAD, f"2023-{m:02d}") for m in range(4, 13)]
    assert run(tmp_path / "d", t, "CP01", year=2022) == []                # 11/12 >= 0.90


def test_cp03_off_list_and_paid_for_a_period_before_the_policy_took_effect(tmp_path):
    t = base()
    t["policy_items"][0]["published_date"] = "2023-02-28"      # the first list came after payments began: allowed
    t["payments"].append(payment(HEAD, code="ZZ9"))
    assert run(tmp_path, t, "CP03") == ["ZZ9"]
    t["policy_items"].append(item("A02", policy_effective_date="2023-03-01"))
    t["beneficiaries"].append(approval(HEAD, "A02"))
    t["payments"] += [payment(HEAD, "2023-02", code="A02"), payment(HEAD, "2023-03", code="A02")]
    assert run(tmp_path / "b", t, "CP03") == ["A02", "ZZ9"]      # February ends before 1 March


def test_cp04_judges_adjustments_not_the_first_list(tmp_path):
    t = base()
    t["policy_items"] = [
        item("A00", policy_effective_date="1999-10-01", published_date="2023-02-28"),  # 低保: in force long before
        item("A01", policy_effective_date="2023-03-01", published_date="2023-03-11"),  # 10 days: in time
        item("A02", policy_effective_date="2023-03-01", published_date="2023-03-12"),  # 11 days: late
        item("A03", policy_effective_date="2023-01-15", published_date="2023-06-01")]  # before the first list
    o = outcome(tmp_path, t, "CP04")
    assert o.keys == ["A02"] and o.metrics["in_force_before_first_list"] == 2
    assert run(tmp_path / "b", t, "CP04", publish_days=11) == []


def test_cp02_card_from_a_switch_over_month(tmp_path):
    t = base()
    for p in t["payments"]:
        p["channel"] = "存折"
    assert len(run(tmp_path, t, "CP02")) == 3
    keys = run(tmp_path / "b", t, "CP02", card_from="2023-03-01")
    assert keys == [t["payments"][2]["payment_id"]]


def test_cp05_someone_elses_account_unless_guardianship_in_force(tmp_path):
    t = base()
    t["beneficiaries"].append(approval(CHILD, start="2022-01"))
    t["payments"].append(payment(CHILD, "2023-01", account=ACC[HEAD]))
    t["payments"].append(payment(CHILD, "2023-05", account=ACC[HEAD]))
    t["guardianships"] = [{"person_id": CHILD, "guardian_id": HEAD, "account_no": ACC[HEAD], "basis": "指定监护",
                           "valid_from": "2022-01-01", "valid_to": "2023-03-31"}]
    assert run(tmp_path / "a", t, "CP05") == pay_ids(t, 4)              # after the guardianship ended
    t["guardianships"][0]["valid_to"] = ""
    assert run(tmp_path / "b", t, "CP05") == []                           # a registered guardian is right
    t["payments"].append(payment(ELDER, "2023-01", account=ACC[STRANGER], account_holder_id=STRANGER))
    assert run(tmp_path / "c", t, "CP05") == pay_ids(t, 5)


def test_cp06_household_item_to_head_is_right_to_spouse_is_not(tmp_path):
    t = base()
    t["policy_items"] = [item(unit="household")]
    t["beneficiaries"].append(approval(SPOUSE, household="H1", head=False))
    t["households"] = [{"person_id": HEAD, "name": "张建国", "household_id": "H1", "relation": "本人"},
                       {"person_id": SPOUSE, "name": "李秀英", "household_id": "H1", "relation": "配偶"}]
    t["payments"].append(payment(SPOUSE, "2023-01"))                       # member named, paid to own card
    t["payments"].append(payment(HEAD, "2023-04", account=ACC[SPOUSE]))     # head named, paid to spouse
    t["payments"].append(payment(SPOUSE, "2023-05", account=ACC[HEAD]))     # member named, paid to head: right
    assert run(tmp_path, t, "CP06") == pay_ids(t, 3, 4)


def test_cp07_two_accounts_but_a_replaced_card_is_not_a_second_card(tmp_path):
    t = base()
    new = "6228480000000000099"
    t["cards"] += [card(HEAD, status="挂失", status_date="2023-02-20"), card(HEAD, account=new,
                                                                           status_date="2023-02-20")]
    t["payments"][2]["account_no"] = new
    assert run(tmp_path / "a", t, "CP07") == []
    t["payments"].append(payment(HEAD, "2023-04"))          # back on the lost card: two cards in use
    assert run(tmp_path / "b", t, "CP07") == [HEAD]
    t = base()
    t["cards"].append(card(HEAD, account=new))              # a second card in force at the same time
    t["payments"][1]["account_no"] = new
    assert run(tmp_path / "c", t, "CP07") == [HEAD]


def test_cp08_many_people_one_account(tmp_path):
    t = base()
    t["households"] = [{"person_id": HEAD, "name": "", "household_id": "H1", "relation": "本人"},
                       {"person_id": SPOUSE, "name": "", "household_id": "H1", "relation": "配偶"},
                       {"person_id": CHILD, "name": "", "household_id": "H1", "relation": "子女"},
                       {"person_id": ELDER, "name": "", "household_id": "H2", "relation": "本人"},
                       {"person_id": STRANGER, "name": "", "household_id": "H3", "relation": "本人"}]
    t["payments"].append(payment(SPOUSE, "2023-01", account=ACC[HEAD]))    # one household: fine
    assert run(tmp_path / "a", t, "CP08") == []
    t["guardianships"] = [{"person_id": ELDER, "guardian_id": HEAD, "account_no": ACC[HEAD], "basis": "x",
                           "valid_from": "2020-01-01"}]
    t["payments"].append(payment(ELDER, "2023-01", account=ACC[HEAD]))      # under guardianship: fine
    assert run(tmp_path / "b", t, "CP08") == []
    t["payments"].append(payment(STRANGER, "2023-01", account=ACC[HEAD]))   # a stranger: two households
    assert run(tmp_path / "c", t, "CP08") == [ACC[HEAD]]
    assert run(tmp_path / "d", t, "CP08", min_people=3) == []


def test_cp09_fee_above_zero(tmp_path):
    t = base()
    t["bank_returns"] = [{"payment_id": p["payment_id"], "account_no": p["account_no"], "credited_amount": "100.00",
                          "credit_date": p["pay_date"], "status": "success", "fee": f}
                         for p, f in zip(t["payments"], ["", "0", "2.00"])]
    assert run(tmp_path, t, "CP09") == pay_ids(t, 2)


def test_cp10_paid_long_after_the_period_by_frequency(tmp_path):
    t = base()
    t["policy_items"].append(item("Q01", frequency="quarterly"))
    t["payments"][0]["pay_date"] = "2023-03-02"          # January + 30 days = 2 March: not late
    t["payments"][1]["pay_date"] = "2023-03-31"          # February ends 28 Feb: 31 days late
    t["payments"].append(payment(HEAD, "2023-01", code="Q01", pay_date="2023-04-25"))   # quarter ends 31 Mar
    assert run(tmp_path / "a", t, "CP10") == pay_ids(t, 1)
    assert run(tmp_path / "b", t, "CP10", grace_days=20) == pay_ids(t, 0, 1, 3)


def test_cp11_card_status_in_force_at_pay_date(tmp_path):
    t = base()
    t["cards"].append(card(HEAD, status="挂失", status_date="2023-02-20"))
    t["payments"][1]["status"] = "failed"
    t["payments"][1]["pay_date"] = "2023-02-25"             # a failed line to a lost card: the bank did its job
    assert run(tmp_path, t, "CP11") == pay_ids(t, 2)


def test_cp12_invalid_identity_numbers(tmp_path):
    t = base()
    bad = HEAD[:17] + ("0" if HEAD[17] != "0" else "1")
    t["payments"].append(payment(HEAD, "2023-04", person_id=bad))
    assert run(tmp_path, t, "CP12") == [bad]


# ------------------------------------------------------------------------------------------ eligibility

def test_el01_after_death_month_but_not_same_month(tmp_path):
    t = base()
    t["deaths"] = [{"person_id": HEAD, "name": "张建国", "death_date": "2023-02-10", "source": "公安"},
                   {"person_id": HEAD, "name": "张建国", "death_date": "2023-02-18", "source": "民政"}]
    assert run(tmp_path, t, "EL01") == pay_ids(t, 2)


def test_el02_public_employee_during_period(tmp_path):
    t = base()
    t["policy_items"][0]["means_tested"] = "是"
    t["public_employees"] = [{"person_id": HEAD, "name": "", "employer": "某局", "start_date": "2023-02-28"},
                             {"person_id": SPOUSE, "name": "", "employer": "某局", "start_date": "2000-01-01",
                              "end_date": "2022-12-31"}]
    t["payments"].append(payment(SPOUSE, "2023-01"))
    assert run(tmp_path, t, "EL02") == pay_ids(t, 1, 2)


def test_el03_cadre_of_own_community_in_household(tmp_path):
    t = base()
    t["beneficiaries"].append(approval(ELDER, household="H2", community="长虹西里社区"))
    t["households"] = [{"person_id": HEAD, "name": "", "household_id": "H1", "relation": "本人"},
                       {"person_id": SPOUSE, "name": "", "household_id": "H1", "relation": "配偶"},
                       {"person_id": ELDER, "name": "", "household_id": "H2", "relation": "本人"},
                       {"person_id": STRANGER, "name": "", "household_id": "H2", "relation": "子女"}]
    t["cadres"] = [{"person_id": SPOUSE, "name": "", "community": "长虹东里社区", "position": "主任"},
                   {"person_id": STRANGER, "name": "", "community": "长虹东里社区", "position": "委员"}]
    assert run(tmp_path, t, "EL03") == [HEAD]        # the elder's cadre serves another community


def test_el04_duplicates_but_reissue_is_not(tmp_path):
    t = base()
    p = t["payments"]
    p[0]["status"] = "failed"
    p.append(payment(HEAD, "2023-01", pay_date="2023-01-20", reissue_of=p[0]["payment_id"]))
    p.append(payment(HEAD, "2023-02", pay_date="2023-02-16"))
    assert run(tmp_path, t, "EL04") == pay_ids(t, 4)


def test_el05_exclusive_group_same_period(tmp_path):
    t = base()
    t["policy_items"] = [item("A01", exclusive_group="SA"), item("A02", exclusive_group="SA"), item("A03")]
    t["payments"] += [payment(HEAD, "2023-02", code="A02"), payment(HEAD, "2023-02", code="A03")]
    assert run(tmp_path, t, "EL05") == [f"{HEAD}|SA|2023-02"]


def test_el06_age_on_first_day_of_period(tmp_path):
    born = pid("12010420050315001")       # 18 on 15 March 2023
    t = base()
    t["policy_items"].append(item("K01", max_age="17"))
    t["payments"] += [payment(born, "2023-03", code="K01", account=ACC[HEAD]),
                      payment(born, "2023-04", code="K01", account=ACC[HEAD])]
    assert run(tmp_path, t, "EL06") == pay_ids(t, 4)


def test_el07_needs_several_districts(tmp_path):
    o = outcome(tmp_path, base(), "EL07")
    assert o.status == "skipped" and "several districts" in o.reason


# ------------------------------------------------------------------------------------------ statistics

def _varying(n, amounts, code="V01", period="2023-01"):
    t = base()
    t["policy_items"].append(item(code, standard=""))
    people = [pid(f"1201041980{i:07d}") for i in range(n)]
    t["payments"] += [payment(p, period, code=code, amount=a, account="6222020000000000011")
                      for p, a in zip(people, amounts)]
    return t


def test_st01_benford_not_applicable_when_small_or_narrow(tmp_path):
    o = outcome(tmp_path / "a", _varying(50, [f"{100 + i}.00" for i in range(50)]), "ST01")
    assert o.status == "skipped" and "not applicable" in o.reason


def test_st01_benford_flags_made_up_first_digits(tmp_path):
    import numpy as np
    rng = np.random.default_rng(0)
    good = [f"{int(x)}.00" for x in 10 ** rng.uniform(2, 5, 1200)]
    fake = [f"{int(x)}.00" for x in rng.uniform(4, 6, 1200) * 10 ** rng.integers(2, 5, 1200)]
    assert run(tmp_path / "a", _varying(1200, good), "ST01") == []
    o = outcome(tmp_path / "b", _varying(1200, fake), "ST01")
    assert o.keys == ["V01"] and o.metrics["V01"]["mad"] > 0.015 and o.metrics["V01"]["p_value"] < 0.001


def test_st02_robust_outlier_within_item_and_period(tmp_path):
    amounts = [f"{1000 + 10 * (i % 7)}.00" for i in range(45)]
    amounts[5] = "12000.00"
    t = _varying(45, amounts)
    keys = run(tmp_path / "a", t, "ST02")
    assert keys == [t["payments"][3 + 5]["payment_id"]]
    assert run(tmp_path / "b", t, "ST02", min_group=50) == []


def test_st03_abnormal_month(tmp_path):
    t = base()
    people = [pid(f"1201041980{i:07d}") for i in range(60)]
    t["payments"] = [payment(p, f"2023-{m:02d}", account=ACC[HEAD]) for m in range(1, 7) for p in people[:30]]
    t["payments"] += [payment(p, "2023-04", account=ACC[HEAD]) for p in people[30:46]]     # +16 of 30: +53%
    assert run(tmp_path, t, "ST03") == ["A01|2023-04"]


def test_st04_sample_is_reproducible_and_info(tmp_path):
    t = base()
    t["payments"] += [payment(HEAD, f"2023-{m:02d}", amount=f"{m * 37}.00") for m in range(4, 13)]
    a = outcome(tmp_path / "a", t, "ST04", size=5)
    b = outcome(tmp_path / "b", t, "ST04", size=5)
    assert a.status == "info" and a.keys == b.keys and 1 <= len(a.keys) <= 5
    c = outcome(tmp_path / "c", t, "ST04", size=5, seed=9)
    assert c.metrics["start_fen"] != a.metrics["start_fen"]


# ------------------------------------------------------------------------------------------ skipped

@pytest.mark.parametrize("check_id,table", [("EL01", "deaths"), ("RC02", "bank_returns"), ("RC01", "fund_flows"),
                                            ("RC06", "disclosures"), ("EL03", "cadres")])
def test_missing_table_means_skipped_never_clear(tmp_path, check_id, table):
    o = outcome(tmp_path, base(), check_id)
    assert o.status == "skipped" and table in o.reason


def test_optional_columns_absent_and_empty_registries(tmp_path):
    """A policy list without the optional columns, cadres out of office: checks are clear, never errors."""
    t = base()
    t["policy_items"] = [{k: v for k, v in item().items() if k in ("item_code", "item_name", "department",
                                                                    "in_one_card", "unit", "frequency")}]
    t["cadres"] = [{"person_id": SPOUSE, "name": "", "community": "长虹东里社区", "position": "主任",
                    "start_date": "2010-01-01", "end_date": "2015-12-31"}]
    for cid in ("EL05", "EL06", "EL02", "EL03", "CP04", "ST01", "ST02", "ST03", "RC05"):
        o = outcome(tmp_path / cid, t, cid)
        assert o.status in ("clear", "skipped") and o.keys == [], (cid, o.status, o.reason)


def test_lookup_takes_the_first_of_repeated_keys_and_the_default_where_none():
    """context.lookup is s.map(dict(zip(keys, values))) with the first of repeated keys winning: checked
    against that, for text keys with repeats, missing ids, a missing key, and keys that are not text."""
    import numpy as np
    import pandas as pd

    from audit_lib.checks.context import lookup

    keys = pd.Series(["b", "a", "b", "c", None, "a"], dtype="str")
    values = pd.Series([1, 2, 3, 4, 5, 6], index=[10, 11, 12, 13, 14, 15])
    ids = pd.Series(["a", "b", "c", "d", None, "a"], dtype="str", index=[7, 6, 5, 4, 3, 2])
    got = lookup(ids, keys, values, default=-1)
    first = {}
    for k, v in zip(keys, values):
        first.setdefault(None if pd.isna(k) else k, v)
    assert got.index.tolist() == ids.index.tolist()
    assert got.tolist() == [first.get(None if pd.isna(i) else i, -1) for i in ids] == [2, 1, 4, -1, 5, 2]
    # keys that are not text are matched as their text; nothing to look in: the default everywhere
    got = lookup(pd.Series(["1", "3"], dtype="str"), pd.Index([1, 2, 1]).to_series(), ["x", "y", "z"])
    assert got.iloc[0] == "x" and pd.isna(got.iloc[1])
    assert lookup(ids, pd.Series([], dtype="str"), pd.Series([], dtype=object), default="?").tolist() == ["?"] * 6
    assert np.array_equal(lookup(ids, keys, values).isna().to_numpy(), [False, False, False, True, False, False])


def test_household_of_few_people_and_of_many_is_the_registrys_else_the_approvals():
    """Context.household: the registry's household where it has the person, else the approval's; asked about a
    few people (looked up among their own rows) or about many (in the whole registry), the same answer."""
    import pandas as pd

    from audit_lib.checks.context import Context

    n = 40
    reg = pd.DataFrame({"person_id": pd.Series([f"P{i}" for i in range(n)], dtype="str"),
                        "household_id": pd.Series([f"H{i // 3}" for i in range(n)], dtype="str")})
    ben = pd.DataFrame({"person_id": pd.Series(["P1", "Q1", "Q2", None], dtype="str"),
                        "household_id": pd.Series(["X9", "H100", None, "H101"], dtype="str")})
    ctx = Context({"households": reg, "beneficiaries": ben})
    truth = {"Q1": "H100", **{f"P{i}": f"H{i // 3}" for i in range(n)}}      # P1: the registry's H0, not X9
    for ids in (["P1", "Q1", "Q2", None, "Z"], [f"P{i}" for i in range(n)] + ["Q1", "Q2", "Z"]):
        s = pd.Series(ids, dtype="str", index=range(100, 100 + len(ids)))
        got = ctx.household(s)
        assert got.index.tolist() == s.index.tolist()
        assert [None if pd.isna(v) else v for v in got] == [truth.get(i) for i in ids], ids
