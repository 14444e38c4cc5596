"""Eligibility 资格 (big-data comparison 大数据比对): payments against the registries of deaths, public
employees, cadres and households, against each other, and across districts."""
from __future__ import annotations

import pandas as pd

from ..package.identity import age_on, validate
from . import basis as B
from .context import Context, isin, lookup
from .staged import StagedDistrict, bucket_executor, ok_payments, write_buckets
from .staged import connect as staged_connect
from .registry import Result, check, keyed as _keyed


LINE = ["payment_id", "person_id", "name", "item_code", "period", "amount"]


@check("EL01", "死亡后仍发放", "eligibility", "high", needs=("payments", "deaths"), basis=B.BIG_DATA,
       description="Successful payments for a period after the person's month of death (the same month is not "
                   "after death).")
def el01(t: Context):
    d = t.deaths.groupby("person_id")["death_date"].min()
    ok = t.ok
    x = ok[isin(ok["person_id"], d.index)]
    death = pd.to_datetime(lookup(x["person_id"], d.index.to_series(), d.reset_index(drop=True)))
    death_m = death.dt.year * 12 + death.dt.month - 1
    out = x[x["m0"] > death_m].assign(death_date=death[x["m0"] > death_m])
    return _keyed(out[LINE + ["death_date"]], "payment_id")


@check("EL02", "财政供养人员享受困难救助", "eligibility", "high", needs=("payments", "public_employees", "policy_items"),
       basis=B.BIG_DATA,
       description="Means-tested payments to a person employed in the public sector during that period.")
def el02(t: Context):
    ok = t.ok[LINE + ["period_start", "period_end", "means_tested"]]
    x = ok[(ok["means_tested"] & isin(ok["person_id"], t.public_employees["person_id"])).to_numpy()]
    e = t.public_employees[["person_id", "employer", "start_date", "end_date"]]
    m = x[LINE + ["period_start", "period_end"]].merge(e, on="person_id")
    during = (m["start_date"].isna() | (m["start_date"] <= m["period_end"])) & \
             (m["end_date"].isna() | (m["end_date"] >= m["period_start"]))
    out = m[during].drop_duplicates("payment_id")
    return _keyed(out[LINE + ["employer", "start_date", "end_date"]], "payment_id")


@check("EL03", "干部亲属享受补贴（优亲厚友）", "eligibility", "low", needs=("beneficiaries", "cadres"), key="person_id",
       basis=B.FAVOURS,
       description="Beneficiaries in the same household as a cadre of their own community, for review.")
def el03(t: Context):
    c = t.cadres
    y0, y1 = pd.Timestamp(f"{t.year}-01-01"), pd.Timestamp(f"{t.year}-12-31")
    c = c[(c["start_date"].isna() | (c["start_date"] <= y1)) & (c["end_date"].isna() | (c["end_date"] >= y0))]
    c = c.assign(household_id=t.household(c["person_id"])).dropna(subset=["household_id"])
    if c.empty:
        return pd.DataFrame({"key": pd.Series(dtype=str)})
    b = t.beneficiaries[["person_id", "name", "community", "item_code"]]
    b = b.assign(household_id=t.household(b["person_id"]))
    b = b[isin(b["household_id"], c["household_id"]).to_numpy()]     # only a cadre's household can match
    m = b.merge(c[["household_id", "community", "person_id", "position"]].rename(
        columns={"person_id": "cadre_id"}), on=["household_id", "community"])
    out = m.groupby("person_id", as_index=False).agg(name=("name", "first"), community=("community", "first"),
                                                     cadre_id=("cadre_id", "first"), position=("position", "first"),
                                                     items=("item_code", lambda s: ",".join(sorted(set(s)))))
    out["key"] = out["person_id"]
    return out


@check("EL04", "重复发放", "eligibility", "high", needs=("payments",), basis=B.IN_FULL,
       description="The same person, item and period paid successfully more than once: every line but the "
                   "earliest (a reissue of a failed line is not a duplicate).")
def el04(t: Context):
    ok = t.ok[LINE + ["pay_date"]]
    out = t.sql("""
        with dup as (select person_id, item_code, period from ok group by all having count(*) > 1)
        select * exclude (rn) from (
            select ok.*, row_number() over (partition by person_id, item_code, period
                                            order by pay_date, payment_id) as rn
            from ok semi join dup using (person_id, item_code, period))
        where rn > 1 order by payment_id""", ok=ok)
    return _keyed(out, "payment_id")


@check("EL05", "互斥项目重复享受", "eligibility", "high", needs=("payments", "policy_items"),
       key="person_id|exclusive_group|period", basis=B.BIG_DATA,
       description="One person receiving two items of one exclusive group for one period.")
def el05(t: Context):
    ok = t.ok[["person_id", "item_code", "period", "amount", "exclusive_group"]]
    x = ok[ok["exclusive_group"].notna().to_numpy()]
    keys = ["person_id", "exclusive_group", "period"]
    g = x.groupby(keys, as_index=False).agg(items=("item_code", "nunique"), amount_fen=("amount", "sum"))
    out = g[g["items"] >= 2].copy()
    if out.empty:
        return out.assign(key=pd.Series(dtype=str))
    codes = x.merge(out[keys], on=keys).groupby(keys)["item_code"].agg(lambda s: ",".join(sorted(set(s))))
    out = out.join(codes.rename("codes"), on=keys)
    out["key"] = out["person_id"] + "|" + out["exclusive_group"] + "|" + out["period"]
    return out


@check("EL06", "年龄不符", "eligibility", "medium", needs=("payments", "policy_items"), basis=B.STANDARD,
       description="Payments where the age from the identity number, on the first day of the period, is outside "
                   "the item's age limits.")
def el06(t: Context):
    ok = t.ok[LINE + ["period_start", "min_age", "max_age"]]
    x = ok[(ok["min_age"].notna() | ok["max_age"].notna()).to_numpy()]
    if x.empty:
        return x.assign(key=pd.Series(dtype=str))
    lo, hi = x["min_age"], x["max_age"]
    ids = pd.Series(x["person_id"].unique())
    birth = pd.Series(validate(ids)["birth_date"].to_numpy(), index=ids.to_numpy())
    b = pd.to_datetime(lookup(x["person_id"], birth.index.to_series(), birth.reset_index(drop=True)))
    age = age_on(b, x["period_start"])
    bad = ((lo.notna() & (age < lo)) | (hi.notna() & (age > hi))).fillna(False).astype(bool)
    out = x[bad].assign(age=age[bad], min_age=lo[bad], max_age=hi[bad])
    return _keyed(out[LINE + ["age", "min_age", "max_age"]], "payment_id")


@check("EL07", "跨区重复享受", "eligibility", "medium", needs=("payments",), key="person_id|item_code|period",
       basis=B.CROSS, multi=True,
       description="The same person paid for the same item and period by two districts (province runs: "
                   "audit check on several package folders).")
def el07(contexts: list):
    # In DuckDB over every district's successful lines, staged as Parquet for a city or a province (out of core,
    # spilling to disk beyond its memory limit) or registered from memory for a few districts; on a cluster, the
    # same query per hash bucket of the identity number, merged in the same order.
    executor = bucket_executor()
    if executor is not None and contexts and all(isinstance(x, StagedDistrict) for x in contexts):
        folders = write_buckets(contexts, executor.buckets)
        parts = [p for p in executor.map(folders) if len(p)]
        out = (pd.concat(parts, ignore_index=True).sort_values(["person_id", "item_code", "period"],
                                                              ignore_index=True)
               if parts else el07_query(None, None))
    else:
        spill = next((x.ok_path.parent / "spill" for x in contexts if isinstance(x, StagedDistrict)), None)
        con = staged_connect(spill)
        try:
            out = el07_query(con, ok_payments(con, contexts))
        finally:
            con.close()
    return Result(out, metrics={"districts": sorted(c.district_code for c in contexts)})


def el07_query(con, view: str | None) -> pd.DataFrame:
    """EL07's query over a view of (district, person_id, item_code, period, amount): plain hash aggregates only
    (they spill to disk; DISTINCT aggregates over a province's lines do not), so the districts are listed only
    for the few keys flagged. With no connection: the empty result, typed."""
    if con is None:
        out = pd.DataFrame({"person_id": [], "item_code": [], "period": [], "n": [], "amount_fen": [],
                            "districts": []})
    else:
        out = con.execute(f"""
            WITH per AS (SELECT person_id, item_code, period, district, sum(amount) AS amount
                         FROM {view} GROUP BY person_id, item_code, period, district),
                 hit AS (SELECT person_id, item_code, period FROM per GROUP BY person_id, item_code, period
                         HAVING count(*) >= 2)
            SELECT person_id, item_code, period, count(*)::BIGINT AS n, sum(amount)::BIGINT AS amount_fen,
                   string_agg(district, ',' ORDER BY district) AS districts
            FROM per SEMI JOIN hit USING (person_id, item_code, period)
            GROUP BY person_id, item_code, period
            ORDER BY person_id, item_code, period""").df()
    out["amount_fen"] = out["amount_fen"].astype("int64")
    out["n"] = out["n"].astype("int64")
    for c in ("person_id", "item_code", "period", "districts"):
        out[c] = out[c].astype("str")
    out["key"] = out["person_id"] + "|" + out["item_code"] + "|" + out["period"]
    return out
