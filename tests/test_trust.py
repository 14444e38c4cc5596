"""Issue "One audit pipeline you can trust": each case that made the workbench sign what it should not, or verify
what it should not, tried as a new user and as an attacker with write access to the archive."""
import base64
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from audit_lib import archive, runner
from audit_lib.checks import REGISTRY
from audit_lib.errors import AuditError, PackageError, ParamsError, VerificationError
from audit_lib.package import load_package
from audit_lib.params import Params
from audit_lib.pipeline import check_package
from audit_lib.provenance import dsse, keys
from audit_lib.provenance.verify import reproduce, verify
from audit_lib.report import sections
from audit_lib.report.data import prepare
from audit_lib.synth import make_package

from helpers import ACC, HEAD, SPOUSE, STRANGER, base, card, payment, write_package


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "audit_lib.cli", *args], capture_output=True, text=True,
                          env=env or dict(os.environ))


@pytest.fixture()
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    monkeypatch.delenv("AUDIT_KEY_PASSPHRASE", raising=False)
    return tmp_path / "cfg"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two genuine runs of one synthetic district, and a third of another district, in one archive."""
    base_dir = tmp_path_factory.mktemp("trust")
    old = os.environ.get("AUDIT_CONFIG_DIR")
    os.environ["AUDIT_CONFIG_DIR"] = str(base_dir / "cfg")
    key, kid = keys.keygen("审计组乙")
    a = base_dir / "a"
    make_package(a, lines=1500, seed=5)
    b = base_dir / "b"
    make_package(b, district_code="120105", lines=1500, seed=6)
    root = base_dir / "archive"
    r1 = runner.run(str(a), archive_root=str(root), key_path=str(key))
    with open(a / "cards.csv", "a", encoding="utf-8") as f:     # a change between the two runs of district a
        f.write("\n")
    r2 = runner.run(str(a), archive_root=str(root), key_path=str(key))
    r3 = runner.run(str(b), archive_root=str(root), key_path=str(key))
    yield {"root": root, "runs": (r1, r2, r3), "pkg": a, "key": key, "kid": kid, "cfg": base_dir / "cfg"}
    if old is None:
        os.environ.pop("AUDIT_CONFIG_DIR", None)
    else:
        os.environ["AUDIT_CONFIG_DIR"] = old


def _writable_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    for p in [dest, *dest.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    return dest


# ---------------------------------------------------------------- personal data in the report

def test_quarantined_rows_and_ids_inside_text_are_masked_in_the_report(tmp_path):
    t = base()
    t["payments"] += [payment(SPOUSE, "2023-01") for _ in range(30)]
    t["payments"][4]["amount"] = f"{STRANGER}元"              # an identity number among other text
    root = write_package(tmp_path / "p", t)
    with open(root / "payments.csv", "a", encoding="utf-8") as f:   # a row with one field too many
        f.write(f"P999999,B1,A01,2023-01,{HEAD},张建国,card,{ACC[HEAD]},,,工行,100.00,2023-01-15,success,,,extra\n")
    d = prepare(root, {"max_quarantined_share": 0.5})
    assert {"*", "amount"} <= set(d.quarantine["column"])
    html = sections.scope(d)
    assert "数据质量" in html
    for secret in (HEAD, STRANGER, ACC[HEAD]):
        assert secret not in html
    assert STRANGER[:6] + "********" + STRANGER[-4:] in html
    # findings.json (owner-only, like the workpaper) keeps the value as read; the whole-row text is not kept.
    assert f"{STRANGER}元" in {q["value"] for q in d.findings["data_quality"]}
    assert not any(HEAD in q["value"] for q in d.findings["data_quality"])


def test_mask_text_masks_ids_and_accounts_anywhere():
    s = sections.mask_text(f"转入{HEAD}的账户{ACC[HEAD]}，电话13912345678；{HEAD.lower()}")
    assert HEAD not in s and ACC[HEAD] not in s and "13912345678" not in s
    assert HEAD[:6] + "********" + HEAD[-4:] in s and "****0011" in s


# ---------------------------------------------------------------- nothing clear about rows never read

def _parquet_package(root: Path, tables: dict) -> Path:
    write_package(root, tables)
    return root


def test_parquet_types_are_read_as_what_they_are(tmp_path):
    root = write_package(tmp_path / "p", base())
    pay = pd.read_csv(root / "payments.csv", dtype=str, keep_default_na=False)
    (root / "payments.csv").unlink()
    arrays = {c: pa.array(pay[c].tolist(), pa.string()) for c in pay.columns}
    # pay_date as a zoned timestamp (late evening in Beijing: still that day there), status as a boolean
    arrays["pay_date"] = pa.array(pd.to_datetime(pay["pay_date"]) + pd.Timedelta(hours=23, minutes=30)) \
        .cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    local = pd.to_datetime(pay["pay_date"]).dt.tz_localize("Asia/Shanghai") + pd.Timedelta(hours=23, minutes=30)
    arrays["pay_date"] = pa.array(local)
    arrays["status"] = pa.array([True, False, True])
    pq.write_table(pa.table(arrays), root / "payments.parquet")
    cards = pd.read_csv(root / "cards.csv", dtype=str, keep_default_na=False)
    (root / "cards.csv").unlink()
    ca = {c: pa.array(cards[c].tolist(), pa.string()) for c in cards.columns}
    days = (pd.to_datetime(cards["status_date"]) - pd.Timestamp("1970-01-01")).dt.days
    ca["status_date"] = pa.array(days.astype("int32"))                     # Parquet day numbers
    pq.write_table(pa.table(ca), root / "cards.parquet")
    pkg = load_package(root)
    assert pkg.quarantine.empty
    p = pkg.tables["payments"]
    assert [d.strftime("%Y-%m-%d") for d in p["pay_date"]] == ["2023-01-15", "2023-02-15", "2023-03-15"]
    assert p["status"].tolist() == ["success", "failed", "success"]
    assert (pkg.tables["cards"]["status_date"] == pd.Timestamp("2020-01-01")).all()


def test_parquet_nested_column_is_refused(tmp_path):
    root = write_package(tmp_path / "p", base())
    pay = pd.read_csv(root / "payments.csv", dtype=str, keep_default_na=False)
    (root / "payments.csv").unlink()
    arrays = {c: pa.array(pay[c].tolist(), pa.string()) for c in pay.columns}
    arrays["amount"] = pa.array([[1], [2], [3]])
    pq.write_table(pa.table(arrays), root / "payments.parquet")
    with pytest.raises(PackageError, match=r"payments.parquet: column amount .*list"):
        load_package(root)


def test_everything_quarantined_stops_the_run_instead_of_clear(tmp_path):
    t = base()
    for p in t["payments"]:
        p["status"] = "是"                                   # no line has a readable status
    root = write_package(tmp_path / "p", t)
    r = _cli("check", str(root), "--out", str(tmp_path / "f.json"))
    assert r.returncode == 2 and "3 of 3 rows of payments" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "f.json").exists()


def test_an_optional_table_mostly_quarantined_marks_its_checks_not_executed(tmp_path):
    t = base()
    t["deaths"] = [{"person_id": HEAD, "name": "张建国", "death_date": "不详", "source": "公安"}]
    _, outcomes, doc = check_package(write_package(tmp_path / "p", t))
    el01 = next(c for c in doc["checks"] if c["id"] == "EL01")
    assert el01["status"] == "skipped" and "not executed" in el01["reason"] and "deaths" in el01["reason"]


def test_every_check_runs_on_a_clean_package_and_with_each_optional_table_empty(tmp_path):
    root = tmp_path / "clean"
    make_package(root, lines=1500, seed=3, clean=True)
    _, outcomes, _ = check_package(root)
    assert [(o.check.id, o.reason) for o in outcomes if o.status == "error"] == []
    assert next(o for o in outcomes if o.check.id == "RC07").status == "clear"
    from audit_lib.package.schema import TABLES

    for t in TABLES:
        if t.required or not (root / f"{t.name}.csv").exists():
            continue
        d = tmp_path / t.name
        shutil.copytree(root, d)
        header = (d / f"{t.name}.csv").read_text(encoding="utf-8").splitlines()[0]
        (d / f"{t.name}.csv").write_text(header + "\n", encoding="utf-8")
        _, outcomes, _ = check_package(d)
        bad = [(o.check.id, o.reason) for o in outcomes if o.status == "error"]
        assert bad == [], (t.name, bad)


# ---------------------------------------------------------------- parameters nobody read

@pytest.mark.parametrize("text,expect", [
    ("chekcs: [RC01]\n", "unknown key 'chekcs'; did you mean 'checks'"),
    ("paramters:\n  CP10: {grace_days: 5}\n", "did you mean 'parameters'"),
    ("year: 2021\n", "year 2021 differs from the package's 2023"),
    ("district_code: '120199'\n", "district_code 120199 differs from the package's 120104"),
    ("checks: []\n", "'checks' is an empty list"),
    ("parameters:\n  CP10: {grace_days: -100000}\n", "grace_days' must be a whole number from 0 to 3,650"),
    ("parameters:\n  CP08: {min_people: true}\n", "min_people' must be a whole number from 2"),
    ("parameters:\n  CP10: {grace_days: 30.9}\n", "got 30.9"),
    ("parameters:\n  CP10: {grace_dys: 5}\n", "did you mean 'grace_days'"),
    ("parameters:\n  CP1O: {grace_days: 5}\n", "unknown check id 'CP1O'"),
    ("checks: [CP01]\nparameters:\n  CP10: {grace_days: 5}\n", "which 'checks' does not run"),
    ("max_quarantined_share: 5\n", "from 0 to 1"),
    ("a: &x [1]\nb: *x\n", "anchors and aliases"),
])
def test_params_mistakes_are_errors_naming_file_and_key(tmp_path, text, expect):
    root = write_package(tmp_path / "p", base())
    f = tmp_path / "params.yaml"
    f.write_text(text, encoding="utf-8")
    r = _cli("check", str(root), "--params", str(f), "--out", str(tmp_path / "f.json"))
    assert r.returncode == 2, r.stdout
    assert expect in r.stderr and str(f) in r.stderr and "Traceback" not in r.stderr


def test_params_accept_whole_floats_and_record_what_was_asked(tmp_path):
    p = Params.from_dict({"parameters": {"CP10": {"grace_days": 30.0}, "ST02": {"z": 4}}})
    assert p.overrides == {"CP10": {"grace_days": 30}, "ST02": {"z": 4}}
    again = Params.from_record(json.loads(json.dumps(p.record())))
    assert again.overrides == p.overrides
    with pytest.raises(ParamsError):
        Params.from_dict({"parameters": {"ST02": {"scale": "cubic"}}})


def test_registry_contains_loads_plugins_first(monkeypatch):
    """A parameter for an entry-point check is accepted on the first run in a process."""
    from audit_lib.checks import registry

    class EP:
        def load(self):
            @registry.check("ZZ01", "插件检查", "compliance", "low", params={"n": registry.Param(2, min=1)},
                            replace=True)
            def zz01(t, n=2):
                return None

    import importlib.metadata as md
    monkeypatch.setattr(md, "entry_points", lambda group=None: [EP()] if group == "audit_lib.checks" else [])
    monkeypatch.setattr(REGISTRY, "_plugins_loaded", False)
    try:
        assert "ZZ01" in REGISTRY
        assert Params.from_dict({"parameters": {"ZZ01": {"n": 3}}}).overrides == {"ZZ01": {"n": 3}}
    finally:
        REGISTRY.unregister("ZZ01")


# ---------------------------------------------------------------- who signs

def test_keygen_two_signers_two_keys_and_names_from_the_trusted_set(config):
    p1, k1 = keys.keygen("张三")
    p2, k2 = keys.keygen("李四")
    assert k1 != k2 and p1 != p2 and p1.exists() and p2.exists()
    assert stat.S_IMODE(keys.trusted_dir().stat().st_mode) == 0o700
    assert {t.signer for t in keys.trusted_keys().values()} == {"张三", "李四"}
    assert keys.signing_key(p1).signer == "张三"
    # A copy of a key under another file name is still that key, with the name the trusted set gives it.
    copy = config / "李四.pem"
    shutil.copy(p1, copy)
    os.chmod(copy, 0o600)
    assert keys.signing_key(copy).signer == "张三"
    with pytest.raises(AuditError, match="several signing keys"):
        keys.select_key(None)
    assert keys.select_key(k2[:10]) == p2
    with pytest.raises(AuditError, match="exists already"):
        keys.keygen("张三")


def test_no_key_says_how_to_make_one_and_one_key_is_used(config):
    keys.demo_key()
    with pytest.raises(AuditError, match="audit keygen"):
        keys.select_key(None)                         # the DEMO key is never picked for real work
    p, _ = keys.keygen("王五")
    assert keys.select_key(None) == p


def test_demo_key_signs_only_synthetic_packages_and_never_as_a_person(config, tmp_path):
    demo = keys.demo_key()
    copy = keys.keys_dir()
    copy.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo, copy / "张三.pem")
    os.chmod(copy / "张三.pem", 0o600)
    sk = keys.signing_key(copy / "张三.pem")
    assert sk.demo and sk.signer == "DEMO"
    with pytest.raises(AuditError, match="never trusted"):
        keys.add_trusted(keys.public_pem(sk.key.public_key()), "张三")
    real = write_package(tmp_path / "real", base())
    with pytest.raises(AuditError, match="DEMO key signs only synthetic"):
        runner.run(str(real), archive_root=str(tmp_path / "arch"), key_path=str(demo))
    assert not list((tmp_path / "arch").glob("2023/*/*"))


def test_a_key_outside_the_trusted_set_signs_nothing(config, tmp_path):
    p, kid = keys.keygen("赵六", trust=False)
    with pytest.raises(AuditError, match="not in the trusted set"):
        keys.signing_key(p)
    r = _cli("trust", "add", str(tmp_path / "nope.pem"), "--signer", "赵六")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    pub = tmp_path / "zhao.pem"
    pub.write_bytes(keys.public_pem(keys.load_private(p).public_key()))
    env = dict(os.environ)
    r = _cli("trust", "add", str(pub), "--signer", "赵六", env=env)
    assert r.returncode == 0, r.stderr
    assert keys.signing_key(p).signer == "赵六"
    r = _cli("trust", "list", env=env)
    assert kid in r.stdout and "赵六" in r.stdout
    r = _cli("trust", "remove", kid[:12], env=env)
    assert r.returncode == 0 and kid not in keys.trusted_keys()


def test_passphrase_protected_key(config, monkeypatch):
    monkeypatch.setenv("AUDIT_KEY_PASSPHRASE", "正确的口令")
    p, kid = keys.keygen("孙七", passphrase=True)
    assert b"ENCRYPTED" in p.read_bytes()
    assert keys.signing_key(p).keyid == kid
    monkeypatch.setenv("AUDIT_KEY_PASSPHRASE", "wrong")
    with pytest.raises(AuditError, match="wrong passphrase"):
        keys.load_private(p)
    monkeypatch.delenv("AUDIT_KEY_PASSPHRASE")
    with pytest.raises(AuditError, match="passphrase-protected"):
        keys.load_private(p)


def test_a_trusted_set_others_can_write_is_refused(config):
    keys.keygen("周八")
    os.chmod(keys.trusted_dir(), 0o777)
    with pytest.raises(AuditError, match="writable by group or others"):
        keys.trusted_keys()


# ---------------------------------------------------------------- verify binds the statement to its place

def test_rollback_and_moved_runs_fail_verify_and_are_not_indexed(two_runs, tmp_path):
    r1, r2, r3 = two_runs["runs"]
    assert all(verify(r)[0] == [] for r in (r1, r2, r3))
    arch = tmp_path / "arch"
    # Rollback: the newest run's folder holds the files of the older genuine run.
    rolled = arch / "2023" / "120104" / r2.name
    _writable_copy(r1, rolled)
    problems, _ = verify(rolled)
    assert any(p.startswith("moved: the statement is for run_id " + r1.name) for p in problems)
    # Moved: a run filed under another district, and under another year.
    other = _writable_copy(r1, arch / "2023" / "120105" / r1.name)
    assert any("district_code 120104" in p for p in verify(other)[0])
    year = _writable_copy(r1, arch / "2022" / "120104" / r1.name)
    assert any("year 2023" in p for p in verify(year)[0])
    ok = _writable_copy(r3, arch / "2023" / "120105" / r3.name)
    n, skipped = archive.reindex(arch)
    assert n == 1 and len(skipped) == 3
    assert [r["run_id"] for r in archive.listing(arch)] == [ok.name]


def test_verify_opens_only_the_run_folder_and_answers_malformed_envelopes(two_runs, tmp_path):
    r1 = two_runs["runs"][0]
    d = _writable_copy(r1, tmp_path / "a" / "2023" / "120104" / r1.name)
    env = json.loads((d / "attestation.dsse.json").read_text())
    st = json.loads(base64.b64decode(env["payload"]))
    st["subject"].append({"name": "/dev/zero", "digest": {"sha256": "0" * 64}})
    st["subject"].append({"name": "../../../../etc/passwd", "digest": {"sha256": "0" * 64}})
    key = keys.load_private(two_runs["key"])
    (d / "attestation.dsse.json").write_text(json.dumps(dsse.sign(st, key)))
    problems, _ = verify(d)                              # returns at once: /dev/zero is never opened
    assert "unexpected subject: '/dev/zero'" in problems and any("etc/passwd" in p for p in problems)
    for bad in ('{"payload": 5, "signatures": []}', "[]", "{", '{"payload": "!!", "signatures": [{"sig": "x"}]}'):
        (d / "attestation.dsse.json").write_text(bad)
        r = _cli("verify", str(d))
        assert r.returncode == 3 and "Traceback" not in r.stderr and r.stderr.startswith("audit: error:"), bad


def test_signer_name_must_be_the_one_the_trusted_set_vouches_for(two_runs, tmp_path):
    r1 = two_runs["runs"][0]
    trusted = tmp_path / "t"
    trusted.mkdir(mode=0o700)
    pem = (r1 / "signer.pub.pem").read_bytes()
    (trusted / "k.pem").write_bytes(pem)                 # the key, with no name vouched for
    assert any("vouched for by nobody" in p for p in verify(r1, trusted)[0])
    (trusted / "k.pem").write_bytes(b"Signer: someone else\n" + pem)
    assert any("signer name differs" in p for p in verify(r1, trusted)[0])


# ---------------------------------------------------------------- reproduce

def test_reproduce_records_package_yaml_and_verifies_before_trusting(two_runs, tmp_path):
    r2 = two_runs["runs"][1]
    files = {f["path"] for f in archive.statement_of(r2)["predicate"]["package"]["files"]}
    assert "package.yaml" in files
    assert reproduce(r2)[0] == []
    moved = tmp_path / "pkg"
    shutil.copytree(two_runs["pkg"], moved)
    meta = yaml.safe_load((moved / "package.yaml").read_text(encoding="utf-8"))
    meta["district_name"] = "别的区"
    (moved / "package.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    assert reproduce(r2, moved)[0] == ["input changed: package.yaml (sha256 differs from the recorded one)"]
    # Recorded parameters changed without a new signature: not trusted, not re-run.
    d = _writable_copy(r2, tmp_path / "x" / "2023" / "120104" / r2.name)
    env = json.loads((d / "attestation.dsse.json").read_text())
    st = json.loads(base64.b64decode(env["payload"]))
    st["predicate"]["parameters"]["overrides"] = {"CP10": {"grace_days": 3650}}
    env["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    (d / "attestation.dsse.json").write_text(json.dumps(env))
    r = _cli("reproduce", str(d))
    assert r.returncode == 3 and "does not verify" in r.stderr


# ---------------------------------------------------------------- reading

def test_mac_cr_line_endings(tmp_path):
    root = write_package(tmp_path / "p", base())
    data = (root / "payments.csv").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    (root / "payments.csv").write_bytes(data)
    pkg = load_package(root)
    assert len(pkg.tables["payments"]) == 3 and pkg.quarantine.empty


def test_utf8_file_with_some_gbk_rows_quarantines_them(tmp_path):
    t = base()
    t["payments"] += [payment(SPOUSE, "2023-01") for _ in range(5)]
    root = write_package(tmp_path / "p", t)
    lines = (root / "payments.csv").read_bytes().split(b"\n")
    lines[3] = lines[3].decode("utf-8").encode("gbk")           # the third payment, written in GBK
    (root / "payments.csv").write_bytes(b"\n".join(lines))
    pkg = load_package(root)
    q = pkg.quarantine
    assert q[["row", "column"]].values.tolist() == [[4, "*"]] and "UTF-8" in q["reason"].iloc[0]
    assert len(pkg.tables["payments"]) == 7
    assert set(pkg.tables["payments"]["name"]) == {"张建国", "李秀英"}     # no garbage re-decoding


def test_gb18030_file_with_one_bad_byte_quarantines_that_row(tmp_path):
    t = base()
    root = write_package(tmp_path / "p", t)
    text = (root / "payments.csv").read_text(encoding="utf-8")
    data = bytearray(text.encode("gb18030"))
    lines = bytes(data).split(b"\n")
    lines[2] = lines[2] + b"\xff"                                   # not a GB18030 byte
    (root / "payments.csv").write_bytes(b"\n".join(lines))
    pkg = load_package(root)
    assert pkg.quarantine[["row", "column"]].values.tolist() == [[3, "*"]]
    assert pkg.tables["payments"]["name"].tolist() == ["张建国", "张建国"]


def test_xlsx_hidden_first_sheet_is_not_read(tmp_path):
    root = write_package(tmp_path / "p", base())
    pay = pd.read_csv(root / "payments.csv", dtype=str, keep_default_na=False)
    (root / "payments.csv").unlink()
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "旧数据"
    hidden.append(list(pay.columns))
    hidden.append(["X"] * len(pay.columns))
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("明细")
    ws.append(list(pay.columns))
    for row in pay.itertuples(index=False):
        ws.append(list(row))
    wb.save(root / "payments.xlsx")
    pkg = load_package(root)
    assert len(pkg.tables["payments"]) == 3 and pkg.quarantine.empty


def test_xlsx_shared_strings_bomb_is_refused_unexpanded(tmp_path):
    root = write_package(tmp_path / "p", base())
    (root / "cards.csv").unlink()
    with zipfile.ZipFile(root / "cards.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/sharedStrings.xml", "w") as f:
            block = b"<si><t>a</t></si>" * 4096
            for _ in range((80 << 20) // len(block)):
                f.write(block)
    with pytest.raises(PackageError, match="zip bomb"):
        load_package(root)


def test_yaml_alias_bomb_in_package_yaml_is_refused(tmp_path):
    root = write_package(tmp_path / "p", base())
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    (root / "package.yaml").write_text("district_code: '120104'\nyear: 2023\n" + bomb, encoding="utf-8")
    with pytest.raises(PackageError, match="anchors and aliases"):
        load_package(root)


def test_links_out_folders_and_fifos_where_tables_should_be(tmp_path):
    root = write_package(tmp_path / "p", base())
    outside = tmp_path / "elsewhere.csv"
    shutil.move(root / "cards.csv", outside)
    (root / "cards.csv").symlink_to(outside)
    with pytest.raises(PackageError, match="outside the package"):
        load_package(root)
    (root / "cards.csv").unlink()
    (root / "cards.csv").mkdir()
    with pytest.raises(PackageError, match="is a folder"):
        load_package(root)
    (root / "cards.csv").rmdir()
    os.mkfifo(root / "cards.csv")
    r = _cli("validate", str(root))
    assert r.returncode == 2 and "FIFO" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- faults of the archive

def test_archive_faults_are_clear_messages(two_runs, tmp_path, monkeypatch):
    pkg, key = two_runs["pkg"], two_runs["key"]
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(two_runs["cfg"]))
    a_file = tmp_path / "archive-file"
    a_file.write_text("x")
    r = _cli("run", str(pkg), "--archive", str(a_file), "--key", str(key))
    assert r.returncode == 2 and "is a file" in r.stderr and "Traceback" not in r.stderr
    # A full disk while the run is written: a message, nothing published, nothing left behind.
    root = tmp_path / "arch"
    from audit_lib.report import workpaper

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workpaper, "write", full)
    with pytest.raises(AuditError, match="disk holding the archive .* is full"):
        runner.run(str(pkg), archive_root=str(root), key_path=str(key))
    assert not list(root.glob("2023/*/*")) and [p.name for p in (root / ".tmp").iterdir()] == ["reserved"]


def test_corrupt_index_warns_after_publishing_and_reindex_mends(two_runs, tmp_path, monkeypatch):
    root = tmp_path / "arch"
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(two_runs["cfg"]))
    root.mkdir()
    (root / "index.sqlite").write_bytes(b"this is not a database" * 100)
    warnings = []
    folder = runner.run(str(two_runs["pkg"]), archive_root=str(root), key_path=str(two_runs["key"]),
                        warn=warnings.append)
    assert verify(folder)[0] == [] and len(warnings) == 1 and "audit archive reindex" in warnings[0]
    with pytest.raises(AuditError, match="not readable"):
        archive.listing(root)
    # A malformed attestation beside it is skipped and named, not a crash.
    bad = root / "2023" / "120104" / "20200101T000000Z-deadbeef"
    bad.mkdir()
    (bad / "attestation.dsse.json").write_text("{")
    n, skipped = archive.reindex(root)
    assert n == 1 and len(skipped) == 1 and "20200101T000000Z-deadbeef" in skipped[0]
    assert [r["run_id"] for r in archive.listing(root)] == [folder.name]


def test_killed_runs_leftovers_are_removed_and_run_folders_are_private(two_runs, tmp_path):
    r1 = two_runs["runs"][0]
    assert stat.S_IMODE(r1.stat().st_mode) & 0o007 == 0
    for p in r1.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) & 0o007 == 0          # full identity numbers: not for others
    root = tmp_path / "arch"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tag = archive.owner_tag(dead.pid)
    (root / ".tmp" / "reserved").mkdir(parents=True)
    (root / ".tmp" / f"20230101T000000Z-abcdef01{tag}").mkdir()
    (root / ".tmp" / f"scratch-1{tag}").mkdir()
    (root / ".tmp" / f"scratch-1{tag}" / "run.pkl").write_bytes(b"full records")
    (root / ".tmp" / f"kernels{tag}").mkdir()
    (root / ".tmp" / "reserved" / "2023-120104-x").mkdir()
    (root / ".tmp" / "reserved" / "2023-120104-x" / "owner").write_text(tag)
    other_machine = "20230101T000000Z-abcdef02~00000000-" + str(dead.pid)      # a shared archive: not ours
    (root / ".tmp" / other_machine).mkdir()
    live = root / ".tmp" / f"20230101T000000Z-abcdef03{archive.owner_tag()}"   # a run still going on
    live.mkdir()
    archive.prepare_root(root)
    assert sorted(p.name for p in (root / ".tmp").iterdir()) == sorted(["reserved", other_machine, live.name])
    assert list((root / ".tmp" / "reserved").iterdir()) == []


def test_workpaper_summary_district_name_is_not_a_formula(tmp_path):
    from audit_lib.report import workpaper

    doc = {"district_name": "=HYPERLINK(\"http://x\",\"y\")", "district_code": "120104", "year": 2023,
           "digest": "sha256:0", "checks": [{"id": "RC01", "title": "@t", "severity": "high", "status": "clear",
                                              "count": 0, "amount_fen": 0}]}
    workpaper.write(tmp_path / "w.xlsx", doc, {})
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type != "f" for c in cells)
    assert any(str(c.value).startswith("=HYPERLINK") for c in cells)


def test_record_numbers_are_shown_and_personal_numbers_masked():
    frame = pd.DataFrame({"payment_id": ["FF120104202300003047", "20230100001234567"],
                          "problem": [f"转入账户{ACC[HEAD]}", f"本人{HEAD}"], "person_id": [HEAD, SPOUSE]})
    shown = sections.masked_frame(frame)
    assert shown["payment_id"].tolist() == ["FF120104202300003047", "20230100001234567"]
    assert ACC[HEAD] not in shown["problem"].iloc[0] and HEAD not in shown["problem"].iloc[1]
    assert sections.mask_text("流水FF120104202300003047") == "流水FF120104202300003047"
