"""Issue "For the auditor at the desk": help and messages in Chinese by default, English with --lang en or
AUDIT_LANG=en; quarantine and skip reasons shown in Chinese; each check's policy basis quoted from the audited
district's own city or province where the seeds have one."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from audit_lib import i18n
from audit_lib.checks import REGISTRY
from audit_lib.checks import basis as B
from audit_lib.cli import build_parser
from audit_lib.package import load_package
from audit_lib.report.labels import reason_zh
from audit_lib.report.sections import params_table
from helpers import ACC, HEAD, base, payment, write_package

HAN = re.compile(r"[\u4e00-\u9fff]")


def _cli(*args, lang: str | None):
    env = dict(os.environ)
    env.pop(i18n.ENV, None)
    if lang:
        env[i18n.ENV] = lang
    return subprocess.run([sys.executable, "-m", "audit_lib.cli", *args], capture_output=True, text=True, env=env)


@pytest.fixture()
def chinese(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    i18n.set_lang(None)


def _subparsers(p: argparse.ArgumentParser):
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a.choices
    return {}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_command_and_option_is_described_in_each_language(lang, monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    with i18n.using(lang):
        p = build_parser()
        subs = _subparsers(p)
        assert len(subs) >= 14
        for name, sp in subs.items():
            for a in sp._actions:
                if isinstance(a, argparse._HelpAction):
                    continue
                assert a.help, f"{name} {a.dest} has no help"
                if lang == "zh":
                    assert HAN.search(a.help), (name, a.dest, a.help)
                else:       # English words; Chinese only where it is the data's own form (1234.50元, 说明)
                    assert re.search("[a-z]{3,}", a.help), (name, a.dest, a.help)
                    assert not HAN.search(re.sub("元|说明|一卡通|姓名|天津市", "", a.help)), (name, a.dest, a.help)


def test_help_is_chinese_by_default_and_english_on_request():
    zh = _cli("run", "-h", lang=None)
    assert zh.returncode == 0 and "用法：" in zh.stdout and "显示本帮助并退出" in zh.stdout
    assert "参数文件" in zh.stdout and "usage:" not in zh.stdout
    en = _cli("--lang", "en", "run", "-h", lang=None)
    assert en.returncode == 0 and "usage:" in en.stdout and "show this help message and exit" in en.stdout
    assert not HAN.search(en.stdout.replace("一卡通", ""))
    env_en = _cli("run", "-h", lang="en")
    assert env_en.stdout == en.stdout
    # --lang wins over AUDIT_LANG
    assert "用法：" in _cli("--lang", "zh", "run", "-h", lang="en").stdout


def test_messages_in_both_languages(tmp_path):
    missing = tmp_path / "nowhere"
    zh = _cli("run", str(missing), lang=None)
    en = _cli("run", str(missing), lang="en")
    assert zh.returncode == en.returncode == 2
    assert "错误" in zh.stderr and "既不是数据包文件夹" in zh.stderr and str(missing) in zh.stderr
    assert "error" in en.stderr and "not a package folder" in en.stderr and not HAN.search(en.stderr)
    # argparse's own complaint
    zh = _cli("run", lang=None)
    assert zh.returncode == 2 and "缺少必需的参数" in zh.stderr
    assert "the following arguments are required" in _cli("run", lang="en").stderr


def test_params_and_package_mistakes_are_chinese_by_default(tmp_path):
    root = write_package(tmp_path / "p", base())
    f = tmp_path / "params.yaml"
    f.write_text("paramters:\n  CP10: {grace_days: 5}\n", encoding="utf-8")
    zh = _cli("check", str(root), "--params", str(f), "--out", str(tmp_path / "f.json"), lang=None)
    assert zh.returncode == 2 and "未知的键 'paramters'" in zh.stderr and "是否应为 'parameters'" in zh.stderr
    f.write_text("parameters:\n  CP10: {grace_days: -1}\n", encoding="utf-8")
    zh = _cli("check", str(root), "--params", str(f), "--out", str(tmp_path / "f.json"), lang=None)
    assert "0 至 3,650 之间的整数" in zh.stderr and "grace_days" in zh.stderr
    (root / "payments.csv").unlink()
    zh = _cli("validate", str(root), lang=None)
    assert zh.returncode == 2 and "缺少必需的数据表 payments（发放明细）" in zh.stderr


def test_findings_do_not_depend_on_the_language(tmp_path):
    root = write_package(tmp_path / "p", base())
    a, b = tmp_path / "zh.json", tmp_path / "en.json"
    assert _cli("check", str(root), "--out", str(a), lang=None).returncode == 0
    assert _cli("check", str(root), "--out", str(b), lang="en").returncode == 0
    assert a.read_bytes() == b.read_bytes()


def test_every_quarantine_reason_is_shown_in_chinese(tmp_path, chinese):
    t = base()
    bad_digit = HEAD[:-1] + ("0" if HEAD[-1] != "0" else "1")
    t["payments"] += [payment(HEAD, amount="-5.00", payment_id="N1"),
                      payment(HEAD, amount="abc", payment_id="N2"),
                      payment(HEAD, pay_date="2023-13-45", payment_id="N3"),
                      payment(HEAD, account=ACC[HEAD], payment_id="N4") | {"person_id": bad_digit},
                      payment(HEAD, account=ACC[HEAD], payment_id="N5") | {"person_id": HEAD[:10]},
                      payment(HEAD, period="23年", payment_id="N6"),
                      payment(HEAD, status="maybe", payment_id="N7"),
                      payment(HEAD, payment_id="N7")]
    root = write_package(tmp_path / "p", t)
    q = load_package(root).quarantine
    reasons = set(q["reason"])
    assert len(reasons) >= 6, reasons
    for r in reasons:
        shown = reason_zh(r)
        assert shown != r and HAN.search(shown), r
        assert not re.search(r"\b(amount|date|unknown|duplicate|digit|period|empty)\b", shown), shown


def test_skip_reasons_in_chinese():
    assert reason_zh("data not provided: card_transactions") == "未提供数据：card_transactions"
    assert reason_zh("no card-coverage target for 2019") == "2019 年没有社保卡发放占比目标"
    long = ("not executed: bank_returns.csv: 40 of 100 rows of bank_returns (银行回盘) were quarantined (40%, above "
            "the limit of 5%); most common: unreadable date (30); negative amount (10)")
    shown = reason_zh(long)
    assert shown.startswith("未执行：bank_returns.csv：") and "日期无法识别（30）" in shown and "金额为负数（10）" in shown


def test_parameters_are_a_chinese_table_never_a_python_dict():
    meaning = {n: p.zh for c in ("CP01", "CP10") for n, p in REGISTRY.get(c).specs.items()}
    html = params_table({"targets": {"2021": 0.7, "2023": 1.0}, "grace_days": 30}, meaning)
    assert "<table" in html and "各年度社保卡发放占比目标" in html and "2021 年 70%" in html
    assert "发放宽限期（天）" in html and "{" not in html
    # every built-in parameter says what it means, in Chinese, where it is declared
    for c in REGISTRY:
        for n, p in c.specs.items():
            assert HAN.search(p.zh), (c.id, n)


def test_policy_basis_is_quoted_from_the_district_s_own_city_or_province():
    tianjin = {c.id: B.for_district(c.basis, "120104") for c in REGISTRY}
    taishan = {c.id: B.for_district(c.basis, "370902") for c in REGISTRY}
    # where a 天津 text exists, a 天津 district cites it and not 泰山区's
    assert tianjin["RC02"] == B._TJ_FEEDBACK and B.TAISHAN not in tianjin["RC02"]
    assert B.TAISHAN in taishan["RC02"]
    assert tianjin["CP01"].startswith(B.TIANJIN) and taishan["CP01"] == B.COVERAGE
    # a joined basis is localised part by part: own-card from 天津, guardianship (天津 has none) from 泰山区
    cp = next(c for c in REGISTRY if B.OWN_CARD in c.basis and B.GUARDIAN in c.basis)
    assert B.for_district(cp.basis, "120104") == B._TJ_CARD + "；" + B.GUARDIAN
    # a Henan district cites the Henan documents (卫东区, 西工区) where they have the rule
    assert B.for_district(B.PRIVACY, "410303") == B.LOCAL[B.PRIVACY]["41"]
    # no district code: the catalogue's own quotation
    assert all(B.for_district(c.basis, None) == c.basis for c in REGISTRY)
    # every localised quotation still names a seed document
    docs = tuple(B.REGION)
    for v in list(tianjin.values()) + list(taishan.values()):
        assert all(part.startswith(docs) for part in v.split("；")), v
    # a 天津 district's report cites 天津 documents for most checks
    share = sum(1 for v in tianjin.values() if B.TIANJIN in v or B.NANKAI in v) / len(tianjin)
    assert share > 0.6, share


def test_holding_target_names_its_source():
    assert "沿用泰山区方案" in B.holding_target_source("120104")
    assert "沿用" not in B.holding_target_source("370902")
