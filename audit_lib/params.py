"""The parameters of one audit, read and checked in one place.

A params file (``params/<year>/<district_code>.yaml``) may hold only the keys below; every value has a
default. Anything the workbench would otherwise ignore is an error naming the file, the key and the nearest
valid key or the allowed range: a signed report must never rest on a parameter nobody read.
"""
from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import yamlsafe
from .errors import ParamsError
from .i18n import tr

DEFAULT_MAX_QUARANTINED_SHARE = 0.05

KEYS = {
    "district_code": "the package's 6-digit district code (checked against package.yaml)",
    "district_name": "the district's name (informative)",
    "year": "the audit year (checked against package.yaml)",
    "data": "the package folder, relative to this file",
    "checks": "'all' or a list of check ids",
    "parameters": "per check id, its parameter overrides",
    "archive": "the archive root, relative to this file",
    "key": "the signing key: a key id or a private key file",
    "max_quarantined_share": "the largest share (0-1) of a table's rows that may be quarantined before the run "
    "stops (default 0.05)",
    "checks_from": "local check modules (.py files, relative to this file) registered before the checks run",
}


def load_module(source: str, origin: str) -> str:
    """Run a local check module's source (its @check decorators register its checks); returns its sha256.
    The module is named by its content, so the same source registers under the same name again."""
    import hashlib
    import types

    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    name = f"audit_local_checks_{digest[:16]}"
    module = types.ModuleType(name)
    module.__file__ = origin
    sys.modules[name] = module
    import linecache

    linecache.cache[origin] = (len(source), None, source.splitlines(keepends=True), origin)
    exec(compile(source, origin, "exec"), module.__dict__)
    return digest


def _nearest(word: str, choices) -> str:
    near = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.5)
    return tr(f"；是否应为 '{near[0]}'？", f"; did you mean '{near[0]}'?") if near else ""


@dataclass(frozen=True)
class Params:
    """What one audit was asked: the checks to run, their parameter overrides (validated), and where things
    are. ``overrides`` holds only what the user set; the engine applies the defaults."""
    path: str | None = None
    data: str | None = None
    district_code: str | None = None
    district_name: str | None = None
    year: int | None = None
    checks: tuple[str, ...] | None = None
    overrides: dict = field(default_factory=dict)
    archive: str | None = None
    key: str | None = None
    max_quarantined_share: float = DEFAULT_MAX_QUARANTINED_SHARE
    modules: tuple = ()            # (path, sha256, source) of each local check module, loaded

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_file(cls, path: str | Path) -> "Params":
        path = Path(path)
        if not path.is_file():
            raise ParamsError(tr(f"{path}：找不到参数文件",
                                 f"{path}: parameters file not found"))
        try:
            doc = yamlsafe.load(path)
        except (OSError, yamlsafe.YamlProblem) as e:
            raise ParamsError(tr(f"{path}：{e}",
                                 f"{path}: {e}")) from None
        return cls.from_dict(doc if doc is not None else {}, path)

    @classmethod
    def from_dict(cls, doc, path: str | Path | None = None) -> "Params":
        where = f"{path}: " if path else ""
        if not isinstance(doc, dict):
            raise ParamsError(tr(f"{where}参数文件应为“键: 值”的映射（可用的键：{', '.join(KEYS)}）",
                                 f"{where}expected a mapping of parameters (keys: {', '.join(KEYS)})"))
        for k in doc:
            if k not in KEYS:
                raise ParamsError(tr(f"{where}未知的键 '{k}'{_nearest(k, KEYS)}（可用的键：{', '.join(KEYS)}）",
                                     f"{where}unknown key '{k}'{_nearest(k, KEYS)} (valid keys: {', '.join(KEYS)})"))
        base = Path(path).parent if path else Path.cwd()

        def a_path(name):
            v = doc.get(name)
            if v in (None, ""):
                return None
            if not isinstance(v, str):
                raise ParamsError(tr(f"{where}'{name}' 应为路径，实为 {v!r}",
                                     f"{where}'{name}' must be a path, got {v!r}"))
            return str((base / Path(v).expanduser()).resolve())

        code = doc.get("district_code")
        if code is not None:
            code = str(code).strip()
            if not (len(code) == 6 and code.isdigit()):
                raise ParamsError(tr(f"{where}'district_code' 应为 6 位区划代码，实为 {doc['district_code']!r}",
                                     f"{where}'district_code' must be a 6-digit code, got {doc['district_code']!r}"))
        year = doc.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100):
            raise ParamsError(tr(f"{where}'year' 应为 1990 至 2100 之间的年份，实为 {year!r}",
                                 f"{where}'year' must be a year from 1990 to 2100, got {year!r}"))
        share = doc.get("max_quarantined_share", DEFAULT_MAX_QUARANTINED_SHARE)
        if isinstance(share, bool) or not isinstance(share, (int, float)) or math.isnan(share) \
                or not 0 <= share <= 1:
            raise ParamsError(tr(f"{where}'max_quarantined_share' 应为 0 至 1 之间的数，实为 {share!r}",
                                 f"{where}'max_quarantined_share' must be a number from 0 to 1, got {share!r}"))
        key = doc.get("key")
        if key not in (None, "") and not isinstance(key, str):
            raise ParamsError(tr(f"{where}'key' 应为密钥编号或密钥文件，实为 {key!r}",
                                 f"{where}'key' must be a key id or a key file, got {key!r}"))
        if isinstance(key, str) and ("/" in key or key.endswith(".pem") or key.startswith("~")):
            key = a_path("key")
        modules = cls._modules(doc.get("checks_from"), base, where)
        p = cls(path=str(path) if path else None, data=a_path("data"), district_code=code,
                district_name=str(doc["district_name"]) if doc.get("district_name") is not None else None,
                year=year, checks=cls._checks(doc.get("checks"), where), overrides={}, archive=a_path("archive"),
                key=key or None, max_quarantined_share=float(share), modules=modules)
        return p.with_overrides(doc.get("parameters"), where)

    @staticmethod
    def _modules(value, base: Path, where: str) -> tuple:
        if value in (None, []):
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParamsError(tr(f"{where}'checks_from' 应为 .py 文件的列表",
                                 f"{where}'checks_from' must be a list of .py files"))
        out = []
        for v in value:
            f = (base / Path(v).expanduser()).resolve()
            if f.suffix != ".py" or not f.is_file():
                raise ParamsError(tr(f"{where}'checks_from'：{v} 不是 .py 文件",
                                     f"{where}'checks_from': {v} is not a .py file"))
            try:
                source = f.read_bytes().decode("utf-8")       # as written: the digest is the file's
            except UnicodeDecodeError:
                raise ParamsError(tr(f"{where}'checks_from'：{v} 不是 UTF-8 文本",
                                     f"{where}'checks_from': {v} is not UTF-8 text")) from None
            try:
                digest = load_module(source, str(f))
            except Exception as e:        # the analyst's module: its error, named, never a traceback
                raise ParamsError(tr(f"{where}'checks_from'：{v} 无法加载（{type(e).__name__}: {e}）",
                                     f"{where}'checks_from': {v} could not be loaded ({type(e).__name__}: {e})")) from None
            out.append((str(f), digest, source))
        return tuple(out)

    @staticmethod
    def _checks(value, where: str) -> tuple[str, ...] | None:
        from .checks import REGISTRY

        if value is None or value == "all":
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ParamsError(tr(f"{where}'checks' 应为 'all' 或检查编号的列表，实为 {value!r}",
                                 f"{where}'checks' must be 'all' or a list of check ids, got {value!r}"))
        if not value:
            raise ParamsError(tr(f"{where}'checks' 是空列表：不会运行任何检查。请写 'all' 或列出要运行的检查",
                                 f"{where}'checks' is an empty list: no check would run. Write 'all' or name the "
                                 f"checks to run"))
        ids = REGISTRY.ids()
        for c in value:
            if not isinstance(c, str) or c not in REGISTRY:
                raise ParamsError(f"{where}'checks': unknown check id {c!r}{_nearest(str(c), ids)}")
        return tuple(dict.fromkeys(value))

    def with_overrides(self, parameters, where: str = "") -> "Params":
        """These params with per-check overrides, each checked against the check's declared parameters."""
        from .checks import REGISTRY

        if parameters in (None, {}):
            return self
        where = where or (f"{self.path}: " if self.path else "")
        if not isinstance(parameters, dict):
            raise ParamsError(tr(f"{where}'parameters' 应为“检查编号: 其参数”的映射",
                                 f"{where}'parameters' must map check ids to their parameters"))
        out = {}
        for cid, given in parameters.items():
            if cid not in REGISTRY:
                raise ParamsError(f"{where}'parameters': unknown check id {cid!r}{_nearest(str(cid), REGISTRY.ids())}")
            if not isinstance(given, dict):
                raise ParamsError(tr(f"{where}'parameters'：{cid} 应为“参数名: 值”的映射",
                                     f"{where}'parameters': {cid} must map parameter names to values"))
            if self.checks is not None and cid not in self.checks:
                raise ParamsError(tr(f"{where}'parameters' 给出了 {cid} 的参数，但 'checks' 不运行该检查",
                                     f"{where}'parameters' are given for {cid}, which 'checks' does not run"))
            c = REGISTRY.get(cid)
            c.parameters(given, where)               # validates; raises ParamsError
            out[cid] = {k: c.specs[k].coerce(v) for k, v in given.items()}
        return Params(**{**self.__dict__, "overrides": out})

    # ------------------------------------------------------------------ use
    def check_package(self, meta: dict, where: str = "") -> None:
        """Refuse a package whose district or year is not what these parameters were written for."""
        src = self.path or "parameters"
        if self.district_code is not None and self.district_code != str(meta["district_code"]):
            raise ParamsError(tr(f"{src}：区划代码 {self.district_code} 与数据包的 {meta['district_code']} 不一致（{where or 'package.yaml'}）",
                                 f"{src}: district_code {self.district_code} differs from the package's "
                                 f"{meta['district_code']} ({where or 'package.yaml'})"))
        if self.year is not None and int(self.year) != int(meta["year"]):
            raise ParamsError(tr(f"{src}：年度 {self.year} 与数据包的 {meta['year']} 不一致（{where or 'package.yaml'}）",
                                 f"{src}: year {self.year} differs from the package's {meta['year']} "
                                 f"({where or 'package.yaml'})"))

    def record(self) -> dict:
        """What the attestation records of these parameters (no absolute paths)."""
        return {"file": Path(self.path).name if self.path else None, "checks": list(self.checks) if self.checks
                else None, "overrides": self.overrides, "max_quarantined_share": self.max_quarantined_share,
                "district_code": self.district_code, "year": self.year,
                "checks_from": [{"path": p, "sha256": d, "source": src} for p, d, src in self.modules]}

    @classmethod
    def from_record(cls, rec: dict) -> "Params":
        """The parameters a run recorded; its local check modules are run from the signed source itself."""
        for m in rec.get("checks_from") or []:
            load_module(m["source"], m["path"])
        p = cls(checks=tuple(rec["checks"]) if rec.get("checks") else None,
                max_quarantined_share=float(rec.get("max_quarantined_share", DEFAULT_MAX_QUARANTINED_SHARE)),
                district_code=rec.get("district_code"), year=rec.get("year"))
        return p.with_overrides(rec.get("overrides") or {}, "recorded parameters: ")


def coerce(params) -> Params:
    """A Params from a Params, None, or a dict shaped like a params file (tests and notebooks)."""
    if params is None:
        return Params()
    if isinstance(params, Params):
        return params
    return Params.from_dict(params)
