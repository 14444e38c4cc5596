"""Issue "Checks that cannot lie": isolated checks, declared code, well-formed results, a notebook that reports
only on what it was asked, masked ids with a lower-case x, synth that does not overwrite."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from audit_lib import runner
from audit_lib.checks import REGISTRY, Context, Result, check
from audit_lib.checks.engine import run_checks
from audit_lib.package import load_package
from audit_lib.pipeline import check_package
from audit_lib.provenance import keys
from audit_lib.provenance.verify import reproduce, verify
from audit_lib.synth import make_package

from helpers import HEAD, base, outcome, write_package

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pkg(tmp_path_factory):
    root = tmp_path_factory.mktemp("honest") / "p"
    make_package(root, lines=5000, seed=11)
    return root


@pytest.fixture()
def registered():
    """Checks a test registers are removed afterwards; a replaced built-in is put back."""
    saved = dict(REGISTRY._checks)
    yield
    REGISTRY._checks.clear()
    REGISTRY._checks.update(saved)


def _docs(outcomes):
    return {o.check.id: json.dumps(o.as_json(), sort_keys=True, default=str) for o in outcomes}


@pytest.mark.filterwarnings("ignore")
def test_a_mutating_check_changes_no_other_checks_result_nor_the_callers_tables(pkg, registered):
    loaded = load_package(pkg)
    before = _docs(run_checks(Context.from_package(loaded)))
    n_payments = len(loaded.tables["payments"])

    @check("AA00", "改表的检查", "reconciliation", "low", needs=("payments",))
    def vandal(t):
        half = t.payments.index[: len(t.payments) // 2]
        t.payments.drop(half, inplace=True)
        t.tables["payments"].drop(half, inplace=True)
        t.ok.drop(t.ok.index[: len(t.ok) // 2], inplace=True)
        t.pay["amount"] = 0
        t.approvals.drop(t.approvals.index, inplace=True)
        t.tables.pop("beneficiaries")
        return pd.DataFrame({"key": pd.Series(dtype=str)})

    outs = run_checks(Context.from_package(loaded))
    assert outs[0].check.id == "AA00" and outs[0].status == "clear"          # it ran first
    after = _docs(outs)
    after.pop("AA00")
    assert after == before
    assert len(loaded.tables["payments"]) == n_payments                         # the caller's table is whole
    with pytest.raises(AttributeError):
        Context.from_package(loaded).view().tables = {}


def test_a_replaced_and_a_custom_check_are_named_in_findings_report_and_signature(pkg, registered, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    key, _ = keys.keygen("审计组丙")

    @check("RC03", "名单外发放", "reconciliation", "high", needs=("payments", "beneficiaries"), replace=True)
    def lazy_rc03(t):
        return pd.DataFrame({"key": pd.Series(dtype=str)})                    # "nothing found"

    @check("XX01", "同日多笔", "compliance", "low", needs=("payments",))
    def xx01(t):
        return pd.DataFrame({"key": pd.Series(dtype=str)})

    folder = runner.run(str(pkg), archive_root=str(tmp_path / "arch"), key_path=str(key), warn=lambda m: None)
    doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    origins = {c["id"]: c["origin"] for c in doc["checks"]}
    assert origins["RC03"] == "replaced" and origins["XX01"] == "custom" and origins["RC01"] == "builtin"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "已替换内置检查" in html and "自定义" in html
    st = verify(folder)[1]
    code = {c["id"]: c for c in st["predicate"]["code"]["checks"]}
    assert code["RC03"]["origin"] == "replaced" and "lazy_rc03" in code["RC03"]["qualname"]
    assert "return pd.DataFrame" in code["XX01"]["source"] and len(code["RC01"]["source_sha256"]) == 64
    # Reproduced with the catalogue's own RC03 back in place, the changed check is named.
    REGISTRY.unregister("XX01")
    from audit_lib.checks import reconciliation

    REGISTRY.register(reconciliation.rc03.check, replace=True)
    problems, _ = reproduce(folder)
    assert any(p.startswith("check RC03's code differs") for p in problems)
    assert any("check XX01" in p and "not registered" in p for p in problems)


@pytest.mark.parametrize("returns,expect", [
    (lambda: None, "returned nothing"),
    (lambda: 42, "returned a int"),
    (lambda: Result(), "without records"),
    (lambda: pd.DataFrame({"x": [1]}), "without a 'key' column"),
    (lambda: pd.DataFrame({"key": ["a"], "amount_fen": [1.5]}), "not integer fen"),
    (lambda: pd.DataFrame({"key": ["a"], "amount_fen": ["12"]}), "not integer fen"),
])
def test_anything_but_a_well_formed_result_is_that_checks_error(tmp_path, registered, returns, expect):
    @check("XX02", "坏检查", "compliance", "low", needs=("payments",))
    def bad(t):
        return returns()

    _, outcomes, doc = check_package(write_package(tmp_path / "p", base()), {"checks": ["XX02", "RC03"]})
    by = {o.check.id: o for o in outcomes}
    assert by["XX02"].status == "error" and expect in by["XX02"].reason
    assert by["RC03"].status == "clear"                                      # the others go on


def test_a_run_with_a_check_in_error_says_so_and_exits_non_zero(pkg, registered, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    key, _ = keys.keygen("审计组丁")

    @check("XX03", "忘了返回", "compliance", "low", needs=("payments",))
    def forgot(t):
        t.payments.head()

    folder = runner.run(str(pkg), archive_root=str(tmp_path / "arch"), key_path=str(key), warn=lambda m: None)
    st = verify(folder)[1]
    assert st["predicate"]["incomplete"] is True and st["predicate"]["checks_in_error"] == ["XX03"]
    assert "本次审计不完整" in (folder / "report.html").read_text(encoding="utf-8")
    from audit_lib.cli import _incomplete

    assert _incomplete(folder) == 1


def test_cli_check_exit_status_with_a_check_in_error(tmp_path):
    plugin = tmp_path / "plug"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(
        "from audit_lib.checks import check\n"
        "@check('XX04', '出错', 'compliance', 'low', needs=('payments',))\n"
        "def boom(t):\n    raise RuntimeError('x')\n", encoding="utf-8")
    root = write_package(tmp_path / "p", base())
    env = dict(os.environ, PYTHONPATH=str(plugin))
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "check", str(root), "--out", str(tmp_path / "f.json")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "incomplete" in r.stderr and "XX04" in r.stderr


def _papermill(tmp_path, *params):
    out = tmp_path / "out.ipynb"
    args = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "district_audit.ipynb"), str(out),
            "--cwd", str(ROOT)]
    for k, v in params:
        args += ["-p", k, v]
    return subprocess.run(args, capture_output=True, text=True, cwd=str(ROOT))


def test_the_notebook_refuses_a_missing_or_mismatched_package(pkg, tmp_path):
    r = _papermill(tmp_path, ("packge", str(pkg)))
    assert r.returncode != 0 and "unknown parameter 'packge'" in r.stderr and "did you mean 'package'" in r.stderr
    r = _papermill(tmp_path, ("package", str(pkg)), ("district_code", "120199"))
    assert r.returncode != 0 and "not 120199" in r.stderr
    r = _papermill(tmp_path, ("package", str(pkg)), ("year", "2021"))
    assert r.returncode != 0 and "not 2021" in r.stderr
    r = _papermill(tmp_path, ("package", ""))
    assert r.returncode != 0 and "no package given" in r.stderr
    r = _papermill(tmp_path, ("package", str(pkg)))
    assert r.returncode == 0, r.stderr[-2000:]


def test_lower_case_x_in_a_published_masked_id_matches(tmp_path):
    t = base()
    assert HEAD.endswith("7")
    x_id = HEAD[:-1] + "X"
    t["beneficiaries"][0]["person_id"] = x_id
    for p in t["payments"]:
        p["person_id"] = x_id
    for c in t["cards"]:
        if c["person_id"] == HEAD:
            c["person_id"] = x_id
    t["disclosures"] = [{"item_code": "A01", "period": f"2023-0{m}", "person_id": x_id[:6] + "********" + "001x",
                         "name": "张*", "amount": "100.00", "published_date": "2023-01-01"} for m in (1, 2, 3)]
    t["disclosures"][0]["person_id"] = x_id.lower()[:6] + "********" + x_id[-4:].lower()
    o = outcome(tmp_path, t, "RC06")
    assert o.status == "clear", o.records


def test_synth_refuses_a_non_empty_folder_without_force(tmp_path):
    out = tmp_path / "p"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "synth", "--out", str(out), "--lines", "500"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not empty" in r.stderr and (out / "notes.txt").exists()
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "synth", "--out", str(out), "--lines", "500",
                        "--force"], capture_output=True, text=True)
    assert r.returncode == 2 and (out / "notes.txt").exists()              # not a package: never removed
    (out / "notes.txt").unlink()
    assert subprocess.run([sys.executable, "-m", "audit_lib.cli", "synth", "--out", str(out), "--lines", "500"],
                          capture_output=True).returncode == 0
    (out / "stale.csv").write_text("x")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "synth", "--out", str(out), "--lines", "500",
                        "--force", "--format", "parquet"], capture_output=True, text=True)
    assert r.returncode == 0 and not (out / "stale.csv").exists() and (out / "payments.parquet").exists()


def test_checks_from_a_local_module_run_signed_reproduced_and_refused_once_changed(pkg, registered, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    key, _ = keys.keygen("审计组戊")
    module = tmp_path / "my_checks.py"
    module.write_text(
        "import pandas as pd\n"
        "from audit_lib.checks import check\n\n\n"
        "@check('XX10', '单笔超过五千元', 'compliance', 'low', needs=('payments',))\n"
        "def big(t):\n"
        "    ok = t.ok\n"
        "    out = ok.loc[(ok['amount'] > 500000).to_numpy(), ['payment_id', 'amount']]\n"
        "    return out.assign(key=out['payment_id'], amount_fen=out['amount'].astype('int64'))\n",
        encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(f"data: {pkg}\nchecks_from: [my_checks.py]\n", encoding="utf-8")
    folder = runner.run(str(params), archive_root=str(tmp_path / "arch"), key_path=str(key), warn=lambda m: None)
    doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    xx = next(c for c in doc["checks"] if c["id"] == "XX10")
    assert xx["origin"] == "custom" and xx["status"] in ("flagged", "clear")
    st = verify(folder)[1]
    rec = st["predicate"]["parameters"]["checks_from"][0]
    assert rec["path"] == str(module) and "def big" in rec["source"] and len(rec["sha256"]) == 64
    REGISTRY.unregister("XX10")                       # reproduce registers it again from the signed source
    assert reproduce(folder)[0] == []
    module.write_text(module.read_text(encoding="utf-8").replace("500000", "1"), encoding="utf-8")
    problems, _ = reproduce(folder)
    assert problems and problems[0].startswith("check module changed") and "my_checks.py" in problems[0]
