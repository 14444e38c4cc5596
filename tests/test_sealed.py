"""Sealed for the archive: inputs kept by content, reproduce from the archive alone."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit_lib import inputs
from audit_lib.package.load import sha256_file
from audit_lib.provenance import keys
from audit_lib.provenance.verify import reproduce
from audit_lib.runner import run
from audit_lib.synth import make_package


@pytest.fixture()
def signer(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    key, _ = keys.keygen("审计组癸")
    return key


def _store(archive: Path) -> list[Path]:
    return sorted(p for p in (archive / inputs.STORE).rglob("*") if p.is_file())


def test_two_runs_sharing_inputs_store_them_once_read_only(tmp_path, signer):
    pkg = tmp_path / "pkg"
    make_package(pkg, lines=1500, seed=61)
    archive = tmp_path / "arch"
    r1 = run(str(pkg), archive_root=str(archive), key_path=str(signer))
    n_files = len([p for p in pkg.iterdir() if p.is_file() and p.name != "truth.json"]) + 1   # and the lock
    stored = _store(archive)
    recorded = {f["sha256"] for f in __import__("audit_lib.archive", fromlist=["x"]).statement_of(r1)["predicate"]
                ["package"]["files"]}
    assert {p.name for p in stored} == recorded | {sha256_file(__import__("audit_lib.provenance.attest",
                                                                          fromlist=["x"]).LOCK)}
    assert len(stored) == n_files
    for p in stored:                                   # named by their content, read-only
        assert p.name == sha256_file(p)
        assert p.stat().st_mode & 0o777 == 0o440
    r2 = run(str(pkg), archive_root=str(archive), key_path=str(signer))
    assert r2 != r1 and _store(archive) == stored      # the second run added nothing
    # one input changed: only that one is added
    with open(pkg / "cards.csv", "a", encoding="utf-8") as f:
        f.write("\n")
    run(str(pkg), archive_root=str(archive), key_path=str(signer))
    assert len(_store(archive)) == n_files + 1


def test_reproduce_names_a_changed_package_version_and_works_with_the_package_deleted(tmp_path, signer, monkeypatch):
    from audit_lib.provenance import attest

    pkg = tmp_path / "pkg"
    make_package(pkg, lines=1200, seed=63)
    real = attest.installed_packages()
    then = {**real, "pandas": "2.0.0", "gone-package": "1.0"}
    monkeypatch.setattr(attest, "installed_packages", lambda: then)
    r = run(str(pkg), archive_root=str(tmp_path / "arch"), key_path=str(signer))
    monkeypatch.undo()
    monkeypatch.setenv("AUDIT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("AUDIT_LANG", "en")
    st = __import__("audit_lib.archive", fromlist=["x"]).statement_of(r)
    env = st["predicate"]["environment"]
    assert env["packages"]["pandas"] == "2.0.0" and env["lock_sha256"] == sha256_file(attest.LOCK)
    problems, pred = reproduce(r)
    assert problems == []
    assert pred["package_differences"] == ["gone-package: run 1.0, now (none)",
                                           f"pandas: run 2.0.0, now {real['pandas']}"]
    out = subprocess.run([sys.executable, "-m", "audit_lib.cli", "reproduce", str(r)], capture_output=True,
                         text=True, env=dict(os.environ))
    assert out.returncode == 0
    assert "package versions differ from the run's (2)" in out.stdout and "did not matter" in out.stdout
    # the package folder deleted: re-produced from the inputs the archive keeps
    archive = tmp_path / "arch"
    shutil.rmtree(pkg)
    problems, pred = reproduce(r)
    assert problems == []
    assert any("input missing: payments.csv" in n for n in pred["reproduce_notes"])
    out = subprocess.run([sys.executable, "-m", "audit_lib.cli", "reproduce", str(r)], capture_output=True,
                         text=True, env=dict(os.environ))
    assert out.returncode == 0 and "re-produced from the inputs the archive keeps" in out.stdout
    # an archive copy that was tampered with is caught by its digest, not used
    victim = inputs.path_of(archive, pred["package"]["files"][0]["sha256"])
    os.chmod(victim, 0o640)
    victim.write_bytes(victim.read_bytes() + b"x")
    problems = reproduce(r)[0]
    assert any("the archive's copy of an input changed" in p for p in problems)


def test_the_lock_pins_every_dependency_with_hashes():
    from audit_lib.provenance import attest

    text = attest.LOCK.read_text(encoding="utf-8")
    pinned = {line.split("==")[0].strip().lower() for line in text.splitlines()
              if "==" in line and not line.startswith(("#", " "))}
    for dep in ("pandas", "duckdb", "pyarrow", "papermill", "nbconvert", "cryptography", "dask", "distributed",
                "python-calamine", "openpyxl", "scipy"):
        assert dep in pinned, dep
    blocks = [b for b in text.split("\n") if "==" in b and not b.startswith(("#", " "))]
    assert all("--hash=sha256:" in text.split(b, 1)[1].split("\n", 2)[1] for b in blocks)
    make = (attest.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in make


def test_the_report_pdf_and_the_transfer_bag_which_reproduces_with_the_archive_gone(tmp_path, signer):
    import bagit

    from audit_lib.bag import export
    from audit_lib.provenance.verify import verify

    pkg = tmp_path / "pkg"
    make_package(pkg, lines=1500, seed=65)
    archive = tmp_path / "arch"
    r = run(str(pkg), archive_root=str(archive), key_path=str(signer))
    _check_pdf(r, pkg)
    bag = export(r, tmp_path / "bag")
    b = bagit.Bag(str(bag))
    assert b.is_valid() and "sha256" in b.algorithms
    names = set(b.payload_files())
    assert f"data/archive/{r.relative_to(archive).as_posix()}/report.html" in names
    assert "data/requirements.lock" in names and "data/说明.txt" in names
    # on another machine: no archive, no package, only the bag (moved elsewhere) and the signer's key trusted
    elsewhere = tmp_path / "office" / "bag"
    elsewhere.parent.mkdir()
    shutil.move(str(bag), elsewhere)
    shutil.rmtree(archive)
    shutil.rmtree(pkg)
    assert verify(elsewhere)[0] == []
    problems, pred = reproduce(elsewhere)
    assert problems == []
    out = subprocess.run([sys.executable, "-m", "audit_lib.cli", "verify", str(elsewhere)], capture_output=True,
                         text=True, env=dict(os.environ))
    assert out.returncode == 0, out.stdout + out.stderr
    # a file changed in the bag: the bag and the signature both say so
    wp = next(elsewhere.glob("data/archive/*/*/*/findings.json"))
    os.chmod(wp, 0o640)
    wp.write_text(wp.read_text(encoding="utf-8").replace('"count": 0', '"count": 9', 1), encoding="utf-8")
    problems = verify(elsewhere)[0]
    assert any(p.startswith("bag: ") and "findings.json" in p for p in problems)
    assert "changed: findings.json" in problems
    out = subprocess.run([sys.executable, "-m", "audit_lib.cli", "verify", str(elsewhere)], capture_output=True,
                         text=True, env=dict(os.environ))
    assert out.returncode == 3


def _check_pdf(r: Path, pkg: Path) -> None:
    """The report's PDF: PDF/A, A4, only the project's font, embedded, and masked."""
    import re

    from pypdf import PdfReader

    from audit_lib.provenance.verify import verify
    from audit_lib.report import render

    problems, st = verify(r)
    assert problems == [] and "report.pdf" in {s["name"] for s in st["subject"]}
    pdf = PdfReader(str(r / "report.pdf"))
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert len(pdf.pages) > 3
    for page in pdf.pages:                                  # A4, portrait
        box = page.mediabox
        assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1
    fonts = []

    def walk(res):
        for f in (res.get("/Font") or {}).values():
            f = f.get_object()
            d = f.get("/FontDescriptor") or f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts.append((str(f["/BaseFont"]), any(k in d.get_object() for k in ("/FontFile", "/FontFile2",
                                                                                 "/FontFile3"))))
        for x in (res.get("/XObject") or {}).values():
            walk(x.get_object().get("/Resources") or {})

    for page in pdf.pages:
        walk(page["/Resources"])
    assert fonts and all(embedded for _, embedded in fonts)
    # every font is the project's own file (as the @font-face name, or its own name inside the charts)
    assert {re.sub(r"^/[A-Z]{6}\+", "", n) for n, _ in fonts} <= {"AuditCJK", "AuditCJK-Bold", "Noto-Sans-CJK-TC"}
    assert render.font_file().name == "NotoSansCJKtc-Regular.otf"
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "一卡通" in text and "审计结论" in text
    # no identity number of the package in the clear (the evidence shows them masked)
    import pandas as pd
    ids = set(pd.read_csv(pkg / "beneficiaries.csv", dtype=str)["person_id"])
    flat = re.sub(r"\s+", "", text)
    assert not [i for i in ids if i in flat]
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", flat)         # masked ones are there


def test_the_pdf_font_is_cut_to_the_report_s_characters_the_same_way_each_time(tmp_path):
    from fontTools.ttLib import TTFont

    from audit_lib.report import render

    html = "<p>南开区一卡通审计 &#x6B7B;&#20154;</p><svg><text>金额（元）</text></svg>"      # 死 and 人 as references
    a = render.report_font(html, tmp_path / "a.otf")
    b = render.report_font(html, tmp_path / "b.otf")
    assert a.read_bytes() == b.read_bytes()
    cut, full = TTFont(str(a)), TTFont(str(render.font_file()))
    cmap, whole = cut.getBestCmap(), full.getBestCmap()
    for ch in "南开区一卡通审计死人金额（元）0123456789/ ":
        assert ord(ch) in cmap and cut.getGlyphSet()[cmap[ord(ch)]].width == full.getGlyphSet()[whole[ord(ch)]].width
    assert ord("省") not in cmap and ord("省") in whole                # a character the report has not
    assert len(cut.getGlyphOrder()) < 400 < len(full.getGlyphOrder())
    assert cut["head"].modified == full["head"].modified            # no clock in it: the same bytes at any time
