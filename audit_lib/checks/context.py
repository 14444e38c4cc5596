"""The loaded tables as checks see them, with the derived columns several checks share, computed once.

Checks are pure functions of a Context: they read its tables and cached derivations and never change them.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..heap import make_room
from ..package.arrowtext import as_text, positions
from ..package.load import Package
from ..i18n import tr

def isin(s: pd.Series, values) -> pd.Series:
    """Series.isin for text, done in Arrow: pandas' own isin on Arrow strings walks the values in Python."""
    if isinstance(values, pd.Series) and str(values.dtype) in ("str", "string"):
        vals = pc.unique(as_text(values, large=True))     # text already: no trip through Python objects
        vals = vals.drop_null() if vals.null_count else vals
    else:
        vals = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series) else values)
        vals = pa.array(vals.dropna().astype(str).unique(), type=pa.string())
    arr = as_text(s, large=True)
    return pd.Series(pc.is_in(arr, value_set=vals).to_numpy(zero_copy_only=False), index=s.index, dtype=bool)


def lookup(s: pd.Series, keys, values, default=None) -> pd.Series:
    """``s.map(dict(zip(keys, values)))`` for text keys, by Arrow's hash lookup (pandas' map on Arrow strings
    is slow). The first of repeated keys wins: Arrow's ``index_in`` gives the first position of a value in
    the set, so the keys need no de-duplicating first (a hash of every key in pandas: 0.1 s of the suite)."""
    keys = pd.Series(keys).reset_index(drop=True)
    values = pd.Series(values).reset_index(drop=True)
    if len(values) == 0:
        return pd.Series([default] * len(s), index=s.index, dtype=object)
    idx = positions(pc.index_in(as_text(s, large=True), value_set=as_text(keys, large=True).combine_chunks()))
    hit = idx >= 0
    taken = values.take(np.where(hit, idx, 0)).reset_index(drop=True)
    taken.index = s.index
    return taken if hit.all() else taken.where(hit, default)


def select_rows(df: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``df[keep]`` for a boolean mask, with the same columns, dtypes and row labels. Text columns are filtered
    by Arrow, chunk by chunk; pandas takes them row number by row number, four times slower on a large table
    (the payments' successful lines at ten million: 6.3 s against 1.6 s). The columns are filtered on two
    threads (Arrow and numpy let go of the GIL): most of the time is the system handing over fresh pages for
    the copies, which two cores do in about half the time (at ten million lines, 4.2-5.1 s against 2.5-2.7 s)."""
    from concurrent.futures import ThreadPoolExecutor

    mask = pa.array(keep, type=pa.bool_())
    arrays = [df[c].array for c in df.columns]

    def one(a):
        if isinstance(a, pd.arrays.ArrowStringArray):
            return pd.arrays.ArrowStringArray(pc.filter(a.__arrow_array__(), mask), dtype=a.dtype)
        return a[keep]

    with ThreadPoolExecutor(max_workers=2) as pool:
        cols = dict(zip(df.columns, pool.map(one, arrays)))
    return pd.DataFrame(cols, index=df.index[keep], copy=False)


def month_index(period: pd.Series) -> pd.Series:
    """YYYY-MM to a month number (year*12 + month-1), vectorised over the distinct periods."""
    enc = as_text(period, large=True).dictionary_encode().combine_chunks()
    words = enc.dictionary.to_pylist()
    table = np.array([int(w[:4]) * 12 + int(w[5:7]) - 1 for w in words] + [-1], dtype=np.int64)
    return pd.Series(table[positions(enc.indices)], index=period.index)


def month_start(m) -> np.ndarray:
    """The first day of each month number (as datetime64[ns]); through a table of the months in range where
    there are many lines and few months."""
    m = np.asarray(m, dtype=np.int64)
    if len(m) > 4096:
        lo, hi = int(m.min()), int(m.max())
        if hi - lo < 100_000:
            table = (np.arange(lo, hi + 1, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[ns]")
            return table[m - lo]
    return (m - 1970 * 12).astype("datetime64[M]").astype("datetime64[ns]")


def month_text(m) -> np.ndarray:
    m = np.asarray(m, dtype=np.int64)
    if not len(m):
        return np.array([], dtype=object)
    return np.char.add(np.char.add((m // 12).astype(str), "-"),
                       np.char.zfill((m % 12 + 1).astype(str), 2)).astype(object)


# Shared derivations that only a few built-in checks read, and the DuckDB tables each keeps: the engine lets one
# go once no check still to run is among its readers (a large district need not hold them all to the end). A
# check outside this list that reads one later simply has it made again. tests/test_engine.py checks the list
# against what each built-in check really reads.
RELEASABLE = {"credits": ("RC01", "RC02", "RC08"), "approval_match": ("RC03", "RC05"),
              "approvals": ("RC03", "RC04", "RC05"), "disclosed": ("RC06", "RC09"), "credit_days": ("CP14",)}
_DUCKDB_TABLES = {"credits": ("credits",)}
# Shared derivations made from another one the engine lets go: where a check still to run reads one, the engine
# makes it just before it lets its source go (made later, it would make its source again).
MADE_FROM = {"credit_days": "credits"}


class Context:
    """One district's tables for the checks. ``tables`` maps table names to typed DataFrames."""

    def __init__(self, tables: dict[str, pd.DataFrame], district_code: str = "", year: int = 0,
                 district_name: str = ""):
        self.tables = {name: df.copy(deep=False) for name, df in tables.items()}   # the caller's stay theirs
        self.district_code = district_code
        self.district_name = district_name
        self.year = int(year)

    @classmethod
    def from_package(cls, pkg: Package) -> "Context":
        return cls(pkg.tables, pkg.district_code, pkg.year, pkg.district_name)

    def view(self) -> "CheckView":
        return CheckView(self)

    def release(self, name: str) -> None:
        """Let a shared derivation go (and the DuckDB tables it keeps); it is made again if read again."""
        if self.__dict__.pop(name, None) is not None and "_db" in self.__dict__:
            for table in _DUCKDB_TABLES.get(name, ()):
                self._db.execute(f"drop table if exists {table}")

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
        it = self.items
        out = lookup(codes, it.index.to_series(), it[column].reset_index(drop=True))
        if default is not None:
            out = out.fillna(default)
        return out

    # ------------------------------------------------------------------ payments
    @cached_property
    def pay(self) -> pd.DataFrame:
        """Payments with the derived columns checks share: frequency (monthly where the item is not on the
        list), the period as month numbers (first and last month it covers), its end date, and the holder.
        (No built-in check needs every line with these columns: ``ok`` is made on its own, so that a large
        district does not hold both.)"""
        return self._derived(self.tables["payments"])

    @cached_property
    def ok(self) -> pd.DataFrame:
        """The successful lines of ``pay``, with its columns and the payments' row labels."""
        return self._derived(self.tables["payments"], self.ok_rows())

    def ok_rows(self) -> np.ndarray:
        """Which of the payments' rows ``ok`` holds (by position), in their order."""
        return (self.tables["payments"]["status"] == "success").to_numpy()

    def _derived(self, p: pd.DataFrame, rows: np.ndarray | None = None) -> pd.DataFrame:
        from concurrent.futures import ThreadPoolExecutor

        p = p.drop(columns=["batch_id", "account_holder_name", "fail_reason", "bank"])
        if rows is not None:
            p = select_rows(p, rows)
        # The holders (a lookup in the card registry, in Arrow) are found on a second thread meanwhile.
        pool = ThreadPoolExecutor(max_workers=1)
        holders = pool.submit(self._holders, p)
        pool.shutdown(wait=False)
        # The item's attributes each check needs, looked up once per line: each attribute is made for the few
        # items (with its default filled in, and one slot more for lines whose item is not on the list: personal,
        # monthly, not in the one card) and taken to the lines by position.
        it = self.items
        idx = positions(pc.index_in(as_text(p["item_code"], large=True), value_set=pa.array(it.index.astype(str), type=pa.string())))
        listed = idx >= 0
        slot = np.where(listed, idx, len(it))

        def attr(col, default=None):
            vals = it[col].reset_index(drop=True)
            small = pd.concat([vals, pd.Series([None], dtype=vals.dtype if len(vals) else object)],
                              ignore_index=True)
            if default is not None:
                small = small.fillna(default)
            out = small.take(slot)
            out.index = p.index
            return out

        # the columns gathered first and made a frame once, without copying (a column set into a frame is a copy
        # of it: 0.9 s at ten million lines)
        cols = {c: p[c] for c in p.columns}
        freq = attr("frequency", "monthly")
        cols["frequency"] = freq
        cols["listed"] = listed
        cols["unit"] = attr("unit", "person")
        for col in ("in_one_card", "means_tested"):
            cols[col] = attr(col, False).astype(bool)
        for col in ("standard_amount", "max_amount", "min_age", "max_age"):
            small = pd.array(pd.concat([it[col].reset_index(drop=True), pd.Series([None], dtype=object)],
                                       ignore_index=True), dtype="Int64")
            cols[col] = pd.arrays.IntegerArray(small.to_numpy(dtype=np.int64, na_value=0)[slot], small.isna()[slot])
        cols["exclusive_group"] = attr("exclusive_group")
        m0 = month_index(p["period"]).to_numpy()
        span = np.where((freq == "quarterly").to_numpy(bool), 3, np.where((freq == "annual").to_numpy(bool), 12, 1))
        m1 = m0 + span - 1
        cols["m0"], cols["m1"] = m0, m1
        cols["period_start"] = month_start(m0)
        cols["period_end"] = month_start(m1 + 1) - np.timedelta64(1, "D")
        cols["holder_id"] = holders.result()
        return pd.DataFrame(cols, index=p.index, copy=False)

    @cached_property
    def last_pay_date(self):
        return self.tables["payments"]["pay_date"].max()

    @cached_property
    def account_owners(self) -> pd.DataFrame:
        """(account_no, person_id): each card account's holder in the card registry (its latest row)."""
        c = self.tables.get("cards")
        if c is None or not len(c):
            return pd.DataFrame({"account_no": pd.Series(dtype="str"), "person_id": pd.Series(dtype="str")})
        # The rows ordered by (status_date, _row), a missing date first, and the last row of each account kept;
        # found on the three key columns alone (sorting the whole registry took 3 s at ten million lines).
        acct = as_text(c["account_no"], large=True).combine_chunks()
        has = np.flatnonzero(acct.is_valid().to_numpy(zero_copy_only=False))
        if not len(has):
            return c[["account_no", "person_id"]].iloc[:0]
        code = positions(acct.take(pa.array(has)).dictionary_encode().indices)
        when = c["status_date"].to_numpy(dtype="datetime64[ns]")[has].view(np.int64)    # NaT: the least
        row = c["_row"].to_numpy(dtype=np.int64)[has]
        order = np.lexsort((row, when))                      # (status_date, _row), as the sort above had it
        last = np.ones(len(order), dtype=bool)
        by_acct = np.lexsort((np.arange(len(order)), code[order]))    # stable: each account's rows in that order
        last[by_acct[:-1][code[order][by_acct[:-1]] == code[order][by_acct[1:]]]] = False
        keep = has[order[last]]
        return c[["account_no", "person_id"]].iloc[keep]

    def owner_of(self, accounts: pd.Series) -> pa.ChunkedArray:
        """The card registry's holder of each account (null where the registry does not know it)."""
        owner = self.account_owners
        keys = as_text(owner["account_no"], large=True)
        vals = as_text(owner["person_id"], large=True)
        return pc.take(vals, pc.index_in(as_text(accounts, large=True), value_set=keys))

    def _holders(self, p: pd.DataFrame) -> pd.Series:
        """The account holder's identity number: as the payment names it, else the card registry's owner of
        the account (the latest row for that account)."""
        named = p["account_holder_id"]
        c = self.tables.get("cards")
        if c is None or not len(c):
            return named
        # In pandas' own 64-bit offsets throughout: the names filled in are the one new column (a cast to 32-bit
        # offsets and back would be two more copies of it, fresh memory each at ten million lines).
        given = as_text(named, large=True).combine_chunks()
        missing = given.is_null()
        if not missing.true_count:
            return named
        # the registry is asked only for the lines that do not name the holder
        accounts = pd.Series(pd.arrays.ArrowStringArray(pc.filter(as_text(p["account_no"], large=True), missing)))
        owners = self.owner_of(accounts).combine_chunks()
        holder = pc.replace_with_mask(given, missing, owners.cast(given.type))
        if holder.type != pa.large_string():
            holder = holder.cast(pa.large_string())
        # by position: ``p`` may be a selection of the payments' rows
        return pd.Series(pd.arrays.ArrowStringArray(holder, dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
                         index=p.index)                               # the "str" dtype the loader gives text

    @cached_property
    def disclosed(self) -> pd.DataFrame:
        """Disclosure rows as RC06 and RC09 match them: item, period, the published id masked by the one rule
        (already masked ids kept as published), the name masked as its first character and *."""
        d = self.tables["disclosures"][["item_code", "period", "person_id", "name", "amount", "published_date"]]
        return self.sql("""
            select item_code, period,
                   case when person_id like '%*%' or length(person_id) <= 10 then person_id
                        else left(person_id, 6) || '********' || right(person_id, 4) end as masked_id,
                   left(trim(coalesce(name, '')), 1) || '*' as masked_name, amount, published_date
            from d""", d=d)

    # ------------------------------------------------------------------ people and households
    def household(self, ids: pd.Series) -> pd.Series:
        """The household of each person: the household registry where it has the person, else the approvals."""
        h = self._households
        if len(ids) * 8 < len(h):
            # Few people asked about (cadres, guardians and wards): the registry's rows for them are found first,
            # by a hash of the few, and looked in; a lookup in the whole registry hashes all of it each time
            # (50 ms at a million lines, twice in CP15).
            h = h[isin(h["person_id"], ids).to_numpy()]
        return lookup(ids, h["person_id"], h["household_id"])

    @cached_property
    def _households(self) -> pd.DataFrame:
        parts = []
        if "households" in self.tables:
            h = self.tables["households"]
            parts.append(h[["person_id", "household_id"]])
        b = self.tables["beneficiaries"]
        parts.append(b[["person_id", "household_id"]].dropna())
        both = pd.concat(parts, ignore_index=True).dropna()
        return both.drop_duplicates("person_id", keep="first")

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
        b = self.tables["beneficiaries"].copy(deep=False)         # the two columns added are its own
        b["a0"] = month_index(b["start_period"])
        end = b["end_period"]
        b["a1"] = np.where(end.isna(), 10**7, month_index(end.fillna("9999-12")))
        return b

    @cached_property
    def approval_match(self) -> dict[str, pd.DataFrame]:
        """Successful lines against the approvals in force for their person, item and period (the approval's
        months overlap the period's), in DuckDB: ``unapproved`` lines with no such approval, and ``differs``,
        lines whose amount equals none of their approvals' amounts (with the nearest as ``expected``; of two
        equally near, the lower)."""
        ok = self.ok[["person_id", "item_code", "m0", "m1", "amount"]].assign(_i=np.arange(len(self.ok)))
        a = self.approvals[["person_id", "item_code", "a0", "a1", "approved_amount"]]
        # Most lines equal the amount of an approval in force: those are set aside by a join on the amount too
        # (the approvals hashed, the lines streamed past them), and only the rest are matched against all their
        # approvals. (Matching every line against its approvals first and grouping by line took 1.5 GB over the
        # tables and 4.6 s at ten million lines.)
        in_force = "f.person_id = a.person_id and f.item_code = a.item_code and a.a0 <= f.m1 and a.a1 >= f.m0"
        self.sql(f"""
            with off as (select f.* from ok f anti join a on {in_force} and a.approved_amount = f.amount)
            select f._i, count(a.person_id) as approvals, min(abs(f.amount - a.approved_amount)) as diff,
                   arg_min(a.approved_amount, 2 * abs(f.amount - a.approved_amount)
                                              + (a.approved_amount > f.amount)::int) as expected
            from off f left join a on {in_force}
            group by f._i""", ok=ok, a=a, view="near")
        try:
            ids = self.ok["payment_id"].reset_index(drop=True)
            un = self.sql("select _i from near where approvals = 0 order by _i")["_i"].to_numpy()
            differs = self.sql("select _i, diff, expected from near where approvals > 0 and diff > 0 order by _i")
        finally:
            self.sql("drop table if exists near")
        unapproved = pd.DataFrame({"payment_id": ids.take(un).to_numpy()})
        differs.insert(0, "payment_id", ids.take(differs.pop("_i").to_numpy()).to_numpy())
        return {"unapproved": unapproved, "differs": differs}

    @cached_property
    def credits(self) -> str:
        """Bank returns per payment, as a DuckDB table named ``credits``: successful credits summed (``credited``),
        the account credited (``bank_account``), how many return rows there were (``rows``), and over every row
        whatever its status: the least account named (``any_account``), the first credit date (``credit_date``)
        and the positive successful credits summed (``credited_pos``); and the first date of a successful credit
        (``success_date``). RC01, RC02 and RC08 share it, and ``credit_days`` is made from it."""
        br = self.tables["bank_returns"][["payment_id", "account_no", "credited_amount", "credit_date", "status"]]
        # Most payments have one return row: those rows are taken as they are (the sums and the least of one row
        # are its own values), and only the payments with several rows, and rows naming no payment, are grouped.
        # (Grouping every row, each payment a group of its own, took 0.34-0.47 s at a million lines, the least
        # account of each group most of it; now 0.15-0.21 s.)
        self.sql("""with many as (select payment_id from br where payment_id is not null
                                  group by 1 having count(*) > 1)
                    select payment_id, (case when status = 'success' then credited_amount end)::HUGEINT as credited,
                           case when status = 'success' then account_no end as bank_account, 1::BIGINT as rows,
                           account_no as any_account, credit_date,
                           (case when status = 'success' and credited_amount > 0 then credited_amount end)::HUGEINT
                               as credited_pos,
                           case when status = 'success' then credit_date end as success_date
                    from br anti join many using (payment_id) where payment_id is not null
                    union all
                    select payment_id, sum(credited_amount) filter (where status = 'success'),
                           min(account_no) filter (where status = 'success'), count(*), min(account_no),
                           min(credit_date), sum(credited_amount) filter (where status = 'success'
                                                                           and credited_amount > 0),
                           min(credit_date) filter (where status = 'success')
                    from (select * from br semi join many using (payment_id)
                          union all select * from br where payment_id is null)
                    group by payment_id""", br=br, view="credits")
        return "credits"

    @cached_property
    def credit_days(self) -> pd.Series:
        """The first day the bank's returns credit each payment line successfully (NaT where none does), by the
        payments' row labels; CP14 counts its days from it. Made from the credits table: in a full run the engine
        makes it before it lets the credits go. (CP14 found the dates itself before, hashing the ids of the five
        million card lines it judges while ``ok`` was held: 1.4 GB more at ten million lines.)"""
        p = self.tables["payments"]
        days = np.full(len(p), np.datetime64("NaT"), dtype="datetime64[ns]")
        if "bank_returns" in self.tables and len(p):
            held = "credits" in self.__dict__
            rows = self.sql(f"""select p._r, c.success_date from p join {self.credits} c using (payment_id)
                                where c.success_date is not null""",
                            p=p[["payment_id"]].assign(_r=np.arange(len(p))))
            days[rows["_r"].to_numpy()] = rows["success_date"].to_numpy(dtype="datetime64[ns]")
            if not held:                 # made for this alone: let go again, as the engine would have
                self.release("credits")
        return pd.Series(days, index=p.index)

    # ------------------------------------------------------------------ DuckDB for the heavy joins
    @cached_property
    def _db(self):
        import duckdb

        con = duckdb.connect(config={"threads": 2})
        return con

    def sql(self, query: str, view: str | None = None, **frames) -> pd.DataFrame | None:
        """Run a DuckDB query over pandas frames given by name (scanned in place). With ``view``, the result
        is kept as a temporary table of that name for later queries, and nothing is returned."""
        con = self._db
        make_room()
        for name, frame in frames.items():
            con.register(name, frame)
        try:
            if view:
                con.execute(f"create or replace temp table {view} as {query}")
                return None
            rel = con.sql(query)
            if rel is None:                        # a statement with no result (drop table ...)
                return None
            # DuckDB sums whole numbers as HUGEINT, which pandas would receive as float: money stays integer.
            huge = [c for c, t in zip(rel.columns, rel.types) if str(t) == "HUGEINT"]
            if huge:
                cols = ", ".join(f'"{c}"::BIGINT as "{c}"' for c in huge)
                rel = rel.select(f"* replace ({cols})")
            return frame_of(rel)
        finally:
            for name in frames:
                con.unregister(name)


# DuckDB's types that ``frame_of`` takes through Arrow; a result with any other goes through ``.df()``.
_VIA_ARROW = {"BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "BOOLEAN",
              "DOUBLE", "FLOAT", "VARCHAR", "DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"}


def frame_of(rel) -> pd.DataFrame:
    """A DuckDB result as the DataFrame ``rel.df()`` gives (the same dtypes, column for column), by way of Arrow.
    ``.df()`` makes a Python string of every text cell and pandas makes Arrow text of them again: 0.19 s for the
    216,000 disclosure rows at a million lines, against 0.03 s through Arrow. What ``.df()`` gives: whole numbers
    and yes/no as numpy's where the column has no missing value, else pandas' nullable ones; text as ``str``,
    but as Python objects where every value is missing (or there are no rows); a date as datetime64[us]; a
    timestamp in its own unit. Results with other types, or with repeated column names, go through ``.df()``."""
    names = list(rel.columns)
    if len(set(names)) < len(names) or any(str(t) not in _VIA_ARROW for t in rel.types):
        return rel.df()
    tbl = rel.to_arrow_table()
    cols = {}
    for name, col in zip(names, tbl.columns):
        t = col.type
        n = len(col)
        if pa.types.is_integer(t) or pa.types.is_boolean(t):
            values = pc.fill_null(col, False if pa.types.is_boolean(t) else 0).to_numpy(zero_copy_only=False)
            if col.null_count:
                mask = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
                cols[name] = (pd.arrays.BooleanArray if pa.types.is_boolean(t) else pd.arrays.IntegerArray)(
                    np.asarray(values), mask)
            else:
                cols[name] = np.asarray(values)
        elif pa.types.is_floating(t):
            cols[name] = np.asarray(col.to_numpy(zero_copy_only=False))
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            if col.null_count == n:
                cols[name] = np.full(n, None, dtype=object)
            else:
                cols[name] = (col.cast(pa.large_string()) if pa.types.is_string_view(t) else col).to_pandas().array
        elif pa.types.is_date(t):
            cols[name] = np.asarray(col.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False))
        elif pa.types.is_timestamp(t) and t.tz is None:
            cols[name] = np.asarray(col.to_numpy(zero_copy_only=False))
        else:                                   # not among the types above after all: as DuckDB gives it
            return rel.df()
    return pd.DataFrame(cols, columns=names)


def _fresh(value):
    """A table handed to one check: a new shallow copy (pandas copy-on-write makes any write into it copy the
    data it touches; dropping rows in place changes only the copy)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.copy(deep=False)
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


class CheckView:
    """What one check sees of a Context: every table and shared derivation, each time as a fresh view, so that
    a check that changes its tables (in a notebook, say) changes nothing any other check sees, nor the caller's
    own tables. The derivations are still computed once, by the Context behind it."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Context):
        object.__setattr__(self, "_ctx", ctx)

    def __getattr__(self, name):
        return _fresh(getattr(self._ctx, name))

    def __setattr__(self, name, value):
        raise AttributeError(tr(f"检查不能改动交给它的数据表（试图设置 {name!r}）",
                                f"a check cannot change the tables it is given (tried to set {name!r})"))

    def __delattr__(self, name):
        raise AttributeError(tr(f"检查不能改动交给它的数据表（试图删除 {name!r}）",
                                f"a check cannot change the tables it is given (tried to delete {name!r})"))
