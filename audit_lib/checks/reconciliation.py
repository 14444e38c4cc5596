"""Reconciliation 对账: money in against money out, platform against bank, approvals against payments,
disclosures against payments, failures against reissues."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import basis as B
from .context import Context, isin, lookup, month_text
from .registry import Param, Result, check, keyed as _keyed


@check("RC01", "资金拨付与发放不平衡", "reconciliation", "medium",
       needs=("fund_flows", "bank_returns", "payments"), key="item_code", params={"idle_days": Param(90, min=0, max=3650, zh="资金闲置天数（超过即为闲置）")},
       basis=B.FUNDS,
       description="Items where money disbursed to the bank differs from successful credits plus money returned, "
                   "or where allocated money lies idle more than idle_days.")
def rc01(t: Context, idle_days: int = 90):
    ff = t.fund_flows
    credited = t.sql(f"""select p.item_code, sum(c.credited) as credited
                         from {t.credits} c join pay p using (payment_id) where c.credited is not null group by 1""",
                     pay=t.payments[["payment_id", "item_code"]]).set_index("item_code")["credited"]
    by = ff.groupby(["item_code", "flow_type"])["amount"].sum().unstack(fill_value=0)
    for col in ("allocated", "disbursed", "returned"):
        if col not in by:
            by[col] = 0
    by["credited"] = credited.reindex(by.index).fillna(0).astype("int64")
    by["difference"] = by["disbursed"] - by["credited"] - by["returned"]
    rows = by.loc[by["difference"] != 0, ["disbursed", "credited", "returned", "difference"]].copy()
    rows["problem"] = "disbursed ≠ credited + returned"
    rows["amount_fen"] = rows["difference"].abs()
    # Idle money: everything allocated up to d against everything disbursed net of returns up to d + idle_days.
    # Per item, in date order: the money allocated up to each allocation date, and the last net total disbursed
    # on or before its horizon (none: 0), found for all items at once (an as-of join by item).
    last = t.last_pay_date
    net = ff[ff["flow_type"].isin(["disbursed", "returned"])]
    net = net.assign(signed=np.where(net["flow_type"] == "disbursed", net["amount"], -net["amount"]))
    alloc = ff[ff["flow_type"] == "allocated"]
    cum_alloc = _running_total(alloc, "amount", "allocation_date", "allocated_to_date")
    cum_net = _running_total(net, "signed", "horizon", "net_disbursed_by_horizon")
    due = cum_alloc.assign(horizon=cum_alloc["allocation_date"] + pd.Timedelta(days=int(idle_days)))
    cum_net = cum_net.astype({"horizon": due["horizon"].dtype})      # a date plus whole days: as fine or finer
    due = due[due["horizon"] <= last] if not pd.isna(last) else due.iloc[:0]
    if len(due) and len(cum_net):       # (pandas' as-of join fails on text keys where either side has none)
        due = pd.merge_asof(due.reset_index().sort_values(["horizon", "index"], kind="stable"),
                            cum_net.sort_values("horizon", kind="stable"), on="horizon", by="item_code",
                            direction="backward").sort_values("index", kind="stable")
    else:
        due = due.assign(net_disbursed_by_horizon=0)
    idle = pd.DataFrame({
        "item_code": due["item_code"].to_numpy(), "allocation_date": due["allocation_date"].to_numpy(),
        "allocated_to_date": due["allocated_to_date"].astype("int64").to_numpy(),
        "net_disbursed_by_horizon": due["net_disbursed_by_horizon"].fillna(0).astype("int64").to_numpy()})
    idle["idle"] = idle["allocated_to_date"] - idle["net_disbursed_by_horizon"]
    idle = idle[idle["idle"] > 0].reset_index(drop=True)
    if len(idle):
        worst = idle.sort_values("idle", ascending=False).drop_duplicates("item_code").set_index("item_code")
        for item, r in worst.iterrows():
            if item in rows.index:
                rows.loc[item, "problem"] += "; idle money"
            else:
                rows.loc[item, ["problem", "amount_fen"]] = ["idle money", r["idle"]]
            rows.loc[item, "idle_since"] = r["allocation_date"]
            rows.loc[item, "idle_amount"] = r["idle"]
    rows = rows.reset_index().rename(columns={"index": "item_code"})
    rows["key"] = rows["item_code"]
    rows["amount_fen"] = rows["amount_fen"].astype("int64")
    return Result(rows, metrics={"items_with_credits_but_no_flows":
                                 sorted(set(credited.index.dropna()) - set(by.index))})


def _running_total(flows: pd.DataFrame, column: str, date: str, name: str) -> pd.DataFrame:
    """(item_code, ``date``, ``name``): each item's flows summed per date, then added up in date order."""
    per_day = flows.groupby(["item_code", "date"], sort=True)[column].sum()
    total = per_day.groupby(level=0, sort=False).cumsum()
    # in the flows' own dtypes, even where there are none (the as-of join wants the same on both sides)
    return pd.DataFrame({"item_code": pd.Series(per_day.index.get_level_values(0), dtype=flows["item_code"].dtype),
                         date: pd.Series(per_day.index.get_level_values(1), dtype=flows["date"].dtype),
                         name: total.to_numpy()})


@check("RC02", "平台发放与银行回盘不符", "reconciliation", "high", needs=("payments", "bank_returns"),
       basis=B.FEEDBACK,
       description="Lines the platform marks successful that the bank did not credit, credited as failed, "
                   "credited with another amount, or credited to another account.")
def rc02(t: Context):
    # The successful lines chosen by DuckDB from the payments as they are: RC02 runs while the credits table is
    # held, and need not build ``ok`` beside it (at ten million lines the two together took 13.7 GB).
    pay = t.payments[["payment_id", "account_no", "amount", "pay_date", "person_id", "item_code", "period", "status"]]
    out = t.sql(f"""
        with ok as (select * exclude (status) from pay where status = 'success')
        select o.*, c.credited, c.bank_account,
               case when c.rows is null then 'no bank credit'
                    when c.credited is null then 'bank credit failed'
                    when c.credited <> o.amount then 'credited amount differs'
                    else 'credited to another account' end as problem
        from ok o left join {t.credits} c using (payment_id)
        where c.credited is null or c.credited <> o.amount or c.bank_account <> o.account_no
        order by o.payment_id""", pay=pay)
    return _keyed(out, "payment_id")


@check("RC03", "名单外发放", "reconciliation", "high", needs=("payments", "beneficiaries"), basis=B.FALSE_CLAIM,
       description="Successful payments with no approval for that person, item and period.")
def rc03(t: Context):
    ok = t.ok
    out = ok[isin(ok["payment_id"], t.approval_match["unapproved"]["payment_id"])]
    return _keyed(out[["payment_id", "person_id", "name", "item_code", "period", "amount", "pay_date"]],
                  "payment_id")


@check("RC04", "应发未发", "reconciliation", "medium", needs=("beneficiaries", "payments"),
       key="person_id|item_code|period", basis=B.IN_FULL,
       description="Approved person, item and period with no successful payment, for periods that ended before "
                   "the data's last pay_date. The periods an approval makes payable follow the item's frequency: "
                   "every month, the quarter's first month, January, or the one-off's due month. Where approvals "
                   "overlap, the lower approved amount is the one reported.")
def rc04(t: Context):
    a = t.approvals[["person_id", "name", "item_code", "approved_amount", "a0", "a1"]].assign(
        frequency=t.item_attr(t.approvals["item_code"], "frequency", "monthly").astype(object))
    y0 = t.year * 12
    last = t.last_pay_date
    last_m = last.year * 12 + last.month - 1        # a period ends before the last pay date if its last month is earlier
    # Each approved (person, item) is numbered, and the successful lines are joined to those numbers (the few
    # approvals hashed, the lines streamed past them): whether a due month was paid is then asked of two whole
    # numbers per line. (Asked of the lines' text, at ten million lines the check took 1.7 GB over the tables.)
    # The numbers join the approvals by IS NOT DISTINCT FROM, so that an approval without a person or an item
    # stays due; a line without one pays nothing, as a join on text would have it.
    out = t.sql(f"""
        with months as (select range as m0 from range({y0}, {y0 + 12})),
        pairs as (select person_id, item_code, row_number() over () as pair
                  from (select distinct person_id, item_code from a)),
        paid as (select p.pair, o.m0 from ok o join pairs p
                 on o.person_id = p.person_id and o.item_code = p.item_code),
        due as (
            select a.*, p.pair, m.m0,
                   case a.frequency when 'quarterly' then 3 when 'annual' then 12 else 1 end as span
            from a join pairs p on a.person_id is not distinct from p.person_id
                               and a.item_code is not distinct from p.item_code
            join months m on
                case a.frequency
                    when 'one_off' then m.m0 = a.a0
                    when 'quarterly' then (m.m0 - {y0}) % 3 = 0 and m.m0 <= a.a1 and m.m0 + 2 >= a.a0
                    when 'annual' then m.m0 = {y0} and m.m0 <= a.a1 and m.m0 + 11 >= a.a0
                    else m.m0 between a.a0 and a.a1 end)
        select distinct on (person_id, item_code, m0) person_id, name, item_code, approved_amount, m0
        from due
        where m0 + span - 1 < {last_m}
          and not exists (select 1 from paid where paid.pair = due.pair and paid.m0 = due.m0)
        order by person_id, item_code, m0, approved_amount, name""", a=a, ok=t.ok[["person_id", "item_code", "m0"]])
    out["period"] = month_text(out["m0"].to_numpy())
    out["key"] = out["person_id"] + "|" + out["item_code"] + "|" + out["period"]
    out["amount_fen"] = out["approved_amount"].astype("int64")
    return out[["key", "person_id", "name", "item_code", "period", "approved_amount", "amount_fen"]]


@check("RC05", "发放金额与核定金额不符", "reconciliation", "high", needs=("payments", "beneficiaries"),
       params={"tolerance": Param(0, min=0, max=10**12, zh="金额容差（分）")}, basis=B.STANDARD,
       description="Successful payments above or below the approved amount (or the item's standard where there "
                   "is no approval), or above the item's maximum. A line equal to none of its approvals' amounts "
                   "is expected the nearest of them; of two equally near, the lower.")
def rc05(t: Context, tolerance: int = 0):
    ok = t.ok
    am = t.approval_match
    differs = am["differs"]
    differs = differs[differs["diff"] > tolerance]
    off_appr = isin(ok["payment_id"], differs["payment_id"])
    unapproved = isin(ok["payment_id"], am["unapproved"]["payment_id"])
    std = ok["standard_amount"]
    mx = ok["max_amount"]
    off_std = unapproved & std.notna() & ((ok["amount"] - std).abs() > tolerance)
    over = mx.notna() & (ok["amount"] > mx)
    flag = (off_appr | off_std | over).fillna(False).astype(bool)
    out = ok[flag][["payment_id", "person_id", "name", "item_code", "period", "amount"]].copy()
    expected = differs.set_index("payment_id")["expected"]
    out["expected"] = lookup(out["payment_id"], expected.index.to_series(), expected.reset_index(drop=True))
    out["expected"] = out["expected"].astype("Int64").fillna(std[flag].astype("Int64"))
    out["max_amount"] = mx[flag]
    out["problem"] = np.where(over[flag], "above the item's maximum",
                              np.where(off_appr[flag], "differs from approved amount", "differs from standard"))
    return _keyed(out, "payment_id")


@check("RC06", "公示与实际发放不一致", "reconciliation", "medium", needs=("disclosures", "payments"),
       key="item_code|period|masked_id", basis=B.TWO_WAY,
       description="Disclosed but not paid, paid but not disclosed, or amounts differ, matched on item, period, "
                   "masked identity number and masked name, within the item-periods the disclosures cover.")
def rc06(t: Context):
    d = t.disclosed
    ok = t.ok[["item_code", "period", "person_id", "name", "amount"]]
    out = t.sql("""
        with dis as (
            select item_code, period, masked_id, masked_name, sum(amount) as amount from d group by all),
        paid as (
            select o.item_code, o.period,
                   left(o.person_id, 6) || '********' || right(o.person_id, 4) as masked_id,
                   left(trim(coalesce(o.name, '')), 1) || '*' as masked_name, sum(o.amount) as amount
            from ok o semi join (select distinct item_code, period from d) c using (item_code, period)
            group by all)
        select coalesce(p.item_code, s.item_code) as item_code, coalesce(p.period, s.period) as period,
               coalesce(p.masked_id, s.masked_id) as masked_id, p.amount as amount_paid,
               s.amount as amount_disclosed,
               case when s.amount is null then 'paid but not disclosed'
                    when p.amount is null then 'disclosed but not paid' else 'amounts differ' end as problem
        from paid p full join dis s using (item_code, period, masked_id, masked_name)
        where p.amount is distinct from s.amount""", d=d, ok=ok)
    out["key"] = out["item_code"] + "|" + out["period"] + "|" + out["masked_id"]
    out["amount_fen"] = (out["amount_paid"].fillna(0) - out["amount_disclosed"].fillna(0)).abs().astype("int64")
    out = out.groupby("key", as_index=False).agg(
        item_code=("item_code", "first"), period=("period", "first"), masked_id=("masked_id", "first"),
        amount_paid=("amount_paid", "sum"), amount_disclosed=("amount_disclosed", "sum"),
        problem=("problem", "first"), amount_fen=("amount_fen", "sum"))
    covered = len(d[["item_code", "period"]].drop_duplicates())
    return Result(out, metrics={"item_periods_disclosed": covered})


@check("RC07", "发放失败未及时补发", "reconciliation", "high", needs=("payments",), params={"reissue_days": Param(30, min=0, max=3650, zh="补发时限（天）")},
       basis=B.REISSUE,
       description="Failed lines with no successful reissue (following reissue_of, through failed reissues) within "
                   "reissue_days; lines whose reissue_days have not yet passed at the data's last pay_date are "
                   "not judged.")
def rc07(t: Context, reissue_days: int = 30):
    p = t.payments
    failed = p[p["status"] == "failed"][["payment_id", "person_id", "name", "item_code", "period", "amount",
                                         "pay_date"]]
    children = p[p["reissue_of"].notna()][["payment_id", "reissue_of", "status", "pay_date"]]
    resolved = pd.Series(pd.NaT, index=failed["payment_id"].to_numpy(), dtype="datetime64[ns]")
    frontier = pd.DataFrame({"root": failed["payment_id"].to_numpy(), "node": failed["payment_id"].to_numpy()})
    for _ in range(10):
        if frontier.empty:
            break
        nxt = frontier.merge(children, left_on="node", right_on="reissue_of", how="inner")
        good = nxt[nxt["status"] == "success"].groupby("root")["pay_date"].min()
        if len(good):
            cur = resolved.reindex(good.index)
            resolved.loc[good.index] = good.where(cur.isna() | (good < cur), cur)
        frontier = pd.DataFrame({"root": nxt.loc[nxt["status"] != "success", "root"].to_numpy(),
                                 "node": nxt.loc[nxt["status"] != "success", "payment_id"].to_numpy()})
    f = failed.assign(reissued_on=resolved.reindex(failed["payment_id"].to_numpy()).to_numpy())
    limit = f["pay_date"] + pd.Timedelta(days=int(reissue_days))
    late = f["reissued_on"].isna() | (f["reissued_on"] > limit)
    judged = limit <= t.last_pay_date
    out = f[late & judged].copy()
    out["problem"] = np.where(out["reissued_on"].isna(), "no successful reissue", "reissued late")
    return Result(_keyed(out, "payment_id"),
                  metrics={"failed_lines": int(len(f)), "not_yet_due": int((late & ~judged).sum())})


@check("RC08", "回盘与发放状态不符", "reconciliation", "high", needs=("payments", "bank_returns"), basis=B.FEEDBACK,
       description="Payment lines the platform marks failed while the bank's return says credited (a second "
                   "payment that EL04 cannot see, since a re-issue of a failed line is not a duplicate); and bank "
                   "returns whose payment_id is not among the payment lines (money paid outside the platform).")
def rc08(t: Context):
    pay = t.payments[["payment_id", "person_id", "name", "item_code", "period", "account_no", "amount", "status"]]
    # The shared credits table is read in place twice, and only the failed lines are joined to it. (Named once as
    # a common table expression, DuckDB copied the whole of it first: at ten million lines the check took 2.4 GB
    # over the tables, now 1.3 GB.)
    out = t.sql(f"""
        select p.payment_id, p.person_id, p.name, p.item_code, p.period, p.account_no, c.any_account as bank_account,
               p.amount, c.credited_pos as credited, c.credit_date, 'platform failed, bank credited' as problem,
               p.amount as amount_fen
        from (select * from pay where status = 'failed') p join {t.credits} c using (payment_id)
        where c.credited_pos > 0
        union all
        select c.payment_id, null, null, null, null, null, c.any_account, null, c.credited_pos, c.credit_date,
               'bank return for no payment line', coalesce(c.credited_pos, 0)
        from {t.credits} c anti join pay p using (payment_id)
        order by 1""", pay=pay)
    return _keyed(out, "payment_id", amount="amount_fen")


@check("RC09", "先发放后公示", "reconciliation", "low", needs=("payments", "disclosures", "policy_items"),
       basis=B.NOTICE_FIRST,
       description="For items whose policy_items.disclose_before_pay is true, successful payments whose "
                   "disclosure (matched as in RC06) was published after the pay_date; a line with no disclosure "
                   "at all is RC06's. Without the column the check is skipped.")
def rc09(t: Context):
    it = t.policy_items
    if "disclose_before_pay" not in it or it["disclose_before_pay"].isna().all():
        return Result(status="skipped", reason="policy_items.disclose_before_pay (先公示后发放) not provided")
    items = it.loc[it["disclose_before_pay"].fillna(False).astype(bool), "item_code"]
    ok = t.ok[["payment_id", "person_id", "name", "item_code", "period", "amount", "pay_date"]]
    ok = ok[isin(ok["item_code"], items).to_numpy()]
    out = t.sql("""
        with first as (select item_code, period, masked_id, masked_name, min(published_date) as published_date
                       from d group by all)
        select o.payment_id, o.person_id, o.name, o.item_code, o.period, o.amount, o.pay_date, f.published_date,
               datediff('day', o.pay_date, f.published_date) as days
        from ok o join first f on f.item_code = o.item_code and f.period = o.period
             and f.masked_id = left(o.person_id, 6) || '********' || right(o.person_id, 4)
             and f.masked_name = left(trim(coalesce(o.name, '')), 1) || '*'
        where f.published_date > o.pay_date
        order by o.payment_id""", ok=ok, d=t.disclosed)
    return Result(_keyed(out, "payment_id"), metrics={"items_disclosed_first": int(len(items))})
