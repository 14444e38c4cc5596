"""What a check is: its metadata and its function, kept apart from how the engine runs it.

One registry shape, as papermill keeps its engines: ``register``/``get``/``ids``; the built-in catalogue
registers itself at import; other packages add checks through the ``audit_lib.checks`` entry point group
(importing the named module registers its checks); a notebook registers with the same ``@check`` decorator.

A check function takes the loaded tables (a ``Context``) and its parameters as keyword arguments, and returns
the flagged records as a DataFrame with a ``key`` column (and, where the key is a payment or the check knows
the money involved, an ``amount_fen`` column), or a ``Result`` when it has figures to report or is not
applicable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

FAMILIES = ("reconciliation", "compliance", "eligibility", "statistics")
SEVERITIES = ("high", "medium", "low", "info")


@dataclass
class Result:
    records: pd.DataFrame | None = None
    metrics: dict = field(default_factory=dict)
    status: str | None = None          # None: flagged or clear from the records; or "info", "skipped"
    reason: str | None = None


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    family: str
    severity: str
    needs: tuple[str, ...]
    key: str
    func: Callable
    params: dict = field(default_factory=dict)
    basis: str = ""
    description: str = ""
    multi: bool = False                # runs over several districts' packages (province run)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"check {self.id}: family must be one of {FAMILIES}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: severity must be one of {SEVERITIES}")


class Registry:
    def __init__(self):
        self._checks: dict[str, Check] = {}
        self._plugins_loaded = False

    def register(self, c: Check, replace: bool = False) -> Check:
        old = self._checks.get(c.id)
        same = old is not None and (old.func.__module__, old.func.__qualname__) == \
            (c.func.__module__, c.func.__qualname__)          # a notebook cell run again
        if old is not None and not replace and not same:
            raise ValueError(f"a check with id {c.id} is already registered (pass replace=True to replace it)")
        self._checks[c.id] = c
        return c

    def unregister(self, check_id: str) -> None:
        self._checks.pop(check_id, None)

    def get(self, check_id: str) -> Check:
        self.load_plugins()
        try:
            return self._checks[check_id]
        except KeyError:
            raise KeyError(f"no check with id {check_id}") from None

    def ids(self) -> list[str]:
        self.load_plugins()
        return sorted(self._checks, key=lambda i: (FAMILIES.index(self._checks[i].family), i))

    def __iter__(self):
        return iter(self.get(i) for i in self.ids())

    def __contains__(self, check_id) -> bool:
        return check_id in self._checks

    def load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group="audit_lib.checks"):
            ep.load()


REGISTRY = Registry()


def keyed(df: pd.DataFrame, key: str, amount: str | None = "amount") -> pd.DataFrame:
    """Flagged records with the ``key`` column from ``key`` and, where the records are money, ``amount_fen``."""
    out = df.copy()
    out["key"] = out[key].astype(str)
    if amount:
        out["amount_fen"] = out[amount].astype("int64")
    return out


def check(id: str, title: str, family: str, severity: str, needs=("payments",), key: str = "payment_id",
          params: dict | None = None, basis: str = "", description: str = "", multi: bool = False,
          registry: Registry | None = None, replace: bool = False):
    """Register a check function. In a notebook: ``@check("XX01", "我的检查", "compliance", "low", ...)``."""
    def deco(func):
        c = Check(id=id, title=title, family=family, severity=severity, needs=tuple(needs), key=key, func=func,
                  params=dict(params or {}), basis=basis, description=description or (func.__doc__ or "").strip(),
                  multi=multi)
        (registry or REGISTRY).register(c, replace=replace)
        func.check = c
        return func
    return deco
