"""Small hand-made packages for tests: a minimal consistent district that each test bends one way."""
from __future__ import annotations

import csv
from pathlib import Path

import yaml

from audit_lib.checks import Context
from audit_lib.checks.engine import run_checks
from audit_lib.package import load_package
from audit_lib.package.schema import TABLE_BY_NAME
from audit_lib.synth.district import with_check_digits


def pid(body: str) -> str:
    """A valid identity number from its first 17 digits."""
    return with_check_digits([body])[0]


# People: a household of three (head, spouse, child), an elder, a stranger.
HEAD = pid("12010419700101001")
SPOUSE = pid("12010419720202002")
CHILD = pid("12010420150303003")
ELDER = pid("12010419400404004")
STRANGER = pid("12010419800505005")

ACC = {HEAD: "6222020000000000011", SPOUSE: "6222020000000000022", CHILD: "6222020000000000033",
       ELDER: "6222020000000000044", STRANGER: "6222020000000000055"}
NAMES = {HEAD: "张建国", SPOUSE: "李秀英", CHILD: "张小明", ELDER: "王福荣", STRANGER: "赵强"}


def item(code="A01", unit="person", frequency="monthly", standard="100.00", **kw):
    row = {"item_code": code, "item_name": f"项目{code}", "department": "区民政局", "in_one_card": "是",
           "unit": unit, "frequency": frequency, "standard_amount": standard, "max_amount": "",
           "means_tested": "否", "min_age": "", "max_age": "", "exclusive_group": "", "legal_basis": "依据",
           "policy_effective_date": "2023-01-01", "published_date": "2023-01-05"}
    row.update(kw)
    return row


def approval(person, code="A01", amount="100.00", start="2023-01", end="", household="H1", head=None, **kw):
    row = {"person_id": person, "name": NAMES.get(person, "某人"), "household_id": household,
           "is_household_head": "是" if (head if head is not None else person == HEAD) else "否",
           "item_code": code, "approved_amount": amount, "start_period": start, "end_period": end,
           "street": "长虹街道", "community": "长虹东里社区", "approval_date": "2022-12-01"}
    row.update(kw)
    return row


_seq = [0]


def payment(person, period="2023-01", code="A01", amount="100.00", pay_date=None, status="success",
            account=None, holder="", channel="card", payment_id=None, **kw):
    _seq[0] += 1
    row = {"payment_id": payment_id or f"P{_seq[0]:06d}", "batch_id": "B1", "item_code": code, "period": period,
           "person_id": person, "name": NAMES.get(person, "某人"), "channel": channel,
           "account_no": account or ACC[person], "account_holder_id": holder, "account_holder_name": "",
           "bank": "中国工商银行", "amount": amount, "pay_date": pay_date or f"{period}-15", "status": status,
           "fail_reason": "" if status == "success" else "账户状态异常", "reissue_of": ""}
    row.update(kw)
    return row


def card(person, account=None, status="正常", status_date="2020-01-01"):
    return {"person_id": person, "card_no": "A" + (account or ACC[person])[-8:], "bank": "中国工商银行",
            "account_no": account or ACC[person], "status": status, "status_date": status_date,
            "activated_date": status_date}


def base() -> dict[str, list[dict]]:
    """One item, the head approved all year and paid Jan-Mar, everyone holds a card."""
    return {
        "policy_items": [item()],
        "beneficiaries": [approval(HEAD)],
        "payments": [payment(HEAD, f"2023-0{m}") for m in (1, 2, 3)],
        "cards": [card(p) for p in ACC],
    }


def write_package(root: Path, tables: dict[str, list[dict]], year=2023, code="120104") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.yaml").write_text(yaml.safe_dump({"district_code": code, "district_name": "南开区",
                                                       "year": year, "prepared_by": "test"},
                                                      allow_unicode=True), encoding="utf-8")
    for name, rows in tables.items():
        cols = [c.name for c in TABLE_BY_NAME[name].columns]
        extra = [k for r in rows for k in r if k not in cols]
        cols += sorted(set(extra))
        with open(root / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            for r in rows:
                w.writerow({c: r.get(c, "") for c in cols})
    return root


def run(tmp_path: Path, tables: dict, check_id: str, year=2023, **params) -> list[str]:
    """Write, load and run one check; return the flagged keys (raises if the check errored)."""
    pkg = load_package(write_package(tmp_path / "pkg", tables, year=year))
    [o] = run_checks(Context.from_package(pkg), {check_id: params} if params else None, [check_id])
    assert o.status != "error", o.reason
    return o.keys


def outcome(tmp_path: Path, tables: dict, check_id: str, **params):
    pkg = load_package(write_package(tmp_path / "pkg", tables))
    [o] = run_checks(Context.from_package(pkg), {check_id: params} if params else None, [check_id])
    return o
