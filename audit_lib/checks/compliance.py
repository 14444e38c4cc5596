"""Compliance 合规: the card as the one carrier, the published list, the right account, no fees, no delay,
valid identities."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..package.identity import validate
from . import basis as B
from .context import Context, isin
from .registry import Param, Result, check, keyed as _keyed

BAD_CARD = ("inactive", "lost", "cancelled", "not_issued")


def target_for(year: int, targets: dict) -> Fraction | None:
    """The card-coverage target in force for a year: the latest target year on or before it."""
    t = {int(k): Fraction(str(v)) for k, v in targets.items()}
    past = [y for y in t if y <= year]
    return t[max(past)] if past else None


@check("CP01", "一卡通发放率未达标", "compliance", "low", needs=("payments", "policy_items"), key="item_code",
       params={"targets": Param({2021: 0.70, 2022: 0.90, 2023: 1.00}, min=0, max=1)}, basis=B.COVERAGE,
       description="In-one-card items whose share of successful amount paid through the card is below the year's "
                   "target.")
def cp01(t: Context, targets: dict | None = None):
    target = target_for(t.year, targets or {2021: 0.70, 2022: 0.90, 2023: 1.00})
    if target is None:
        return Result(status="skipped", reason=f"no card-coverage target for {t.year}")
    s = t.sql("""select item_code, sum(amount) as total, sum(amount) filter (where channel = 'card') as card
                 from ok where in_one_card group by 1 order by 1""",
              ok=t.ok[["item_code", "amount", "channel", "in_one_card"]])
    s["card"] = s["card"].fillna(0).astype("int64")
    s["total"] = s["total"].astype("int64")
    below = s["card"] * target.denominator < s["total"] * target.numerator
    out = s[below].copy()
    out["share"] = (out["card"] / out["total"]).round(6)
    out["target"] = float(target)
    out["key"] = out["item_code"]
    out["amount_fen"] = (out["total"] - out["card"]).astype("int64")
    total = int(s["total"].sum())
    return Result(out, metrics={"target": float(target),
                                "overall_share": float(s["card"].sum() / total) if total else None})


@check("CP02", "未通过社保卡发放", "compliance", "medium", needs=("payments", "policy_items"), basis=B.OWN_CARD,
       description="Successful lines of in-one-card items paid through another channel.")
def cp02(t: Context):
    ok = t.ok[["payment_id", "person_id", "name", "item_code", "period", "channel", "amount", "in_one_card"]]
    out = ok[ok["in_one_card"].to_numpy() & (ok["channel"] != "card").to_numpy()]
    return _keyed(out.drop(columns="in_one_card"), "payment_id")


@check("CP03", "清单外项目发放", "compliance", "low", needs=("payments", "policy_items"), key="item_code",
       basis=B.LIST, description="Item codes paid that are not on the policy list, or paid before the item was "
                                 "published.")
def cp03(t: Context):
    ok = t.ok
    g = ok.groupby("item_code").agg(first_paid=("pay_date", "min"), lines=("payment_id", "size"),
                                    amount_fen=("amount", "sum"))
    listed = g.index.isin(t.items.index)
    pub = pd.Series(g.index.map(t.items["published_date"]) if len(t.items) else pd.NaT, index=g.index)
    early = listed & pub.notna().to_numpy() & (g["first_paid"] < pub).to_numpy()
    out = g[~listed | early].copy()
    out["problem"] = np.where(~out.index.isin(t.items.index), "not on the policy list", "paid before published")
    out["published_date"] = pub[out.index]
    out = out.reset_index()
    out["key"] = out["item_code"]
    return out


@check("CP04", "政策清单调整公开超时", "compliance", "low", needs=("policy_items",), key="item_code",
       params={"publish_days": Param(10, min=0, max=3650)}, basis=B.PUBLISH_10,
       description="Items published more than publish_days natural days after the policy took effect.")
def cp04(t: Context, publish_days: int = 10):
    it = t.policy_items
    days = (it["published_date"] - it["policy_effective_date"]).dt.days
    out = it[days > publish_days].assign(days=days[days > publish_days])
    return _keyed(out[["item_code", "item_name", "policy_effective_date", "published_date", "days"]],
                  "item_code", amount=None)


@check("CP05", "收款账户非本人", "compliance", "high", needs=("payments", "cards"), basis=B.OWN_CARD + "；" + B.GUARDIAN,
       description="Personal items credited to an account whose holder is not the beneficiary, without a "
                   "guardianship in force.")
def cp05(t: Context):
    cols = ["payment_id", "person_id", "name", "item_code", "period", "account_no", "holder_id", "amount",
            "pay_date", "unit"]
    ok = t.ok[cols]
    x = ok[((ok["unit"] == "person") & ok["holder_id"].notna() & (ok["holder_id"] != ok["person_id"])).to_numpy()]
    x = x[~t.guarded(x)]
    return Result(_keyed(x.drop(columns=["unit", "pay_date"]), "payment_id"),
                  metrics={"lines_with_unknown_holder": int(t.ok["holder_id"].isna().sum())})


@check("CP06", "家庭补贴未发至户主", "compliance", "medium", needs=("payments", "beneficiaries"), basis=B.HEAD,
       description="Household items paid to someone other than the head of household (or a registered guardian).")
def cp06(t: Context):
    cols = ["payment_id", "person_id", "name", "item_code", "period", "account_no", "holder_id", "amount",
            "pay_date"]
    ok = t.ok
    x = ok.loc[((ok["unit"] == "household") & ok["holder_id"].notna()).to_numpy(), cols]
    x = x.assign(household_id=t.household(x["person_id"]))
    heads = t.heads
    # Right: the holder is a head of the beneficiary's household; where no head is on record, the beneficiary
    # named on the line is taken to be the head.
    wrong = t.sql("""
        select x.* from x
        where case when x.household_id in (select household_id from heads)
                   then not exists (select 1 from heads h where h.household_id = x.household_id
                                    and h.person_id = x.holder_id)
                   else x.holder_id <> x.person_id end""", x=x, heads=heads)
    wrong = wrong[~t.guarded(wrong).to_numpy()]
    return _keyed(wrong.drop(columns=["pay_date"]), "payment_id")


@check("CP07", "一人多卡", "compliance", "medium", needs=("payments", "cards"), key="person_id",
       basis=B.MANY_CARDS,
       description="People whose successful payments went to two or more accounts; a card replaced (the person's "
                   "own earlier card, lost or cancelled, then the new one) is not a second card.")
def cp07(t: Context):
    use = t.sql("""
        select person_id, account_no, min(pay_date) as first, max(pay_date) as last, sum(amount) as amount
        from ok where person_id in (select person_id from ok group by 1 having count(distinct account_no) >= 2)
        group by 1, 2 order by 1, 2""", ok=t.ok[["person_id", "account_no", "pay_date", "amount"]])
    if use.empty:
        return use.assign(key=pd.Series(dtype=str))
    c = t.cards.dropna(subset=["account_no"])
    c = c[isin(c["person_id"], use["person_id"]).to_numpy()]
    own = c[["person_id", "account_no"]].drop_duplicates().assign(own=True)
    ended = c[c["status"].isin(["lost", "cancelled"])].groupby(["person_id", "account_no"], as_index=False)[
        "status_date"].min().rename(columns={"status_date": "ended"})
    use = use.merge(own, on=["person_id", "account_no"], how="left").merge(ended, on=["person_id", "account_no"],
                                                                           how="left")
    use["own"] = use["own"].fillna(False).astype(bool)
    use = use.sort_values(["person_id", "first", "account_no"])
    nxt_first = use.groupby("person_id")["first"].shift(-1)
    is_last = nxt_first.isna()
    step_ok = is_last | (use["ended"].notna() & (use["last"] < nxt_first) & (use["ended"] <= nxt_first))
    replaced = (use["own"] & step_ok).groupby(use["person_id"]).all()
    flagged = replaced[~replaced].index
    out = use[isin(use["person_id"], flagged)].groupby("person_id", as_index=False).agg(
        accounts=("account_no", "size"), amount_fen=("amount", "sum"))
    out["key"] = out["person_id"]
    return out


@check("CP08", "多人一卡", "compliance", "high", needs=("payments", "cards"), key="account_no",
       params={"min_people": Param(2, min=2, max=100000)}, basis=B.NO_PROXY,
       description="Accounts that received payments for min_people or more people who are neither of one "
                   "household nor under a registered guardianship.")
def cp08(t: Context, min_people: int = 2):
    ok = t.ok[["payment_id", "person_id", "account_no", "holder_id", "amount", "pay_date"]]
    busy = t.sql(f"""select account_no from ok group by 1 having count(distinct person_id) >= {int(min_people)}""",
                 ok=ok)
    x = ok[isin(ok["account_no"], busy["account_no"])]
    x = x[~t.guarded(x).to_numpy()]
    x = x.assign(unit=t.household(x["person_id"]).fillna("person:" + x["person_id"]))
    out = t.sql(f"""select account_no, count(distinct person_id) as people, count(distinct unit) as households,
                          min(holder_id) as holder_id, sum(amount) as amount_fen
                   from x group by 1 having count(distinct unit) >= {int(min_people)} order by 1""", x=x)
    out["key"] = out["account_no"]
    return out


@check("CP09", "代发银行收费", "compliance", "medium", needs=("bank_returns", "payments"), basis=B.NO_FEE,
       description="Bank credits with a fee above zero.")
def cp09(t: Context):
    out = t.sql("""select b.payment_id, b.account_no, b.credited_amount, b.fee, p.amount
                   from (select distinct on (payment_id) * from br where fee > 0 order by payment_id) b
                   left join pay p using (payment_id) order by b.payment_id""",
                br=t.bank_returns[["payment_id", "account_no", "credited_amount", "fee"]],
                pay=t.payments[["payment_id", "amount"]])
    out["amount"] = out["amount"].fillna(0)
    return Result(_keyed(out, "payment_id"), metrics={"fees_fen": int(out["fee"].sum())})


@check("CP10", "滞留延压", "compliance", "medium", needs=("payments",), params={"grace_days": Param(30, min=0, max=3650)}, basis=B.DELAY,
       description="Successful payments made more than grace_days after the end of their period.")
def cp10(t: Context, grace_days: int = 30):
    ok = t.ok[["payment_id", "person_id", "name", "item_code", "period", "pay_date", "period_end", "amount"]]
    late = (ok["pay_date"] > ok["period_end"] + pd.Timedelta(days=int(grace_days))).to_numpy()
    out = ok[late]
    out = out.assign(days_late=(out["pay_date"] - out["period_end"]).dt.days).drop(columns="period_end")
    return _keyed(out, "payment_id")


@check("CP11", "向异常状态卡发放", "compliance", "medium", needs=("payments", "cards"), basis=B.CARD_MATCH,
       description="Successful payments credited to a card that was inactive, lost, cancelled or not issued at the "
                   "pay date (the card row in force is the latest with status_date on or before it).")
def cp11(t: Context):
    c = t.cards[["account_no", "status", "status_date", "_row"]].dropna(subset=["account_no"])
    # Only accounts that were ever in a bad state can be credited in one.
    risky = c.loc[c["status"].isin(BAD_CARD), "account_no"].unique()
    ok = t.ok[["payment_id", "person_id", "name", "item_code", "period", "account_no", "pay_date", "amount"]]
    ok = ok[isin(ok["account_no"], risky).to_numpy()]
    c = c[isin(c["account_no"], risky).to_numpy()]
    out = t.sql(f"""
        with c as (select account_no, status, coalesce(status_date, TIMESTAMP '1900-01-01') as sd, _row from c),
        hit as (select account_no, sd, arg_max(status, _row) as status from c group by 1, 2)
        select o.*, h.status as card_status
        from ok o asof join hit h on o.account_no = h.account_no and o.pay_date >= h.sd
        where h.status in ({", ".join(repr(b) for b in BAD_CARD)})
        order by o.payment_id""", ok=ok, c=c)
    return _keyed(out, "payment_id")


@check("CP12", "身份证号码无效", "compliance", "medium", needs=("beneficiaries", "payments"), key="person_id",
       basis=B.IDENTITY,
       description="Identity numbers (of beneficiaries, payments, account holders and cards) with a wrong check "
                   "digit, an impossible birth date or region.")
def cp12(t: Context):
    from .context import _arrow

    seen = [("beneficiaries", t.beneficiaries["person_id"]), ("payments", t.payments["person_id"]),
            ("payments", t.payments["account_holder_id"])]
    if t.has("cards"):
        seen.append(("cards", t.cards["person_id"]))
    ids = pd.concat([pd.DataFrame({"person_id": pc.unique(_arrow(s).drop_null()).to_pandas(), "table": name})
                     for name, s in seen], ignore_index=True)
    uniq = pd.Series(ids["person_id"].unique())
    v = validate(uniq, latest_birth=f"{t.year}-12-31")
    bad = pd.DataFrame({"person_id": uniq[~v["valid"].to_numpy()].to_numpy(),
                        "reason": v.loc[~v["valid"], "reason"].to_numpy()})
    where = ids[isin(ids["person_id"], bad["person_id"])].groupby("person_id")["table"].agg(
        lambda s: ",".join(sorted(set(s))))
    out = bad.join(where.rename("tables"), on="person_id")
    out["key"] = out["person_id"]
    return out
