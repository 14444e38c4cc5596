"""audit run end to end on a small synthetic package: report, workpaper, signature, verify, reproduce, archive."""
import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from audit_lib import archive, runner
from audit_lib.errors import AuditError
from audit_lib.provenance import keys
from audit_lib.provenance.verify import reproduce, verify
from audit_lib.synth import make_package

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    old = os.environ.get("AUDIT_CONFIG_DIR")
    os.environ["AUDIT_CONFIG_DIR"] = str(base / "config")
    key, kid = keys.keygen("审计组甲")
    pkg = base / "pkg"
    make_package(pkg, lines=2500, seed=17)
    # A recipient whose name is a script, on a flagged line (of a payment-keyed check planted at this size).
    pay = pd.read_csv(pkg / "payments.csv", dtype=str, keep_default_na=False)
    truth = json.loads((pkg / "truth.json").read_text(encoding="utf-8"))["checks"]
    evil_check = next(c for c in ("CP02", "CP05", "RC03") if c in truth)
    evil_pid = pay.loc[pay["payment_id"] == truth[evil_check][0], "person_id"].iloc[0]
    pay.loc[pay["person_id"] == evil_pid, "name"] = EVIL
    pay.loc[pay.index[0], "fail_reason"] = "=HYPERLINK(\"http://x\")"
    pay.to_csv(pkg / "payments.csv", index=False)
    items = pd.read_csv(pkg / "policy_items.csv", dtype=str, keep_default_na=False)
    items.loc[items["item_code"] == "MZ001", "item_name"] = "最低生活保障" + EVIL
    items.to_csv(pkg / "policy_items.csv", index=False)
    root = base / "archive"
    folder = runner.run(str(pkg), archive_root=str(root), key_path=str(key))
    yield {"base": base, "pkg": pkg, "root": root, "run": folder, "key": key, "kid": kid, "evil_pid": evil_pid,
           "evil_check": evil_check}
    if old is None:
        os.environ.pop("AUDIT_CONFIG_DIR", None)
    else:
        os.environ["AUDIT_CONFIG_DIR"] = old


def test_run_folder_has_the_contracted_files_read_only(env):
    run = env["run"]
    assert sorted(p.name for p in run.iterdir()) == sorted(
        ["report.html", "report.pdf", "notebook.ipynb", "findings.json", "workpaper.xlsx", "attestation.dsse.json",
         "signer.pub.pem"])
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", run.name)
    doc = json.loads((run / "findings.json").read_text(encoding="utf-8"))
    assert run.name.endswith(doc["digest"].split(":")[1][:8])
    assert run.parent == env["root"] / "2023" / "120104"
    for p in run.iterdir():
        assert not (p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_report_is_self_contained_masked_and_escaped(env):
    html = (env["run"] / "report.html").read_text(encoding="utf-8")
    # No external reference of any kind; no script at all.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html.lower() and "@import" not in html and "url(" not in html
    assert "最低生活保障&lt;script&gt;alert(1)&lt;/script&gt;" in html   # data shown as text, never run
    assert "&lt;*" in html                                 # the script-named person, masked and escaped
    for pid in pd.read_csv(env["pkg"] / "payments.csv", dtype=str)["person_id"].unique():
        assert pid not in html
    for acc in pd.read_csv(env["pkg"] / "payments.csv", dtype=str)["account_no"].unique()[:500]:
        assert acc not in html
    doc = json.loads((env["run"] / "findings.json").read_text(encoding="utf-8"))
    assert doc["digest"] in html
    for title in ("审计概况", "总体情况", "发现汇总", "各项检查", "未执行检查", "附录"):
        assert title in html
    assert "EL01 死亡后仍发放" in html and "政策依据" in html


def test_report_shows_no_full_names_of_flagged_people(env):
    html = (env["run"] / "report.html").read_text(encoding="utf-8")
    pay = pd.read_csv(env["pkg"] / "payments.csv", dtype=str)
    doc = json.loads((env["run"] / "findings.json").read_text(encoding="utf-8"))
    flagged = {k for c in doc["checks"] if c["key"] == "payment_id" and c["status"] == "flagged" for k in c["records"]}
    names = set(pay.loc[pay["payment_id"].isin(flagged), "name"]) - {EVIL}
    assert names and not [n for n in names if len(n) >= 2 and n in html]


def test_workpaper_full_records_with_formulas_as_text(env):
    wb = openpyxl.load_workbook(env["run"] / "workpaper.xlsx")
    doc = json.loads((env["run"] / "findings.json").read_text(encoding="utf-8"))
    flagged = [c["id"] for c in doc["checks"] if c["status"] == "flagged"]
    assert set(flagged) <= set(wb.sheetnames)
    assert "内部资料" in wb["汇总"]["A1"].value
    sheet = wb[env["evil_check"]]
    header = [c.value for c in sheet[2]]
    pids = [r[header.index("身份证号")] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert env["evil_pid"] in pids                         # full values belong in the workpaper
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"


def test_workpaper_as_an_auditor_works_in_excel(env):
    """Chinese headers, amounts in 元 as numbers with two decimals, dates as Excel dates, frozen header, filters,
    a totals row equal to the check's amount."""
    import datetime as dt

    wb = openpyxl.load_workbook(env["run"] / "workpaper.xlsx")
    doc = json.loads((env["run"] / "findings.json").read_text(encoding="utf-8"))
    check = next(c for c in doc["checks"] if c["id"] == "RC03")
    ws = wb[check["id"]]
    header = [c.value for c in ws[2]]
    assert {"流水号", "身份证号", "姓名", "金额（元）", "发放日期"} <= set(header)
    money = header.index("金额（元）") + 1
    date = header.index("发放日期") + 1
    rows = list(ws.iter_rows(min_row=3, max_row=ws.max_row - 1))
    assert all(isinstance(r[money - 1].value, (int, float)) and r[money - 1].number_format == "#,##0.00" for r in rows)
    assert all(isinstance(r[date - 1].value, dt.datetime) for r in rows)
    assert ws.cell(row=ws.max_row, column=1).value == "合计"
    assert round(ws.cell(row=ws.max_row, column=money).value * 100) == check["amount_fen"]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")
    summary = wb["汇总"]
    assert [c.value for c in summary[5]] == ["编号", "检查", "类别", "风险等级", "结果", "疑点数", "涉及金额（元）"]
    assert {r[4] for r in summary.iter_rows(min_row=6, values_only=True)} <= {"发现疑点", "未发现", "未执行", "出错", "信息"}


def _copy(run, dest):
    """A copy of a run at the same place in another archive (<year>/<district>/<run_id>)."""
    dest = dest / run.parent.parent.name / run.parent.name / run.name
    shutil.copytree(run, dest)
    for p in [dest, *dest.iterdir()]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return dest


def test_verify_ok_and_names_a_flipped_byte_in_any_file(env, tmp_path):
    problems, st = verify(env["run"])
    assert problems == [] and st["predicate"]["signer"]["keyid"] == env["kid"]
    for name in ("report.html", "report.pdf", "notebook.ipynb", "findings.json", "workpaper.xlsx"):
        d = _copy(env["run"], tmp_path / name)
        data = bytearray((d / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (d / name).write_bytes(bytes(data))
        problems, _ = verify(d)
        assert problems == [f"changed: {name}"]
    d = _copy(env["run"], tmp_path / "extra")
    (d / "notes.txt").write_text("x")
    (d / "workpaper.xlsx").unlink()
    assert verify(d)[0] == ["missing: workpaper.xlsx", "extra: notes.txt"]


def test_verify_refuses_untrusted_signer_and_bad_signature(env, tmp_path):
    empty = tmp_path / "trusted"
    empty.mkdir()
    problems, _ = verify(env["run"], trusted=empty)
    assert len(problems) == 1 and problems[0].startswith("untrusted signer")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "verify", str(env["run"]), "--trusted-keys",
                        str(empty)], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 3 and "untrusted" in r.stdout
    d = _copy(env["run"], tmp_path / "sig")
    e = json.loads((d / "attestation.dsse.json").read_text())
    payload = json.loads(base64.b64decode(e["payload"]))
    payload["predicate"]["findings_digest"] = "sha256:" + "0" * 64
    e["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    (d / "attestation.dsse.json").write_text(json.dumps(e))
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "verify", str(d)], capture_output=True, text=True,
                       env=dict(os.environ))
    assert r.returncode == 3 and "does not verify" in r.stderr and "Traceback" not in r.stderr


def test_envelope_verifies_in_securesystemslib(env):
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    e = json.loads((env["run"] / "attestation.dsse.json").read_text())
    pub = serialization.load_pem_public_key((env["run"] / "signer.pub.pem").read_bytes())
    key = SSlibKey.from_crypto(pub, keyid=env["kid"])
    accepted = Envelope.from_dict(e).verify([key], 1)
    assert list(accepted) == [env["kid"]]
    st = json.loads(base64.b64decode(e["payload"]))
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert {s["name"] for s in st["subject"]} == {"report.html", "report.pdf", "notebook.ipynb", "findings.json",
                                                  "workpaper.xlsx"}
    p = st["predicate"]
    assert p["findings_digest"].startswith("sha256:") and p["package"]["files"] and p["environment"]["python"]
    assert p["code"]["notebook_sha256"] and p["signer"]["name"] == "审计组甲"


def test_reproduce_and_which_input_changed(env, tmp_path):
    problems, _ = reproduce(env["run"])
    assert problems == []
    moved = tmp_path / "pkg"
    shutil.copytree(env["pkg"], moved)
    with open(moved / "cards.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    problems, _ = reproduce(env["run"], moved)
    assert problems == ["input changed: cards.csv (sha256 differs from the recorded one)"]
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "reproduce", str(env["run"]), "--package",
                        str(moved)], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 3 and "cards.csv" in r.stdout


def test_keys(env):
    st = env["key"].stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert env["key"].parent == Path(os.environ["AUDIT_CONFIG_DIR"]) / "keys"
    import hashlib
    from cryptography.hazmat.primitives import serialization
    pub = serialization.load_pem_public_key((env["run"] / "signer.pub.pem").read_bytes())
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert hashlib.sha256(der).hexdigest() == env["kid"] and env["kid"] in keys.trusted_ids()
    with pytest.raises(AuditError):
        keys.keygen("审计组甲")


def test_interrupted_run_leaves_nothing(env, monkeypatch):
    from audit_lib.report import render

    before = sorted(p.name for p in (env["root"] / "2023" / "120104").iterdir())

    def boom(*a, **k):
        raise RuntimeError("power cut")

    monkeypatch.setattr(render, "to_html", boom)
    with pytest.raises(RuntimeError):
        runner.run(str(env["pkg"]), archive_root=str(env["root"]), key_path=str(env["key"]))
    assert sorted(p.name for p in (env["root"] / "2023" / "120104").iterdir()) == before
    leftovers = [p for p in (env["root"] / ".tmp").iterdir() if p.name != "reserved"
                 and not (p.name == f"kernels{archive.owner_tag()}" and not any(p.iterdir()))]   # this process's
    assert leftovers == [] and list((env["root"] / ".tmp" / "reserved").iterdir()) == []


def test_concurrent_runs_both_land_and_name_what_they_supersede(env):
    first = env["run"].name
    out, errors = [], []

    def go():
        try:
            out.append(runner.run(str(env["pkg"]), archive_root=str(env["root"]), key_path=str(env["key"])))
        except Exception as e:      # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(out) == 2 and out[0] != out[1]
    runs = archive.runs_of(env["root"], 2023, "120104")
    assert set(out) <= set(runs) and len(runs) == 3
    for r in out:
        assert verify(r)[0] == []
        assert archive.statement_of(r)["predicate"]["supersedes"] == first or \
            archive.statement_of(r)["predicate"]["supersedes"] in {o.name for o in out}
    listed = archive.listing(env["root"])
    assert {r["run_id"] for r in listed} == {p.name for p in runs}
    (env["root"] / "index.sqlite").unlink()
    assert archive.reindex(env["root"]) == (3, [])


def test_audit_demo_end_to_end(tmp_path):
    """The README's first command: sample packages, DEMO key, a signed archived run; last line the folder."""
    env = dict(os.environ, AUDIT_CONFIG_DIR=str(tmp_path / "cfg"))
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "demo", "--archive", str(tmp_path / "arch")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder.parent.parent.parent == tmp_path / "arch" and (folder / "report.html").exists()
    assert "演示 DEMO" in (folder / "report.html").read_text(encoding="utf-8")
    v = subprocess.run([sys.executable, "-m", "audit_lib.cli", "verify", str(folder)], capture_output=True,
                       text=True, env=env)
    assert v.returncode == 3 and "DEMO" in v.stdout          # never trusted for real audits
    v = subprocess.run([sys.executable, "-m", "audit_lib.cli", "verify", "--demo", str(folder)],
                       capture_output=True, text=True, env=env)
    assert v.returncode == 0 and v.stdout.strip().endswith("verified")
    listing = subprocess.run([sys.executable, "-m", "audit_lib.cli", "archive", "list", "--archive",
                              str(tmp_path / "arch")], capture_output=True, text=True, env=env)
    assert folder.name in listing.stdout


def test_run_from_a_params_file_with_relative_paths(env, tmp_path):
    pf = tmp_path / "params" / "2023" / "120104.yaml"
    pf.parent.mkdir(parents=True)
    shutil.copytree(env["pkg"], tmp_path / "data")
    pf.write_text('district_code: "120104"\nyear: 2023\ndata: ../../data\narchive: ../../arch\n'
                  "checks: [RC03, CP10]\nparameters:\n  CP10: {grace_days: 10}\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "run", str(pf), "--key", str(env["key"])],
                       capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder.parent == (tmp_path / "arch" / "2023" / "120104").resolve()
    doc = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in doc["checks"]] == ["RC03", "CP10"] and doc["parameters"] == {"CP10": {"grace_days": 10}}
    assert reproduce(folder)[0] == []


def test_batch_one_failure_does_not_stop_the_rest(env, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(env["pkg"], broken)
    (broken / "payments.csv").unlink()
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "batch", str(env["pkg"]), str(broken), "--jobs", "2",
                        "--archive", str(tmp_path / "arch"), "--key", str(env["key"])],
                       capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 1
    assert "1 done, 1 failed" in r.stdout and "payments" in r.stdout
    assert len(archive.runs_of(tmp_path / "arch", 2023, "120104")) == 1


def test_total_at_risk_counts_each_payment_once(tmp_path):
    """A line paid off the roster through a passbook is flagged by RC03 and CP02: the conclusion counts its
    money once, and the five largest problems come first."""
    import sys as _sys
    from pathlib import Path as _P

    _sys.path.insert(0, str(_P(__file__).parent))
    from helpers import STRANGER, base, payment, write_package

    from audit_lib.report import sections
    from audit_lib.report.data import prepare

    t = base()
    t["payments"] += [payment(STRANGER, "2023-02", amount="250.00", channel="存折"),
                      payment(STRANGER, "2023-03", amount="250.00", channel="存折")]
    d = prepare(write_package(tmp_path / "p", t), {"max_quarantined_share": 0.5})
    flagged = {c["id"]: set(c["records"]) for c in d.findings["checks"] if c["status"] == "flagged"}
    both = {p["payment_id"] for p in t["payments"][-2:]}
    assert both <= flagged["RC03"] and both <= flagged["CP02"]
    r = sections.at_risk(d)
    pay_keyed = set().union(*(v for k, v in flagged.items()
                              if next(c for c in d.findings["checks"] if c["id"] == k)["key"] == "payment_id"
                              and not k.startswith("ST")))
    amounts = {p["payment_id"]: int(float(p["amount"]) * 100) for p in t["payments"]}
    assert r["payments"] == len(pay_keyed) and r["amount_fen"] == sum(amounts[k] for k in pay_keyed)
    html = sections.conclusion(d)
    assert "500.00 元" in html and "金额最大的五类问题" in html
