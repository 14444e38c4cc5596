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

Districts are made one after another, each in shards as ``audit synth --lines`` makes a large district. Movers are
planted between the first shards of neighbours (a shard is a district of its own people, so nothing else changes),
and every shard is written as soon as it is made: what is held is the current shard and the first shard of the
district before, whatever the size of the districts.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..package.identity import masked_id, masked_ids
from ..package.schema import TABLE_BY_NAME
from .district import SHARD_LINES, District, sharded_meta, shards
from .writer import PackageWriter, WriteOptions

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
    # a masked column can hold a number shown in full (CP16's disclosure that forgot to mask): that is a number too
    return [c.name for c in t.columns if c.type in ("id", "masked_id")] if t else []


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
    ids = pd.Series(d.tables["beneficiaries"]["person_id"].astype(str).unique())
    masked = masked_ids(ids)
    bad = set(taken) | set(ids[(ids.isin(named) | masked.isin(named)).to_numpy()])
    # nor anyone whose household holds someone in a planted problem (household checks read the whole household)
    for t in (d.tables["households"], d.tables["beneficiaries"]):
        hit = t.loc[t["person_id"].astype(str).isin(bad), "household_id"]
        bad.update(t.loc[t["household_id"].isin(hit), "person_id"].astype(str))
    for table, cols in _ENTANGLED.items():
        t = d.tables.get(table)
        if t is not None:
            for c in cols:
                v = t[c]
                if table == "payments":      # holding one's own account is one's own row, not another's
                    v = v[(v != t["person_id"]).to_numpy()]
                bad.update(v.dropna().astype(str))
    unique_mask = ~masked.duplicated(keep=False)          # told apart by the masked number a disclosure shows
    return pd.Index(sorted(ids[(~ids.isin(bad) & unique_mask).to_numpy()]))


def _sets(payments: pd.DataFrame, people=None) -> dict[str, frozenset]:
    """Each person's successful (item, period) pairs."""
    ok = payments[payments["status"] == "success"]
    if people is not None:
        ok = ok[ok["person_id"].isin(people)]
    ok = ok[["person_id", "item_code", "period"]].drop_duplicates()
    pairs = pd.Series(list(zip(ok["item_code"], ok["period"])), index=ok["person_id"].to_numpy())
    return pairs.groupby(level=0).agg(frozenset).to_dict()


def _ages_fit(d: District, pid: str, items) -> bool:
    """Whether ``pid``'s age in the year fits every item's age limits (so nothing new is flagged on eligibility)."""
    pol = d.tables["policy_items"].set_index("item_code")
    birth = _birth(pid)
    year = int(d.meta["year"])
    for it in items:
        if it not in pol.index:             # an item not on the list (CP03's) has no age limits
            continue
        lo, hi = pol.at[it, "min_age"], pol.at[it, "max_age"]
        for on in (pd.Timestamp(f"{year - 1}-01-01"), pd.Timestamp(f"{year + 1}-12-31")):
            age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
            if (pd.notna(lo) and age < int(lo)) or (pd.notna(hi) and age > int(hi)):
                return False
    return True


def _take_over(d: District, new_of: dict[str, str]) -> None:
    """Give each person ``old`` of district ``d`` the identity number ``new_of[old]`` in every table (the
    disclosure's masked number and the household's birth date too), in one pass over each table."""
    masked_new = {masked_id(o): masked_id(n) for o, n in new_of.items()}
    for name, t in d.tables.items():
        for c in _id_columns(name):
            if c in t.columns:
                hit = t[c].isin(new_of).to_numpy()
                if hit.any():
                    t.loc[hit, c] = t.loc[hit, c].map(new_of)
        if name == "disclosures":
            hit = t["person_id"].isin(masked_new).to_numpy()
            t.loc[hit, "person_id"] = t.loc[hit, "person_id"].map(masked_new)
        if name == "households" and "birth_date" in t.columns:
            hit = t["person_id"].isin(set(new_of.values())).to_numpy()
            t.loc[hit, "birth_date"] = t.loc[hit, "person_id"].map(_birth)


def _unpaid_failures(payments: pd.DataFrame, rng: np.random.Generator):
    """(person, item, period) with a failed line and no successful one, in a random order (at most TRIES)."""
    cols = ["person_id", "item_code", "period"]
    failed = payments.loc[payments["status"] != "success", cols].drop_duplicates()
    paid = payments.loc[payments["status"] == "success", cols].drop_duplicates()
    failed = failed.merge(paid, how="left", indicator=True)
    failed = failed.loc[(failed["_merge"] == "left_only").to_numpy(), cols]
    return failed.sample(frac=1, random_state=int(rng.integers(1 << 31))).head(TRIES).itertuples(index=False)


TRIES = 500        # people tried per kind of mover, and candidates per person: bounded whatever the district's size


def _plant_movers(src: District, dst: District, rng: np.random.Generator, taken_src: set, taken_dst: set,
                  n_el07: int = 3) -> dict:
    """Plant movers from ``src`` into ``dst``; returns the EL07 keys and the traps (keys that must not be flagged)."""
    out = {"EL07": [], "moved_other_periods": [], "failed_in_one": []}
    p_src = src.tables["payments"]
    src_sets = _sets(p_src)                                    # every successful line of src, by person
    clean_src = set(_clean_people(src, taken_src))
    dst_sets = _sets(dst.tables["payments"], _clean_people(dst, taken_dst))
    dst_ids = set(dst.tables["beneficiaries"]["person_id"].astype(str))
    dst_masked = set(masked_ids(pd.Series(sorted(dst_ids)))) | _truth_people(dst)
    d_items = dst.tables["payments"].groupby("person_id")["item_code"].agg(set)
    by_item: dict[str, list[str]] = {}
    for b in sorted(dst_sets):
        for it in {it for it, _ in dst_sets[b]}:
            by_item.setdefault(it, []).append(b)
    new_of: dict[str, str] = {}                               # dst's old number -> the mover's number

    def pair_for(a: str, want: str, failed=None):
        """A clean person of dst sharing an item with ``a`` whose common (item, period) pairs are as wanted."""
        if a in taken_src or a in dst_ids or masked_id(a) in dst_masked:
            return None, []
        a_set = src_sets.get(a, frozenset())
        items = sorted({it for it, _ in a_set} | ({failed[0]} if failed else set()))
        cands = sorted({b for it in items for b in by_item.get(it, ())} - set(new_of))
        for b in rng.permutation(np.array(cands, dtype=object))[:TRIES]:
            common = a_set & dst_sets[b]
            if (want == "overlap" and not common) or (want == "disjoint" and common) or \
                    (want == "failed" and failed not in dst_sets[b]):
                continue
            if _ages_fit(dst, a, d_items.get(b, set())):
                return b, sorted(common)
        return None, []

    def plant(a, b, common):
        new_of[b] = a
        taken_src.add(a)
        taken_dst.add(a)
        dst_ids.add(a)
        dst_masked.add(masked_id(a))
        return [f"{a}|{it}|{per}" for it, per in common]

    people = list(rng.permutation(np.array(sorted(clean_src & set(src_sets)), dtype=object))[:TRIES])
    for a in people:
        if len(new_of) >= n_el07:
            break
        b, common = pair_for(a, "overlap")
        if b is not None:
            out["EL07"] += plant(a, b, common)
    for a in people:
        b, common = pair_for(a, "disjoint")
        if b is not None:
            plant(a, b, common)
            out["moved_other_periods"] += [f"{a}|{it}|{per}" for it, per in sorted(src_sets[a])]
            break
    # a line of src that failed and was never paid for its period (one of src's own planted problems: src is not
    # changed, so its truth holds), paid by dst for that period; planted where such a line and a clean person of
    # dst paid for the same item and period exist
    for r in _unpaid_failures(p_src, rng):
        b, common = pair_for(r.person_id, "failed", (r.item_code, r.period))
        if b is not None:
            out["EL07"] += plant(r.person_id, b, common)
            out["failed_in_one"].append(f"{r.person_id}|{r.item_code}|{r.period}")
            break
    else:
        # none of src's: then one of dst's failed, never re-paid lines, its person taken over by a clean person
        # of src paid for that item and period (dst's truth renamed with it: the failure stays dst's problem)
        all_dst = _sets(dst.tables["payments"])
        src_by_pair: dict = {}
        for a in sorted(clean_src & set(src_sets)):
            for pair in src_sets[a]:
                src_by_pair.setdefault(pair, []).append(a)
        ben = pd.Series(sorted(dst_ids))
        masked_b = masked_ids(ben)
        shared = set(ben[masked_b.duplicated(keep=False).to_numpy()])   # their notices could not be told apart
        pay = dst.tables["payments"]
        # only someone in no planted problem but its failed line (RC07, and RC04 for its period): a number or an
        # age of its own could be what another check judges
        other = [str(x) for k, v in dst.truth.items() if k not in ("RC07", "RC04") for x in v]
        named = set(ID.findall(" ".join(other)))
        named |= set(pay.loc[pay["payment_id"].isin(other).to_numpy(), "person_id"].astype(str))
        for r in _unpaid_failures(pay, rng):
            b = r.person_id
            if b in new_of or b in new_of.values() or b in shared or b in taken_dst or b in named \
                    or masked_id(b) in named:
                continue
            cands = [a for a in src_by_pair.get((r.item_code, r.period), ())
                     if a not in taken_src and a not in dst_ids and masked_id(a) not in dst_masked]
            for a in rng.permutation(np.array(cands, dtype=object))[:TRIES]:
                if _ages_fit(dst, a, d_items.get(b, set())):
                    out["EL07"] += plant(a, b, sorted(src_sets[a] & all_dst.get(b, frozenset())))
                    out["failed_in_one"].append(f"{a}|{r.item_code}|{r.period}")
                    break
            if out["failed_in_one"]:
                break
    _take_over(dst, new_of)
    _rename_truth(dst, new_of)
    return out


def _rename_truth(d: District, new_of: dict[str, str]) -> None:
    """Carry a renaming into ``d``'s truth: full numbers and the masked forms disclosures show."""
    named = _truth_people(d)
    new_of = {o: n for o, n in new_of.items() if o in named or masked_id(o) in named}
    if not new_of:
        return
    both = {**new_of, **{masked_id(o): masked_id(n) for o, n in new_of.items()}}
    pat = re.compile("|".join(map(re.escape, sorted(both, key=len, reverse=True))))
    d.truth = {k: [pat.sub(lambda mm: both[mm.group(0)], str(v)) for v in vs] for k, vs in d.truth.items()}


def _all_ids(d: District) -> set[str]:
    """Every identity number a district's tables hold in full (masked forms are not numbers)."""
    out: set[str] = set()
    for name, t in d.tables.items():
        for c in _id_columns(name):
            if c in t.columns:
                v = t[c].dropna().astype(str).unique()
                out.update(x for x in v if "*" not in x)
    return out


def _rename_collisions(d: District, seen: set[str]) -> int:
    """Districts are generated apart, so two of them can draw the same identity number for two different people
    (about a thousand pairs in a city of 16 districts of a million lines): that would be an EL07 nobody planted.
    Each such number in ``d`` becomes another with the same place and year of birth, the nearest free birthday,
    and the same last four characters (so its masked form, as disclosures and truth keys show it, is unchanged),
    in every table and in d's truth. Returns how many were renamed."""
    from .district import with_check_digits

    ids = _all_ids(d)
    new_of: dict[str, str] = {}
    for old in sorted(ids & seen):
        born = _birth(old)
        year = pd.date_range(f"{born.year}-01-01", f"{born.year}-12-31")
        days = sorted(year, key=lambda x: (abs((x - born).days), x))          # the nearest birthday first
        cands = with_check_digits(np.array([f"{old[:6]}{x:%Y%m%d}{old[14:17]}" for x in days], dtype="U17"))
        new = next((c for c in cands if c[-1] == old[-1] and c != old and c not in seen and c not in ids
                    and c not in new_of.values()), None)
        if new is None:
            raise RuntimeError(f"no free identity number near {old[:6]}…; choose another seed")
        new_of[old] = new
    if new_of:
        _take_over(d, new_of)
        pat = re.compile("|".join(map(re.escape, new_of)))
        d.truth = {k: [pat.sub(lambda mm: new_of[mm.group(0)], str(v)) for v in vs] for k, vs in d.truth.items()}
    return len(new_of)


def make_city(out: str | Path, n: int = 16, lines: int = 10000, seed: int = 0, year: int = 2023,
              options: WriteOptions | None = None, clean: bool = False, shard_lines: int = SHARD_LINES) -> dict:
    """Write ``n`` district packages of 天津市 into ``out/<district_code>/`` and ``out/city-truth.json``."""
    if not 2 <= n <= len(TIANJIN):
        raise ValueError(f"a city of 2 to {len(TIANJIN)} districts")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truth = {"EL07": [], "moved_other_periods": [], "failed_in_one": []}
    prev, prev_taken, seen, renamed = None, set(), set(), 0
    for i, (code, name) in enumerate(TIANJIN[:n]):
        parts = shards(district_code=code, district_name=name, year=year, lines=lines, seed=seed * 1000 + i,
                       clean=clean, shard_lines=shard_lines)
        d = next(parts)                                  # the first shard: where movers arrive and leave from
        renamed += _rename_collisions(d, seen)
        taken = set()
        if prev is not None:                             # planting changes d only, never prev (already written)
            got = _plant_movers(prev, d, rng, prev_taken, taken)
            for k, v in got.items():
                truth[k] += v
        writer = PackageWriter(out / code, sharded_meta(d.meta, lines, shard_lines), options)
        writer.add(d)
        seen |= _all_ids(d)
        for part in parts:
            renamed += _rename_collisions(part, seen)    # against every district and every shard before it
            writer.add(part)
            seen |= _all_ids(part)
            del part
        writer.close()
        prev, prev_taken = d, taken
    doc = {"schema": "audit-city-truth/1", "city_code": CITY[0], "city_name": CITY[1], "year": year,
           "districts": [c for c, _ in TIANJIN[:n]], "renamed_apart": renamed, "checks": {"EL07": sorted(set(truth["EL07"]))},
           "traps": {"moved_other_periods": sorted(set(truth["moved_other_periods"])),
                     "failed_in_one": sorted(set(truth["failed_in_one"]))}}
    (out / "city-truth.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return doc
