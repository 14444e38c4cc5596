"""Runs the selected checks over loaded tables, isolates each check's error, and builds findings.json."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ParamsError
from ..heap import between_checks, freed_pages_kept
from ..package.schema import TABLE_BY_NAME
from . import REGISTRY
from .context import MADE_FROM, RELEASABLE, Context
from .registry import Check, Registry, Result, fingerprint
from ..i18n import tr

STATUSES = (None, "info", "skipped")


@dataclass
class Outcome:
    check: Check
    status: str
    reason: str | None = None
    records: pd.DataFrame | None = None       # evidence, one row per flagged key (full values: not for reports)
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0
    origin: str = "builtin"                   # builtin, replaced (another function under a built-in id), custom
    code: dict = field(default_factory=dict)  # module, qualname and source sha256 of the function that ran

    @property
    def keys(self) -> list[str]:
        if self.records is None or self.records.empty:
            return []
        return sorted(set(self.records["key"].astype(str)))

    @property
    def amount_fen(self) -> int:
        """The money the flagged records involve: the sum of the flagged lines' amounts where the key is a
        payment, else what the check attributes to each record (0 where it attributes none)."""
        r = self.records
        if r is None or "amount_fen" not in r or r.empty:
            return 0
        return int(r.drop_duplicates("key")["amount_fen"].fillna(0).astype("int64").sum())

    def as_json(self) -> dict:
        keys = self.keys
        return {"id": self.check.id, "title": self.check.title, "family": self.check.family,
                "severity": self.check.severity, "status": self.status, "reason": self.reason,
                "key": self.check.key, "count": len(keys), "amount_fen": self.amount_fen,
                "records": keys, "metrics": self.metrics, "origin": self.origin}


def effective_params(c: Check, overrides: dict | None) -> dict:
    """The check's defaults with overrides applied (each checked against its declared kind and range)."""
    return c.parameters(overrides)


def _missing(c: Check, ctx: Context) -> list[str]:
    return [n for n in c.needs if not ctx.has(n)]


def _normalise(c: Check, out) -> Result:
    """A check's return value as a Result, or ValueError: anything but a well-formed result is that check's
    error, never a silent "clear" (a check that forgot to return gives None)."""
    if out is None:
        raise ValueError(tr("检查没有返回任何内容（None）：请返回含 'key' 列的疑点记录 DataFrame（没有疑点时为空表），或一个 Result",
                            "the check returned nothing (None): return a DataFrame of flagged records with a 'key' "
                            "column (empty when nothing is flagged), or a Result"))
    if not isinstance(out, (Result, pd.DataFrame)):
        raise ValueError(tr(f"检查返回的是 {type(out).__name__}，不是 DataFrame 或 Result",
                            f"the check returned a {type(out).__name__}, not a DataFrame or a Result"))
    res = out if isinstance(out, Result) else Result(records=out)
    if res.status not in STATUSES:
        raise ValueError(tr(f"检查返回的状态为 {res.status!r}（允许：info、skipped 或不给）",
                            f"the check returned status {res.status!r} (allowed: info, skipped, or none)"))
    if res.records is None:
        if res.status is None:
            raise ValueError(tr("检查返回的 Result 没有记录：没有疑点时请给出空的 DataFrame",
                                "the check returned a Result without records: give an empty DataFrame when nothing "
                                "is flagged"))
        return res
    if not isinstance(res.records, pd.DataFrame):
        raise ValueError(tr(f"检查返回的记录是 {type(res.records).__name__}，不是 DataFrame",
                            f"the check's records are a {type(res.records).__name__}, not a DataFrame"))
    if "key" not in res.records:
        raise ValueError(tr(f"检查 {c.id} 返回的记录没有 'key' 列",
                            f"check {c.id} returned records without a 'key' column"))
    if not isinstance(res.metrics, dict):
        raise ValueError(tr("检查返回的 metrics 不是映射",
                            "the check's metrics are not a mapping"))
    if "amount_fen" in res.records:
        a = res.records["amount_fen"]
        if a.dtype == object and a.map(lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool))).all():
            res.records = res.records.assign(amount_fen=pd.array(a.tolist(), dtype="Int64"))   # built row by row
        elif pd.api.types.is_bool_dtype(a) or not pd.api.types.is_integer_dtype(a):
            raise ValueError(tr(f"检查的 amount_fen 列是 {a.dtype}，不是整数（分）：金额从不用浮点数",
                                f"the check's amount_fen column is {a.dtype}, not integer fen (money is never a float)"))
    res.records = res.records.reset_index(drop=True)
    return res


def run_one(c: Check, ctx: Context | list[Context], params: dict, unusable: dict | None = None,
            registry: Registry | None = None) -> Outcome:
    """Run one check on fresh views of the tables. ``unusable`` names tables that were read but lost too many
    rows to quarantine: a check that needs one is not executed (skipped, with the reason), never clear."""
    t0 = time.perf_counter()
    fp = fingerprint(c)
    origin = (registry or REGISTRY).origin(c, fp)
    code = {k: v for k, v in fp.items() if not k.startswith("_")}
    if origin != "builtin" and fp["_source"] is not None:
        code["source"] = fp["_source"]

    def outcome(status, reason=None, records=None, metrics=None):
        return Outcome(c, status, reason, records, metrics or {}, time.perf_counter() - t0, origin, code)

    contexts = ctx if isinstance(ctx, list) else [ctx]
    if c.multi and len(contexts) < 2:
        return outcome("skipped", "needs several districts: run `audit check` on several package folders")
    missing = sorted({m for x in contexts for m in _missing(c, x)})
    if missing:
        names = ", ".join(f"{m} ({TABLE_BY_NAME[m].zh})" if m in TABLE_BY_NAME else m for m in missing)
        return outcome("skipped", f"data not provided: {names}")
    bad = [unusable[n] for n in c.needs if unusable and n in unusable]
    if bad:
        return outcome("skipped", "not executed: " + "; ".join(bad))
    views = [x.view() for x in contexts]
    try:
        res = _normalise(c, c.func(views if c.multi else views[0], **params))
        _ = Outcome(c, "flagged", records=res.records).amount_fen       # the money must add up as integers
    except Exception as e:   # one check's failure is reported as its own error and never stops the others
        return outcome("error", f"{type(e).__name__}: {e}")
    if res.status == "skipped":
        status = "skipped"
    elif res.status == "info" or c.severity == "info":
        status = "info"
    else:
        status = "flagged" if len(res.records) else "clear"
    return outcome(status, res.reason, res.records, res.metrics)


def select_checks(registry: Registry, select: list[str] | None, multi: bool) -> list[Check]:
    ids = registry.ids()
    if select:
        unknown = [s for s in select if s not in ids]
        if unknown:
            raise ParamsError(tr(f"未知的检查编号：{', '.join(unknown)}",
                                 f"unknown check id(s): {', '.join(unknown)}"))
        ids = [i for i in ids if i in set(select)]
    checks = [registry.get(i) for i in ids]
    return [c for c in checks if c.multi] if multi else checks


def run_checks(ctx: Context | list[Context], parameters: dict | None = None, select: list[str] | None = None,
               registry: Registry | None = None, unusable: dict | None = None) -> list[Outcome]:
    """Run checks over one district (a Context), or the cross-district checks over a list of districts (a city
    or province; with only one district in the list they are skipped, saying they need several)."""
    registry = registry or REGISTRY
    parameters = parameters or {}
    multi = isinstance(ctx, list)
    for cid in parameters:
        if cid not in registry:
            raise ParamsError(tr(f"给出了未知检查 {cid} 的参数",
                                 f"parameters given for unknown check {cid}"))
    checks = select_checks(registry, select, multi)
    params = {c.id: effective_params(c, parameters.get(c.id)) for c in checks}     # all validated before any runs
    if multi:
        return [run_one(c, ctx, params[c.id], unusable, registry) for c in checks]
    order = run_order(checks)
    done = {}
    with freed_pages_kept():
        for i, c in enumerate(order):
            done[c.id] = run_one(c, ctx, params[c.id], unusable, registry)
            later = {x.id for x in order[i + 1:]}
            for name, readers in RELEASABLE.items():
                if not later.intersection(readers):
                    for made, source in MADE_FROM.items():      # made from it and still to be read: made now
                        if source == name and name in ctx.__dict__ and later.intersection(RELEASABLE[made]):
                            getattr(ctx, made)
                    ctx.release(name)
            between_checks()
    return [done[c.id] for c in checks]


def run_order(checks: list[Check]) -> list[Check]:
    """The order the checks run in (their outcomes keep the catalogue's): the readers of a shared derivation the
    engine lets go run one after another, from where the first of them stands, so that it is held for as short
    a stretch as it can be. At ten million lines the credits table (1.25 GB) was held from RC01 to RC08 under
    RC03 to RC07; now RC08 runs after RC02 and the credits go before RC03 builds its approvals."""
    pos = {c.id: i for i, c in enumerate(checks)}
    first = {name: min((pos[r] for r in readers if r in pos), default=None) for name, readers in RELEASABLE.items()}
    def place(i_c):
        i, c = i_c
        starts = [first[name] for name, readers in RELEASABLE.items() if c.id in readers]
        return (min(starts + [i]), i)
    return [c for _, c in sorted(enumerate(checks), key=place)]


def at_risk(outcomes: list[Outcome]) -> dict:
    """The money at risk: the flagged payment lines of every check that judges payments (statistics and the
    audit sample are not money at risk), each line counted once however many checks flag it."""
    parts = [o.records[["key", "amount_fen"]] for o in outcomes
             if o.status == "flagged" and o.check.family != "statistics" and o.check.severity != "info"
             and o.check.key == "payment_id" and o.records is not None and "amount_fen" in o.records]
    if not parts:
        return {"payments": 0, "amount_fen": 0}
    both = pd.concat(parts, ignore_index=True).drop_duplicates("key")
    return {"payments": int(len(both)),
            "amount_fen": int(pd.to_numeric(both["amount_fen"]).fillna(0).astype("int64").sum())}


def findings_doc(meta: dict, outcomes: list[Outcome], quarantine: pd.DataFrame, parameters: dict,
                 extra: dict | None = None) -> dict:
    from .. import findings

    used = {o.check.id: effective_params(o.check, parameters.get(o.check.id)) for o in outcomes if o.check.params}
    dq = quarantine[["table", "file", "row", "column", "value", "reason"]].to_dict("records") \
        if quarantine is not None and len(quarantine) else []
    doc = {"schema": findings.SCHEMA, "district_code": meta["district_code"],
           "district_name": meta.get("district_name", ""), "year": int(meta["year"]), "parameters": used,
           "checks": [o.as_json() for o in outcomes], "data_quality": dq, "at_risk": at_risk(outcomes),
           **(extra or {})}
    return findings.finalise(doc)
