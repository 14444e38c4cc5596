"""environment.yml lists the same packages as pyproject.toml."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].strip().lower()  # names compare case-insensitively


def test_environment_yml_in_step_with_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {CONDA_NAMES.get(_name(r), _name(r)): r for r in py["dependencies"] + py["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str)}
    conda.pop("python"), conda.pop("pip")
    # what conda-forge does not carry comes from PyPI in the pip section (the project itself installed last)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip[-1] == "-e ."
    conda.update({_name(d): d for d in pip[:-1]})
    assert set(conda) == set(wanted)
    for name, req in wanted.items():
        spec = re.sub(r"^[A-Za-z0-9_.\-\[\]]+", "", req).replace(" ", "")
        assert conda[name].replace(" ", "").endswith(spec), (name, conda[name], req)


def test_docs_are_generated_from_the_code_and_never_drift():
    """docs/checks.md is the check registry and docs/tables.md the schema, as `python -m audit_lib.docs` writes
    them; `audit checks` lists every registered check."""
    import subprocess
    import sys

    from audit_lib import docs
    from audit_lib.checks import REGISTRY

    assert (ROOT / "docs" / "checks.md").read_text(encoding="utf-8") == docs.catalogue_markdown()
    assert (ROOT / "docs" / "tables.md").read_text(encoding="utf-8") == docs.tables_markdown()
    text = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "--lang", "zh", "checks"], capture_output=True,
                       text=True)
    for cid in REGISTRY.ids():
        assert f"| {cid} |" in text and r.stdout.count(f"{cid} ") >= 1
    assert f"共 {len(REGISTRY.ids())} 项检查" in r.stdout


def test_templates_filled_with_their_example_rows_read_as_a_package(tmp_path):
    import openpyxl

    from audit_lib.package import load_package
    from audit_lib.package.schema import TABLES
    from audit_lib.package.template import write_templates

    paths = write_templates(tmp_path / "t")
    assert len(paths) == len(TABLES)
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames[1] == "说明" and wb.active["A1"].value == TABLES[0].columns[0].zh
    (tmp_path / "t" / "package.yaml").write_text("district_code: '110105'\nyear: 2023\ndistrict_name: 朝阳区\n",
                                                 encoding="utf-8")
    pkg = load_package(tmp_path / "t")
    assert pkg.quarantine.empty, pkg.quarantine.to_dict("records")
    assert {t.name for t in TABLES} == set(pkg.tables) and all(len(df) == 1 for df in pkg.tables.values())
    assert pkg.tables["payments"]["amount"].iloc[0] == 10000
