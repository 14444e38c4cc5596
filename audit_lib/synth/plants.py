"""Planted problems: one small, realistic case (or a few) for every check of the catalogue.

Each plant picks people no other plant has touched (``g.busy``), changes the district the way the problem
happens in real life, and records what the check must flag: payment lines in ``g.tag[check]`` (turned into
payment ids when the tables are assembled) and other keys in ``g.keys[check]``. Where a problem necessarily
shows in a second check, both are recorded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..package.identity import masked_id
from . import catalogue as cat
from .district import _date, _month_end, period_text


def _code(g, i):
    return g.items[i]["code"]


def _idx(g, code):
    return next(i for i, it in enumerate(g.items) if it["code"] == code)


def _items(g, freq="monthly", fixed=True, disclosed=False, unit="person", pools=("adult",)):
    return [i for i, it in enumerate(g.items)
            if it["freq"] == freq and (it["standard"] is not None) == fixed and it["disclosed"] == disclosed
            and it["unit"] == unit and it["pool"] in pools and it["start_month"] == 1
            and it["min_age"] is None and it["max_age"] is None]


def _free(g, items, k, single=True, full_year=True, kind=("family", "elder")):
    """Up to k (person, item) approvals of the given items, of people no plant has used; marks them busy."""
    a = g.appr
    p = g.people
    m = a["item"].isin(items).to_numpy() & np.isin(p.kind[a["person"].to_numpy()], kind)
    m &= ~a["person"].isin(g.busy).to_numpy()
    if single:
        m &= (a.groupby("person")["item"].transform("size") == 1).to_numpy()
    if full_year:
        m &= (a["start"].to_numpy() < g.y0) & (a["end"].to_numpy() < 0)
    cand = a.loc[m]
    cand = cand[~cand["person"].duplicated()]
    if len(cand) == 0:
        return cand
    take = np.sort(g.rng.choice(len(cand), min(k, len(cand)), replace=False))
    out = cand.iloc[take]
    g.busy.update(out["person"].tolist())
    return out


def _lines_of(g, person, item=None, success=True):
    L = g.lines
    m = (L["person"] == person) & ~L["drop"]
    if item is not None:
        m &= L["item"] == item
    if success:
        m &= L["status"] == 1
    return L.index[m.to_numpy()]


def _tag(g, check, idx):
    g.tag.setdefault(check, set()).update(int(i) for i in np.atleast_1d(idx))


def _key(g, check, *keys):
    g.keys.setdefault(check, set()).update(keys)


def _append(g, frame):
    start = len(g.lines)
    frame = frame.copy()
    frame.index = range(start, start + len(frame))
    g.lines = pd.concat([g.lines, frame])
    return frame.index


def _new_approval(g, person, item, amount, start, end):
    row = pd.DataFrame({"person": [person], "item": [item], "amount": [amount], "start": [start], "end": [end]})
    g.appr = pd.concat([g.appr, row], ignore_index=True)


def _person_key(g, person, item, ym):
    return f"{g.people.pid[person]}|{_code(g, item)}|{period_text([ym])[0]}"


# ---------------------------------------------------------------------------------------------- reconciliation

def rc03(g):
    """Paid without approval: an approval that ended in August kept being paid; a person never approved."""
    items = _items(g)
    for _, a in _free(g, items, 1).iterrows():
        end = g.y0 + 7
        g.appr.loc[(g.appr["person"] == a.person) & (g.appr["item"] == a["item"]), "end"] = end
        idx = [i for i in _lines_of(g, a.person, a["item"]) if g.lines.at[i, "ym"] > end]
        _tag(g, "RC03", idx)
    ghost = g.new_household(int(g.rng.integers(40, 70)))
    g.busy.add(ghost)
    item = items[0]
    fr = g._lines(np.array([ghost] * 2), np.array([item] * 2), np.array([g.y0 + 4, g.y0 + 5]),
                  np.array([g.items[item]["standard"] * 100] * 2))
    fr["acc"] = g.person_acc[ghost]
    _tag(g, "RC03", _append(g, fr))


def rc04(g):
    """Approved but not paid: one period of an approval has no payment at all."""
    for _, a in _free(g, _items(g), 3).iterrows():
        idx = [i for i in _lines_of(g, a.person, a["item"]) if g.lines.at[i, "ym"] <= g.y0 + 9]
        if idx:
            i = idx[len(idx) // 2]
            g.lines.at[i, "drop"] = True
            _key(g, "RC04", _person_key(g, a.person, a["item"], g.lines.at[i, "ym"]))


def rc05(g):
    """Amounts that differ from the approved amount; an approved one-off aid above the item's maximum."""
    for k, (_, a) in enumerate(_free(g, _items(g), 3).iterrows()):
        idx = _lines_of(g, a.person, a["item"])
        i = idx[len(idx) // 2]
        g.lines.at[i, "amount"] += (5000 if k % 2 == 0 else -1000)
        _tag(g, "RC05", i)
    item = _idx(g, "MZ018")
    cap = g.items[item]["max"] * 100
    for _, a in _free(g, [item], 1, full_year=False).iterrows():
        g.appr.loc[(g.appr["person"] == a.person) & (g.appr["item"] == item), "amount"] = cap + 2_000_000
        idx = _lines_of(g, a.person, item)
        g.lines.loc[idx, "amount"] = cap + 2_000_000
        _tag(g, "RC05", idx)


def rc07(g):
    """Failed lines never re-paid (so also unpaid: RC04), and one re-paid only after 52 days."""
    rng = g.rng
    for _, a in _free(g, _items(g), 2).iterrows():
        idx = [i for i in _lines_of(g, a.person, a["item"]) if g.lines.at[i, "ym"] <= g.y0 + 9]
        i = idx[len(idx) // 2]
        g.lines.at[i, "status"] = 0
        g.lines.at[i, "fail"] = int(rng.integers(0, len(cat.FAIL_REASONS)))
        _tag(g, "RC07", i)
        _key(g, "RC04", _person_key(g, a.person, a["item"], g.lines.at[i, "ym"]))
    item = _idx(g, "CL025")      # annual, paid in March: a late re-payment is still inside its period
    for _, a in _free(g, [item], 1).iterrows():
        i = _lines_of(g, a.person, item)[0]
        g.lines.at[i, "status"] = 0
        g.lines.at[i, "fail"] = 0
        re = g.lines.loc[[i]].copy()
        re["status"] = 1
        re["fail"] = -1
        re["reissue_of"] = i
        re["batch"] = 1
        re["pay_date"] = re["pay_date"].to_numpy() + np.timedelta64(52, "D")
        _append(g, re)
        _tag(g, "RC07", i)


def rc02(g):
    """Platform says paid, bank says otherwise: no credit, a failed credit, another amount, another account."""
    kinds = ["missing", "failed", "amount", "account"]
    for kind, (_, a) in zip(kinds, _free(g, _items(g), 4).iterrows()):
        idx = _lines_of(g, a.person, a["item"])
        i = int(idx[len(idx) // 2])
        g.bank_mods[i] = kind
        _tag(g, "RC02", i)


def rc01(g):
    """One item's bank received a disbursement nobody was credited with; another item's allocation lies idle."""
    items = _items(g)
    a, b = items[0], items[1] if len(items) > 1 else items[0]
    g.flow_extra.append(dict(item=a, flow_type="disbursed", amount=3_000_000,
                             date=_date(g.year, 6, 28)[()], doc=""))
    g.flow_extra.append(dict(item=b, flow_type="allocated", amount=50_000_000,
                             date=_date(g.year, 3, 1)[()], doc="补充下达"))
    _key(g, "RC01", _code(g, a), _code(g, b))


def rc06(g):
    """Disclosure against payment: paid but not disclosed, disclosed but not paid, amount differs."""
    item = _idx(g, "MZ002")
    chosen = _free(g, [item], 3)
    for kind, (_, a) in zip(["undisclosed", "amount", "unpaid"], chosen.iterrows()):
        idx = _lines_of(g, a.person, item)
        i = int(idx[len(idx) // 2])
        ym = int(g.lines.at[i, "ym"])
        if kind == "unpaid":
            # Disclosed for a month the person was not paid: that month's line is dropped from the payments
            # (so it is also RC04), while the disclosure still lists it.
            g.lines.at[i, "drop"] = True
            g.disc_mods.append(dict(kind="unpaid", line=i))
            _key(g, "RC04", _person_key(g, a.person, item, ym))
        else:
            g.disc_mods.append(dict(kind=kind, line=i))
        _key(g, "RC06", f"{_code(g, item)}|{period_text([ym])[0]}|{masked_id(g.people.pid[a.person])}")


# ---------------------------------------------------------------------------------------------- compliance

def cp02(g):
    """In-one-card items still paid into a passbook (so the item misses the year's card target: CP01)."""
    for _, a in _free(g, _items(g), 2).iterrows():
        acc = g._new_accounts(np.array([a.person]), np.array([1]), card=False)[0]
        idx = _lines_of(g, a.person, success=False)
        g.lines.loc[idx, "acc"] = acc
        g.lines.loc[idx, "channel"] = 2
        g.holder_always.add(int(acc))
        _tag(g, "CP02", [i for i in idx if g.lines.at[i, "status"] == 1])
        g.cp01_items.add(int(a["item"]))


def cp03(g):
    """An item paid that is not on the policy list; an item paid for January whose policy took effect on 12
    February (published on 20 February: the publication date itself is not CP03's concern)."""
    it = dict(cat.OFF_LIST_ITEM)
    g.items.append(it)
    item = len(g.items) - 1
    g.off_list.add(item)
    pool = g._pool("adult")
    pool = pool[~np.isin(pool, list(g.busy))]
    who = g.rng.choice(pool, 2, replace=False)
    for q in who.tolist():
        g.busy.add(q)
        _new_approval(g, q, item, 30000, g.y0 + 3, g.y0 + 5)
        fr = g._lines(np.array([q] * 3), np.array([item] * 3), g.y0 + np.array([3, 4, 5]), np.full(3, 30000))
        fr["acc"] = g.person_acc[q]
        _append(g, fr)
    _key(g, "CP03", it["code"])
    late = _items(g)[-1]
    g.items[late]["published"] = _date(g.year, 2, 20)[()]
    g.items[late]["effective"] = _date(g.year, 2, 12)[()]
    _key(g, "CP03", _code(g, late))


def cp04(g):
    """A new item published 19 natural days after it took effect (the rule is 10)."""
    item = _idx(g, "CL023")
    g.items[item]["published"] = _date(g.year, 7, 20)[()]
    _key(g, "CP04", _code(g, item))


def cp05(g):
    """An old person's allowance paid into the spouse's card, with no guardianship registered."""
    p = g.people
    item = _idx(g, "MZ004")
    a = g.appr
    m = (a["item"] == item).to_numpy() & ~a["person"].isin(g.busy).to_numpy()
    m &= (a.groupby("person")["item"].transform("size") == 1).to_numpy()
    m &= (a["start"].to_numpy() < g.y0) & (a["end"].to_numpy() < 0)
    done = 0
    for _, row in a.loc[m].iterrows():
        hh = p.hh[row.person]
        mates = [q for q in np.flatnonzero(p.hh == hh).tolist() if q != row.person and q not in g.busy]
        if not mates:
            continue
        mate = mates[0]
        g.busy.update([int(row.person), mate])
        idx = _lines_of(g, row.person, item, success=False)
        g.lines.loc[idx, "acc"] = g.person_acc[mate]
        _tag(g, "CP05", [i for i in idx if g.lines.at[i, "status"] == 1])
        done += 1
        if done == 2:
            break


def cp06(g):
    """Household items paid into the spouse's card instead of the head's (all of that head's lines)."""
    p = g.people
    hh_items = [i for i, it in enumerate(g.items) if it["unit"] == "household" and not it["disclosed"]]
    a = g.appr
    only_hh = a.assign(h=a["item"].isin(hh_items)).groupby("person")["h"].transform("all").to_numpy()
    m = a["item"].isin(hh_items).to_numpy() & only_hh & ~a["person"].isin(g.busy).to_numpy()
    done = 0
    for person in pd.unique(a.loc[m, "person"]):
        mates = [q for q in np.flatnonzero(p.hh == p.hh[person]).tolist()
                 if q != person and q not in g.busy and p.rel[q] == "配偶"]
        if not mates:
            continue
        g.busy.update([int(person), mates[0]])
        idx = _lines_of(g, person, success=False)
        g.lines.loc[idx, "acc"] = g.person_acc[mates[0]]
        _tag(g, "CP06", [i for i in idx if g.lines.at[i, "status"] == 1])
        done += 1
        if done == 2:
            break


def cp07(g):
    """One person, two cards in force at two banks, paid into both (一人多卡)."""
    for _, a in _free(g, _items(g), 2).iterrows():
        acc = g._new_accounts(np.array([a.person]), g.rng.integers(0, len(cat.BANKS), 1))[0]
        d = _date(g.year - 1, 6, 1)[()]
        g.card_rows.append(dict(person=int(a.person), acc=int(acc), status="normal", status_date=d,
                                activated=d + np.timedelta64(5, "D")))
        idx = _lines_of(g, a.person, a["item"])
        odd = [i for i in idx if g.lines.at[i, "ym"] % 2 == 1]
        g.lines.loc[odd, "acc"] = acc
        _key(g, "CP07", g.people.pid[a.person])


def cp08(g):
    """Three unrelated people's allowances all paid into one outsider's card (多人一卡; each line is CP05)."""
    p = g.people
    chosen = _free(g, _items(g), 12)
    chosen = chosen[~pd.Series(p.hh[chosen["person"].to_numpy()]).duplicated().to_numpy()].iloc[:3]
    if len(chosen) < 2:
        g.notes.append("CP08 not planted: too few unrelated recipients at this size")
        return
    agent = g.new_household(int(g.rng.integers(35, 60)))
    g.busy.add(agent)
    for _, a in chosen.iterrows():
        idx = _lines_of(g, a.person, success=False)
        g.lines.loc[idx, "acc"] = g.person_acc[agent]
        _tag(g, "CP05", [i for i in idx if g.lines.at[i, "status"] == 1])
    g.holder_never.add(int(g.person_acc[agent]))
    _key(g, "CP08", g.acc_no[g.person_acc[agent]])


def cp09(g):
    """The bank kept a fee on some credits."""
    for _, a in _free(g, _items(g), 3).iterrows():
        idx = _lines_of(g, a.person, a["item"])
        i = int(idx[0])
        g.fee[i] = 200
        _tag(g, "CP09", i)


def cp10(g):
    """Part of one month's batch held back and paid two months late (滞留延压)."""
    items = _items(g)
    L = g.lines
    item = items[-1]
    ym = g.y0 + 3
    m = (L["item"] == item) & (L["ym"] == ym) & (L["status"] == 1) & (L["batch"] == 0) & ~L["drop"]
    m &= ~L["person"].isin(g.busy)
    idx = L.index[m.to_numpy()][:12]
    L.loc[idx, "pay_date"] = _month_end(ym) + np.timedelta64(47, "D")
    L.loc[idx, "batch"] = 2
    g.busy.update(L.loc[idx, "person"].tolist())
    _tag(g, "CP10", idx)


def cp11(g):
    """Cards reported lost or cancelled mid-year that the bank kept crediting."""
    for status, (_, a) in zip(["lost", "cancelled"], _free(g, _items(g), 2).iterrows()):
        acc = int(g.person_acc[a.person])
        d = _date(g.year, 6, 20)[()]
        g.card_rows.append(dict(person=int(a.person), acc=acc, status=status, status_date=d, activated=None))
        idx = _lines_of(g, a.person)
        _tag(g, "CP11", [i for i in idx if g.lines.at[i, "pay_date"] >= d])


def cp12(g):
    """Identity numbers that cannot be real: a wrong check digit, an impossible birth date, no such region."""
    p = g.people
    for kind, (_, a) in zip(["check", "birth", "region"], _free(g, _items(g), 3).iterrows()):
        old = p.pid[a.person]
        if kind == "check":
            new = old[:17] + ("0" if old[17] != "0" else "1")
        elif kind == "birth":
            body = old[:10] + "13" + old[12:17]
            from .district import with_check_digits
            new = with_check_digits(np.array([body]))[0]
        else:
            from .district import with_check_digits
            new = with_check_digits(np.array(["99" + old[2:17]]))[0]
        p.pid[a.person] = new
        _key(g, "CP12", new)


# ---------------------------------------------------------------------------------------------- eligibility

def el01(g):
    """Paid after death: the registry has the death, the approval was never stopped."""
    for _, a in _free(g, _items(g), 2).iterrows():
        m = 5
        g.deaths.append(dict(person=int(a.person), date=_date(g.year, m, 14)[()], source="公安"))
        idx = _lines_of(g, a.person)
        _tag(g, "EL01", [i for i in idx if g.lines.at[i, "ym"] > g.y0 + m - 1])


def el02(g):
    """A means-tested allowance to someone employed in the public sector since April."""
    items = [i for i in _items(g) if g.items[i]["means"]]
    for _, a in _free(g, items, 2).iterrows():
        g.employees.append(dict(person=int(a.person), employer=cat.EMPLOYERS[1],
                                start=_date(g.year, 4, 1)[()], end=None))
        idx = _lines_of(g, a.person, a["item"])
        _tag(g, "EL02", [i for i in idx if g.lines.at[i, "ym"] >= g.y0 + 3])


def el03(g):
    """A recipient whose household includes a cadre of their own community (优亲厚友)."""
    p = g.people
    for _, a in _free(g, _items(g), 1).iterrows():
        hh = p.hh[a.person]
        cadre = g.add_person(hh, "子女", int(g.rng.integers(28, 45)))
        g.busy.add(cadre)
        g.cadres.append(dict(person=cadre, comm=int(g.hh_comm[hh]), position="社区居委会主任",
                             start=_date(g.year - 2, 1, 1)[()], end=None))
        members = set(np.flatnonzero(p.hh == hh).tolist())
        recips = set(g.appr.loc[g.appr["person"].isin(members), "person"].tolist())
        for q in recips:
            _key(g, "EL03", p.pid[q])
        # the whole household is spoken for: a later plant approving another member would make them a recipient
        # this truth does not list (seen at a million lines)
        g.busy.update(members)


def el04(g):
    """The same month paid twice."""
    for _, a in _free(g, _items(g), 3).iterrows():
        idx = _lines_of(g, a.person, a["item"])
        dup = g.lines.loc[[idx[len(idx) // 2]]].copy()
        dup["pay_date"] = dup["pay_date"].to_numpy() + np.timedelta64(3, "D")
        dup["batch"] = 3
        _tag(g, "EL04", _append(g, dup))


def el05(g):
    """An orphan also paid the de-facto-unsupported-child allowance for three months (same exclusive group)."""
    item = _idx(g, "MZ008")
    other = _idx(g, "MZ009")
    a = g.appr
    # approved for the orphan's allowance since before March (an approval starting later has no March line)
    cand = a[(a["item"] == item) & ~a["person"].isin(g.busy) & (a["end"] < 0) & (a["start"] <= g.y0 + 2)]
    if not len(cand):
        return
    row = cand.iloc[0]
    g.busy.add(int(row.person))
    amount = g.items[other]["standard"] * 100
    _new_approval(g, int(row.person), other, amount, g.y0 + 2, g.y0 + 4)
    fr = g._lines(np.full(3, row.person), np.full(3, other), g.y0 + np.array([2, 3, 4]), np.full(3, amount))
    g.route(fr)
    _append(g, fr)
    for ym in (2, 3, 4):
        _key(g, "EL05", f"{g.people.pid[row.person]}|CH|{period_text([g.y0 + ym])[0]}")


def el06(g):
    """A 20-year-old approved for a children's allowance; a 70-year-old for the over-80s' one."""
    p = g.people
    for code, lo, hi in (("MZ014", 19, 22), ("MZ004", 66, 74)):
        item = _idx(g, code)
        pool = np.flatnonzero((g.age >= lo) & (g.age <= hi) & (p.kind == "family"))
        pool = pool[~np.isin(pool, list(g.busy))]
        pool = pool[~np.isin(pool, g.appr["person"].to_numpy())]
        if not len(pool):
            continue
        q = int(pool[0])
        g.busy.add(q)
        amount = g.items[item]["standard"] * 100
        _new_approval(g, q, item, amount, g.y0 - 3, -1)
        fr = g._lines(np.full(12, q), np.full(12, item), g.y0 + np.arange(12), np.full(12, amount))
        fr["acc"] = g.person_acc[q]
        _tag(g, "EL06", _append(g, fr))


# ---------------------------------------------------------------------------------------------- statistics

def st01(g):
    """Temporary aid whose amounts were made up: first digits 4 and 5 only (Benford), when large enough."""
    item = _idx(g, "MZ018")
    L = g.lines
    m = (L["item"] == item) & ~L["drop"]
    if m.sum() < 1100:
        g.notes.append("ST01 not planted: the temporary-aid item has fewer than 1,100 lines at this size")
        return
    rng = g.rng
    # One made-up amount per approval (person and due month), shared by a failed line and its reissue.
    keys = pd.MultiIndex.from_arrays([L.loc[m, "person"].to_numpy(), L.loc[m, "ym"].to_numpy()])
    uniq = keys.unique()
    n = len(uniq)
    mant = rng.uniform(4.0, 6.0, n)
    scale = 10.0 ** rng.integers(2, 5, n)
    amap = pd.Series((np.round(mant * scale).astype(np.int64)) * 100, index=uniq)
    new = amap.reindex(keys).to_numpy()
    old_amount = L.loc[m, "amount"].to_numpy()
    keep = old_amount > g.items[item]["max"] * 100          # the RC05 plant keeps its own amount
    new = np.where(keep, old_amount, new)
    L.loc[m, "amount"] = new
    amap = pd.Series(new, index=keys)
    amap = amap[~amap.index.duplicated()]
    sel = (g.appr["item"] == item).to_numpy()
    idx = pd.MultiIndex.from_arrays([g.appr.loc[sel, "person"].to_numpy(), g.appr.loc[sel, "start"].to_numpy()])
    g.appr.loc[sel, "amount"] = amap.reindex(idx).fillna(pd.Series(g.appr.loc[sel, "amount"].to_numpy(),
                                                                    index=idx)).astype(np.int64).to_numpy()
    _key(g, "ST01", _code(g, item))


def st02(g):
    """Two households' minimum-living allowance approved at twelve times the usual amount, every month."""
    item = _idx(g, "MZ001")
    L = g.lines
    per = L[(L["item"] == item) & ~L["drop"] & (L["status"] == 1)].groupby("ym").size()
    if len(per) == 0 or per.min() < 40:
        g.notes.append("ST02 not planted: the minimum-living item has fewer than 40 lines a month at this size")
        return
    med = int(np.median(g.appr.loc[g.appr["item"] == item, "amount"]))
    for _, a in _free(g, [item], 2, single=False).iterrows():
        amount = med * 12 // 100 * 100
        g.appr.loc[(g.appr["person"] == a.person) & (g.appr["item"] == item), "amount"] = amount
        idx = _lines_of(g, a.person, item, success=False)
        g.lines.loc[idx, "amount"] = amount
        _tag(g, "ST02", [i for i in idx if g.lines.at[i, "status"] == 1])


def st03(g):
    """A burst of one-month approvals: one month's count of an allowance jumps by 80%."""
    item = _idx(g, "MZ007")
    L = g.lines
    per = L[(L["item"] == item) & ~L["drop"] & (L["status"] == 1)].groupby("ym").size()
    if len(per) == 0 or per.median() < 25:
        g.notes.append("ST03 not planted: the nursing-allowance item has fewer than 25 lines a month")
        return
    k = int(per.median() * 0.8) + 1
    pool = g._pool("adult")
    pool = pool[~np.isin(pool, list(g.busy)) & ~np.isin(pool, g.appr.loc[g.appr["item"] == item, "person"])]
    who = np.sort(g.rng.choice(pool, min(k, len(pool)), replace=False))
    ym = g.y0 + 7
    amount = g.items[item]["standard"] * 100
    g.busy.update(who.tolist())
    rows = pd.DataFrame({"person": who, "item": item, "amount": amount, "start": ym, "end": ym})
    g.appr = pd.concat([g.appr, rows], ignore_index=True)
    fr = g._lines(who, np.full(len(who), item), np.full(len(who), ym), np.full(len(who), amount))
    g.route(fr)
    _append(g, fr)
    _key(g, "ST03", f"{_code(g, item)}|{period_text([ym])[0]}")


def cp06_designated(g):
    """Trap for CP06: a household's allowance paid, as its members jointly designated, into the spouse's card."""
    p = g.people
    items = [i for i, it in enumerate(g.items) if it["unit"] == "household" and it["freq"] == "monthly"]
    for _, a in _free(g, items, 20).iterrows():
        spouse = [q for q in np.flatnonzero(p.hh == p.hh[a.person]).tolist()
                  if p.rel[q] == "配偶" and q < len(g.person_acc) and g.person_acc[q] >= 0 and q not in g.busy]
        if not spouse:
            continue
        g.busy.add(spouse[0])
        idx = _lines_of(g, a.person, a["item"], success=False)
        g.lines.loc[idx, "acc"] = g.person_acc[spouse[0]]
        g.lines.loc[idx, "channel"] = 0
        g.designated[(int(a.person), int(a["item"]))] = int(g.person_acc[spouse[0]])
        return
    g.notes.append("CP06 designated-account trap not planted: no head with a spouse holding a card")


def cp15(g):
    """Guardianships the seeds do not allow: an old man's card held by his son though his allowance is for no
    special group (a); a child's guardianship registered with no basis (b). Trap: one that expired last year."""
    p = g.people
    item = _idx(g, "MZ004")
    rows = _free(g, [item], 2, kind=("elder",))
    for k, (_, a) in enumerate(rows.iterrows()):
        others = [q for q in np.flatnonzero(p.hh == p.hh[a.person]).tolist() if q != a.person]
        guardian = others[0] if others else int(np.flatnonzero(p.kind == "other")[k])
        g.busy.add(guardian)
        valid_to = _date(g.year - 1, 12, 31)[()] if k == 1 else None        # the second: expired, not judged
        g.guard_extra.append(dict(person=int(a.person), guardian=int(guardian), basis="家属申请",
                                  valid_from=_date(g.year - 3, 6, 1)[()], valid_to=valid_to))
        if k == 0:
            _key(g, "CP15", f"{p.pid[a.person]}|{p.pid[guardian]}")
    if len(g.guard):
        i = int(g.rng.integers(0, len(g.guard)))
        g.guard.loc[g.guard.index[i], "basis"] = ""
        row = g.guard.iloc[i]
        _key(g, "CP15", f"{p.pid[int(row['person'])]}|{p.pid[int(row['guardian'])]}")


PLANTS = [rc01, rc02, rc03, rc04, rc05, rc06, rc07, cp02, cp03, cp04, cp05, cp06, cp07, cp08, cp09, cp10,
          cp11, el01, el02, el03, el04, el05, el06, st01, st02, st03, cp12, cp06_designated, cp15]


def plant_all(g):
    for plant in PLANTS:
        plant(g)
