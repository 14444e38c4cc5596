"""Compliance 合规: the card as the one carrier, the published list, the right account, no fees, no delay,
valid identities."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..package.arrowtext import as_text
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
       params={"targets": Param({2021: 0.70, 2022: 0.90, 2023: 1.00}, min=0, max=1, zh="各年度社保卡发放占比目标")}, basis=B.COVERAGE,
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
       params={"card_from": Param(None, kind="date", doc="the day the district switched to the card; default: "
                                                          "the first day of the audit year", zh="社保卡发放起始日期")},
       description="Successful lines of in-one-card items paid through another channel on or after card_from "
                   "(districts that switched over during the year pay earlier lines the old way).")
def cp02(t: Context, card_from: str | None = None):
    start = pd.Timestamp(card_from) if card_from else pd.Timestamp(year=t.year, month=1, day=1)
    ok = t.ok[["payment_id", "person_id", "name", "item_code", "period", "channel", "amount", "pay_date",
               "in_one_card"]]
    out = ok[ok["in_one_card"].to_numpy() & (ok["channel"] != "card").to_numpy() & (ok["pay_date"] >= start).to_numpy()]
    return Result(_keyed(out.drop(columns="in_one_card"), "payment_id"), metrics={"card_from": start.strftime("%Y-%m-%d")})


@check("CP03", "清单外项目发放", "compliance", "low", needs=("payments", "policy_items"), key="item_code",
       basis=B.LIST, description="Item codes paid that are not on the policy list, or paid for a period that ends "
                                 "before the item's policy took effect (no policy in force, nothing to pay). A "
                                 "payment made before the item appeared on the public list is not flagged: the "
                                 "first list's deadline came after payments had begun.")
def cp03(t: Context):
    ok = t.ok[["payment_id", "item_code", "pay_date", "period_end", "amount", "listed"]]
    eff = t.item_attr(ok["item_code"], "policy_effective_date") if "policy_effective_date" in t.items else None
    off = ~ok["listed"].to_numpy()
    early = np.zeros(len(ok), bool)
    if eff is not None:
        eff = pd.to_datetime(eff)
        early = (ok["listed"] & eff.notna() & (ok["period_end"] < eff)).fillna(False).to_numpy(bool)
    x = ok[off | early].assign(problem=np.where(off[off | early], "not on the policy list",
                                                "paid for a period before the policy took effect"))
    out = x.groupby("item_code", as_index=False).agg(first_paid=("pay_date", "min"), lines=("payment_id", "size"),
                                                     amount_fen=("amount", "sum"), problem=("problem", "first"))
    if eff is not None and len(out):
        out["policy_effective_date"] = pd.to_datetime(t.item_attr(out["item_code"], "policy_effective_date"))
    out["key"] = out["item_code"]
    return out


@check("CP04", "政策清单调整公开超时", "compliance", "low", needs=("policy_items",), key="item_code",
       params={"publish_days": Param(10, min=0, max=3650, zh="政策调整后公开时限（自然日）")}, basis=B.PUBLISH_10,
       description="Adjustments of the list published late: items whose policy took effect on or after the first "
                   "list's publication (the earliest published_date) and whose published_date is more than "
                   "publish_days natural days after policy_effective_date. Items already in force when the first "
                   "list was published are not judged (counted in metrics).")
def cp04(t: Context, publish_days: int = 10):
    it = t.policy_items
    first = it["published_date"].min()
    if pd.isna(first):
        return Result(status="skipped", reason="no published_date in the policy list")
    judged = it["policy_effective_date"].notna() & (it["policy_effective_date"] >= first)
    days = (it["published_date"] - it["policy_effective_date"]).dt.days
    late = judged & (days > publish_days)
    out = it[late.to_numpy()].assign(days=days[late])
    return Result(_keyed(out[["item_code", "item_name", "policy_effective_date", "published_date", "days"]],
                         "item_code", amount=None),
                  metrics={"first_list_published": first, "in_force_before_first_list": int((~judged).sum())})


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
       description="Household items paid to someone other than the head of household, a registered guardian, or "
                   "the account the household designated in its approval (designated_account_no).")
def cp06(t: Context):
    # All in DuckDB, reading ok in place: the household lines with a holder, each with its household (the
    # registry's, else the approvals'), less those paid into the account the household designated.
    b = t.beneficiaries
    if "designated_account_no" in b and b["designated_account_no"].notna().any():
        d = b.loc[b["designated_account_no"].notna(), ["person_id", "item_code", "designated_account_no"]]
    else:
        d = pd.DataFrame({c: pd.Series(dtype="str") for c in ("person_id", "item_code", "designated_account_no")})
    # Right: the holder is a head of the beneficiary's household; where no head is on record, the beneficiary
    # named on the line is taken to be the head. The account the household's members jointly designated in
    # its approval is right too (泰山区).
    wrong = t.sql("""
        with x as (select o.payment_id, o.person_id, o.name, o.item_code, o.period, o.account_no, o.holder_id,
                          o.amount, o.pay_date, h.household_id, o._i
                   from ok o left join hh h on h.person_id = o.person_id
                   where o.unit = 'household' and o.holder_id is not null
                     and not exists (select 1 from d where d.person_id = o.person_id and d.item_code = o.item_code
                                     and d.designated_account_no = o.account_no))
        select x.* exclude (_i) from x
        where case when x.household_id in (select household_id from heads)
                   then not exists (select 1 from heads h where h.household_id = x.household_id
                                    and h.person_id = x.holder_id)
                   else x.holder_id <> x.person_id end
        order by x._i""", ok=t.ok.assign(_i=np.arange(len(t.ok))), hh=t._households[["person_id", "household_id"]],
                  d=d, heads=t.heads)
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
       params={"min_people": Param(2, min=2, max=100000, zh="同一账户最少收款人数")}, basis=B.NO_PROXY,
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


@check("CP10", "滞留延压", "compliance", "medium", needs=("payments",), params={"grace_days": Param(30, min=0, max=3650, zh="发放宽限期（天）")}, basis=B.DELAY,
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
    seen = [("beneficiaries", t.beneficiaries["person_id"]), ("payments", t.payments["person_id"]),
            ("payments", t.payments["account_holder_id"])]
    if t.has("cards"):
        seen.append(("cards", t.cards["person_id"]))
    # Each column's distinct numbers, found on two threads (Arrow's hash lets go of the GIL), in pandas' own
    # offsets (no copy of the column), the missing value dropped from the few distinct ones rather than from
    # the column: the same numbers in the same order of first appearance.
    with ThreadPoolExecutor(max_workers=2) as pool:
        distinct = list(pool.map(lambda s: pc.unique(as_text(s, large=True)).drop_null(), [s for _, s in seen]))
    ids = pd.concat([pd.DataFrame({"person_id": u.to_pandas(), "table": name})
                     for (name, _), u in zip(seen, distinct)], ignore_index=True)
    # the numbers of all columns, each once, in order of first appearance: by Arrow's hash too (pandas' unique
    # took 0.66 s at ten million lines)
    every = pa.chunked_array([u.cast(pa.large_string()) for u in distinct], type=pa.large_string())
    uniq = pd.Series(pc.unique(every).to_pandas(), dtype=ids["person_id"].dtype)
    v = validate(uniq, latest_birth=f"{t.year}-12-31")
    bad = pd.DataFrame({"person_id": uniq[~v["valid"].to_numpy()].to_numpy(),
                        "reason": v.loc[~v["valid"], "reason"].to_numpy()})
    where = ids[isin(ids["person_id"], bad["person_id"])].groupby("person_id")["table"].agg(
        lambda s: ",".join(sorted(set(s))))
    out = bad.join(where.rename("tables"), on="person_id")
    out["key"] = out["person_id"]
    return out


def _people_frames(t: Context) -> dict:
    """Households (person -> household) and guardianships as small frames for DuckDB joins."""
    hh = t._households[["person_id", "household_id"]]
    g = t.tables.get("guardianships")
    if g is None:
        g = pd.DataFrame({"person_id": pd.Series(dtype="str"), "guardian_id": pd.Series(dtype="str"),
                          "valid_from": pd.Series(dtype="datetime64[ns]"),
                          "valid_to": pd.Series(dtype="datetime64[ns]")})
    return {"hh": hh, "g": g[["person_id", "guardian_id", "valid_from", "valid_to"]]}


@check("CP13", "疑似代管代持", "compliance", "medium", needs=("card_transactions", "cards"), key="account_no",
       params={"window_minutes": Param(30, min=1, max=1440, zh="同一终端时间窗口（分钟）"), "min_cards": Param(3, min=2, max=1000, zh="时间窗口内最少卡数"),
               "min_days": Param(2, min=1, max=366, zh="最少出现天数")}, basis=B.NO_PROXY,
       description="Cards held by someone else: debits at one terminal within window_minutes of each other from "
                   "the card accounts of min_cards or more beneficiaries (not all of one household, nor all wards "
                   "of one guardian in force that day) form a cluster; an account in clusters at the same terminal "
                   "on min_days or more different days is flagged. An empty terminal never clusters. For review.")
def cp13(t: Context, window_minutes: int = 30, min_cards: int = 3, min_days: int = 2):
    # To DuckDB whole (no copy, a row number and the terminal as a number added): it reads the debits at a
    # terminal only. How many debits each window holds is a window count over each terminal's debits in time
    # order (a RANGE frame from the debit to window_minutes after it takes in the debits at the same time too);
    # only the windows with min_cards debits or more (260 of 7.3 million at ten million lines) are joined back to
    # their debits, and those debits to their text (holder, account, id). Pairing every debit with those of its
    # window first, as this check did before, took 2.0 GB over the tables and 6.2 s at ten million lines; now
    # 0.9 GB and 2-4 s.
    tx = t.card_transactions
    term = as_text(tx["terminal_id"], large=True).dictionary_encode().combine_chunks().indices    # null: none
    tx = tx.assign(_i=np.arange(len(tx)), _term=pd.arrays.ArrowExtensionArray(term))
    f = _people_frames(t)
    w = f"INTERVAL '{int(window_minutes)} minutes'"
    bucket = f"epoch_ms(cast(txn_time as timestamp)) // {60000 * int(window_minutes)}"
    out = t.sql(f"""
        with k as (select _i as i, _term as term, txn_time,
                          count(*) over (partition by _term order by txn_time
                                         range between current row and {w} following) as n
                   from tx where _term is not null and txn_time is not null),
        busy as (select i as open_i, term, txn_time, {bucket} as bucket, cast(txn_time as date) as day from k
                 where n >= {int(min_cards)}),
        deb as not materialized (select _i as i, _term as term, txn_time, {bucket} as bucket from tx
                                 where _term is not null),
        -- A window starting in one bucket of window_minutes ends in that bucket or the next: a busy window meets
        -- its terminal's debits of two buckets (two equality joins), not every debit at a busy terminal.
        bw as (select b.open_i, x.i from busy b join deb x on x.term = b.term and x.bucket = b.bucket
               where x.txn_time >= b.txn_time and x.txn_time <= b.txn_time + {w}
               union all
               select b.open_i, x.i from busy b join deb x on x.term = b.term and x.bucket = b.bucket + 1
               where x.txn_time >= b.txn_time and x.txn_time <= b.txn_time + {w}),
        d as (select x._i as i, x.txn_id, x.account_no, coalesce(o.person_id, x.account_no) as holder,
                     x.terminal_id, x.txn_time, x.amount
              from tx x left join own o using (account_no)
              where x._term is not null and x._i in (select i from bw)),
        held as (select w.open_i, x.holder from bw w join d x on x.i = w.i),
        big as (select w.open_i, any_value(a.day) as day, count(distinct w.holder) as cards,
                       count(distinct coalesce(h.household_id, 'person:' || w.holder)) as households
                from held w join busy a using (open_i) left join hh h on h.person_id = w.holder
                group by w.open_i having count(distinct w.holder) >= {int(min_cards)}),
        wards as (select w.open_i, g.guardian_id, count(distinct w.holder) as n
                  from held w join big b using (open_i)
                  join g on g.person_id = w.holder
                       and (g.valid_from is null or g.valid_from <= b.day)
                       and (g.valid_to is null or g.valid_to >= b.day)
                  group by 1, 2),
        clusters as (select b.open_i, b.day from big b
                     where b.households > 1
                       and not exists (select 1 from wards x where x.open_i = b.open_i and x.n = b.cards)),
        members as (select m.terminal_id, m.account_no, m.holder, c.day, m.txn_id, m.txn_time, m.amount
                    from bw w join clusters c using (open_i) join d m on m.i = w.i),
        flagged as (select terminal_id, account_no from members group by 1, 2
                    having count(distinct day) >= {int(min_days)})
        select m.account_no, any_value(m.holder) as holder_id, m.terminal_id,
               count(distinct m.day) as days, count(distinct m.txn_id) as txns,
               string_agg(distinct strftime(m.day, '%Y-%m-%d'), ', ' order by strftime(m.day, '%Y-%m-%d')) as dates,
               string_agg(distinct strftime(m.txn_time, '%m-%d %H:%M'), ', '
                          order by strftime(m.txn_time, '%m-%d %H:%M')) as times,
               string_agg(distinct m.txn_id, ', ' order by m.txn_id) as txn_ids
        from members m semi join flagged f using (terminal_id, account_no)
        group by m.account_no, m.terminal_id order by m.account_no, m.terminal_id""", tx=tx, own=t.account_owners,
                **f)
    if len(out):
        amounts = t.sql("""select account_no, sum(amount) as amount_fen from tx
                           where terminal_id is not null and account_no in (select account_no from out)
                           group by 1""", tx=tx, out=out[["account_no"]])
        out = out.merge(amounts, on="account_no", how="left")
    else:
        out["amount_fen"] = pd.Series(dtype="int64")
    out["key"] = out["account_no"]
    out["amount_fen"] = out["amount_fen"].fillna(0).astype("int64")
    return Result(out, metrics={"debits_at_terminals": int(tx["terminal_id"].notna().sum())})


@check("CP14", "补贴资金被转走", "compliance", "high", needs=("payments", "card_transactions"),
       params={"days": Param(3, min=0, max=366, zh="到账后天数"), "share": Param(0.8, min=0.01, max=1, zh="转出占比")}, basis=B.NO_PROXY,
       description="Successful card payments of which at least share of the amount left the account by transfer "
                   "within days calendar days of the credit (bank credit date, else pay date) to someone who is "
                   "neither the beneficiary, nor of the beneficiary's household, nor a guardian in force on the "
                   "transfer's day; the receiver is counterparty_id, else the card registry's holder of "
                   "counterparty_account, else unknown (someone else). Each payment is judged on its own window.")
def cp14(t: Context, days: int = 3, share: float = 0.8):
    frac = Fraction(str(share))
    # The successful lines and the bank's transactions go to DuckDB whole (no copy); it reads only the columns
    # and rows named here.
    ok = t.ok
    tx = t.card_transactions
    f = _people_frames(t)
    # Only the transfers out of accounts card payments went into, and only the card lines into accounts money
    # was transferred out of, can meet: the rest is narrowed away first, in DuckDB (hash joins on the text).
    # The receiver is named by the transfer, else by the card registry's holder of the receiving account.
    t.sql("""select t.txn_id, t.account_no, t.txn_time, t.amount,
                    coalesce(t.counterparty_id, w.person_id) as receiver
             from tx t left join owners w on w.account_no = t.counterparty_account
             where t.txn_type = 'transfer_out'
               and t.account_no in (select distinct account_no from ok where channel = 'card')""",
          tx=tx, ok=ok, owners=t.account_owners, view="cp14_tr")
    # Each line's days count from the bank's first successful credit, else its pay date (``credit_days``, made
    # once for the payments). The lines meet the transfers of their window by row number and the few columns
    # the judgement needs, and those pairs are kept as a table (half a million at ten million lines) before they
    # are judged; the lines' text (name, item, period) is taken for the flagged lines only. (Finding the credit
    # dates here and judging the pairs as they were made took 3.1 GB over the tables at ten million lines;
    # now 1.4-1.7 GB.)
    credited = t.credit_days.to_numpy()[t.ok_rows()]        # by position: the payments' labels may repeat
    lines = ok.assign(_i=np.arange(len(ok)), _credited=credited)
    try:
        t.sql(f"""
            with o as (select _i, person_id, account_no, amount, coalesce(_credited, pay_date) as credit_day
                       from lines where channel = 'card' and account_no in (select account_no from cp14_tr))
            select o._i, o.person_id, o.amount, o.credit_day, t.txn_id, t.txn_time, t.amount as moved, t.receiver,
                   cast(t.txn_time as date) as day
            from o join cp14_tr t on t.account_no = o.account_no
                 and cast(t.txn_time as date) between cast(o.credit_day as date)
                                                  and cast(o.credit_day as date) + {int(days)}""",
              lines=lines, view="cp14_x")
        flagged = t.sql(f"""
            with away as (
                select x.* from cp14_x x
                where x.receiver is null
                   or (x.receiver <> x.person_id
                       and not exists (select 1 from hh a join hh b on a.household_id = b.household_id
                                       where a.person_id = x.person_id and b.person_id = x.receiver)
                       and not exists (select 1 from g where g.person_id = x.person_id and g.guardian_id = x.receiver
                                       and (g.valid_from is null or g.valid_from <= x.day)
                                       and (g.valid_to is null or g.valid_to >= x.day)))),
            s as (select _i, any_value(amount) as amount, any_value(credit_day) as credit_day, sum(moved) as moved,
                         count(*) as transfers,
                         string_agg(distinct coalesce(receiver, '（不明）'), ', ') as receivers,
                         string_agg(txn_id || ' ' || strftime(txn_time, '%m-%d %H:%M'), ', '
                                    order by txn_time, txn_id) as txn_ids from away group by 1)
            select _i, credit_day, moved, transfers, receivers, txn_ids from s
            where moved * {frac.denominator} >= amount * {frac.numerator}""", **f)
        moved = int(t.sql("select count(*) as n from cp14_tr")["n"].iloc[0])
    finally:
        t.sql("drop table if exists cp14_x")
        t.sql("drop table if exists cp14_tr")
    text = lines[["_i", "payment_id", "person_id", "name", "item_code", "period", "account_no", "amount"]]
    text = text.take(flagged["_i"].to_numpy())
    out = t.sql("""select l.payment_id, l.person_id, l.name, l.item_code, l.period, l.account_no, l.amount,
                          f.credit_day, f.moved, f.transfers, f.receivers, f.txn_ids
                   from text l join flagged f using (_i)
                   order by l.payment_id""", text=text, flagged=flagged)
    return Result(_keyed(out, "payment_id"), metrics={"transfers_out": moved})


@check("CP15", "代管代持超出特殊群体", "compliance", "medium", needs=("guardianships", "payments"),
       key="person_id|guardian_id", params={"max_wards": Param(3, min=2, max=1000, zh="同一代管人最多代管人数")}, basis=B.GUARDIAN,
       description="Guardianships in force during the year (a) whose beneficiary has no successful payment of an "
                   "item marked special_group (judged only where the column is given), (b) with an empty basis, or "
                   "(c) whose guardian holds max_wards or more wards outside the guardian's own household (all "
                   "wards count without the household registry). A guardianship exempts payments from CP05, CP08, "
                   "CP13 and CP14, so it is judged itself.")
def cp15(t: Context, max_wards: int = 3):
    y0, y1 = pd.Timestamp(year=t.year, month=1, day=1), pd.Timestamp(year=t.year, month=12, day=31)
    g = t.guardianships
    g = g[((g["valid_from"].isna() | (g["valid_from"] <= y1)) & (g["valid_to"].isna() | (g["valid_to"] >= y0)))
          .to_numpy()][["person_id", "guardian_id", "account_no", "basis", "valid_from", "valid_to"]].copy()
    problems = pd.Series([[] for _ in range(len(g))], index=g.index, dtype=object)
    it = t.policy_items
    judged_a = "special_group" in it and it["special_group"].notna().any()
    if judged_a:
        special = it.loc[it["special_group"].fillna(False).astype(bool), "item_code"]
        ok = t.ok[["person_id", "item_code"]]
        # the wards' own special-group lines only (two lookups in small sets), not every such line's number
        covered = ok.loc[(isin(ok["item_code"], special) & isin(ok["person_id"], g["person_id"])).to_numpy(),
                         "person_id"]
        for i in g.index[~isin(g["person_id"], covered).to_numpy()]:
            problems[i].append("ward receives no special-group item")
    for i in g.index[(g["basis"].isna() | (g["basis"].astype("str").str.strip() == "")).to_numpy()]:
        problems[i].append("no basis")
    if t.has("households"):
        gh, wh = t.household(g["guardian_id"]), t.household(g["person_id"])
        outside = ~((gh == wh) & gh.notna()).fillna(False).to_numpy(bool)
    else:
        outside = np.ones(len(g), bool)
    strangers = g[outside].groupby("guardian_id")["person_id"].nunique()
    many = set(strangers[strangers >= max_wards].index)
    for i in g.index[outside & g["guardian_id"].isin(many).to_numpy()]:
        problems[i].append(f"guardian holds {int(strangers[g.at[i, 'guardian_id']])} wards outside the household")
    out = g[problems.map(len).to_numpy() > 0].copy()
    out["problem"] = problems[out.index].map("; ".join)
    out["key"] = out["person_id"] + "|" + out["guardian_id"]
    return Result(out, metrics={"guardianships_in_force": int(len(g)), "special_group_judged": bool(judged_a)})


@check("CP16", "公示信息未脱敏", "compliance", "medium", needs=("disclosures",), key="item_code|period|person_id",
       basis=B.PRIVACY,
       description="Disclosure rows that publish more of a person than the mask allows: an identity number with "
                   "more than its first 6 and last 4 characters visible, or a name of two or more characters "
                   "with no *.")
def cp16(t: Context):
    d = t.disclosures[["item_code", "period", "person_id", "name", "published_date"]]
    # Characters counted by Arrow over whole columns (pandas' str.count runs a pattern per cell: 0.2 s at a
    # million lines); a missing number is not judged, a missing name is no name.
    pid, name = as_text(d["person_id"], large=True), as_text(d["name"], large=True)
    visible = pc.subtract(pc.utf8_length(pid), pc.count_substring(pid, "*"))
    bad_id = pc.fill_null(pc.greater(visible, 10), False).to_numpy(zero_copy_only=False)
    bad_name = pc.fill_null(pc.and_(pc.greater_equal(pc.utf8_length(name), 2),
                                    pc.invert(pc.match_substring(name, "*"))), False).to_numpy(zero_copy_only=False)
    bad_id, bad_name = np.asarray(bad_id, dtype=bool), np.asarray(bad_name, dtype=bool)
    out = d[bad_id | bad_name].copy()
    out["problem"] = np.where(bad_id[bad_id | bad_name], "identity number not masked", "name not masked")
    out["key"] = out["item_code"] + "|" + out["period"] + "|" + out["person_id"]
    return out.drop_duplicates("key")
