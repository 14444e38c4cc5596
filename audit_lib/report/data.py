"""Everything a report shows, computed once per run: the package's summary, findings, each check's evidence,
and the overview figures. ``audit run`` computes it in the command and hands it to the notebook's kernel as a
file; the notebook opened by hand computes it itself."""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..checks import Context
from ..pipeline import audit_package, card_holding
from ..checks.basis import for_district


class Handoff:
    """What a run hands its notebook's kernel: saved to a file in the run's private scratch folder, loaded there."""

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
        return path

    @classmethod
    def load(cls, path: str | Path):
        with open(path, "rb") as f:
            return pickle.load(f)


@dataclass
class RunData(Handoff):
    meta: dict
    findings: dict
    evidence: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    files: list[dict]
    rows: dict[str, tuple[int, int]]            # table -> (rows read, rows loaded)
    overview: dict = field(default_factory=dict)
    package: str = ""
    params: object = None                       # the run's Params
    checks_code: list = field(default_factory=list)   # per check that ran: id, origin, module, source sha256
    check_info: dict = field(default_factory=dict)    # per check that ran: its description and policy basis
    history: dict | None = None                       # the comparison with the year before (audit run sets it)

    @property
    def in_error(self) -> list[str]:
        return [c["id"] for c in self.findings["checks"] if c["status"] == "error"]

    @property
    def not_builtin(self) -> list[dict]:
        return [c for c in self.checks_code if c["origin"] != "builtin"]



def overview(ctx: Context) -> dict:
    ok = ctx.ok
    items = ctx.items
    per_item = ctx.sql("""select item_code, count(*) as lines, count(distinct person_id) as people,
                                 sum(amount) as amount_fen,
                                 sum(amount) filter (where channel = 'card') as card_fen
                          from ok group by 1 order by 1""", ok=ok[["item_code", "person_id", "amount", "channel"]])
    per_item["card_fen"] = per_item["card_fen"].fillna(0).astype("int64")
    per_item["item_name"] = per_item["item_code"].map(items["item_name"]).fillna("（清单外）")
    per_item["card_share"] = (per_item["card_fen"] / per_item["amount_fen"]).round(4)
    monthly = ctx.sql("""select period, count(*) as lines, sum(amount) as amount_fen from ok
                         group by 1 order by 1""", ok=ok[["period", "amount"]])
    item_month = ctx.sql("""select item_code, period, count(*) as lines, sum(amount) as amount_fen from ok
                            group by 1, 2 order by 1, 2""", ok=ok[["item_code", "period", "amount"]])
    b = ctx.beneficiaries["person_id"].drop_duplicates()
    holding = card_holding(ctx.beneficiaries, ctx.cards)
    failed = ctx.payments[ctx.payments["status"] == "failed"]
    return {"per_item": per_item, "monthly": monthly, "item_month": item_month, "card_holding": holding, "beneficiaries": int(len(b)),
            "lines": int(len(ctx.payments)), "success_lines": int(len(ok)), "failed_lines": int(len(failed)),
            "amount_fen": int(ok["amount"].sum()), "last_pay_date": ctx.last_pay_date}


def prepare(package: str | Path, params=None) -> RunData:
    """Run the one audit pipeline once and gather what the report shows."""
    a = audit_package(package, params)
    pkg, ctx, outcomes, doc = a.package, a.context, a.outcomes, a.findings
    evidence = {o.check.id: o.records for o in outcomes if o.records is not None and len(o.records)}
    rows = {t: (pkg.rows_read[t], len(df)) for t, df in pkg.tables.items()}
    files = [dict(table=f.table, path=f.path, bytes=f.bytes, sha256=f.sha256) for f in pkg.files]
    return RunData(meta=dict(pkg.meta), findings=doc, evidence=evidence, quarantine=pkg.quarantine, files=files,
                   rows=rows, overview=overview(ctx), package=str(Path(package).resolve()), params=a.params,
                   checks_code=[{"origin": o.origin, **o.code} for o in outcomes],
                   check_info={o.check.id: {"description": o.check.description,
                                            "basis": for_district(o.check.basis, pkg.meta.get("district_code")),
                                            "params": {n: p.zh or p.doc for n, p in o.check.specs.items()}}
                               for o in outcomes})


def check_meta(d: RunData, check_id: str) -> dict | None:
    """The description and basis of a check as it ran (the command's registry, not the kernel's)."""
    return d.check_info.get(check_id)
