"""The transfer package: a run handed to a records office as a BagIt bag (RFC 8493), verifiable and
re-producible on a machine that never saw the archive.

The bag's payload is a small archive of its own, laid out as the archive is, so that every rule of
``audit verify`` (the place a statement names) and of ``audit reproduce`` (inputs by their digest) holds in it:

  data/archive/<year>/<code>/<run_id>/     the run folder, as signed (for a region run, its district runs too)
  data/archive/.inputs/sha256/…            every input the run (and each district run) read, by digest
  data/requirements.lock                   the package versions the run ran on (by its recorded sha256)
  data/说明.txt                            what is inside and how to verify it, in Chinese
  bag-info.txt                             Audit-Run: <year>/<code>/<run_id>, the signer, the findings digest
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import inputs
from .errors import AuditError, VerificationError
from .i18n import tr
from .provenance import attest

RUN_FIELD = "Audit-Run"


def is_bag(path: Path) -> bool:
    return (Path(path) / "bagit.txt").is_file()


def _copy_run(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for p in sorted(src.iterdir()):
        shutil.copyfile(p, dst / p.name)


def export(run_dir: str | Path, out: str | Path) -> Path:
    """Write the bag for a run (verified first: a run that does not verify is not handed over)."""
    import bagit

    from .provenance.verify import archive_root, verify

    run_dir = Path(run_dir).resolve()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AuditError(tr(f"{out} 已存在且不为空：请选择一个新的文件夹", f"{out} exists and is not empty: choose a new folder"))
    problems, st = verify(run_dir, allow_demo=True)
    if problems:
        raise VerificationError(tr(f"{run_dir} 验证未通过，不能移交：", f"{run_dir} does not verify; not handed over: ")
                                + "; ".join(problems))
    pred = st["predicate"]
    root = archive_root(run_dir)
    rel = run_dir.relative_to(root)
    runs = [(rel, pred)]
    for r in pred.get("district_runs") or []:
        sub = attest.payload_unverified(root / r["run"])
        runs.append((Path(r["run"]), sub["predicate"] if sub else {}))
    out.mkdir(parents=True, exist_ok=True)
    arch = out / "archive"
    for r, _ in runs:
        _copy_run(root / r, arch / r)
    missing = []
    for r, p in runs:
        files = (p.get("package") or {}).get("files") or []
        package = Path((p.get("package") or {}).get("path") or "")
        for f in files:
            dst = inputs.path_of(arch, f["sha256"])
            if dst.exists():
                continue
            src = inputs.path_of(root, f["sha256"])
            if not src.is_file():            # a run from before the archive kept inputs: from its package
                src = package / f["path"]
            try:
                got = inputs.copy_checked(src, dst, f["sha256"])
            except OSError:
                got = False
            if not got:
                missing.append(f"{r.as_posix()}: {f['path']}")
    if missing:
        shutil.rmtree(out, ignore_errors=True)
        raise AuditError(tr("以下输入既不在档案库中，也不在原数据包中（或已改动），不能移交：\n  " + "\n  ".join(missing),
                            "these inputs are neither in the archive nor, unchanged, in their package; not handed "
                            "over:\n  " + "\n  ".join(missing)))
    lock = pred.get("environment", {}).get("lock_sha256")
    kept = inputs.path_of(root, lock) if lock else None
    if kept is not None and kept.is_file():
        shutil.copyfile(kept, out / "requirements.lock")
    elif lock and attest.lock_sha256() == lock:
        shutil.copyfile(attest.LOCK, out / "requirements.lock")
    signer = pred.get("signer", {})
    (out / "说明.txt").write_text(_readme(rel.as_posix(), pred, bool(lock) and (out / "requirements.lock").exists()),
                                 encoding="utf-8")
    bagit.make_bag(str(out), {
        RUN_FIELD: rel.as_posix(), "Audit-Signer": signer.get("name", ""), "Audit-Signer-Keyid": signer.get("keyid", ""),
        "Audit-Findings-Digest": pred.get("findings_digest", ""), "External-Description":
            f"{pred.get('district_name', '')}{pred.get('year')}年惠民惠农财政补贴“一卡通”审计运行 {pred.get('run_id')}"},
        checksums=["sha256", "sha512"])
    return out


def _readme(rel: str, pred: dict, has_lock: bool) -> str:
    s = pred.get("signer", {})
    region = pred.get("kind") == "region"
    return f"""惠民惠农财政补贴“一卡通”审计运行 移交说明

运行：{rel}（{pred.get('district_name', '')} {pred.get('year')} 年{'，区域报告' if region else ''}）
签名人：{s.get('name')}（密钥编号 {s.get('keyid')}）
审计发现摘要：{pred.get('findings_digest')}

本封装包遵循 BagIt（RFC 8493），manifest-sha256.txt 与 manifest-sha512.txt 记录每个文件的摘要。内容：
  data/archive/{rel}/          签名的运行：report.html（审计报告）、findings.json（审计发现）、workpaper.xlsx
                               （审计疑点清单，内部资料，含完整身份证号）、notebook.ipynb、attestation.dsse.json（签名）、
                               signer.pub.pem（签名人公钥）{'；及其依据的各区县运行' if region else ''}
  data/archive/.inputs/        运行读取的全部输入文件，以 SHA-256 命名
  data/requirements.lock       {'运行时所用软件包的版本与摘要' if has_lock else '（运行时的锁定文件未能找到）'}

核验方法（在任何装有本工作台的计算机上，无需原档案库）：
  1. 把签名人的公钥加入受信任公钥集（公钥须经由可信渠道另行确认，不能只凭本包中的 signer.pub.pem）：
       audit trust add 公钥.pem --signer "{s.get('name')}"
  2. audit verify 本文件夹          核对封装包、签名、签名人和每个文件的摘要
  3. audit reproduce 本文件夹       按包内保存的输入和记录的参数重新计算，比对审计发现摘要
本包含有个人信息，请按内部资料保管。
"""


def open_bag(path: str | Path) -> tuple[Path, list[str]]:
    """The run folder inside a bag and the bag's own problems (a file changed, missing or added: by name)."""
    import bagit

    path = Path(path)
    try:
        b = bagit.Bag(str(path))
    except bagit.BagError as e:
        raise VerificationError(tr(f"{path}：不是有效的 BagIt 封装包（{e}）", f"{path}: not a valid BagIt bag ({e})")) from None
    problems = []
    try:
        b.validate(processes=1)
    except bagit.BagValidationError as e:
        for d in e.details or []:
            problems.append(tr(f"封装包：{d}", f"bag: {d}"))
        if not e.details:
            problems.append(tr(f"封装包：{e.message}", f"bag: {e.message}"))
    rel = b.info.get(RUN_FIELD)
    if isinstance(rel, list):
        rel = rel[0]
    if not rel or ".." in Path(rel).parts or Path(rel).is_absolute() or len(Path(rel).parts) != 3:
        raise VerificationError(tr(f"{path}：bag-info.txt 中没有有效的 {RUN_FIELD}", f"{path}: no valid {RUN_FIELD} in bag-info.txt"))
    return path / "data" / "archive" / rel, problems
