"""What the district notebook calls: it holds no logic of its own, so everything it shows is tested here."""
from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

from ..errors import AuditError
from . import sections
from .data import RunData, prepare


PARAMETERS = ("district_code", "year", "package", "params_file", "run_data", "run_id", "signer", "signer_keyid",
              "supersedes")


def refuse_unknown_parameters(allowed: tuple = PARAMETERS) -> None:
    """A parameter papermill injected that this notebook does not have (``-p packge DIR``) would otherwise be
    ignored and the default used: refuse it, naming the nearest parameter."""
    import ast
    import difflib

    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    for src in ip.user_ns.get("In", []):
        if not isinstance(src, str) or not src.lstrip().startswith("# Parameters"):
            continue
        try:
            body = ast.parse(src).body
        except SyntaxError:
            continue
        names = {t.id for n in body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        for name in sorted(names - set(allowed)):
            near = difflib.get_close_matches(name, allowed, n=1)
            raise AuditError(f"未知参数 unknown parameter '{name}'" + (f"；是否应为 did you mean '{near[0]}'?" if near
                                                                     else "") + f"（本笔记本的参数：{', '.join(allowed)}）")


def _package_path(package: str) -> Path:
    """The package folder: as given, or relative to the project; the bundled samples are made on first use."""
    from .. import PROJECT_ROOT

    p = Path(package).expanduser()
    if not p.is_absolute() and not p.exists():
        p = PROJECT_ROOT / p
    if not p.exists():
        from ..synth import SAMPLES, ensure_samples

        samples = {str((PROJECT_ROOT / "demo" / "2023" / code).resolve()) for code in SAMPLES}
        if str(p.resolve()) in samples:
            ensure_samples()
    if not p.is_dir():
        raise AuditError(f"数据包不存在 package not found: {package}")
    return p


def load(package: str = "", params_file: str = "", run_data: str = "", district_code: str = "",
         year: int = 0) -> RunData:
    """The run's data: handed over by ``audit run`` (``run_data``), or computed here for the package given.
    No package, or one that is not of the district and year asked, stops the notebook with a clear message:
    it never reports on other data than it was asked about."""
    refuse_unknown_parameters()
    if run_data:
        d = RunData.load(run_data)
    else:
        from ..params import Params

        params = Params.from_file(params_file) if params_file else Params()
        package = package or params.data or ""
        if not package:
            raise AuditError("没有给出数据包 no package given: 用 -p package 数据包文件夹（或 -p params_file 参数文件）运行本笔记本")
        d = prepare(_package_path(package), params)
    m = d.meta
    if str(district_code) and str(m["district_code"]) != str(district_code):
        raise AuditError(f"数据包属于 {m['district_code']}，不是所要求的 {district_code}: the package is of district "
                         f"{m['district_code']}, not {district_code}")
    if year and int(m["year"]) != int(year):
        raise AuditError(f"数据包是 {m['year']} 年的，不是所要求的 {year} 年: the package is of {m['year']}, not {year}")
    return d


def show(html: str):
    from IPython.display import HTML, display

    display(HTML(html))


def title(d: RunData, run: dict) -> str:
    m = d.meta
    demo = ('<p class="demo">演示 DEMO：本报告由演示密钥签名，数据为合成数据，仅用于展示工作台功能。</p>'
            if run.get("signer") == "DEMO" else "")
    rid = run.get("run_id") or ""
    when = dt.date(int(rid[:4]), int(rid[4:6]), int(rid[6:8])) if rid[:8].isdigit() else dt.date.today()
    return (f"<h1>{escape(str(m.get('district_name', '')))}{escape(str(m['year']))}年惠民惠农财政补贴“一卡通”"
            f"专项审计报告</h1><p class=\"meta\">报告日期 {when.year}年{when.month}月{when.day}日 · 区划代码 "
            f"{escape(str(m['district_code']))} · 运行编号 "
            f"{escape(rid or '交互运行')} · 发现清单摘要 {escape(d.findings['digest'])}</p>{demo}"
            + sections.caveats(d))


__all__ = ["load", "show", "title", "sections"]
