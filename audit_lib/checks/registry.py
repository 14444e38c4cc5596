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

import difflib
import hashlib
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..errors import ParamsError
from ..i18n import tr

FAMILIES = ("reconciliation", "compliance", "eligibility", "statistics")
SEVERITIES = ("high", "medium", "low", "info")


@dataclass(frozen=True)
class Param:
    """A check parameter declared once: its default, kind and allowed range. ``kind`` is int, float, bool, str
    (one of ``choices``) or mapping (year -> value, each value within min..max). A check given a plain default
    gets a Param inferred from it (no range)."""
    default: Any
    kind: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    doc: str = ""
    zh: str = ""                  # what it means, in the words the report and the catalogue show (Chinese)

    def __post_init__(self):
        if not self.kind:
            d = self.default
            kind = ("bool" if isinstance(d, bool) else "int" if isinstance(d, int) else
                    "float" if isinstance(d, float) else "mapping" if isinstance(d, dict) else "str")
            object.__setattr__(self, "kind", kind)

    def range_text(self) -> str:
        """The allowed values in words, in the language in force."""
        if self.kind == "str" and self.choices:
            return tr("以下之一：" + "、".join(map(str, self.choices)), "one of " + ", ".join(map(str, self.choices)))
        if self.kind == "bool":
            return tr("true 或 false", "true or false")
        what = {"int": tr("整数", "a whole number"), "float": tr("数", "a number"),
                "mapping": tr("“年度: 数值”的映射", "a mapping of year to a number"),
                "str": tr("文本", "text"), "date": tr("日期（写作 YYYY-MM-DD）", "a date written YYYY-MM-DD")}[self.kind]

        def num(v):
            return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"

        if self.min is not None and self.max is not None:
            return tr(f"{num(self.min)} 至 {num(self.max)} 之间的{what}", f"{what} from {num(self.min)} to {num(self.max)}")
        if self.min is not None:
            return tr(f"不小于 {num(self.min)} 的{what}", f"{what} of at least {num(self.min)}")
        return what

    def _number(self, value, whole: bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise ValueError
        if whole:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError            # 30.9 is not silently truncated to 30
            value = int(value)
        else:
            value = float(value) if isinstance(value, float) else value
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ValueError
        return value

    def coerce(self, value):
        """The value if it is of this parameter's kind and range; else ValueError."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if self.kind in ("int", "float"):
            return self._number(value, self.kind == "int")
        if self.kind == "str":
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise ValueError
            return value
        if self.kind == "date":
            import datetime as dt

            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                return value.isoformat()
            if not isinstance(value, str):
                raise ValueError
            return dt.date.fromisoformat(value.strip()).isoformat()
        if not isinstance(value, dict) or not value:
            raise ValueError
        out = {}
        for k, v in value.items():
            if isinstance(k, bool):
                raise ValueError
            try:
                year = int(str(k))
            except ValueError:
                raise ValueError from None
            out[year] = self._number(v, False)
        return out


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
    params: dict = field(default_factory=dict)          # name -> default value
    basis: str = ""
    description: str = ""
    multi: bool = False                # runs over several districts' packages (province run)
    specs: dict = field(default_factory=dict)           # name -> Param (kind and range)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"check {self.id}: family must be one of {FAMILIES}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.id}: severity must be one of {SEVERITIES}")

    def parameters(self, overrides: dict | None, where: str = "") -> dict:
        """The check's defaults with ``overrides`` applied, each checked against its declared kind and range;
        an unknown name or a wrong value is a ParamsError naming the nearest valid name or the range."""
        out = dict(self.params)
        if overrides is None:
            return out
        if not isinstance(overrides, dict):
            raise ParamsError(tr(f"{where}检查 {self.id}：parameters 应为“参数名: 值”的映射",
                                 f"{where}check {self.id}: parameters must be a mapping of name to value"))
        for name, value in overrides.items():
            spec = self.specs.get(name)
            if spec is None:
                near = difflib.get_close_matches(str(name), list(self.specs), n=1)
                hint = tr(f"；是否应为 '{near[0]}'？", f"; did you mean '{near[0]}'?") if near else ""
                raise ParamsError(tr(f"{where}检查 {self.id} 没有参数 '{name}'（它的参数：{', '.join(self.specs) or '无'}）{hint}",
                                     f"{where}check {self.id} has no parameter '{name}' (it has: "
                                     f"{', '.join(self.specs) or 'none'}){hint}"))
            try:
                out[name] = spec.coerce(value)
            except ValueError:
                raise ParamsError(tr(f"{where}检查 {self.id}：参数 '{name}' 应为{spec.range_text()}，实为 {value!r}",
                                     f"{where}check {self.id}: parameter '{name}' must be {spec.range_text()}, "
                                     f"got {value!r}")) from None
        return out


def fingerprint(c: Check) -> dict:
    """Where a check's code comes from and the sha256 of its source (of its compiled code where the source
    cannot be read), so that a signed run says exactly which code produced each result."""
    func = c.func
    try:
        source = inspect.getsource(func)
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    except (OSError, TypeError):
        source = None
        code = getattr(func, "__code__", None)
        raw = (code.co_code + repr(code.co_consts).encode()) if code else repr(func).encode()
        digest = hashlib.sha256(raw).hexdigest()
    return {"id": c.id, "module": getattr(func, "__module__", None), "qualname": getattr(func, "__qualname__", None),
            "source_sha256": digest, "_source": source}


ORIGIN_ZH = {"builtin": "内置", "replaced": "已替换内置检查", "custom": "自定义"}


class Registry:
    def __init__(self):
        self._checks: dict[str, Check] = {}
        self._plugins_loaded = False
        self._builtin: dict[str, str] = {}        # id -> source sha256 of the catalogue's own check

    def mark_builtin(self) -> None:
        """Remember the catalogue as shipped (called once, when the built-in checks have registered)."""
        self._builtin = {i: fingerprint(c)["source_sha256"] for i, c in self._checks.items()}

    def origin(self, c: Check, fp: dict | None = None) -> str:
        """builtin (the catalogue's own code for that id), replaced (another function under a built-in id) or
        custom (an id the catalogue does not have: a notebook's or a plugin's check)."""
        if c.id not in self._builtin:
            return "custom"
        fp = fp or fingerprint(c)
        return "builtin" if fp["source_sha256"] == self._builtin[c.id] and \
            (fp["module"] or "").startswith("audit_lib.checks.") else "replaced"

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
        self.load_plugins()
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
    specs = {n: (v if isinstance(v, Param) else Param(v)) for n, v in (params or {}).items()}

    def deco(func):
        c = Check(id=id, title=title, family=family, severity=severity, needs=tuple(needs), key=key, func=func,
                  params={n: p.default for n, p in specs.items()}, basis=basis,
                  description=description or (func.__doc__ or "").strip(), multi=multi, specs=specs)
        (registry or REGISTRY).register(c, replace=replace)
        func.check = c
        return func
    return deco
