"""``audit region``: the city report over verified district runs, the chain verify walks, and reproduce."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from audit_lib.errors import AuditError, VerificationError
from audit_lib.provenance import keys
from audit_lib.provenance.verify import reproduce, verify
from audit_lib.region import select
from audit_lib.region.runner import run_region
from audit_lib.runner import run
from audit_lib.synth.city import make_city


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """Three districts of a synthetic 天津, each audited and signed by a real key; the archive."""
    base = tmp_path_factory.mktemp("region")
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIT_CONFIG_DIR", str(base / "cfg"))
    mp.setenv("AUDIT_LANG", "en")
    key, _ = keys.keygen("审计组辛")
    doc = make_city(base / "city", n=3, lines=2500, seed=41, year=2023)
    archive = base / "arch"
    runs = [run(str(base / "city" / c), archive_root=str(archive), key_path=str(key)) for c in doc["districts"]]
    yield {"base": base, "key": key, "archive": archive, "runs": runs, "truth": doc}
    mp.undo()


def _copy_archive(city, tmp_path):
    """A private copy of the archive (tampering must not reach the other tests); read-only files made writable."""
    dst = tmp_path / "arch"
    shutil.copytree(city["archive"], dst, ignore=shutil.ignore_patterns(".tmp", "index.sqlite"))
    for p in dst.rglob("*"):
        os.chmod(p, 0o750 if p.is_dir() else 0o640)
    return dst


def test_region_report_lands_verifies_and_finds_the_city_s_el07(city, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(city["base"] / "cfg"))
    arch = _copy_archive(city, tmp_path)
    folder = run_region(2023, archive_root=str(arch), key_path=str(city["key"]))
    assert folder.parent == arch / "2023" / "120000"
    problems, st = verify(folder)
    assert problems == []
    pred = st["predicate"]
    assert pred["kind"] == "region" and pred["district_name"] == "天津市"
    assert [r["district_code"] for r in pred["district_runs"]] == sorted(city["truth"]["districts"])
    f = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    el07 = next(c for c in f["checks"] if c["id"] == "EL07")
    assert el07["records"] == sorted(city["truth"]["checks"]["EL07"]) and el07["count"] > 0
    traps = {k for v in city["truth"]["traps"].values() for k in v}
    assert not traps & set(el07["records"])
    html = (folder / "report.html").read_text(encoding="utf-8")
    for name in ("和平区", "河东区", "河西区", "跨区重复享受", "持卡率", "一卡通发放率"):
        assert name in html
    assert 'class="heat"' in html
    # no identity number in the clear anywhere the report shows
    ids = {k.split("|")[0] for k in el07["records"]}
    assert not any(i in html for i in ids)
    assert not re.search(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])", html)
    # every district run it rests on is named with its findings digest
    for r in city["runs"]:
        d = json.loads((r / "findings.json").read_text(encoding="utf-8"))["digest"]
        assert d in html
    assert reproduce(folder)[0] == []


def test_region_refuses_a_tampered_district_run_and_names_it(city, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(city["base"] / "cfg"))
    arch = _copy_archive(city, tmp_path)
    victim = sorted((arch / "2023" / "120102").iterdir())[-1]
    wp = victim / "findings.json"
    wp.write_text(wp.read_text(encoding="utf-8").replace('"count": 0', '"count": 1', 1), encoding="utf-8")
    with pytest.raises(VerificationError) as e:
        run_region(2023, archive_root=str(arch), key_path=str(city["key"]))
    msg = str(e.value)
    assert f"2023/120102/{victim.name}" in msg and "changed: findings.json" in msg
    assert "120101" not in msg                       # the good ones are not blamed
    assert not (arch / "2023" / "120000").exists()   # nothing landed


def test_verify_on_a_region_run_names_the_changed_district_run(city, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(city["base"] / "cfg"))
    arch = _copy_archive(city, tmp_path)
    folder = run_region(2023, archive_root=str(arch), key_path=str(city["key"]))
    assert verify(folder)[0] == []
    d1 = sorted((arch / "2023" / "120101").iterdir())[-1]
    os.chmod(d1 / "report.html", 0o640)
    (d1 / "report.html").write_text("<p>改过</p>", encoding="utf-8")
    problems = verify(folder)[0]
    assert problems == [f"district run 2023/120101/{d1.name}: changed: report.html"]
    # a district run replaced by another (a re-run, or an older run rolled back into its place) is caught too
    d2 = sorted((arch / "2023" / "120103").iterdir())[-1]
    other = run(str(city["base"] / "city" / "120103"), archive_root=str(arch), key_path=str(city["key"]))
    shutil.rmtree(d2)
    other.rename(d2)
    problems = verify(folder)[0]
    assert any(p.startswith(f"district run 2023/120103/{d2.name}: its attestation is not the one") for p in problems)
    # and a district run removed
    shutil.rmtree(d1)
    assert f"district run 2023/120101/{d1.name}: missing" in verify(folder)[0]


def test_reproduce_a_region_run_names_a_changed_input(city, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(city["base"] / "cfg"))
    arch = _copy_archive(city, tmp_path)
    folder = run_region(2023, archive_root=str(arch), key_path=str(city["key"]))
    pkg = city["base"] / "city" / "120102" / "cards.csv"
    before = pkg.read_bytes()
    try:
        pkg.write_bytes(before + b"\n")
        # the archive keeps the inputs the district runs read: re-produced from them, the change noted
        problems, pred = reproduce(folder)
        assert problems == []
        assert any(n.startswith("120102") and "input changed: cards.csv" in n for n in pred["reproduce_notes"])
        # without the archive's copies, it cannot be re-produced, and says which input of which district
        shutil.rmtree(arch / ".inputs")
        problems = reproduce(folder)[0]
        assert any(p.startswith("120102") and "input changed: cards.csv" in p for p in problems)
        assert any(p.startswith("120102") and "does not keep this input: cards.csv" in p for p in problems)
    finally:
        pkg.write_bytes(before)
    assert reproduce(folder)[0] == []


def test_region_choice_of_runs(city, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(city["base"] / "cfg"))
    arch = _copy_archive(city, tmp_path)
    d = [sorted((arch / "2023" / c).iterdir())[-1] for c in ("120101", "120103")]
    # runs named: only those; a region of two districts
    folder = run_region(2023, runs=[str(x) for x in d], key_path=str(city["key"]), code="120000")
    st = verify(folder)[1]
    assert [r["district_code"] for r in st["predicate"]["district_runs"]] == ["120101", "120103"]
    with pytest.raises(AuditError, match="given twice"):
        run_region(2023, runs=[str(d[0]), str(d[0])], key_path=str(city["key"]))
    with pytest.raises(AuditError, match="of 2023, not 2024"):
        run_region(2024, runs=[str(d[0]), str(d[1])], key_path=str(city["key"]))
    with pytest.raises(AuditError, match="is not within 410700"):
        run_region(2023, runs=[str(d[0])], key_path=str(city["key"]), code="410700", name="新乡市")
    with pytest.raises(AuditError, match="not a city or province code"):
        run_region(2023, archive_root=str(arch), key_path=str(city["key"]), code="1201")
    # the default picks the latest run of each district and leaves the region's own runs out
    folder2 = run_region(2023, archive_root=str(arch), key_path=str(city["key"]))
    assert len(verify(folder2)[1]["predicate"]["district_runs"]) == 3
    assert verify(folder2)[1]["predicate"]["supersedes"] == folder.name


def test_region_codes_and_names():
    assert select.region_of(["120101", "120116"]) == "120000"          # a municipality
    assert select.region_of(["410702", "410711"]) == "410700"          # a city
    assert select.region_of(["410702", "410303"]) == "410000"          # a province
    assert select.region_of(["410702", "120101"]) is None
    assert select.region_name("410000") == "河南省" and select.region_name("410700") == ""
    assert select.prefix("120000") == "12" and select.prefix("410700") == "4107"


def test_the_command_refuses_with_exit_3_naming_the_run(city, tmp_path):
    arch = _copy_archive(city, tmp_path)
    victim = sorted((arch / "2023" / "120101").iterdir())[-1]
    (victim / "extra.txt").write_text("x", encoding="utf-8")
    env = dict(os.environ, AUDIT_CONFIG_DIR=str(city["base"] / "cfg"), AUDIT_LANG="zh")
    r = subprocess.run([sys.executable, "-m", "audit_lib.cli", "region", "--year", "2023", "--archive", str(arch),
                        "--key", str(city["key"])], capture_output=True, text=True, env=env)
    assert r.returncode == 3, r.stderr
    assert f"2023/120101/{victim.name}" in r.stderr and "多出：extra.txt" in r.stderr
    assert "Traceback" not in r.stderr
