"""Compliance 合规: the card as the one carrier, the published list, the right account, no fees, no delay,
valid identities."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..package.identity import validate
from . import basis as B
from .context import Context, isin, lookup
from .registry import Result, check

BAD_CARD = ("inactive", "lost", "cancelled", "not_issued")


def _keyed(df: pd.DataFrame, key: str, amount: str | None = "amount") -> pd.DataFrame:
    out = df.copy()
    out["key"] = out[key].astype(str)
    if amount:
        out["amount_fen"] = out[amount].astype("int64")
    return out


def _unique(s: pd.Series) -> pd.Series:
    from .context import _arrow

    return pd.Series(pc.unique(_arrow(s).drop_null()).to_pandas(), dtype="str")


def target_for(year: int, targets: dict) -> Fraction | None:
    """The card-coverage target in force for a year: the latest target year on or before it."""
    t = {int(k): Fraction(str(v)) for k, v in targets.items()}
    past = [y for y in t if y <= year]
    return t[max(past)] if past else None


@check("CP01", "一卡通发放率未达标", "compliance", "low", needs=("payments", "policy_items"), key="item_code",
       params={"targets": {2021: 0.70, 2022: 0.90, 2023: 1.00}}, basis=B.COVERAGE,
       description="In-one-card items whose share of successful amount paid through the card is below the year's "
                   "target.")
def cp01(t: Context, targets: dict | None = None):
    target = target_for(t.year, targets or {2021: 0.70, 2022: 0.90, 2023: 1.00})
    if target is None:
        return Result(status="skipped", reason=f"no card-coverage target for {t.year}")
    ok = t.ok
    ok = ok[t.item_attr(ok["item_code"], "in_one_card").fillna(False).astype(bool)]
    g = ok.assign(card=np.where(ok["channel"] == "card", ok["amount"], 0)).groupby("item_code")
    s = pd.DataFrame({"total": g["amount"].sum(), "card": g["card"].sum()})
    below = s["card"] * target.denominator < s["total"] * target.numerator
    out = s[below].reset_index()
    out["share"] = (out["card"] / out["total"]).round(6)
    out["target"] = float(target)
    out["key"] = out["item_code"]
    out["amount_fen"] = (out["total"] - out["card"]).astype("int64")
    overall = float(s["card"].sum() / s["total"].sum()) if s["total"].sum() else None
    return Result(out, metrics={"target": float(target), "overall_share": overall})


@check("CP02", "未通过社保卡发放", "compliance", "medium", needs=("payments", "policy_items"), basis=B.OWN_CARD,
       description="Successful lines of in-one-card items paid through another channel.")
def cp02(t: Context):
    ok = t.ok
    one = t.item_attr(ok["item_code"], "in_one_card").fillna(False).astype(bool)
    out = ok[one & (ok["channel"] != "card")]
    return _keyed(out[["payment_id", "person_id", "name", "item_code", "period", "channel", "amount"]],
                  "payment_id")


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
       params={"publish_days": 10}, basis=B.PUBLISH_10,
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
    ok = t.ok
    unit = t.item_attr(ok["item_code"], "unit", "person")
    x = ok[(unit == "person") & ok["holder_id"].notna() & (ok["holder_id"] != ok["person_id"])]
    x = x[~t.guarded(x)]
    return Result(_keyed(x[["payment_id", "person_id", "name", "item_code", "period", "account_no", "holder_id",
                            "amount"]], "payment_id"),
                  metrics={"lines_with_unknown_holder": int(ok["holder_id"].isna().sum())})


@check("CP06", "家庭补贴未发至户主", "compliance", "medium", needs=("payments", "beneficiaries"), basis=B.HEAD,
       description="Household items paid to someone other than the head of household (or a registered guardian).")
def cp06(t: Context):
    ok = t.ok
    unit = t.item_attr(ok["item_code"], "unit", "person")
    x = ok[(unit == "household") & ok["holder_id"].notna()].copy()
    x["household_id"] = t.household(x["person_id"])
    heads = t.heads
    pair = x[["payment_id", "household_id", "holder_id"]].merge(
        heads.rename(columns={"person_id": "holder_id"}).assign(_head=True), on=["household_id", "holder_id"],
        how="left")
    is_head = pair.drop_duplicates("payment_id").set_index("payment_id")["_head"].fillna(False)
    known = isin(x["household_id"], heads["household_id"])
    # Where no head is on record, the beneficiary named on the line is taken to be the head.
    right = np.where(known, lookup(x["payment_id"], is_head.index.to_series(),
                                   is_head.reset_index(drop=True)).fillna(False).astype(bool),
                     x["holder_id"] == x["person_id"])
    y = x[~right]
    y = y[~t.guarded(y)]
    return _keyed(y[["payment_id", "person_id", "name", "item_code", "period", "account_no", "holder_id",
                     "amount"]], "payment_id")


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
    own = set(zip(c["person_id"], c["account_no"]))
    ended = c[c["status"].isin(["lost", "cancelled"])]
    ended = ended.groupby(["person_id", "account_no"])["status_date"].min()
    use["own"] = [pa in own for pa in zip(use["person_id"], use["account_no"])]
    use = use.sort_values(["person_id", "first", "account_no"])
    use["ended"] = [ended.get(pa, pd.NaT) for pa in zip(use["person_id"], use["account_no"])]
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
       params={"min_people": 2}, basis=B.NO_PROXY,
       description="Accounts that received payments for min_people or more people who are neither of one "
                   "household nor under a registered guardianship.")
def cp08(t: Context, min_people: int = 2):
    ok = t.ok
    per = ok.groupby("account_no")["person_id"].nunique()
    busy = per[per >= min_people].index
    x = ok[isin(ok["account_no"], busy)]
    x = x[~t.guarded(x)]
    x = x.assign(unit=t.household(x["person_id"]).fillna("person:" + x["person_id"]))
    units = x.groupby("account_no")["unit"].nunique()
    flagged = units[units >= min_people].index
    y = x[isin(x["account_no"], flagged)]
    out = y.groupby("account_no", as_index=False).agg(people=("person_id", "nunique"), households=("unit", "nunique"),
                                                      holder_id=("holder_id", "first"), amount_fen=("amount", "sum"))
    out["key"] = out["account_no"]
    return out


@check("CP09", "代发银行收费", "compliance", "medium", needs=("bank_returns", "payments"), basis=B.NO_FEE,
       description="Bank credits with a fee above zero.")
def cp09(t: Context):
    br = t.bank_returns
    x = br[br["fee"].fillna(0) > 0].drop_duplicates("payment_id")
    pay = t.payments
    x = x.assign(amount=lookup(x["payment_id"], pay["payment_id"], pay["amount"]).fillna(0))
    return Result(_keyed(x[["payment_id", "account_no", "credited_amount", "fee", "amount"]], "payment_id"),
                  metrics={"fees_fen": int(x["fee"].sum())})


@check("CP10", "滞留延压", "compliance", "medium", needs=("payments",), params={"grace_days": 30}, basis=B.DELAY,
       description="Successful payments made more than grace_days after the end of their period.")
def cp10(t: Context, grace_days: int = 30):
    ok = t.ok
    late = ok["pay_date"] > ok["period_end"] + pd.Timedelta(days=int(grace_days))
    out = ok[late].assign(days_late=(ok["pay_date"] - ok["period_end"]).dt.days[late])
    return _keyed(out[["payment_id", "person_id", "name", "item_code", "period", "pay_date", "days_late",
                       "amount"]], "payment_id")


@check("CP11", "向异常状态卡发放", "compliance", "medium", needs=("payments", "cards"), basis=B.CARD_MATCH,
       description="Successful payments credited to a card that was inactive, lost, cancelled or not issued at the "
                   "pay date (the card row in force is the latest with status_date on or before it).")
def cp11(t: Context):
    ok = t.ok[["payment_id", "person_id", "name", "item_code", "period", "account_no", "pay_date", "amount"]]
    c = t.cards.dropna(subset=["account_no"])
    c = c[isin(c["account_no"], ok["account_no"].unique())]
    if c.empty:
        return ok.iloc[:0].assign(key=pd.Series(dtype=str))
    c = c.assign(when=c["status_date"].fillna(pd.Timestamp("1900-01-01")))
    c = c.sort_values(["when", "_row"], kind="stable")[["account_no", "when", "status"]]
    left = ok[isin(ok["account_no"], c["account_no"])].sort_values("pay_date", kind="stable")
    m = pd.merge_asof(left, c, left_on="pay_date", right_on="when", by="account_no", direction="backward")
    out = m[m["status"].isin(BAD_CARD)].rename(columns={"status": "card_status"})
    return _keyed(out, "payment_id")


@check("CP12", "身份证号码无效", "compliance", "medium", needs=("beneficiaries", "payments"), key="person_id",
       basis=B.IDENTITY,
       description="Identity numbers (of beneficiaries, payments, account holders and cards) with a wrong check "
                   "digit, an impossible birth date or region.")
def cp12(t: Context):
    seen = [("beneficiaries", t.beneficiaries["person_id"]), ("payments", t.payments["person_id"]),
            ("payments", t.payments["account_holder_id"])]
    if t.has("cards"):
        seen.append(("cards", t.cards["person_id"]))
    ids = pd.concat([pd.DataFrame({"person_id": pd.Series(_unique(s)), "table": name}) for name, s in seen])
    uniq = pd.Series(ids["person_id"].unique())
    v = validate(uniq, latest_birth=f"{t.year}-12-31")
    bad = pd.DataFrame({"person_id": uniq[~v["valid"].to_numpy()].to_numpy(),
                        "reason": v.loc[~v["valid"], "reason"].to_numpy()})
    where = ids[isin(ids["person_id"], bad["person_id"])].groupby("person_id")["table"].agg(
        lambda s: ",".join(sorted(set(s))))
    out = bad.join(where.rename("tables"), on="person_id")
    out["key"] = out["person_id"]
    return out
