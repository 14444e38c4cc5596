"""environment.yml lists the same packages as pyproject.toml."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req, maxsplit=1)[0].strip().lower()


def test_environment_yml_in_step_with_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {CONDA_NAMES.get(_name(r), _name(r)): r for r in py["dependencies"] + py["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d): d for d in env["dependencies"] if isinstance(d, str)}
    conda.pop("python"), conda.pop("pip")
    assert set(conda) == set(wanted)
    for name, req in wanted.items():
        spec = re.sub(r"^[A-Za-z0-9_.\-\[\]]+", "", req).replace(" ", "")
        assert conda[name].replace(" ", "").endswith(spec), (name, conda[name], req)
