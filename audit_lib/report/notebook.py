"""What the district notebook calls: it holds no logic of its own, so everything it shows is tested here."""
from __future__ import annotations

from html import escape
from pathlib import Path

from . import sections
from .data import RunData, prepare


def load(package: str = "", params_file: str = "", run_data: str = "", district_code: str = "120104",
         year: int = 2023) -> RunData:
    """The run's data: handed over by ``audit run`` (``run_data``), or computed here for the given package,
    or for the bundled sample of the district when no package is given."""
    if run_data:
        return RunData.load(run_data)
    from ..params import Params

    params = Params.from_file(params_file) if params_file else Params()
    if not package:
        package = params.data or ""
    if not package:
        from ..synth import ensure_samples

        samples = ensure_samples()
        package = str(samples.get(str(district_code), samples["120104"]))
    return prepare(Path(package), params)


def show(html: str):
    from IPython.display import HTML, display

    display(HTML(html))


def title(d: RunData, run: dict) -> str:
    m = d.meta
    demo = ('<p class="demo">演示 DEMO：本报告由演示密钥签名，数据为合成数据，仅用于展示工作台功能。</p>'
            if run.get("signer") == "DEMO" else "")
    return (f"<h1>{escape(str(m.get('district_name', '')))}{escape(str(m['year']))}年惠民惠农财政补贴“一卡通”"
            f"专项审计报告</h1><p class=\"meta\">区划代码 {escape(str(m['district_code']))} · 运行编号 "
            f"{escape(run.get('run_id') or '交互运行')} · 发现清单摘要 {escape(d.findings['digest'])}</p>{demo}")


__all__ = ["load", "show", "title", "sections"]
