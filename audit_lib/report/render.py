"""Execute the district notebook with papermill and render it to a self-contained HTML report with our own
nbconvert template (nbconvert's own templates load require.js, MathJax and Mermaid from a CDN)."""
from __future__ import annotations

from pathlib import Path

from .charts import CSS as CHART_CSS

TEMPLATES = Path(__file__).parent / "templates"

CSS = CHART_CSS + """
body { margin: 0; background: #f4f5f7; color: #1d2733;
       font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Helvetica Neue", sans-serif; }
.report { max-width: 1100px; margin: 0 auto; padding: 24px 36px 60px; background: #fff; }
h1 { font-size: 26px; border-bottom: 3px solid #1f5f99; padding-bottom: 8px; }
h2 { font-size: 20px; color: #1f5f99; margin-top: 36px; border-left: 5px solid #1f5f99; padding-left: 8px; }
h3 { font-size: 16px; margin-top: 22px; }
table.data { border-collapse: collapse; font-size: 12px; margin: 8px 0; width: 100%; }
table.data th, table.data td { border: 1px solid #d5d9de; padding: 3px 6px; text-align: left; vertical-align: top;
                               word-break: break-all; }
table.data th { background: #eef2f6; }
section.check { border-top: 1px solid #e1e4e8; margin-top: 18px; }
p.meta, p.note { color: #555; font-size: 12px; }
.conclusion { border: 2px solid #1f5f99; background: #f3f8fc; padding: 10px 16px; margin: 12px 0 24px; }
.conclusion p.big { font-size: 18px; }
.demo { background: #fff3cd; border: 2px solid #d68910; padding: 8px 12px; font-weight: bold; }
pre { white-space: pre-wrap; }
code { background: #eef2f6; padding: 1px 4px; }
a.anchor-link { display: none; }
/* the region report's district x check heat map */
table.heat { border-collapse: collapse; font-size: 11px; margin: 8px 0; }
table.heat th, table.heat td { border: 1px solid #d5d9de; padding: 2px 4px; text-align: center; min-width: 44px; }
table.heat th.d, table.heat td.d { text-align: left; white-space: nowrap; }
table.heat thead th { background: #eef2f6; writing-mode: vertical-rl; vertical-align: bottom; height: 150px; }
table.heat thead th.d { writing-mode: horizontal-tb; }
table.heat td span { display: block; font-size: 10px; color: #333; }
table.heat td.na { color: #999; background: #f7f7f7; }
p.legend span { display: inline-block; width: 18px; height: 10px; margin: 0 2px 0 8px; }
td.bad { color: #a93226; font-weight: bold; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { background: #fff; }
  .report { max-width: none; padding: 0; }
  h2 { page-break-before: always; }
  .conclusion, h1 + p + h2 { page-break-before: avoid; }
  thead { display: table-header-group; }
  tr, .conclusion, svg { page-break-inside: avoid; }
  h2, h3 { page-break-after: avoid; }
}
"""


def execute(notebook: Path, out: Path, parameters: dict, cwd: Path | None = None, kernel: str = "python3",
            runtime_dir: Path | None = None) -> Path:
    """Run the notebook with its parameters (given as Python values, so codes like "120104" stay text).
    ``runtime_dir`` is where the kernel's connection files go (a folder the archive cleans when a run is
    killed), set once per process."""
    import os

    import papermill as pm

    if runtime_dir is not None:
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime_dir)

    from ..errors import KernelError
    from ..i18n import tr

    try:
        pm.execute_notebook(str(notebook), str(out), parameters=parameters, kernel_name=kernel,
                            cwd=str(cwd) if cwd else None, progress_bar=False, log_output=False,
                            request_save_on_cell_execute=False)
    except Exception as e:
        # a kernel that did not start or died is the machine's trouble, not the data's: exit 4, tried again by
        # `audit batch`; anything else goes up as it is
        text = f"{type(e).__name__}: {e}"
        if type(e).__name__ in ("DeadKernelError", "NoSuchKernel", "TimeoutError") or \
                any(s in text for s in ("Kernel didn't respond", "Kernel died", "kernel died", "Address already in use")):
            raise KernelError(tr(f"笔记本内核未能启动或已退出（{text[:200]}）", f"the notebook's kernel did not start or "
                                                                   f"died ({text[:200]})")) from None
        raise
    return out


def to_html(notebook: Path, title: str) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(extra_template_basedirs=[str(TEMPLATES)], template_name="audit",
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}, "audit_css": CSS})
    return body


def font_file() -> Path:
    """The CJK font the report's PDF embeds: Noto Sans CJK (SIL Open Font License), installed with the project
    as a Python package, never a system font, so the PDF looks the same wherever it is made."""
    import importlib.util

    from ..errors import AuditError
    from ..i18n import tr

    spec = importlib.util.find_spec("cvttf_NotoSansCJK_Regular")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for f in sorted(Path(folder).glob("*.otf")):
            return f
    raise AuditError(tr("报告的中文字体（cvttf-NotoSansCJK-Regular）未安装：请用 make 重新安装环境",
                        "the report's Chinese font (cvttf-NotoSansCJK-Regular) is not installed: set up the "
                        "environment again with make"))


PDF_CSS = """
@font-face { font-family: "AuditCJK"; src: url("%(font)s"); font-weight: normal; }
@font-face { font-family: "AuditCJK"; src: url("%(font)s"); font-weight: bold; }
* { font-family: "AuditCJK" !important; }
body { background: #fff; font-size: 10.5pt; }
.report { max-width: none; padding: 0; }
h2 { page-break-before: auto !important; }
table.data { font-size: 8pt; }
table.data th, table.data td { word-break: normal !important; overflow-wrap: break-word; }   /* a third faster */
@page { size: A4; margin: 14mm 12mm 16mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-family: "AuditCJK"; font-size: 8pt; } }
"""


def _fontconfig_file(font_dir: Path, conf_dir: Path) -> Path:
    """A fontconfig file that knows the fonts in ``font_dir`` and nothing else, written once into ``conf_dir``."""
    import os

    conf = conf_dir / "fonts.conf"
    if not conf.exists():
        conf_dir.mkdir(mode=0o700, exist_ok=True)
        tmp = conf.with_suffix(f".{os.getpid()}")
        tmp.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{font_dir}</dir>
  <cachedir>{conf_dir / "cache"}</cachedir>
  <config></config>
</fontconfig>
""", encoding="utf-8")
        os.replace(tmp, conf)
    return conf


def _only_our_font() -> None:
    """Fontconfig told of the project's font alone (before anything loads it): no system font can stand in for
    a glyph, in the text or in the charts' SVG, so the PDF is the same on every machine."""
    import hashlib
    import os
    import tempfile

    font = font_file()
    conf_dir = Path(tempfile.gettempdir()) / ("audit-fontconfig-" + hashlib.sha256(
        str(font).encode()).hexdigest()[:12] + f"-{os.getuid()}")
    os.environ["FONTCONFIG_FILE"] = str(_fontconfig_file(font.parent, conf_dir))
    os.environ.pop("FONTCONFIG_PATH", None)


def report_font(html: str, out: Path) -> Path:
    """The project's font cut down to the characters one report can show, written to ``out``: every character of
    its HTML (character references decoded too) and printable ASCII (page numbers), with the glyphs their
    shaping can reach and the outlined .notdef box of the full font.

    WeasyPrint subsets the fonts it embeds. Without HarfBuzz's subsetter (a system library many machines lack)
    it uses fontTools keeping glyph numbers, which walks all 65,000 glyphs of the CJK font: 13 s for each face,
    three faces a report. Cut down first, the font has a few hundred glyphs and the whole PDF takes seconds.
    The same characters give the same bytes."""
    from html import unescape

    from fontTools import subset
    from fontTools.ttLib import TTFont

    chars = set(html) | set(unescape(html)) | {chr(c) for c in range(0x20, 0x7F)}
    opts = subset.Options(notdef_outline=True, name_IDs=["*"], name_languages=["*"])
    font = TTFont(str(font_file()), lazy=True, recalcTimestamp=False)     # the same bytes whenever it is cut
    cut = subset.Subsetter(opts)
    cut.populate(unicodes=sorted(ord(c) for c in chars))
    cut.subset(font)
    font.save(str(out))
    font.close()
    return out


def to_pdf(html: str, out: Path) -> Path:
    """The report as PDF/A-3b, A4: the same HTML (so the same masking), every glyph from the project's own font,
    embedded (subset)."""
    import os
    import re
    import tempfile

    _only_our_font()
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # every font the HTML names (the charts' SVG has its own) becomes the project's font
    html = re.sub(r'font-family\s*:[^;}<]+', 'font-family: "AuditCJK"', html)
    html = re.sub(r'font-family="[^"]*"', 'font-family="AuditCJK"', html)
    process_wide = os.environ["FONTCONFIG_FILE"]
    with tempfile.TemporaryDirectory(prefix="audit-font-") as tmp:
        # The report's own cut of the font, and fontconfig told of it alone while this PDF is made: the charts'
        # SVG text, which names no @font-face family, falls back to it too, never to the full font.
        folder = Path(tmp) / "font"
        folder.mkdir()
        font = report_font(html, folder / "AuditCJK.otf")
        os.environ["FONTCONFIG_FILE"] = str(_fontconfig_file(folder, Path(tmp) / "fontconfig"))
        try:
            fonts = FontConfiguration()
            css = CSS(string=PDF_CSS % {"font": font.as_uri()}, font_config=fonts)
            HTML(string=html, base_url=str(out.parent)).write_pdf(
                str(out), stylesheets=[css], font_config=fonts, pdf_variant="pdf/a-3b", uncompressed_pdf=False)
        finally:
            os.environ["FONTCONFIG_FILE"] = process_wide
    return out
