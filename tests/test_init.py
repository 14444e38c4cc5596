"""`audit init`: a folder of exports in, package.yaml out, nothing guessed silently."""
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from audit_lib.package import load_package
from audit_lib.synth import make_package
from audit_lib.synth.writer import WriteOptions


def _init(folder, *extra):
    return subprocess.run([sys.executable, "-m", "audit_lib.cli", "init", str(folder), *extra], capture_output=True,
                          text=True)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A district's exports: GBK CSV with Chinese headers under a title row, registries as XLSX."""
    root = tmp_path_factory.mktemp("exports") / "src"
    opt = WriteOptions(encoding="gbk", chinese_headers=True, chinese_values=True, title_rows=1,
                       formats={"cards": "xlsx", "deaths": "parquet"})
    make_package(root, lines=1500, seed=8, options=opt)
    (root / "package.yaml").unlink()
    (root / "truth.json").unlink()
    return root


def test_init_recognises_misnamed_files_and_variant_headers(exports, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(exports, d)
    (d / "payments.csv").rename(d / "导出明细0301.csv")
    text = (d / "导出明细0301.csv").read_bytes().decode("gbk").replace("身份证号", "证件号码", 1)
    (d / "导出明细0301.csv").write_bytes(text.encode("gbk"))
    (d / "readme.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    r = _init(d, "--district-code", "120104", "--year", "2023")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "导出明细0301.csv → 发放明细（payments）" in r.stdout and "证件号码 → person_id" in r.stdout
    assert "未能识别：readme.csv" in r.stdout
    meta = yaml.safe_load((d / "package.yaml").read_text(encoding="utf-8"))
    assert meta["tables"]["payments"] == "导出明细0301.csv" and meta["tables"]["cards"] == "cards.xlsx"
    assert meta["columns"] == {"payments": {"证件号码": "person_id"}} and meta["district_name"] == "南开区"
    pkg = load_package(d)
    assert pkg.quarantine.empty and len(pkg.tables["payments"]) > 1000 and "deaths" in pkg.tables


def test_init_names_what_is_missing_or_ambiguous(exports, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(exports, d)
    import openpyxl

    (d / "beneficiaries.csv").unlink()
    wb = openpyxl.load_workbook(d / "cards.xlsx")
    ws = wb.active
    for row in ws.iter_rows(max_row=3):
        for cell in row:
            if cell.value == "社保卡号":
                cell.value = "卡号"                       # the card number or the account number?
    wb.save(d / "cards.xlsx")
    text = (d / "payments.csv").read_bytes().decode("gbk").replace("发放日期", "日期", 1)
    (d / "payments.csv").write_bytes(text.encode("gbk"))
    r = _init(d)
    assert r.returncode == 2
    assert "缺少必需的数据表：补贴对象（beneficiaries）" in r.stdout
    assert "有歧义的列：卡号 可能是 card_no 或 account_no" in r.stdout and "缺少必需的列：card_no（社保卡号）" in r.stdout
    assert "列：日期 → pay_date" in r.stdout            # the only date column of payments: mapped, and shown
    assert "请补充区划代码（district_code）" in r.stdout and "请补充审计年度（year）" in r.stdout
    assert _init(d).returncode == 2 and "exists already" in _init(d).stderr        # never overwritten silently


def test_init_on_english_headers_in_every_form(tmp_path):
    d = tmp_path / "e"
    make_package(d, lines=800, seed=9, options=WriteOptions(formats={"payments": "xlsx", "policy_items": "parquet"}))
    (d / "package.yaml").unlink()
    r = _init(d, "--district-code", "120104", "--year", "2023")
    assert r.returncode == 0, r.stdout
    meta = yaml.safe_load((d / "package.yaml").read_text(encoding="utf-8"))
    assert meta["tables"]["payments"] == "payments.xlsx" and "columns" not in meta
    assert len(load_package(d).tables) == 13
