"""Debits on the beneficiaries' card accounts (card_transactions), as the partner banks would give them: most
people withdraw at the ATMs and counters of their own community at varied times, some pay by POS, some send
money to their family or to their own other account. Planted: a village cadre emptying four elders' cards at
one ATM in three different months (CP13); subsidies sent on to strangers within days, one of them split in two
(CP14). Traps that must not be flagged: a family withdrawing together, a registered guardian withdrawing for
his wards (judged by CP15 instead), neighbours who met at one ATM once, a small transfer to a stranger.

Terminal debits are laid 31 minutes apart at each terminal and day, so that no window of 30 minutes ever holds
three people's cards by chance: what clusters is what was planted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SLOTS_PER_DAY = 45            # 08:00 + 45 x 31 min: the last slot starts before midnight


def _schedule(terminal: np.ndarray, day: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """(day, minute of the day) for each terminal debit: the k-th debit of a terminal on a day gets slot k."""
    df = pd.DataFrame({"t": terminal, "d": day.astype("datetime64[D]").astype(np.int64), "i": np.arange(len(day))})
    df = df.sort_values(["t", "d", "i"], kind="stable")
    k = df.groupby(["t", "d"]).cumcount().to_numpy()
    d = df["d"].to_numpy() + k // SLOTS_PER_DAY
    minute = 480 + (k % SLOTS_PER_DAY) * 31 + rng.integers(0, 5, len(k))
    out_d, out_m = np.empty(len(day), np.int64), np.empty(len(day), np.int64)
    out_d[df["i"].to_numpy()], out_m[df["i"].to_numpy()] = d, minute
    return out_d.astype("datetime64[D]"), out_m


def _time(day, minute) -> np.ndarray:
    return np.asarray(day, "datetime64[D]").astype("datetime64[s]") + (np.asarray(minute) * 60).astype("timedelta64[s]")


def make(g, payments: pd.DataFrame, credit_day: np.ndarray, person: np.ndarray, rng) -> dict:
    """The card_transactions table, guardianship rows the traps need, truth keys and notes."""
    p = g.people
    acc_no = np.array(g.acc_no, dtype=object)
    acc_owner = np.array(g.acc_owner, dtype=np.int64)
    code, year = g.terminal, g.year          # terminals are named by the shard's code
    end = np.datetime64(f"{year}-12-31")
    ok = (payments["status"] == "success").to_numpy() & (payments["channel"] == "card").to_numpy()
    idx = np.flatnonzero(ok)
    acc_of = pd.Series(np.arange(len(acc_no)), index=acc_no)
    acc = acc_of.reindex(payments["account_no"].to_numpy()[idx]).to_numpy()
    owner = acc_owner[acc]
    amount = payments["amount"].to_numpy(np.int64)[idx]
    cday = np.asarray(credit_day, "datetime64[D]")[idx]
    comm = g.hh_comm[p.hh[owner]]
    n = len(idx)
    u = rng.random(n)
    rows = []

    # Withdrawals (55 %) at the owner's community: four ATMs and a counter.
    w = u < 0.55
    k = rng.integers(0, 5, w.sum())
    term = np.where(k < 4, np.char.add(np.char.add(f"ATM{code}", np.char.zfill(comm[w].astype(str), 3)),
                                       k.astype(str)),
                    np.char.add(f"CTR{code}", np.char.zfill(comm[w].astype(str), 3))).astype(object)
    rows.append(dict(account=acc[w], amount=np.maximum(10000, amount[w] * rng.integers(3, 11, w.sum()) // 1000 * 100),
                     day=np.minimum(cday[w] + rng.integers(0, 21, w.sum()), end), type="withdrawal",
                     channel=np.where(k < 4, "atm", "counter").astype(object), terminal=term))
    # Purchases (20 %) at merchants' POS terminals.
    m = (u >= 0.55) & (u < 0.75)
    merchants = max(200, n // 40)
    rows.append(dict(account=acc[m], amount=np.maximum(100, amount[m] * rng.integers(5, 50, m.sum()) // 100),
                     day=np.minimum(cday[m] + rng.integers(0, 25, m.sum()), end), type="purchase", channel="pos",
                     terminal=np.char.add(f"POS{code}", np.char.zfill(rng.integers(0, merchants, m.sum()).astype(str),
                                                                      6)).astype(object)))
    # Transfers to family (5 %): another member of the household, else the owner's own account elsewhere.
    f = (u >= 0.75) & (u < 0.80) & (p.hh[owner] == p.hh[np.asarray(person)[idx]])   # the family's own card
    hh_members = pd.Series(np.arange(len(p.pid))).groupby(p.hh).agg(list)
    cp_id, cp_acc = [], []
    for o in owner[f].tolist():
        fam = [q for q in hh_members[p.hh[o]] if q != o and q < len(g.person_acc) and g.person_acc[q] >= 0]
        if fam and rng.random() < 0.8:
            q = fam[int(rng.integers(0, len(fam)))]
            use_id = rng.random() < 0.6                          # the bank names the receiver, or only the account
            cp_id.append(p.pid[q] if use_id else None)
            cp_acc.append(acc_no[g.person_acc[q]])
        else:
            cp_id.append(p.pid[o])                                # the beneficiary's own account at another bank
            cp_acc.append("6228" + str(p.pid[o])[-12:] + "9")
    rows.append(dict(account=acc[f], amount=np.maximum(100, amount[f] * rng.integers(20, 101, f.sum()) // 100),
                     day=np.minimum(cday[f] + rng.integers(0, 4, f.sum()), end), type="transfer_out",
                     channel="online", terminal=None, cp_id=np.array(cp_id, dtype=object),
                     cp_acc=np.array(cp_acc, dtype=object)))

    truth: dict[str, set] = {}
    guard_rows, notes = [], []
    if not g.clean:
        planted, guard_rows = _plants(g, payments, idx, acc, owner, amount, cday, rng, truth, notes)
        rows += planted

    frames = []
    for r in rows:
        cnt = len(r["account"])
        frames.append(pd.DataFrame({
            "account": np.asarray(r["account"], np.int64), "amount": np.asarray(r["amount"], np.int64),
            "day": np.asarray(r["day"], "datetime64[D]"), "minute": np.asarray(r.get("minute", np.full(cnt, -1))),
            "type": r["type"], "channel": r["channel"], "terminal": r["terminal"] if r["terminal"] is not None
            else np.full(cnt, None, dtype=object),
            "cp_id": r.get("cp_id", np.full(cnt, None, dtype=object)),
            "cp_acc": r.get("cp_acc", np.full(cnt, None, dtype=object))}))
    tx = pd.concat(frames, ignore_index=True)
    # Times: planted debits keep theirs; terminal debits are laid in slots; online ones at any minute.
    free = (tx["minute"] < 0).to_numpy()
    at_term = free & tx["terminal"].notna().to_numpy()
    d, mnt = _schedule(tx["terminal"].to_numpy()[at_term].astype(str), tx["day"].to_numpy()[at_term], rng)
    day = tx["day"].to_numpy().copy()
    minute = tx["minute"].to_numpy().copy()
    day[at_term], minute[at_term] = d, mnt
    online = free & ~at_term
    minute[online] = rng.integers(6 * 60, 23 * 60, online.sum())
    tx = tx.assign(time=_time(day, minute)).sort_values(["time", "account"], kind="stable").reset_index(drop=True)
    cp_name = pd.Series(tx["cp_id"]).map(dict(zip(p.pid, p.name)))
    table = pd.DataFrame({
        "txn_id": np.char.add(f"TX{g.code}{year}", np.char.zfill(
            np.arange(g.counters.txns + 1, g.counters.txns + len(tx) + 1).astype(str), 9)).astype(object),
        "account_no": acc_no[tx["account"].to_numpy()],
        "txn_time": tx["time"].to_numpy().astype("datetime64[ns]"),
        "txn_type": tx["type"].to_numpy(), "channel": tx["channel"].to_numpy(), "terminal_id": tx["terminal"].to_numpy(),
        "amount": tx["amount"].to_numpy(np.int64),
        "counterparty_account": tx["cp_acc"].to_numpy(), "counterparty_id": tx["cp_id"].to_numpy(),
        "counterparty_name": cp_name.where(cp_name.notna(), None).to_numpy(),
    })
    g.n_txns = len(table)
    return {"table": table, "guardianships": guard_rows, "truth": truth, "notes": notes}


def _plants(g, payments, idx, acc, owner, amount, cday, rng, truth, notes):
    """The planted cases and traps; people used here join g.busy so no other plant touches them."""
    p = g.people
    acc_no = np.array(g.acc_no, dtype=object)
    code = g.terminal                                       # the shard's own terminals
    pid_of_line = payments["person_id"].to_numpy()[idx]
    own = p.pid[owner] == pid_of_line                       # paid into the beneficiary's own card
    lines = pd.DataFrame({"i": np.arange(len(idx)), "owner": owner, "acc": acc, "own": own, "amount": amount,
                          "day": cday, "line": idx, "hh": p.hh[owner], "kind": p.kind[owner],
                          "month": cday.astype("datetime64[M]").astype(np.int64) % 12 + 1})
    per_owner = lines.groupby("owner").agg(n=("i", "size"), accounts=("acc", "nunique"), own=("own", "all"),
                                           months=("month", "nunique"))
    # One account, paid into the person's own card most months of the year, one item only.
    items_per = payments.iloc[idx].groupby(payments["person_id"].to_numpy()[idx])["item_code"].nunique()
    good = per_owner[(per_owner["accounts"] == 1) & per_owner["own"] & (per_owner["months"] >= 6)].index
    good = np.array([o for o in good.tolist() if o not in g.busy and items_per.get(p.pid[o], 9) == 1], np.int64)
    rows, guard_rows = [], []

    def take(k, where=None):
        cand = good if where is None else good[where(good)]
        cand = np.array([c for c in cand.tolist() if c not in g.busy], np.int64)
        hh_seen, out = set(), []
        for c in rng.permutation(cand).tolist():
            if p.hh[c] not in hh_seen:
                out.append(c)
                hh_seen.add(p.hh[c])
            if len(out) == k:
                break
        g.busy.update(out)
        return out

    def cluster(people, days, terminal, start=540, step=3):
        for d in days:
            for j, q in enumerate(people):
                a = int(g.person_acc[q])
                rows.append(dict(account=[a], amount=[int(lines.loc[lines["owner"] == q, "amount"].max())],
                                 day=[np.datetime64(d)], minute=[start + j * step], type="withdrawal",
                                 channel="atm", terminal=np.array([terminal], dtype=object)))

    y = g.year
    # CP13: a village cadre empties four elders' cards at the village ATM in March, June and September.
    elders = take(4, lambda c: p.kind[c] == "elder")
    if len(elders) == 4:
        cluster(elders, [f"{y}-03-12", f"{y}-06-13", f"{y}-09-12"], f"ATM{code}V01", start=560)
        truth.setdefault("CP13", set()).update(acc_no[g.person_acc[q]] for q in elders)
    else:
        notes.append("CP13 not planted: too few elders with their own card")
    # Trap: neighbours meet at one ATM on one day (one shared trip is not a pattern).
    neighbours = take(3)
    if len(neighbours) == 3:
        cluster(neighbours, [f"{y}-05-08"], f"ATM{code}M01", start=600, step=6)
    # Trap: a family of three withdrawing together, month after month.
    hh_sizes = lines[lines["own"]].groupby("hh")["owner"].nunique()
    fam_hh = [h for h in hh_sizes[hh_sizes >= 3].index.tolist()
              if not any(q in g.busy for q in lines.loc[lines["hh"] == h, "owner"].unique().tolist())]
    if fam_hh:
        fam = sorted(lines.loc[(lines["hh"] == fam_hh[0]) & lines["own"], "owner"].unique().tolist())[:3]
        g.busy.update(fam)
        cluster(fam, [f"{y}-04-02", f"{y}-07-02", f"{y}-10-02"], f"ATM{code}F01", start=900, step=4)
    else:
        notes.append("family trap not planted: no household of three with their own cards")
    # Trap for CP13, case for CP15: a registered guardian withdraws for three wards of three households. The
    # guardianship exempts the debits from CP13; a guardian of three strangers' cards is CP15's to judge.
    wards = take(3)
    guardian_pool = [q for q in np.flatnonzero(p.kind == "other").tolist() if q not in g.busy]
    if len(wards) == 3 and guardian_pool:
        guardian = guardian_pool[int(rng.integers(0, len(guardian_pool)))]
        g.busy.add(guardian)
        for q in wards:
            guard_rows.append(dict(person_id=p.pid[q], guardian_id=p.pid[guardian],
                                   account_no=acc_no[g.person_acc[q]], basis="村(居)委会指定监护",
                                   valid_from=pd.Timestamp(f"{y - 2}-01-01"), valid_to=pd.NaT))
            truth.setdefault("CP15", set()).add(f"{p.pid[q]}|{p.pid[guardian]}")
        cluster(wards, [f"{y}-02-20", f"{y}-05-20", f"{y}-08-20"], f"ATM{code}G01", start=610, step=5)
    # CP14: every subsidy of one person sent on to the same stranger two days after it arrives.
    stranger_pool = [q for q in np.flatnonzero(p.kind == "other").tolist() if q not in g.busy]
    victims = take(2)
    if len(victims) == 2 and len(stranger_pool) >= 1:
        stranger = stranger_pool[0]
        g.busy.add(stranger)
        mine = lines[lines["owner"] == victims[0]]
        rows.append(dict(account=mine["acc"].to_numpy(), amount=mine["amount"].to_numpy(),
                         day=mine["day"].to_numpy() + np.timedelta64(2, "D"), type="transfer_out",
                         channel="online", terminal=None, cp_id=np.full(len(mine), p.pid[stranger], dtype=object),
                         cp_acc=np.full(len(mine), "6230" + p.pid[stranger][-14:], dtype=object)))
        truth.setdefault("CP14", set()).update(payments["payment_id"].to_numpy()[mine["line"].to_numpy()].tolist())
        # One payment moved in two parts (50 % and 40 %) to an account nobody knows; another month only 30 %.
        theirs = lines[lines["owner"] == victims[1]].sort_values("day")
        a, b = theirs.iloc[1], theirs.iloc[3 % len(theirs)]
        unknown = f"6231{rng.integers(10**14, 10**15)}"
        for share, lag in ((50, 1), (40, 3)):
            rows.append(dict(account=[a["acc"]], amount=[int(a["amount"]) * share // 100],
                             day=[a["day"] + np.timedelta64(lag, "D")], type="transfer_out", channel="online",
                             terminal=None, cp_id=np.array([None], dtype=object),
                             cp_acc=np.array([unknown], dtype=object)))
        truth.setdefault("CP14", set()).add(payments["payment_id"].to_numpy()[int(a["line"])])
        if b["line"] != a["line"]:
            rows.append(dict(account=[b["acc"]], amount=[int(b["amount"]) * 30 // 100],
                             day=[b["day"] + np.timedelta64(1, "D")], type="transfer_out", channel="online",
                             terminal=None, cp_id=np.array([None], dtype=object),
                             cp_acc=np.array([unknown], dtype=object)))
    else:
        notes.append("CP14 not planted: too few people paid into their own card")
    return rows, guard_rows
