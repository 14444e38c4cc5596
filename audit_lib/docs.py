"""Documents generated from the code, so that they can never drift from it: the check catalogue (from the check
registry) and the data contract's tables (from the schema). `audit checks` prints the catalogue;
`python -m audit_lib.docs` writes docs/checks.md and docs/tables.md, and a test keeps the committed files equal
to what the code generates."""
from __future__ import annotations

import sys
from pathlib import Path

from . import PROJECT_ROOT
from .i18n import tr

TYPE_ZH = {"id": "身份证号（文本）", "masked_id": "身份证号（可脱敏）", "str": "文本", "int": "整数", "money": "金额（元，存为分）",
           "date": "日期", "datetime": "日期时间", "period": "所属期（年-月）", "bool": "是/否", "enum": "枚举"}


def _param_text(c) -> str:
    out = []
    for name, spec in c.specs.items():
        default = "审计年度首日" if spec.default is None and spec.kind == "date" else spec.default
        out.append(f"{name}={default}（{meaning + '；' if (meaning := tr(spec.zh, spec.doc)) else ''}{spec.range_text()}）")
    return "；".join(out)


def catalogue_rows():
    from .checks import REGISTRY
    from .report.labels import FAMILY_ZH, SEVERITY_ZH

    for c in REGISTRY:
        yield {"编号": c.id, "检查": c.title, "类别": FAMILY_ZH.get(c.family, c.family),
               "风险等级": SEVERITY_ZH.get(c.severity, c.severity), "所需数据表": "、".join(c.needs),
               "记录键": c.key, "参数（默认值与范围）": _param_text(c), "政策依据": c.basis, "说明": c.description}


def _md_cell(v) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def catalogue_markdown() -> str:
    from .i18n import using

    with using("zh"):                     # the document is Chinese whatever the terminal speaks
        rows = list(catalogue_rows())
    cols = list(rows[0])
    out = ["# 检查目录 Check catalogue", "",
           "本文件由检查注册表自动生成（`python -m audit_lib.docs`），请勿手工修改。"
           "Generated from the check registry; do not edit by hand.", "",
           "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_md_cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"


def tables_markdown() -> str:
    from .package.schema import ENUMS, TABLES

    out = ["# 数据包 Data package", "", "本文件由数据契约的代码（`audit_lib/package/schema.py`）自动生成，请勿手工修改。"
           "文件名、表头可用英文名或中文名；CSV 可为 UTF-8、GBK 或 GB18030，也可用 XLSX 或 Parquet。", ""]
    for t in TABLES:
        out += [f"## {t.zh} `{t.name}`（{'必需' if t.required else '可选'}）", "",
                "| 中文列名 | 英文列名 | 类型 | 是否必需 | 取值 |", "|---|---|---|---|---|"]
        for c in t.columns:
            values = "、".join(f"{k}（{v[0]}）" for k, v in ENUMS[c.enum].items()) if c.enum else ""
            out.append(f"| {c.zh} | {c.name} | {TYPE_ZH.get(c.type, c.type)} | {'是' if c.required else '否'} | "
                       f"{_md_cell(values)} |")
        out.append("")
    return "\n".join(out)


DOCS = {"checks.md": catalogue_markdown, "tables.md": tables_markdown}


def write(folder: Path | None = None) -> list[Path]:
    folder = folder or PROJECT_ROOT / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, make in DOCS.items():
        (folder / name).write_text(make(), encoding="utf-8")
        out.append(folder / name)
    return out


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(p)
