"""The loaded tables as checks see them, with the derived columns several checks share, computed once.

Checks are pure functions of a Context: they read its tables and cached derivations and never change them.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..package.load import Package

SPAN = {"monthly": 1, "quarterly": 3, "annual": 12, "one_off": 1}


def month_index(period: pd.Series) -> pd.Series:
    """YYYY-MM to a month number (year*12 + month-1), vectorised."""
    s = period.astype("str")
    return s.str.slice(0, 4).astype("int64") * 12 + s.str.slice(5, 7).astype("int64") - 1


def month_start(m) -> np.ndarray:
    m = np.asarray(m, dtype=np.int64)
    return (m - 1970 * 12).astype("datetime64[M]").astype("datetime64[ns]")


def month_text(m) -> np.ndarray:
    m = np.asarray(m, dtype=np.int64)
    if not len(m):
        return np.array([], dtype=object)
    return np.char.add(np.char.add((m // 12).astype(str), "-"),
                       np.char.zfill((m % 12 + 1).astype(str), 2)).astype(object)


class Context:
    """One district's tables for the checks. ``tables`` maps table names to typed DataFrames."""

    def __init__(self, tables: dict[str, pd.DataFrame], district_code: str = "", year: int = 0,
                 district_name: str = ""):
        self.tables = tables
        self.district_code = district_code
        self.district_name = district_name
        self.year = int(year)

    @classmethod
    def from_package(cls, pkg: Package) -> "Context":
        return cls(pkg.tables, pkg.district_code, pkg.year, pkg.district_name)

    def has(self, name: str) -> bool:
        return name in self.tables

    def __getattr__(self, name):
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    # ------------------------------------------------------------------ items
    @cached_property
    def items(self) -> pd.DataFrame:
        return self.tables["policy_items"].drop_duplicates("item_code").set_index("item_code")

    def item_attr(self, codes: pd.Series, column: str, default=None) -> pd.Series:
        out = codes.map(self.items[column]) if len(self.items) else pd.Series(index=codes.index, dtype=object)
        if default is not None:
            out = out.fillna(default)
        return out

    # ------------------------------------------------------------------ payments
    @cached_property
    def pay(self) -> pd.DataFrame:
        """Payments with the derived columns checks share: frequency (monthly where the item is not on the
        list), the period as month numbers (first and last month it covers), its end date, and the holder."""
        p = self.tables["payments"].copy()
        freq = self.item_attr(p["item_code"], "frequency", "monthly").astype(object)
        p["frequency"] = freq
        p["m0"] = month_index(p["period"])
        p["m1"] = p["m0"] + freq.map(SPAN).fillna(1).astype("int64") - 1
        p["period_start"] = month_start(p["m0"].to_numpy())
        p["period_end"] = month_start(p["m1"].to_numpy() + 1) - np.timedelta64(1, "D")
        p["holder_id"] = self._holders(p)
        return p

    @cached_property
    def ok(self) -> pd.DataFrame:
        p = self.pay
        return p[p["status"] == "success"]

    @cached_property
    def last_pay_date(self):
        return self.tables["payments"]["pay_date"].max()

    def _holders(self, p: pd.DataFrame) -> pd.Series:
        """The account holder's identity number: as the payment names it, else the card registry's owner of
        the account (the latest row for that account)."""
        named = p["account_holder_id"]
        c = self.tables.get("cards")
        if c is None or not len(c):
            return named
        owner = c.dropna(subset=["account_no"]).sort_values(["status_date", "_row"], kind="stable",
                                                             na_position="first")
        owner = owner.drop_duplicates("account_no", keep="last").set_index("account_no")["person_id"]
        return named.fillna(p["account_no"].map(owner))

    # ------------------------------------------------------------------ people and households
    @cached_property
    def household_of(self) -> pd.Series:
        """person_id -> household_id: the household registry where it has the person, else the approvals."""
        parts = []
        if "households" in self.tables:
            h = self.tables["households"]
            parts.append(h[["person_id", "household_id"]])
        b = self.tables["beneficiaries"]
        parts.append(b[["person_id", "household_id"]].dropna())
        both = pd.concat(parts, ignore_index=True).dropna()
        return both.drop_duplicates("person_id", keep="first").set_index("person_id")["household_id"]

    @cached_property
    def heads(self) -> pd.DataFrame:
        """(household_id, head person_id) pairs: approvals marked head, and the registry's 本人."""
        b = self.tables["beneficiaries"]
        parts = [b.loc[b["is_household_head"].fillna(False).astype(bool), ["household_id", "person_id"]]]
        if "households" in self.tables:
            h = self.tables["households"]
            parts.append(h.loc[h["relation"].astype("str").isin(["本人", "户主"]), ["household_id", "person_id"]])
        return pd.concat(parts, ignore_index=True).dropna().drop_duplicates()

    def guarded(self, lines: pd.DataFrame, person_col: str = "person_id", holder_col: str = "holder_id",
                account_col: str = "account_no", date_col: str = "pay_date") -> pd.Series:
        """For each line, whether a guardianship in force at its date lets the holder or the account
        receive the person's money."""
        out = pd.Series(False, index=lines.index)
        g = self.tables.get("guardianships")
        if g is None or not len(g) or not len(lines):
            return out
        left = lines[[person_col, holder_col, account_col, date_col]].reset_index(names="_i")
        m = left.merge(g[["person_id", "guardian_id", "account_no", "valid_from", "valid_to"]],
                       left_on=person_col, right_on="person_id", how="inner", suffixes=("", "_g"))
        acc_g = "account_no_g" if account_col == "account_no" else "account_no"
        in_force = (m["valid_from"].isna() | (m["valid_from"] <= m[date_col])) & \
                   (m["valid_to"].isna() | (m["valid_to"] >= m[date_col]))
        match = (m["guardian_id"] == m[holder_col]).fillna(False) | (m[acc_g] == m[account_col]).fillna(False)
        hit = m.loc[(in_force & match).to_numpy(), "_i"].unique()
        out.loc[hit] = True
        return out

    # ------------------------------------------------------------------ approvals
    @cached_property
    def approvals(self) -> pd.DataFrame:
        b = self.tables["beneficiaries"].copy()
        b["a0"] = month_index(b["start_period"])
        end = b["end_period"]
        b["a1"] = np.where(end.isna(), 10**7, month_index(end.fillna("9999-12")))
        return b

    @cached_property
    def approval_match(self) -> pd.DataFrame:
        """Successful payment lines joined to the approvals in force for their person, item and period
        (the approval's months overlap the period's). One row per matching pair."""
        ok = self.ok[["payment_id", "person_id", "item_code", "m0", "m1", "amount"]]
        a = self.approvals[["person_id", "item_code", "a0", "a1", "approved_amount"]]
        m = ok.merge(a, on=["person_id", "item_code"], how="inner")
        return m[(m["a0"] <= m["m1"]) & (m["a1"] >= m["m0"])]
