"""A synthetic city: N district packages of one city (天津's real district codes and names) with people who moved
between districts, for the cross-district check EL07 (the same person paid for the same item and period by two
districts).

A mover is made by giving a clean beneficiary of the next district the identity number of a beneficiary of this
one, in every table of the next district (the disclosure's masked number and the household's birth date too), so
each district's own tables and truth stay exact: the person taken over was in no planted problem, and the
numbers chosen are told apart by their masked form. Three kinds are planted between each pair of neighbours:

- EL07: both districts paid the same item for overlapping periods (flagged for each common period);
- a trap: both paid the same item, but for periods that do not overlap (not EL07);
- a trap: one district's line for a period failed and was never re-paid, the other paid it (not EL07 for that
  period; their other common periods still are).

Districts are made one after another and written as soon as their neighbour has taken its movers, so at most two
districts are in memory at once.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..package.identity import masked_id
from ..package.schema import TABLE_BY_NAME
from .district import District, generate
from .writer import WriteOptions, write_package

TIANJIN = [("120101", "和平区"), ("120102", "河东区"), ("120103", "河西区"), ("120104", "南开区"), ("120105", "河北区"),
           ("120106", "红桥区"), ("120110", "东丽区"), ("120111", "西青区"), ("120112", "津南区"), ("120113", "北辰区"),
           ("120114", "武清区"), ("120115", "宝坻区"), ("120116", "滨海新区"), ("120117", "宁河区"), ("120118", "静海区"),
           ("120119", "蓟州区")]
CITY = ("120000", "天津市")
ID = re.compile(r"\d{6}[\d*]{8}\d{3}[\dX]")
# Where a person's identity appears beyond the beneficiary's own rows: someone appearing there is never taken over.
_ENTANGLED = {"deaths": ["person_id"], "public_employees": ["person_id"], "cadres": ["person_id"],
              "guardianships": ["person_id", "guardian_id"], "card_transactions": ["counterparty_id"],
              "payments": ["account_holder_id"]}


def _id_columns(table: str) -> list[str]:
    t = TABLE_BY_NAME.get(table)
    return [c.name for c in t.columns if c.type == "id"] if t else []


def _birth(pid: str) -> pd.Timestamp:
    return pd.Timestamp(f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}")


def _truth_people(d: District) -> set[str]:
    """Everyone named (in full or masked) in a district's planted truth."""
    out = set()
    for keys in d.truth.values():
        for k in keys:
            out.update(ID.findall(str(k)))
    return out


def _clean_people(d: District, taken: set[str]) -> pd.Index:
    """Beneficiaries in no planted problem and nowhere but their own rows: safe to take over or to copy."""
    named = _truth_people(d)
    b = d.tables["beneficiaries"]["person_id"].astype(str)
    bad = set(taken) | {p for p in b.unique() if p in named or masked_id(p) in named}
    # nor anyone whose household holds someone in a planted problem (household checks read the whole household)
    hh = d.tables["households"]
    hit = hh.loc[hh["person_id"].astype(str).isin(bad), "household_id"]
    bad.update(hh.loc[hh["household_id"].isin(hit), "person_id"].astype(str))
    bn = d.tables["beneficiaries"]
    hit = bn.loc[bn["person_id"].astype(str).isin(bad), "household_id"]
    bad.update(bn.loc[bn["household_id"].isin(hit), "person_id"].astype(str))
    for table, cols in _ENTANGLED.items():
        t = d.tables.get(table)
        if t is not None:
            for c in cols:
                bad.update(t[c].dropna().astype(str))
    masked = b.drop_duplicates().map(masked_id)
    unique_mask = set(masked[~masked.duplicated(keep=False)])
    keep = [p for p in b.unique() if p not in bad and masked_id(p) in unique_mask]
    return pd.Index(sorted(keep))


def _success(d: District, people) -> pd.DataFrame:
    p = d.tables["payments"]
    ok = p[(p["status"] == "success") & p["person_id"].isin(people)]
    return ok[["person_id", "item_code", "period"]].drop_duplicates()


def _ages_fit(d: District, pid: str, items) -> bool:
    """Whether ``pid``'s age in the year fits every item's age limits (so nothing new is flagged on eligibility)."""
    pol = d.tables["policy_items"].set_index("item_code")
    birth = _birth(pid)
    year = int(d.meta["year"])
    for it in items:
        lo, hi = pol.at[it, "min_age"], pol.at[it, "max_age"]
        for on in (pd.Timestamp(f"{year - 1}-01-01"), pd.Timestamp(f"{year + 1}-12-31")):
            age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
            if (pd.notna(lo) and age < int(lo)) or (pd.notna(hi) and age > int(hi)):
                return False
    return True


def _take_over(d: District, old: str, new: str, new_birth: pd.Timestamp) -> None:
    """Give person ``old`` of district ``d`` the identity number ``new`` in every table."""
    for name, t in d.tables.items():
        for c in _id_columns(name):
            if c in t.columns:
                hit = t[c] == old
                if hit.any():
                    t.loc[hit, c] = new
        if name == "disclosures":
            hit = t["person_id"] == masked_id(old)
            t.loc[hit, "person_id"] = masked_id(new)
        if name == "households" and "birth_date" in t.columns:
            t.loc[t["person_id"] == new, "birth_date"] = new_birth


def _plant_movers(src: District, dst: District, rng: np.random.Generator, taken_src: set, taken_dst: set,
                  n_el07: int = 3) -> dict:
    """Plant movers from ``src`` into ``dst``; returns the EL07 keys and the traps (keys that must not be flagged)."""
    out = {"EL07": [], "moved_other_periods": [], "failed_in_one": []}
    src_clean = _clean_people(src, taken_src)
    dst_clean = _clean_people(dst, taken_dst)
    dst_ids = set(dst.tables["beneficiaries"]["person_id"].astype(str))
    dst_masked = {masked_id(p) for p in dst_ids} | _truth_people(dst)
    s_ok = _success(src, src_clean)
    d_ok = _success(dst, dst_clean)
    d_by = {p: g for p, g in d_ok.groupby("person_id")}
    d_items = dst.tables["payments"].groupby("person_id")["item_code"].agg(set)

    p_src = src.tables["payments"]
    failed = p_src[p_src["status"] != "success"][["person_id", "item_code", "period"]].drop_duplicates()
    ok_keys = set(map(tuple, p_src.loc[p_src["status"] == "success", ["person_id", "item_code", "period"]]
                      .to_numpy()))
    failed = failed[[tuple(r) not in ok_keys for r in failed.to_numpy()]]
    failed = failed[~failed["person_id"].isin(taken_src)]
    s_all = p_src.loc[p_src["status"] == "success", ["person_id", "item_code", "period"]].drop_duplicates()

    def pair_for(a: str, a_ok: pd.DataFrame, want: str, avoid_period=None):
        """A clean person of ``dst`` sharing an item with ``a`` whose common periods are as wanted."""
        a_set = set(map(tuple, a_ok[["item_code", "period"]].to_numpy()))
        a_items = set(a_ok["item_code"])
        for b in rng.permutation(np.array(list(d_by), dtype=object)):
            if b in used or masked_id(a) in dst_masked or a in dst_ids:
                continue
            g = d_by[b]
            b_set = set(map(tuple, g[["item_code", "period"]].to_numpy()))
            if not a_items & set(g["item_code"]):
                continue
            common = a_set & b_set
            if want == "overlap" and not common:
                continue
            if want == "disjoint" and common:
                continue
            if want == "failed" and avoid_period not in b_set:
                continue
            if not _ages_fit(dst, a, d_items.get(b, set())):
                continue
            return b, sorted(common)
        return None, []

    used: set[str] = set()           # the people of dst taken over (by their old numbers)

    def plant(a, b, common):
        _take_over(dst, b, a, _birth(a))
        used.add(b)
        taken_src.add(a)
        taken_dst.add(a)
        dst_ids.add(a)
        dst_masked.add(masked_id(a))
        return [f"{a}|{it}|{per}" for it, per in common]

    people = list(rng.permutation(np.array(sorted(set(s_ok["person_id"])), dtype=object)))
    by_person = {p: g for p, g in s_ok.groupby("person_id")}
    planted = 0
    for a in people:
        if planted >= n_el07:
            break
        b, common = pair_for(a, by_person[a], "overlap")
        if b is not None:
            out["EL07"] += plant(a, b, common)
            planted += 1
    for a in people:
        if a in taken_src:
            continue
        b, common = pair_for(a, by_person[a], "disjoint")
        if b is not None:
            plant(a, b, common)
            g = by_person[a]
            out["moved_other_periods"] += [f"{a}|{it}|{per}" for it, per in g[["item_code", "period"]].to_numpy()]
            break
    for r in failed.sample(frac=1, random_state=int(rng.integers(1 << 31))).itertuples(index=False):
        a = r.person_id
        if a in taken_src or a in dst_ids:
            continue
        a_ok = s_all[s_all["person_id"] == a]
        b, common = pair_for(a, a_ok, "failed", (r.item_code, r.period))
        if b is not None:
            out["EL07"] += plant(a, b, common)
            out["failed_in_one"].append(f"{a}|{r.item_code}|{r.period}")
            break
    return out


def make_city(out: str | Path, n: int = 16, lines: int = 10000, seed: int = 0, year: int = 2023,
              options: WriteOptions | None = None, clean: bool = False) -> dict:
    """Write ``n`` district packages of 天津市 into ``out/<district_code>/`` and ``out/city-truth.json``."""
    if not 2 <= n <= len(TIANJIN):
        raise ValueError(f"a city of 2 to {len(TIANJIN)} districts")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truth = {"EL07": [], "moved_other_periods": [], "failed_in_one": []}
    prev, prev_taken = None, set()
    for i, (code, name) in enumerate(TIANJIN[:n]):
        d = generate(district_code=code, district_name=name, year=year, lines=lines, seed=seed * 1000 + i,
                     clean=clean)
        taken = set()
        if prev is not None:
            got = _plant_movers(prev, d, rng, prev_taken, taken)
            for k, v in got.items():
                truth[k] += v
            write_package(out / prev.meta["district_code"], prev, options)
        prev, prev_taken = d, taken
    write_package(out / prev.meta["district_code"], prev, options)
    doc = {"schema": "audit-city-truth/1", "city_code": CITY[0], "city_name": CITY[1], "year": year,
           "districts": [c for c, _ in TIANJIN[:n]], "checks": {"EL07": sorted(set(truth["EL07"]))},
           "traps": {"moved_other_periods": sorted(set(truth["moved_other_periods"])),
                     "failed_in_one": sorted(set(truth["failed_in_one"]))}}
    (out / "city-truth.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return doc
