"""A realistic synthetic district: households, approvals, cards, payment lines, bank returns, fund flows,
disclosures and the five registries, with known planted problems and the truth about them.

Everything is drawn from one numpy Generator seeded by ``seed`` and built with vectorised operations, so the
same arguments give the same tables and the time grows linearly with the number of payment lines.

Internally people, accounts and items are integer indices; text is made only when the tables are built.
Each planted problem tags the lines or keys it creates, and ``truth`` lists, per check, exactly the keys the
check must flag, including where one planted problem necessarily shows in a second check (a payment that
failed and was never re-paid is both RC07 and RC04).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..package.identity import WEIGHTS, CHECK_CHARS
from . import catalogue as cat

D = "datetime64[D]"


def _ym(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_text(ym: np.ndarray) -> np.ndarray:
    ym = np.asarray(ym, dtype=np.int64)
    y = (ym // 12).astype(str)
    m = np.char.zfill((ym % 12 + 1).astype(str), 2)
    return np.char.add(np.char.add(y, "-"), m).astype(object)


def _date(year, month, day) -> np.ndarray:
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]").astype(D)
    last = ((year - 1970) * 12 + month).astype("datetime64[M]").astype(D) - np.timedelta64(1, "D")
    return np.minimum(first + (np.asarray(day, dtype=np.int64) - 1), last)


def _month_end(ym) -> np.ndarray:
    ym = np.asarray(ym, dtype=np.int64)
    return (ym - 1970 * 12 + 1).astype("datetime64[M]").astype(D) - np.timedelta64(1, "D")


def with_check_digits(first17: np.ndarray) -> np.ndarray:
    """Append the GB 11643 check character to 17-digit strings, vectorised."""
    b = np.frombuffer(np.asarray(first17, dtype="S17").tobytes(), dtype=np.uint8).reshape(-1, 17)
    chk = np.array(list(CHECK_CHARS))[((b.astype(np.int64) - 48) * WEIGHTS).sum(axis=1) % 11]
    return np.char.add(np.asarray(first17, dtype="U17"), chk).astype(object)


@dataclass
class People:
    pid: np.ndarray          # identity numbers (object)
    name: np.ndarray
    hh: np.ndarray           # household index
    rel: np.ndarray          # 本人/配偶/子女/父母/其他
    birth: np.ndarray        # datetime64[D]
    kind: np.ndarray         # household kind of the person: family, elder, centenarian, child, young, other

    def __len__(self):
        return len(self.pid)


@dataclass
class District:
    """The generated tables (typed: money in fen, dates as datetime64, periods as YYYY-MM) and the truth."""
    meta: dict
    tables: dict[str, pd.DataFrame]
    truth: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)
    cp01_items: list[str] = field(default_factory=list)   # items a plant moved partly off the card


@dataclass
class Counters:
    """Where a shard's numbering starts, so that the shards of one district never share a key: a large district
    is made shard by shard (see ``shards``), each shard a district of its own people, accounts and lines."""
    payments: int = 0          # payment_id sequence numbers used
    accounts: int = 0          # account serials used
    households: int = 0
    docs: int = 0              # allocation document numbers used
    txns: int = 0              # card transaction sequence numbers used
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))   # identity numbers' first 17 digits


class Generator:
    def __init__(self, district_code="120104", district_name=None, year=2023, lines=10000, seed=0,
                 clean=False, shard: int = 0, counters: Counters | None = None):
        self.code = str(district_code)
        self.dname = district_name or cat.DISTRICTS.get(self.code, f"{self.code}区")
        self.year = int(year)
        self.n_target = max(int(lines), 100)
        self.seed = int(seed)
        self.clean = clean
        self.shard = int(shard)
        self.counters = counters or Counters()
        # shard 0 draws exactly what an unsharded district of that size draws
        self.rng = np.random.default_rng([self.seed, int(self.code), self.year] + ([self.shard] if shard else []))
        self.terminal = self.code if not shard else f"{self.code}S{self.shard}"   # terminals are the shard's own
        self.items = [dict(it) for it in cat.ITEMS]
        self.y0 = _ym(self.year, 1)
        self.notes: list[str] = []
        # What the plants record (empty for a clean district).
        self.tag: dict[str, set] = {}          # check -> payment line indices it must flag
        self.keys: dict[str, set] = {}         # check -> other keys it must flag
        self.bank_mods: dict[int, str] = {}    # line -> how the bank return differs
        self.fee: dict[int, int] = {}          # line -> fee in fen kept by the bank
        self.flow_extra: list[dict] = []       # extra fund-flow rows
        self.disc_mods: list[dict] = []        # disclosure differences
        self.holder_always: set = set()        # accounts whose lines always name the holder
        self.holder_never: set = set()         # accounts whose lines never name the holder
        self.cp01_items: set = set()           # items a plant moved off the card
        self.off_list: set = set()             # item indices not on the published list
        self.designated: dict = {}             # (person, item) -> the account the household designated
        self.guard_extra: list[dict] = []      # guardianships the plants register

    # ------------------------------------------------------------------ people
    def _ids(self, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
        rng = self.rng
        n = len(birth)
        regions = np.array(cat.REGIONS, dtype=object)
        own = rng.random(n) < 0.7
        region = np.where(own, self.code, regions[rng.integers(0, len(regions), n)])
        ymd = pd.DatetimeIndex(birth.astype("datetime64[ns]")).strftime("%Y%m%d").to_numpy(dtype=object)
        out = np.empty(n, dtype=object)
        todo = np.arange(n)
        taken: set = set(getattr(self, "_taken_ids", set()))
        while len(todo):
            seq = rng.integers(0, 500, len(todo)) * 2 + np.where(male[todo], 1, 0)
            first = np.char.add(np.char.add(region[todo].astype("U6"), ymd[todo].astype("U8")),
                                np.char.zfill(seq.astype(str), 3))
            ids = with_check_digits(first)
            s = pd.Series(ids)
            dup = s.duplicated().to_numpy() | s.isin(taken).to_numpy()
            if len(self.counters.ids):      # taken by an earlier shard
                dup |= np.isin(first.astype(np.int64), self.counters.ids)
            out[todo[~dup]] = ids[~dup]
            taken.update(ids[~dup].tolist())
            todo = todo[dup]
        self._taken_ids = taken
        return out

    def _names(self, n: int) -> np.ndarray:
        rng = self.rng
        sur = np.array(cat.SURNAMES, dtype=object)[np.minimum(rng.zipf(1.3, n) - 1, len(cat.SURNAMES) - 1)]
        given = np.array(cat.GIVEN, dtype=object)
        g1 = given[rng.integers(0, len(given), n)]
        g2 = np.where(rng.random(n) < 0.6, given[rng.integers(0, len(given), n)], "")
        return (sur + g1 + g2).astype(object)

    def _birth(self, age: np.ndarray) -> np.ndarray:
        """Birth dates for people who are ``age`` whole years old on 1 January of the audit year."""
        age = np.asarray(age, dtype=np.int64)
        days = self.rng.integers(0, 365, len(age)).astype("timedelta64[D]")
        return (_date(self.year - 1 - age, 1, 2) + days).astype(D)

    def make_people(self, n_family, n_elder, n_cent, n_child, n_young, n_other):
        rng = self.rng
        rows_hh, rows_rel, rows_age, rows_kind, rows_male = [], [], [], [], []
        hh = 0

        def add(hh_idx, rel, age, kind, male):
            rows_hh.append(hh_idx)
            rows_rel.append(rel)
            rows_age.append(age)
            rows_kind.append(kind)
            rows_male.append(male)

        # Families: head 25-79, a spouse (70%), 0-3 children, sometimes a parent. Built vectorised per kind.
        def families(count, kind, head_age, spouse_p, kids_max, parent_p):
            nonlocal hh
            idx = np.arange(hh, hh + count)
            hh += count
            ha = rng.integers(head_age[0], head_age[1] + 1, count)
            hm = rng.random(count) < 0.55
            add(idx, np.full(count, "本人", object), ha, np.full(count, kind, object), hm)
            sp = rng.random(count) < spouse_p
            add(idx[sp], np.full(sp.sum(), "配偶", object),
                np.clip(ha[sp] + rng.integers(-4, 5, sp.sum()), 18, 104), np.full(sp.sum(), kind, object), ~hm[sp])
            nk = rng.integers(0, kids_max + 1, count) if kids_max else np.zeros(count, int)
            for k in range(1, kids_max + 1):
                has = nk >= k
                ka = np.clip(ha[has] - rng.integers(22, 36, has.sum()), 0, 60)
                add(idx[has], np.full(has.sum(), "子女", object), ka, np.full(has.sum(), kind, object),
                    rng.random(has.sum()) < 0.5)
            pp = (rng.random(count) < parent_p) & (ha < 70)
            add(idx[pp], np.full(pp.sum(), "父母", object), np.clip(ha[pp] + rng.integers(22, 32, pp.sum()), 0, 99),
                np.full(pp.sum(), kind, object), rng.random(pp.sum()) < 0.4)

        families(n_family, "family", (25, 79), 0.7, 3, 0.1)
        families(n_elder, "elder", (81, 98), 0.5, 0, 0.0)
        families(n_cent, "centenarian", (101, 104), 0.0, 0, 0.0)
        families(n_young, "young", (18, 24), 0.0, 0, 0.0)
        families(n_other, "other", (25, 75), 0.6, 2, 0.1)
        # Children in care: a guardian (grandparent or relative) heads the household, with 1-2 children.
        idx = np.arange(hh, hh + n_child)
        hh += n_child
        add(idx, np.full(n_child, "本人", object), rng.integers(45, 76, n_child), np.full(n_child, "guardian", object),
            rng.random(n_child) < 0.5)
        for k in (1, 2):
            has = np.ones(n_child, bool) if k == 1 else rng.random(n_child) < 0.4
            add(idx[has], np.full(has.sum(), "其他", object), rng.integers(0, 16, has.sum()),
                np.full(has.sum(), "child", object), rng.random(has.sum()) < 0.5)

        hh_arr = np.concatenate(rows_hh).astype(np.int64)
        order = np.argsort(hh_arr, kind="stable")
        rel = np.concatenate(rows_rel)[order]
        age = np.concatenate(rows_age)[order]
        kind = np.concatenate(rows_kind)[order]
        male = np.concatenate(rows_male)[order]
        hh_arr = hh_arr[order]
        birth = self._birth(age)
        self.people = People(self._ids(birth, male), self._names(len(age)), hh_arr, rel, birth, kind)
        self.age = age
        self.n_hh = hh
        # Households: community (and street) per household.
        comms = []
        for s in cat.STREETS:
            for k in "东西南北中新"[: 3 + len(s) % 3]:
                comms.append((s, s.replace("街道", "") + k + "里社区"))
        self.communities = comms
        self.hh_comm = rng.integers(0, len(comms), hh)
        head_mask = rel == "本人"
        self.hh_head = np.full(hh, -1, np.int64)
        self.hh_head[hh_arr[head_mask]] = np.flatnonzero(head_mask)

    def add_person(self, hh: int, rel: str, age: int, kind="other") -> int:
        """One more person (for a planted case), appended to the people arrays."""
        p = self.people
        birth = self._birth(np.array([age]))
        pid = self._ids(birth, np.array([self.rng.random() < 0.5]))
        p.pid = np.append(p.pid, pid)
        p.name = np.append(p.name, self._names(1))
        p.hh = np.append(p.hh, hh)
        p.rel = np.append(p.rel, rel)
        p.birth = np.append(p.birth, birth)
        p.kind = np.append(p.kind, kind)
        self.age = np.append(self.age, age)
        idx = len(p.pid) - 1
        self._give_cards(np.array([idx]))
        return idx

    def new_household(self, age: int) -> int:
        self.n_hh += 1
        self.hh_comm = np.append(self.hh_comm, self.rng.integers(0, len(self.communities)))
        self.hh_head = np.append(self.hh_head, -1)
        idx = self.add_person(self.n_hh - 1, "本人", age)
        self.hh_head[-1] = idx
        return idx

    # ------------------------------------------------------------------ cards and accounts
    def _init_accounts(self):
        self.acc_no: list = []
        self.acc_bank: list = []
        self.acc_owner: list = []
        self.acc_card: list = []
        self.card_rows: list[dict] = []
        self.person_acc = np.full(0, -1, np.int64)
        self._acc_serial = self.counters.accounts

    def _new_accounts(self, owners: np.ndarray, bank_idx: np.ndarray, card: bool = True) -> np.ndarray:
        n = len(owners)
        start = len(self.acc_no)
        serial = self._acc_serial + np.arange(n)
        self._acc_serial += n
        bins = np.array([b[1] for b in cat.BANKS], dtype=object)
        body = np.char.zfill(((serial * 7919 + 104729 + self.seed * 31) % 10**12).astype(str), 12)
        nos = np.char.add(np.char.add(bins[bank_idx].astype("U6"), body), (serial % 10).astype(str)).astype(object)
        if not card:
            nos = np.char.add("6013", nos.astype("U19")).astype(object)    # a passbook account number
        self.acc_no.extend(nos.tolist())
        self.acc_bank.extend(np.array([b[0] for b in cat.BANKS], dtype=object)[bank_idx].tolist())
        self.acc_owner.extend(np.asarray(owners).tolist())
        cards = np.char.add("A", np.char.zfill(((serial * 104723 + 7) % 10**8).astype(str), 8)).astype(object)
        self.acc_card.extend(cards.tolist() if card else [None] * n)
        return np.arange(start, start + n)

    def _give_cards(self, persons: np.ndarray, status="normal"):
        rng = self.rng
        n = len(persons)
        accs = self._new_accounts(persons, rng.integers(0, len(cat.BANKS), n))
        if len(self.person_acc) < len(self.people.pid):
            self.person_acc = np.concatenate([self.person_acc,
                                              np.full(len(self.people.pid) - len(self.person_acc), -1)])
        self.person_acc[persons] = accs
        issued = _date(rng.integers(2015, self.year, n), rng.integers(1, 13, n), rng.integers(1, 29, n))
        for p, a, d in zip(persons.tolist(), accs.tolist(), issued):
            self.card_rows.append(dict(person=p, acc=a, status=status, status_date=d,
                                       activated=d + np.timedelta64(7, "D") if status == "normal" else None))
        return accs

    # ------------------------------------------------------------------ sizing
    def plan(self):
        w = np.array([it["weight"] for it in self.items], dtype=float)
        share = w / w.sum()
        per = []
        for it in self.items:
            if it["freq"] == "monthly":
                k = 12 - (it["start_month"] - 1)
            elif it["freq"] == "quarterly":
                k = 4 - (it["start_month"] - 1) // 3
            else:
                k = 1
            per.append(k)
        self.per_year = np.array(per)
        approvals = np.maximum(1, np.round(self.n_target * share / self.per_year)).astype(int)
        for i, it in enumerate(self.items):
            it["n"] = int(approvals[i])
        by = {it["code"]: it["n"] for it in self.items}
        head_need = max(by["MZ001"] + by["MZ003"], max(it["n"] for it in self.items if it["pool"] == "head"))
        adult_need = max(it["n"] for it in self.items if it["pool"] == "adult") + by["MZ002"]
        n_family = int(math.ceil(max(head_need * 1.3, adult_need / 1.6))) + 20
        n_elder = int(math.ceil(by["MZ004"] / 1.4)) + 10
        n_cent = by["MZ005"] + 3
        n_child = int(math.ceil((by["MZ008"] + by["MZ009"] + by["MZ014"]) / 1.35)) + 10
        n_young = by["MZ017"] + by["CL027"] + 10
        n_other = int(n_family * 0.08) + 30
        self.make_people(n_family, n_elder, n_cent, n_child, n_young, n_other)
        self._init_accounts()

    # ------------------------------------------------------------------ approvals
    def _pool(self, name):
        p = self.people
        age = self.age
        if name == "head":
            return np.flatnonzero((p.rel == "本人") & np.isin(p.kind, ["family", "elder"]))
        if name == "adult":
            return np.flatnonzero((age >= 18) & np.isin(p.kind, ["family", "elder"]) & (age < 100))
        if name == "elder":
            return np.flatnonzero((p.kind == "elder") & (age >= 81))
        if name == "centenarian":
            return np.flatnonzero(p.kind == "centenarian")
        if name == "child":
            return np.flatnonzero(p.kind == "child")
        if name == "young":
            return np.flatnonzero(p.kind == "young")
        raise KeyError(name)

    def _amounts(self, it, n) -> np.ndarray:
        rng = self.rng
        if it["standard"] is not None:
            return np.full(n, it["standard"] * 100, np.int64)
        kind, a, b = it["model"]
        if kind == "lognormal":
            z = np.clip(rng.standard_normal(n), -1.5, 1.5)
            yuan = a * np.exp(b * z)
        else:
            yuan = 10 ** rng.uniform(math.log10(a), math.log10(b), n)
            if it["max"] is not None:
                yuan = np.minimum(yuan, it["max"])
        fen = np.round(yuan).astype(np.int64) * 100
        if it["max"] is not None:
            fen = np.minimum(fen, it["max"] * 100)
        return np.maximum(fen, 100)

    def make_approvals(self):
        rng = self.rng
        used_group: dict[str, np.ndarray] = {}
        n_people = len(self.people.pid)
        rows = []
        for i, it in enumerate(self.items):
            pool = self._pool(it["pool"])
            if it["group"]:
                mask = used_group.setdefault(it["group"], np.zeros(n_people, bool))
                pool = pool[~mask[pool]]
            n = min(it["n"], len(pool))
            chosen = np.sort(rng.choice(pool, n, replace=False))
            if it["group"]:
                used_group[it["group"]][chosen] = True
            it["n"] = n
            # Start: most approvals predate the year; some begin during it; a few end during it.
            if it["freq"] in ("monthly",):
                late = rng.random(n) < 0.06
                start = np.where(late, self.y0 + rng.integers(1, 11, n), self.y0 - rng.integers(1, 48, n))
                ends = rng.random(n) < 0.04
                end = np.where(ends, self.y0 + rng.integers(3, 11, n), -1)
                end = np.where(end >= 0, np.maximum(end, start), -1)
            elif it["freq"] == "quarterly":
                start = np.full(n, self.y0 - 12)
                end = np.full(n, -1)
            elif it["freq"] == "annual":
                start = self.y0 - rng.integers(1, 36, n)
                end = np.full(n, -1)
            else:
                due = np.array(it["due_months"])[rng.integers(0, len(it["due_months"]), n)]
                start = self.y0 + due - 1
                end = start.copy()
            if it["start_month"] > 1:
                start = np.maximum(start, self.y0 + it["start_month"] - 1)
            rows.append(pd.DataFrame({"person": chosen, "item": i, "amount": self._amounts(it, n),
                                      "start": start, "end": end}))
        self.appr = pd.concat(rows, ignore_index=True)
        # Everyone who may be paid holds a card; children are paid through their guardian's.
        self._give_cards(np.arange(n_people))
        self.used_group = used_group

    # ------------------------------------------------------------------ payment lines
    def expand(self, appr: pd.DataFrame) -> pd.DataFrame:
        """Payment lines (one per payable period in the year) for approvals."""
        freq = np.array([self.items[i]["freq"] for i in range(len(self.items))], dtype=object)
        f = freq[appr["item"].to_numpy()]
        step = np.select([f == "quarterly", f == "annual"], [3, 12], 1)
        start = appr["start"].to_numpy()
        end = np.where(appr["end"].to_numpy() < 0, 10**9, appr["end"].to_numpy())
        y11 = self.y0 + 11
        lo = np.maximum(start, self.y0)
        first = self.y0 + step * -((self.y0 - lo) // step)
        one = f == "one_off"
        first = np.where(one, start, first)
        last = np.where(one, start, np.minimum(end, y11))
        count = np.where(last >= first, (last - first) // step + 1, 0)
        count = np.where(one & ((start < self.y0) | (start > y11)), 0, count)
        rep = np.repeat(np.arange(len(appr)), count)
        offs = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
        ym = first[rep] + offs * step[rep]
        a = appr.iloc[rep]
        return self._lines(a["person"].to_numpy(), a["item"].to_numpy(), ym, a["amount"].to_numpy())

    def _lines(self, person, item, ym, amount) -> pd.DataFrame:
        n = len(person)
        pay_day = np.array([it["pay_day"] for it in self.items])[item]
        pay_month = np.array([it["pay_month"] or 0 for it in self.items])[item]
        month = np.where(pay_month > 0, pay_month, ym % 12 + 1)
        year = np.where(pay_month > 0, self.year, ym // 12)
        return pd.DataFrame({
            "person": np.asarray(person, np.int64), "item": np.asarray(item, np.int64),
            "ym": np.asarray(ym, np.int64), "amount": np.asarray(amount, np.int64),
            "pay_date": _date(year, month, pay_day), "status": np.ones(n, np.int64),
            "channel": np.zeros(n, np.int64), "acc": np.full(n, -1, np.int64),
            "fail": np.full(n, -1, np.int64), "reissue_of": np.full(n, -1, np.int64),
            "batch": np.zeros(n, np.int64), "drop": np.zeros(n, bool),
        })

    def route(self, lines: pd.DataFrame):
        """Pay each line into the right account: own card, the head's for household items, the guardian's
        for children in care."""
        p = self.people
        person = lines["person"].to_numpy()
        payee = person.copy()
        child = p.kind[person] == "child"
        payee[child] = self.hh_head[p.hh[person[child]]]
        lines["acc"] = self.person_acc[payee]

    # ------------------------------------------------------------------ the whole district
    def build(self) -> District:
        self.plan()
        self.make_approvals()
        lines = self.expand(self.appr)
        self.route(lines)
        self.lines = lines
        self.guardianships()
        self.replacements()
        self.failures()
        self.base_registries()
        if not self.clean:
            from .plants import plant_all
            plant_all(self)
        from .tables import assemble
        return assemble(self)

    def guardianships(self):
        p = self.people
        kids = np.flatnonzero(p.kind == "child")
        # Guardianships are registered for the children whose allowances their guardians receive.
        child_items = [i for i, it in enumerate(self.items) if it["pool"] == "child"]
        kids = kids[np.isin(kids, self.appr.loc[self.appr["item"].isin(child_items), "person"].to_numpy())]
        g = self.hh_head[p.hh[kids]]
        rng = self.rng
        self.guard = pd.DataFrame({
            "person": kids, "guardian": g, "acc": self.person_acc[g],
            "basis": np.array(cat.GUARD_BASIS, dtype=object)[rng.integers(0, len(cat.GUARD_BASIS), len(kids))],
            "valid_from": _date(rng.integers(2016, self.year, len(kids)), rng.integers(1, 13, len(kids)), 1),
        })

    def replacements(self):
        """Legitimate card replacements: the card is lost, a new one is issued, later lines go to it."""
        rng = self.rng
        L = self.lines
        monthly = np.array([it["freq"] == "monthly" for it in self.items])[L["item"].to_numpy()]
        own = L["acc"].to_numpy() == self.person_acc[L["person"].to_numpy()]
        cand = np.unique(L.loc[monthly & own, "person"].to_numpy())
        k = max(1, int(len(cand) * 0.005))
        who = np.sort(rng.choice(cand, min(k, len(cand)), replace=False))
        self.replaced = set(who.tolist())
        when = _date(np.full(len(who), self.year), rng.integers(3, 11, len(who)), rng.integers(1, 28, len(who)))
        old = self.person_acc[who]
        new = self._new_accounts(who, rng.integers(0, len(cat.BANKS), len(who)))
        for p_, o, nw, d in zip(who.tolist(), old.tolist(), new.tolist(), when):
            self.card_rows.append(dict(person=p_, acc=o, status="lost", status_date=d, activated=None))
            self.card_rows.append(dict(person=p_, acc=nw, status="normal", status_date=d,
                                       activated=d + np.timedelta64(3, "D")))
        m = pd.Series(new, index=old)
        d = pd.Series(when, index=old)
        acc = L["acc"]
        hit = acc.isin(m.index).to_numpy()
        after = hit.copy()
        after[hit] = L.loc[hit, "pay_date"].to_numpy() >= d.reindex(acc[hit]).to_numpy()
        L.loc[after, "acc"] = m.reindex(acc[after]).to_numpy()
        self.person_acc[who] = new

    def failures(self):
        """About 0.4% of lines fail at the bank; each is re-paid 3-20 days later to the same account."""
        rng = self.rng
        L = self.lines
        acc_owner = np.asarray(self.acc_owner)
        eligible = ~np.isin(acc_owner[L["acc"].to_numpy()], list(self.replaced))
        fail = eligible & (rng.random(len(L)) < 0.004)
        idx = np.flatnonzero(fail)
        L.loc[idx, "status"] = 0
        L.loc[idx, "fail"] = rng.integers(0, len(cat.FAIL_REASONS), len(idx))
        re = L.loc[idx].copy()
        re["status"] = 1
        re["fail"] = -1
        re["reissue_of"] = idx
        re["pay_date"] = re["pay_date"].to_numpy() + rng.integers(3, 21, len(idx)).astype("timedelta64[D]")
        re["batch"] = 1
        self.lines = pd.concat([L, re], ignore_index=True)
        self.failed_people = set(L.loc[idx, "person"].tolist())

    def base_registries(self):
        """Registry entries a clean district has: deaths (one in the same month as a last payment), former
        public employees, cadres working outside their own community."""
        rng = self.rng
        p = self.people
        L = self.lines
        self.deaths: list[dict] = []
        self.employees: list[dict] = []
        self.cadres: list[dict] = []
        self.busy = set(self.replaced) | set(self.failed_people)
        # Legitimate deaths: approvals of a few monthly-item recipients end in their month of death.
        appr = self.appr
        monthly = np.array([it["freq"] == "monthly" for it in self.items])[appr["item"].to_numpy()]
        single = appr.groupby("person")["item"].transform("size").to_numpy() == 1
        cand = appr.loc[monthly & single & (appr["end"].to_numpy() < 0) &
                        (appr["start"].to_numpy() < self.y0) & (p.kind[appr["person"].to_numpy()] != "child")]
        cand = cand[~cand["person"].isin(self.busy)]
        k = min(len(cand), max(1, len(cand) // 400))
        dead = cand.sample(n=k, random_state=self.rng.integers(1 << 31)) if k else cand.iloc[:0]
        for idx, row in dead.iterrows():
            m = int(rng.integers(3, 10))
            ym = self.y0 + m - 1
            self.appr.loc[idx, "end"] = ym
            day = int(rng.integers(20, 28))
            self.deaths.append(dict(person=int(row.person), date=_date(self.year, m, day)[()],
                                    source=cat.DEATH_SOURCES[int(rng.integers(0, 4))]))
            drop = (L["person"] == row.person) & (L["item"] == row["item"]) & (L["ym"] > ym)
            L.loc[drop, "drop"] = True
            self.busy.add(int(row.person))
        # Non-recipients who died (a registry lists far more people than receive subsidies).
        others = np.flatnonzero(p.kind == "other")
        for q in rng.choice(others, min(len(others), 5), replace=False).tolist():
            self.deaths.append(dict(person=q, date=_date(self.year, int(rng.integers(1, 12)), 5)[()],
                                    source=cat.DEATH_SOURCES[int(rng.integers(0, 4))]))
            self.busy.add(q)
        # Public employees: people of non-recipient households, and one recipient who left before the year.
        emp = rng.choice(others, min(len(others), 8), replace=False)
        for q in emp.tolist():
            self.employees.append(dict(person=q, employer=cat.EMPLOYERS[int(rng.integers(0, 5))],
                                       start=_date(int(rng.integers(2000, 2020)), 9, 1)[()], end=None))
        mt = np.array([bool(it["means"]) for it in self.items])[appr["item"].to_numpy()]
        former = appr.loc[mt & (p.kind[appr["person"].to_numpy()] == "family"), "person"]
        former = former[~former.isin(self.busy)]
        if len(former):
            q = int(former.iloc[0])
            self.employees.append(dict(person=q, employer=cat.EMPLOYERS[0],
                                       start=_date(2010, 3, 1)[()], end=_date(self.year - 1, 12, 31)[()]))
            self.busy.add(q)
        # Cadres: from non-recipient households; each serves a community other than the one they live in.
        recipients_hh = set(p.hh[appr["person"].to_numpy()].tolist())
        cad = [q for q in others.tolist() if p.hh[q] not in recipients_hh and self.age[q] >= 25][:6]
        for q in cad:
            home = self.hh_comm[p.hh[q]]
            self.cadres.append(dict(person=q, comm=int((home + 1) % len(self.communities)),
                                    position="居委会委员", start=_date(self.year - 3, 1, 1)[()], end=None))
            self.busy.add(q)


def generate(district_code="120104", district_name=None, year=2023, lines=10000, seed=0,
             clean=False) -> District:
    return Generator(district_code, district_name, year, lines, seed, clean).build()


SHARD_LINES = 500_000           # a shard's payment lines: what bounds the generator's memory (about 2 GB)


def shard_count(lines: int, shard_lines: int = SHARD_LINES) -> int:
    return max(1, -(-int(lines) // int(shard_lines)))


def sharded_meta(meta: dict, lines: int, shard_lines: int = SHARD_LINES) -> dict:
    """A district's package.yaml for a package of ``lines`` lines: its notes say when it was made in shards."""
    meta, k = dict(meta), shard_count(lines, shard_lines)
    if k > 1:
        meta["notes"] += f", made in {k} shards of up to {int(shard_lines):,} lines"
    return meta


def shards(district_code="120104", district_name=None, year=2023, lines=10000, seed=0, clean=False,
           shard_lines: int = SHARD_LINES):
    """The district as shards of at most ``shard_lines`` lines, made one after another (a generator): each is a
    district of its own people with its own planted problems, numbered on from the shard before, so that written
    one after another they make one package whose truth is the union of theirs. A district that fits in one
    shard is exactly ``generate``'s."""
    k = shard_count(lines, shard_lines)
    counters = Counters()
    for i in range(k):
        n = int(lines) // k + (1 if i < int(lines) % k else 0)
        g = Generator(district_code, district_name, year, n, seed, clean, shard=i, counters=counters)
        d = g.build()
        c = g.counters
        first = pd.to_numeric(pd.Series(g.people.pid, dtype=object).str.slice(0, 17), errors="coerce")
        first = first.dropna().astype(np.int64).to_numpy()                 # the 17 digits before the check
        counters = Counters(payments=c.payments + g.n_payments, accounts=g._acc_serial,
                            households=c.households + g.n_hh, docs=c.docs + g.n_docs, txns=c.txns + g.n_txns,
                            ids=np.union1d(c.ids, first))
        del g
        yield d
