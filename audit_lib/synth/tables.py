"""Turn the generator's integer state into the package's typed tables, and the plants' records into truth."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..package.identity import masked_ids
from . import catalogue as cat
from .district import District, _date, period_text

CHANNELS = np.array(["card", "bank_card", "passbook", "cash"], dtype=object)


def _d(x) -> pd.Series:
    return pd.Series(np.asarray(x, dtype="datetime64[D]").astype("datetime64[ns]"))


def _display_name(names: pd.Series) -> pd.Series:
    """How a community notice shows a name: 张*明 for three characters, 张* for two."""
    s = names.astype(str)
    return (s.str.slice(0, 1) + "*" + s.str.slice(2)).where(s.str.len() >= 3, s.str.slice(0, 1) + "*")


def assemble(g) -> District:
    rng = np.random.default_rng([g.seed, 7, int(g.code)])
    p = g.people
    items = g.items
    code = np.array([it["code"] for it in items], dtype=object)
    acc_no = np.array(g.acc_no, dtype=object)
    acc_bank = np.array(g.acc_bank, dtype=object)
    acc_owner = np.array(g.acc_owner, dtype=np.int64)
    acc_card = np.array(g.acc_card, dtype=object)

    # ---------------------------------------------------------------- payments
    L = g.lines[~g.lines["drop"]].copy()
    L["line"] = L.index
    L = L.sort_values(["ym", "item", "batch", "pay_date", "person", "line"], kind="stable")
    n = len(L)
    seq = np.char.zfill(np.arange(g.counters.payments + 1, g.counters.payments + n + 1).astype(str), 8)
    g.n_payments = n
    pay_id = np.char.add(f"FF{g.code}{g.year}", seq).astype(object)
    id_of = pd.Series(pay_id, index=L["line"].to_numpy())
    ym = L["ym"].to_numpy()
    per = period_text(ym)
    item = L["item"].to_numpy()
    acc = L["acc"].to_numpy()
    holder = acc_owner[acc]
    show = rng.random(n) < 0.7
    show |= np.isin(acc, list(g.holder_always))
    show &= ~np.isin(acc, list(g.holder_never))
    batch_kind = np.array(["", "R", "D", "X"], dtype=object)[L["batch"].to_numpy()]
    ok = L["status"].to_numpy() == 1
    fail = L["fail"].to_numpy()
    reissue = L["reissue_of"].to_numpy()
    payments = pd.DataFrame({
        "payment_id": pay_id,
        "batch_id": "B" + code[item] + np.char.replace(per.astype(str), "-", "").astype(object) + batch_kind,
        "item_code": code[item],
        "period": per,
        "person_id": p.pid[L["person"].to_numpy()],
        "name": p.name[L["person"].to_numpy()],
        "channel": CHANNELS[L["channel"].to_numpy()],
        "account_no": acc_no[acc],
        "account_holder_id": np.where(show, p.pid[holder], None),
        "account_holder_name": np.where(show | (rng.random(n) < 0.5), p.name[holder], None),
        "bank": acc_bank[acc],
        "amount": L["amount"].to_numpy(np.int64),
        "pay_date": _d(L["pay_date"].to_numpy()),
        "status": np.where(ok, "success", "failed").astype(object),
        "fail_reason": np.where(fail >= 0, np.array(cat.FAIL_REASONS, dtype=object)[np.maximum(fail, 0)], None),
        "reissue_of": np.where(reissue >= 0, id_of.reindex(np.maximum(reissue, 0)).to_numpy(), None),
    })

    # ---------------------------------------------------------------- bank returns
    lines = L["line"].to_numpy()
    amount = payments["amount"].to_numpy()
    credited = np.where(ok, amount, 0)
    bstatus = np.where(ok, "success", "failed").astype(object)
    baccount = payments["account_no"].to_numpy().copy()
    keep = np.ones(n, bool)
    pos = pd.Series(np.arange(n), index=lines)
    for line, kind in g.bank_mods.items():
        i = pos[line]
        if kind == "missing":
            keep[i] = False
        elif kind == "failed":
            bstatus[i], credited[i] = "failed", 0
        elif kind == "amount":
            credited[i] = amount[i] - 1000
        elif kind == "account":
            baccount[i] = acc_no[(acc[i] + 1) % len(acc_no)]
    fee = pd.array([pd.NA] * n, dtype="Int64")
    for line, f in g.fee.items():
        fee[pos[line]] = f
    credit_date = payments["pay_date"] + pd.to_timedelta(rng.integers(0, 2, n), unit="D")
    bank_returns = pd.DataFrame({
        "payment_id": pay_id, "account_no": baccount, "credited_amount": credited,
        "credit_date": credit_date, "status": bstatus, "fee": fee,
    })[keep].reset_index(drop=True)
    extra_truth: dict[str, set] = {}
    if not g.clean:
        # RC08: a failed line the bank credited all the same (it was re-paid too: the person got it twice), and
        # a credit the bank reports for a line the platform never sent.
        reissued = set(L.loc[L["reissue_of"] >= 0, "reissue_of"].tolist())
        cand = [i for i in np.flatnonzero(~ok) if lines[i] in reissued and int(L["person"].iloc[i]) not in g.busy]
        if cand:
            i = cand[int(rng.integers(0, len(cand)))]
            g.busy.add(int(L["person"].iloc[i]))
            row = bank_returns.index[(bank_returns["payment_id"] == pay_id[i]).to_numpy()]
            bank_returns.loc[row, "status"] = "success"
            bank_returns.loc[row, "credited_amount"] = amount[i]
            extra_truth.setdefault("RC08", set()).add(pay_id[i])
        outside = f"FF{g.code}{g.year}X{g.shard + 1:07d}"
        bank_returns = pd.concat([bank_returns, pd.DataFrame([dict(
            payment_id=outside, account_no=acc_no[int(rng.integers(0, len(acc_no)))], credited_amount=80000,
            credit_date=pd.Timestamp(f"{g.year}-06-18"), status="success", fee=pd.NA)])], ignore_index=True)
        bank_returns["fee"] = bank_returns["fee"].astype("Int64")
        extra_truth.setdefault("RC08", set()).add(outside)

    # ---------------------------------------------------------------- fund flows (the bank's view balances)
    br = bank_returns.merge(payments[["payment_id", "item_code", "amount", "pay_date"]], on="payment_id")
    is_ok = br["status"] == "success"
    disb = pd.DataFrame({"item_code": br["item_code"], "date": br["pay_date"],
                         "amount": np.where(is_ok, br["credited_amount"], br["amount"])})
    ret = pd.DataFrame({"item_code": br.loc[~is_ok, "item_code"],
                        "date": br.loc[~is_ok, "pay_date"] + pd.Timedelta(days=2),
                        "amount": br.loc[~is_ok, "amount"]})
    disb = disb.groupby(["item_code", "date"], as_index=False)["amount"].sum()
    ret = ret.groupby(["item_code", "date"], as_index=False)["amount"].sum()
    disb["flow_type"], ret["flow_type"] = "disbursed", "returned"
    extra = pd.DataFrame([dict(item_code=code[e["item"]], date=pd.Timestamp(e["date"]), amount=e["amount"],
                               flow_type=e["flow_type"], doc_no=e["doc"] or None) for e in g.flow_extra],
                         columns=["item_code", "date", "amount", "flow_type", "doc_no"])
    moves = pd.concat([disb, ret], ignore_index=True)
    alloc_rows = []
    alloc_dates = [pd.Timestamp(f"{g.year}-01-03"), pd.Timestamp(f"{g.year}-04-01"),
                   pd.Timestamp(f"{g.year}-07-01"), pd.Timestamp(f"{g.year}-10-01")]
    signed = moves.assign(net=np.where(moves["flow_type"] == "disbursed", moves["amount"], -moves["amount"]))
    docno = g.counters.docs + 1
    for ic, grp in signed.groupby("item_code", sort=True):
        done = 0
        for d in alloc_dates:
            target = int(grp.loc[grp["date"] <= d + pd.Timedelta(days=90), "net"].sum())
            amt = target - done
            if amt <= 0:
                continue
            shares = [amt * 5 // 10, amt * 3 // 10]
            shares.append(amt - sum(shares))
            for level, s in zip(["中央", "市级", "区级"], shares):
                if s > 0:
                    alloc_rows.append(dict(item_code=ic, flow_type="allocated", amount=s, date=d, level=level,
                                           doc_no=f"南财社指〔{g.year}〕{docno}号"))
            docno += 1
            done = target
    g.n_docs = docno - 1 - g.counters.docs
    fund_flows = pd.concat([pd.DataFrame(alloc_rows), moves, extra], ignore_index=True)
    fund_flows = fund_flows[["item_code", "flow_type", "amount", "date", "level", "doc_no"]]
    fund_flows["amount"] = fund_flows["amount"].astype(np.int64)
    fund_flows = fund_flows.sort_values(["item_code", "date", "flow_type", "amount"], kind="stable") \
        .reset_index(drop=True)

    # ---------------------------------------------------------------- disclosures
    disc_items = {it["code"] for it in items if it["disclosed"]}
    hh_comm = np.array([c[1] for c in g.communities], dtype=object)[g.hh_comm]
    sp = payments[(payments["status"] == "success") & payments["item_code"].isin(disc_items)]
    sp = sp.assign(person=L.loc[(L["status"] == 1).to_numpy() & np.isin(code[item], list(disc_items)),
                                "person"].to_numpy())
    disc = sp.groupby(["item_code", "period", "person"], as_index=False).agg(
        amount=("amount", "sum"), published_date=("pay_date", "min"))
    for m in g.disc_mods:
        row = g.lines.loc[m["line"]]
        key = (code[row["item"]], period_text([row.ym])[0], int(row.person))
        hit = (disc["item_code"] == key[0]) & (disc["period"] == key[1]) & (disc["person"] == key[2])
        if m["kind"] == "undisclosed":
            disc = disc[~hit]
        elif m["kind"] == "amount":
            disc.loc[hit, "amount"] += 10000
        elif m["kind"] == "unpaid":
            pd_ = pd.Timestamp(_date(g.year, int(row.ym % 12) + 1, 10)[()])
            disc = pd.concat([disc, pd.DataFrame([dict(item_code=key[0], period=key[1], person=key[2],
                                                       amount=int(row.amount), published_date=pd_)])])
    disc = disc.sort_values(["item_code", "period", "person"], kind="stable").reset_index(drop=True)
    unmask_id, unmask_name = None, None
    if not g.clean:
        # RC09: one notice put up three days after the money was paid; CP16: a notice that shows a whole
        # identity number, another a whole name.
        one = sp.drop_duplicates(["item_code", "period", "person"], keep=False)
        one = one[~one["person"].isin(list(g.busy)).to_numpy()]
        # nobody another person's notice could stand for: RC09 reads a notice by item, period, masked number and
        # surname, so a namesake's earlier notice would hide the late one
        shown = sp.assign(shown=masked_ids(sp["person_id"]) + sp["name"].astype(str).str.slice(0, 1))
        crowd = shown.groupby(["item_code", "period", "shown"])["person"].transform("nunique")
        one = one[~one["person"].isin(shown.loc[(crowd > 1).to_numpy(), "person"]).to_numpy()]
        if len(one) >= 3:
            pick = one.iloc[rng.choice(len(one), 3, replace=False)]
            for j, (_, r) in enumerate(pick.iterrows()):
                g.busy.add(int(r["person"]))
                hit = ((disc["item_code"] == r["item_code"]) & (disc["period"] == r["period"])
                       & (disc["person"] == r["person"])).to_numpy()
                if j == 0:
                    disc.loc[hit, "published_date"] = r["pay_date"] + pd.Timedelta(days=10)   # -7 below: +3
                    extra_truth.setdefault("RC09", set()).add(r["payment_id"])
                elif j == 1:
                    unmask_id = np.flatnonzero(hit)[0]
                else:
                    unmask_name = np.flatnonzero(hit)[0]
    disclosures = pd.DataFrame({
        "item_code": disc["item_code"].to_numpy(), "period": disc["period"].to_numpy(),
        "person_id": masked_ids(pd.Series(p.pid[disc["person"].to_numpy()])).to_numpy(),
        "name": _display_name(pd.Series(p.name[disc["person"].to_numpy()])).to_numpy(),
        "amount": disc["amount"].to_numpy(np.int64),
        "published_date": (disc["published_date"] - pd.Timedelta(days=7)).to_numpy(),
        "community": hh_comm[p.hh[disc["person"].to_numpy()]],
    })
    for row, what in ((unmask_id, "id"), (unmask_name, "name")):
        if row is None:
            continue
        person = int(disc["person"].iloc[row])
        if what == "id":
            disclosures.loc[row, "person_id"] = p.pid[person]
        else:
            disclosures.loc[row, "name"] = p.name[person]
        d = disclosures.loc[row]
        extra_truth.setdefault("CP16", set()).add(f"{d['item_code']}|{d['period']}|{d['person_id']}")

    # ---------------------------------------------------------------- beneficiaries
    a = g.appr.sort_values(["item", "person", "start"], kind="stable")
    ap = a["person"].to_numpy()
    streets = np.array([c[0] for c in g.communities], dtype=object)[g.hh_comm]
    start_first = (a["start"].to_numpy() - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    beneficiaries = pd.DataFrame({
        "person_id": p.pid[ap], "name": p.name[ap], "household_id": _hh_id(g, p.hh[ap]),
        "is_household_head": p.rel[ap] == "本人", "item_code": code[a["item"].to_numpy()],
        "approved_amount": a["amount"].to_numpy(np.int64), "start_period": period_text(a["start"].to_numpy()),
        "end_period": np.where(a["end"].to_numpy() >= 0, period_text(np.maximum(a["end"].to_numpy(), 0)), None),
        "street": streets[p.hh[ap]], "community": hh_comm[p.hh[ap]],
        "approval_date": _d(start_first - np.timedelta64(20, "D")),
        "designated_account_no": [acc_no[g.designated[(q, it)]] if (q, it) in g.designated else None
                                  for q, it in zip(ap.tolist(), a["item"].tolist())],
    })

    # ---------------------------------------------------------------- cards
    cr = pd.DataFrame(g.card_rows)
    payees = set(acc_owner[g.lines["acc"].to_numpy()].tolist()) | set(g.busy)
    others = np.array([q for q in np.flatnonzero(p.kind == "other").tolist() if q not in payees], dtype=np.int64)
    odd = set(rng.choice(others, min(len(others), max(3, len(others) // 20)), replace=False).tolist())
    status = cr["status"].to_numpy().astype(object)
    activated = cr["activated"].to_numpy()
    in_odd = cr["person"].isin(odd).to_numpy()
    pick = rng.integers(0, 3, len(cr))
    status[in_odd] = np.array(["inactive", "not_issued", "cancelled"], dtype=object)[pick[in_odd]]
    activated = np.where(in_odd & (status != "cancelled"), None, activated)
    no_account = status == "not_issued"
    cards = pd.DataFrame({
        "person_id": p.pid[cr["person"].to_numpy()],
        "card_no": np.where(no_account, None, acc_card[cr["acc"].to_numpy()]),
        "bank": acc_bank[cr["acc"].to_numpy()],
        "account_no": np.where(no_account, None, acc_no[cr["acc"].to_numpy()]),
        "status": status,
        "status_date": _d(np.array(cr["status_date"].tolist(), dtype="datetime64[D]")),
        "activated_date": _d(np.array([x if x is not None else np.datetime64("NaT") for x in activated],
                                      dtype="datetime64[D]")),
    }).sort_values(["person_id", "status_date", "account_no"], kind="stable").reset_index(drop=True)

    # ---------------------------------------------------------------- registries
    def reg(rows, cols):
        return pd.DataFrame(rows, columns=cols)

    deaths = reg([dict(person_id=p.pid[d["person"]], name=p.name[d["person"]], death_date=pd.Timestamp(d["date"]),
                       source=d["source"]) for d in g.deaths], ["person_id", "name", "death_date", "source"])
    public_employees = reg([dict(person_id=p.pid[e["person"]], name=p.name[e["person"]], employer=e["employer"],
                                 start_date=pd.Timestamp(e["start"]),
                                 end_date=pd.Timestamp(e["end"]) if e["end"] is not None else pd.NaT)
                            for e in g.employees], ["person_id", "name", "employer", "start_date", "end_date"])
    cadres = reg([dict(person_id=p.pid[c["person"]], name=p.name[c["person"]], community=g.communities[c["comm"]][1],
                       position=c["position"], start_date=pd.Timestamp(c["start"]), end_date=pd.NaT)
                  for c in g.cadres], ["person_id", "name", "community", "position", "start_date", "end_date"])
    everyone = np.arange(len(p.pid))
    households = pd.DataFrame({"person_id": p.pid, "name": p.name, "household_id": _hh_id(g, p.hh[everyone]),
                               "relation": p.rel, "birth_date": _d(p.birth)})
    gd = g.guard
    guardianships = pd.DataFrame({
        "person_id": p.pid[gd["person"].to_numpy()], "guardian_id": p.pid[gd["guardian"].to_numpy()],
        "account_no": acc_no[gd["acc"].to_numpy()], "basis": gd["basis"].to_numpy(),
        "valid_from": _d(gd["valid_from"].to_numpy()), "valid_to": pd.NaT,
    })

    # ---------------------------------------------------------------- card transactions
    from .transactions import make as make_transactions

    sb = bank_returns[(bank_returns["status"] == "success").to_numpy() & bank_returns["credit_date"].notna().to_numpy()]
    cd = sb.groupby("payment_id")["credit_date"].min()
    credit_day = pd.to_datetime(payments["payment_id"].map(cd)).fillna(payments["pay_date"]).to_numpy()
    tx = make_transactions(g, payments, credit_day, L["person"].to_numpy(), rng)
    card_transactions = tx["table"]
    for k, v in tx["truth"].items():
        extra_truth.setdefault(k, set()).update(v)
    g.notes.extend(tx["notes"])
    extra_guard = [dict(person_id=p.pid[e["person"]], guardian_id=p.pid[e["guardian"]],
                        account_no=acc_no[g.person_acc[e["person"]]] if g.person_acc[e["person"]] >= 0 else None,
                        basis=e["basis"], valid_from=pd.Timestamp(e["valid_from"]),
                        valid_to=pd.Timestamp(e["valid_to"]) if e["valid_to"] is not None else pd.NaT)
                   for e in g.guard_extra] + tx["guardianships"]
    if extra_guard:
        guardianships = pd.concat([guardianships, pd.DataFrame(extra_guard)], ignore_index=True)

    # ---------------------------------------------------------------- policy list
    rows = []
    for i, it in enumerate(items):
        if i in g.off_list:
            continue
        # Policies in force before the year (低保 since the 1990s) appear on the first list, due by the end of
        # February (南开区); items that start during the year are published within days of taking effect.
        if it.get("effective") is not None:
            eff = it["effective"]
        elif it["start_month"] > 1:
            eff = _date(g.year, it["start_month"], 1)[()]
        else:
            eff = _date(g.year - 1 - (i % 20), 1 + (i % 12), 1)[()]
        pub = it.get("published") or (eff + np.timedelta64(4, "D") if it["start_month"] > 1
                                      else _date(g.year, 2, 28)[()])
        rows.append(dict(
            item_code=it["code"], item_name=it["name"], department=it["dept"], in_one_card=True,
            unit=it["unit"], frequency=it["freq"],
            standard_amount=None if it["standard"] is None else it["standard"] * 100,
            max_amount=None if it["max"] is None else it["max"] * 100, means_tested=bool(it["means"]),
            min_age=it["min_age"], max_age=it["max_age"], exclusive_group=it["group"], legal_basis=it["basis"],
            policy_effective_date=pd.Timestamp(eff), published_date=pd.Timestamp(pub),
            special_group=cat.is_special_group(it), disclose_before_pay=bool(it["disclosed"])))
    policy_items = pd.DataFrame(rows)
    for c in ("standard_amount", "max_amount", "min_age", "max_age"):
        policy_items[c] = policy_items[c].astype("Int64")

    # ---------------------------------------------------------------- truth
    truth: dict[str, set] = {}
    for check, idx in g.tag.items():
        truth.setdefault(check, set()).update(id_of.reindex(sorted(idx)).tolist())
    for check, keys in g.keys.items():
        truth.setdefault(check, set()).update(keys)
    for check, keys in extra_truth.items():
        truth.setdefault(check, set()).update(keys)
    cp01_items = sorted(code[i] for i in g.cp01_items)
    truth["CP01"] = cp01_truth(payments, cp01_items, g.year)
    meta = dict(district_code=g.code, district_name=g.dname, year=g.year, prepared_by="audit synth",
                sources={"policy_items": "区财政局公开的政策清单", "beneficiaries": "业务主管部门审批名单",
                         "payments": "一卡通平台发放明细", "cards": "人社部门社保卡持卡库",
                         "bank_returns": "代发银行回盘", "fund_flows": "国库集中支付系统",
                         "disclosures": "社区公示", "deaths": "公安、民政、殡葬、卫健",
                         "public_employees": "编办、人社", "cadres": "组织部门", "households": "公安户籍",
                         "guardianships": "民政部门代管代持登记", "card_transactions": "代发银行账户交易明细"},
                notes=f"synthetic district, seed {g.seed}, {'clean' if g.clean else 'with planted problems'}")
    tables = dict(policy_items=policy_items, beneficiaries=beneficiaries, payments=payments, cards=cards,
                  bank_returns=bank_returns, fund_flows=fund_flows, disclosures=disclosures, deaths=deaths,
                  public_employees=public_employees, cadres=cadres, households=households,
                  guardianships=guardianships, card_transactions=card_transactions)
    return District(meta, tables, {k: sorted(v) for k, v in sorted(truth.items()) if v}, g.notes, cp01_items)


def card_sums(payments: pd.DataFrame) -> pd.DataFrame:
    """Per item, the amount paid successfully through the card and in all (fen): what CP01 compares."""
    ok = payments[(payments["status"] == "success").to_numpy()]
    return pd.DataFrame({"card": ok["amount"].where(ok["channel"] == "card", 0), "total": ok["amount"],
                         "item_code": ok["item_code"]}).groupby("item_code").sum()


def cp01_truth(payments, items, year: int, sums: pd.DataFrame | None = None) -> set:
    """The planted items that miss the year's card target (CP01): ``sums`` from ``card_sums``, summed over a
    sharded district's shards, or computed from ``payments``."""
    target = {2021: 0.70, 2022: 0.90}.get(year, 1.0 if year >= 2023 else 0.0)
    sums = card_sums(payments) if sums is None else sums
    out = set()
    for item in items:
        if item in sums.index:
            card, total = int(sums.at[item, "card"]), int(sums.at[item, "total"])
            if total and card * 100 < int(round(target * 100)) * total:
                out.add(item)
    return out


def _hh_id(g, hh) -> np.ndarray:
    return np.char.add(f"H{g.code}", np.char.zfill((np.asarray(hh) + g.counters.households).astype(str), 7)) \
        .astype(object)
