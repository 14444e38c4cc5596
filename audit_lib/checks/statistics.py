"""Statistics 统计分析 (scipy): Benford's first digits, robust outliers, abnormal months, and the
monetary-unit sample for field verification."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from scipy import stats

from . import basis as B
from .context import Context, month_text
from .registry import Param, Result, check

BENFORD = np.log10(1 + 1 / np.arange(1, 10))
# Nigrini's first-digit MAD bands: close conformity, acceptable, marginal, above: nonconformity.
BANDS = ((0.006, "close conformity"), (0.012, "acceptable conformity"), (0.015, "marginally acceptable"))


def _varying(t: Context, lines: pd.DataFrame) -> pd.DataFrame:
    """Lines of items on the list with no fixed standard (the amount varies per case)."""
    keep = lines["listed"] & lines["standard_amount"].isna() & (lines["amount"] > 0)
    return lines[keep.to_numpy()]


def band(mad: float, threshold: float) -> str:
    for limit, name in BANDS:
        if mad <= limit and mad <= threshold:
            return name
    return "nonconformity" if mad > threshold else "marginally acceptable"


@check("ST01", "首位数字定律（Benford）偏离", "statistics", "low", needs=("payments", "policy_items"),
       key="item_code", params={"min_n": Param(1000, min=1, max=10**9, zh="最少笔数"), "min_span": Param(100, kind="float", min=1, max=10**9, zh="p95/p5 最小跨度"),
               "mad_threshold": Param(0.015, min=0, max=1, zh="MAD 阈值")}, basis=B.ANALYTICS,
       description="Varying-amount items whose first-digit distribution does not conform to Benford's law "
                   "(mean absolute deviation above mad_threshold; chi-square p-value reported). Items with fewer "
                   "than min_n lines or a p95/p5 ratio under min_span are not applicable and never flagged.")
def st01(t: Context, min_n: int = 1000, min_span: float = 100, mad_threshold: float = 0.015):
    x = _varying(t, t.ok[["item_code", "amount", "listed", "standard_amount"]])
    metrics, rows = {}, []
    for item, g in x.groupby("item_code", sort=True):
        a = g["amount"].to_numpy(np.int64)
        n = len(a)
        p5, p95 = np.percentile(a, [5, 95])
        span = float(p95 / p5) if p5 > 0 else 0.0
        m = {"n": n, "p95_p5": round(span, 6)}
        if n < min_n or span < min_span:
            m["applicable"] = False
            metrics[item] = m
            continue
        first = pd.Series(a).astype(str).str.slice(0, 1).astype(int).to_numpy()
        counts = np.bincount(first, minlength=10)[1:10]
        obs = counts / n
        mad = float(np.abs(obs - BENFORD).mean())
        chi = stats.chisquare(counts, BENFORD * n)
        m.update(applicable=True, mad=round(mad, 6), chi2=round(float(chi.statistic), 6),
                 p_value=round(float(chi.pvalue), 6), conformity=band(mad, mad_threshold),
                 first_digits=[int(c) for c in counts])
        metrics[item] = m
        if mad > mad_threshold:
            rows.append({"key": item, "item_code": item, "n": n, "mad": round(mad, 6),
                         "p_value": round(float(chi.pvalue), 6), "amount_fen": int(a.sum())})
    if not any(m.get("applicable") for m in metrics.values()):
        return Result(status="skipped", metrics=metrics,
                      reason=f"not applicable: no varying-amount item has {min_n} or more lines and a p95/p5 "
                             f"ratio of {min_span} or more")
    return Result(pd.DataFrame(rows, columns=["key", "item_code", "n", "mad", "p_value", "amount_fen"]),
                  metrics=metrics)


@check("ST02", "金额异常值", "statistics", "low", needs=("payments", "policy_items"),
       params={"z": Param(3.5, min=0.5, max=1000, zh="稳健 z 值阈值"), "min_group": Param(40, min=3, max=10**9, zh="最小分组笔数"),
               "scale": Param("log", choices=("log", "raw"), zh="尺度（log 对数 / raw 原值）")}, basis=B.ANALYTICS,
       description="Varying-amount payments whose robust z-score (0.6745·(x − median)/MAD within item and period) "
                   "is above z. Amounts are compared on the log scale by default (scale: log), because payment "
                   "amounts are skewed and span orders of magnitude; groups smaller than min_group are not judged.")
def st02(t: Context, z: float = 3.5, min_group: int = 40, scale: str = "log"):
    x = _varying(t, t.ok[["payment_id", "person_id", "name", "item_code", "period", "amount", "listed",
                          "standard_amount"]])
    v = np.log(x["amount"].to_numpy(np.float64)) if scale == "log" else x["amount"].to_numpy(np.float64)
    x = x.assign(_v=v)
    g = x.groupby(["item_code", "period"])["_v"]
    n = g.transform("size")
    med = g.transform("median")
    dev = (x["_v"] - med).abs()
    mad = dev.groupby([x["item_code"], x["period"]]).transform("median")
    mean_ad = dev.groupby([x["item_code"], x["period"]]).transform("mean")
    # Where more than half the amounts are equal (MAD 0), the mean absolute deviation scales instead.
    score = np.where(mad > 0, 0.6745 * (x["_v"] - med) / mad.where(mad > 0, 1),
                     np.where(mean_ad > 0, (x["_v"] - med) / (1.253314 * mean_ad.where(mean_ad > 0, 1)), 0.0))
    flag = (np.abs(score) > z) & (n >= min_group).to_numpy()
    out = x[flag].assign(z=np.round(score[flag], 6))
    out = out[["payment_id", "person_id", "name", "item_code", "period", "amount", "z"]]
    out["key"] = out["payment_id"]
    out["amount_fen"] = out["amount"].astype("int64")
    return Result(out, metrics={"groups_judged": int(((n >= min_group).groupby(
        [x["item_code"], x["period"]]).first()).sum()) if len(x) else 0})


@check("ST03", "月度发放异常波动", "statistics", "low", needs=("payments", "policy_items"), key="item_code|period",
       params={"ratio": Param(0.5, min=0, max=1000, zh="与中位数之比阈值"), "min_median": Param(20, min=1, max=10**9, zh="中位数下限（元）")}, basis=B.ANALYTICS,
       description="Monthly and quarterly items whose count or amount in a period departs from the item's median "
                   "period by more than ratio (periods with no payment count as zero between the item's first "
                   "and last period); items with a median under min_median lines are not judged.")
def st03(t: Context, ratio: float = 0.5, min_median: int = 20):
    g = t.sql("""select item_code, m0, count(*) as count, sum(amount) as amount from ok
                 where listed and frequency in ('monthly', 'quarterly') group by 1, 2 order by 1, 2""",
              ok=t.ok[["item_code", "m0", "amount", "listed", "frequency"]]).set_index(["item_code", "m0"])
    rows, metrics = [], {}
    for item, s in g.groupby(level=0, sort=True):
        s = s.droplevel(0)
        step = 3 if t.items.at[item, "frequency"] == "quarterly" else 1
        full = s.reindex(range(s.index.min(), s.index.max() + 1, step), fill_value=0)
        mc, ma = float(np.median(full["count"])), float(np.median(full["amount"]))
        metrics[item] = {"median_count": mc, "median_amount": ma, "judged": mc >= min_median}
        if mc < min_median:
            continue
        off = ((full["count"] - mc).abs() > ratio * mc) | ((full["amount"] - ma).abs() > ratio * ma)
        for m, r in full[off].iterrows():
            rows.append({"key": f"{item}|{month_text([m])[0]}", "item_code": item, "period": month_text([m])[0],
                         "count": int(r["count"]), "median_count": mc, "amount_fen": int(r["amount"]),
                         "median_amount": ma})
    return Result(pd.DataFrame(rows, columns=["key", "item_code", "period", "count", "median_count",
                                              "amount_fen", "median_amount"]), metrics=metrics)


def sample_seed(district_code: str, year: int, seed: int) -> int:
    h = hashlib.sha256(f"{district_code}|{year}|{seed}".encode()).digest()
    return int.from_bytes(h[:8], "big")


@check("ST04", "审计抽样", "statistics", "info", needs=("payments",), params={"size": Param(60, min=1, max=100000, zh="样本量"), "seed": Param(0, min=0, max=2**63 - 1, zh="随机种子")},
       basis=B.AUDIT,
       description="A monetary-unit sample of successful lines for field verification: systematic selection over "
                   "cumulative amounts in payment_id order, from a start drawn from the district, year and seed.")
def st04(t: Context, size: int = 60, seed: int = 0):
    ok = t.ok.sort_values("payment_id", kind="stable")
    amounts = ok["amount"].to_numpy(np.int64)
    total = int(amounts.sum())
    if total <= 0 or size <= 0:
        return Result(ok.iloc[:0].assign(key=pd.Series(dtype=str)), status="info")
    rng = np.random.default_rng(sample_seed(t.district_code, t.year, seed))
    start = int(rng.integers(0, total))
    k = np.arange(size, dtype=object)
    points = np.array([(start + int(i) * total) // size for i in k], dtype=np.int64)   # exact integers
    cum = np.cumsum(amounts)
    hit, hits = np.unique(np.searchsorted(cum, points, side="right"), return_counts=True)
    out = ok.iloc[hit][["payment_id", "person_id", "name", "item_code", "period", "amount", "account_no"]].copy()
    out["hits"] = hits.astype("int64")          # sampling units that fell on the line (a line above the interval: 2+)
    out["key"] = out["payment_id"]
    out["amount_fen"] = out["amount"].astype("int64")
    return Result(out, status="info", metrics={"population_fen": total, "interval_fen": total // size,
                                                "start_fen": start, "selected": int(len(out))})
