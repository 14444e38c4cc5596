"""``audit verify`` and ``audit reproduce``.

verify: the envelope's signature by the folder's signer.pub.pem; that key in the trusted set, under the name
the statement gives; the statement's run id, district and year matching the folder it sits in
(``<year>/<district_code>/<run_id>``), so a run copied or rolled back into another folder fails; every subject a
plain file of the run, with its sha256; nothing missing, nothing extra. Only files inside the run folder are
ever opened. reproduce: verify first, then the recorded inputs (package.yaml included), then the checks again
with the recorded parameters, and the findings digests compared.
"""
from __future__ import annotations

import json
import re
import stat
import tempfile
from pathlib import Path

from ..errors import AuditError, VerificationError
from ..package.load import sha256_file
from . import attest, keys
from ..i18n import tr


def _regular(p: Path) -> bool:
    try:
        return stat.S_ISREG(p.lstat().st_mode)
    except OSError:
        return False


def verify(run_dir: str | Path, trusted: str | Path | None = None, allow_demo: bool = False) -> tuple[list[str], dict]:
    """Check the signature, the signer, the place and every file. Returns (problems, statement); no problems
    means verified. A folder that is not a signed run at all raises VerificationError."""
    run_dir = Path(run_dir)
    from ..bag import is_bag, open_bag

    bag_problems: list[str] = []
    if is_bag(run_dir):                 # a transfer package: the bag itself, then the run inside it
        run_dir, bag_problems = open_bag(run_dir)
    if not run_dir.is_dir():
        raise VerificationError(tr(f"{run_dir}：不是运行文件夹",
                                   f"{run_dir}: not a run folder"))
    env = attest.read_envelope(run_dir)
    pub_path = run_dir / attest.PUBKEY
    if not _regular(pub_path):
        raise VerificationError(tr(f"{run_dir}：缺少 {attest.PUBKEY}",
                                   f"{run_dir}: {attest.PUBKEY} is missing"))
    try:
        pub = keys.load_public(pub_path.read_bytes()[: 1 << 16])
    except (AuditError, OSError) as e:
        raise VerificationError(tr(f"{pub_path}：{e}",
                                   f"{pub_path}: {e}")) from None
    st = attest.verify_envelope(env, pub)
    pred = st["predicate"]
    problems: list[str] = []

    # Who signed: the trusted set vouches for the key and for the name.
    kid = keys.key_id(pub)
    named = (pred.get("signer") or {}).get("name") if isinstance(pred.get("signer"), dict) else None
    try:
        trusted_set = keys.trusted_keys(trusted)
    except AuditError as e:
        raise VerificationError(str(e)) from None
    t = trusted_set.get(kid)
    if kid == keys.demo_key_id() and t is None:
        if not allow_demo:
            problems.append(tr(f"签名人不受信任：演示密钥 {kid[:16]}… 只签名模拟的演示数据包，正式审计中从不受信任（演示运行请加 --demo 验证）",
                               f"untrusted signer: the DEMO key {kid[:16]}… signs only synthetic demo packages and is "
                               f"never trusted for real audits (check a demo run with --demo)"))
    elif t is None:
        problems.append(tr(f"签名人不受信任：密钥 {kid}（{named}）不在受信任公钥集 {trusted or keys.trusted_dir()} 中",
                           f"untrusted signer: key {kid} ({named}) is not in the trusted set "
                           f"{trusted or keys.trusted_dir()}"))
    elif not t.signer:
        problems.append(tr(f"签名人姓名无人担保：受信任公钥集中的密钥 {kid[:16]}… 没有姓名（{t.path}），所以“{named}”无人担保",
                           f"untrusted signer name: the trusted set holds key {kid[:16]}… without a name "
                           f"({t.path}), so '{named}' is vouched for by nobody"))
    elif t.signer != named:
        problems.append(tr(f"签名人姓名不符：签名声明写的是“{named}”，受信任公钥集中密钥 {kid[:16]}… 的签名人是“{t.signer}”",
                           f"signer name differs: the statement says '{named}', the trusted set knows key "
                           f"{kid[:16]}… as '{t.signer}'"))

    # Where it belongs: the folder <year>/<district_code>/<run_id> (a follow-up: <run_id>.followup/<id> beside it).
    followup = pred.get("kind") == "followup"
    home = run_dir.parent.parent if followup else run_dir.parent
    where = {"run_id": run_dir.name, "district_code": home.name, "year": home.parent.name}
    for k, actual in where.items():
        if str(pred.get(k)) != actual:
            problems.append(tr(f"被移动：签名声明属于 {k} {pred.get(k)}，却放在 {actual} 的文件夹中",
                               f"moved: the statement is for {k} {pred.get(k)}, but sits in a folder for {actual}"))
    follows = pred.get("follows") if isinstance(pred.get("follows"), dict) else {}
    if followup and run_dir.parent.name != f"{follows.get('run_id')}.followup":
        problems.append(tr(f"被移动：整改跟踪记录属于运行 {follows.get('run_id')}，却放在 {run_dir.parent.name} 中",
                           f"moved: the follow-up is of run {follows.get('run_id')}, but sits in {run_dir.parent.name}"))
    allowed = attest.FOLLOWUP_FILES if followup else attest.RUN_FILES
    required = attest.FOLLOWUP_FILES if followup else attest.REQUIRED_FILES

    # What it covers: exactly the run's files, each a plain file inside the folder.
    named_files = set()
    for s in st["subject"]:
        name = s["name"]
        if name not in allowed or name in named_files:
            problems.append(tr(f"签名对象异常：{name!r}",
                               f"unexpected subject: {name!r}"))
            continue
        named_files.add(name)
        p = run_dir / name
        if not p.exists() and not p.is_symlink():
            problems.append(tr(f"缺少：{name}",
                               f"missing: {name}"))
        elif not _regular(p):
            problems.append(tr(f"已改动（不是普通文件）：{name}",
                               f"changed: {name} (not a plain file)"))
        elif sha256_file(p) != s["digest"]["sha256"]:
            problems.append(tr(f"已改动：{name}",
                               f"changed: {name}"))
    for name in required:
        if name not in named_files:
            problems.append(tr(f"未签名：{name}",
                               f"not signed: {name}"))
    for p in sorted(run_dir.iterdir()):
        if p.name not in named_files | {attest.SIGNATURE, attest.PUBKEY}:
            problems.append(tr(f"多出：{p.name}",
                               f"extra: {p.name}"))
    if "findings.json" in named_files and _regular(run_dir / "findings.json") and \
            not any(x.endswith(": findings.json") for x in problems):
        try:
            digest = json.loads((run_dir / "findings.json").read_text(encoding="utf-8")).get("digest")
        except (OSError, ValueError):
            digest = None
        if digest != pred.get("findings_digest"):
            problems.append(tr("findings.json 的摘要与签名的审计发现摘要不同",
                               "findings.json's digest differs from the signed findings digest"))
    if pred.get("kind") == "region":
        problems += chain(run_dir, pred, trusted, allow_demo)
    if followup:
        problems += _followed(run_dir, follows, trusted, allow_demo)
    return bag_problems + problems, st


def _followed(run_dir: Path, follows: dict, trusted, allow_demo: bool) -> list[str]:
    """The run a follow-up names: beside it, with the attestation it pinned, verifying itself."""
    rid = follows.get("run_id")
    if not isinstance(rid, str) or not _RUN_ID.match(rid):
        return [tr(f"整改跟踪记录所跟踪的运行编号异常：{rid!r}", f"the follow-up names an unexpected run: {rid!r}")]
    folder = run_dir.parent.parent / rid
    who = tr(f"所跟踪的运行 {rid}：", f"the run followed up, {rid}: ")
    if not _regular(folder / attest.SIGNATURE):
        return [who + tr("缺失", "missing")]
    if sha256_file(folder / attest.SIGNATURE) != follows.get("attestation_sha256"):
        return [who + tr("签名声明已不是整改跟踪所依据的那一份", "its attestation is not the one the follow-up rests on")]
    try:
        sub, _ = verify(folder, trusted, allow_demo)
    except VerificationError as e:
        return [who + str(e)]
    return [who + x for x in sub]


_RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")
_RUN_REL = re.compile(r"^[0-9]{4}/[0-9]{6}/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


def chain(run_dir: Path, pred: dict, trusted, allow_demo: bool) -> list[str]:
    """A region run's district runs, each where the region's signed statement says, with the attestation it
    pinned (so a district run changed, replaced by another or rolled back fails), and each verifying itself."""
    root = Path(run_dir).parent.parent.parent
    runs = pred.get("district_runs")
    if not isinstance(runs, list) or not runs:
        return [tr("区域运行没有列出其依据的区县运行", "the region run names no district runs")]
    problems = []
    for r in runs:
        rel = r.get("run") if isinstance(r, dict) else None
        if not isinstance(rel, str) or not _RUN_REL.match(rel):
            problems.append(tr(f"区县运行的位置异常：{rel!r}", f"unexpected district run place: {rel!r}"))
            continue
        who = tr(f"区县运行 {rel}：", f"district run {rel}: ")
        folder = root / rel
        sig = folder / attest.SIGNATURE
        if not _regular(sig):
            problems.append(who + tr("缺失", "missing"))
            continue
        if sha256_file(sig) != r.get("attestation_sha256"):
            problems.append(who + tr("签名声明已不是区域报告所依据的那一份（已改动、替换或回退）",
                                     "its attestation is not the one the region report rests on (changed, replaced "
                                     "or rolled back)"))
            continue
        try:
            sub, st = verify(folder, trusted, allow_demo)
        except VerificationError as e:
            problems.append(who + str(e))
            continue
        if st["predicate"].get("kind") == "region":
            problems.append(who + tr("是区域运行，不是区县运行", "a region run, not a district run"))
        problems += [who + x for x in sub]
    return problems


def input_problems(folder: Path, files: list[dict], who: str = "") -> list[str]:
    """The recorded inputs of a package folder, each checked against its recorded sha256: missing, changed and
    added input files named (``who`` prefixes each message: the district, for a region)."""
    from ..package.schema import FILE_EXTENSIONS

    folder = Path(folder)
    problems = []
    recorded = {f["path"]: f for f in files}
    if "package.yaml" not in recorded:
        problems.append(tr(f"{who}该运行没有把 package.yaml 记为输入，不能安全地重现",
                           f"{who}the run did not record package.yaml among its inputs; it cannot be re-produced safely"))
    for rel, f in sorted(recorded.items()):
        p = folder / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            problems.append(tr(f"{who}输入路径不在数据包内：{rel}",
                               f"{who}input path not inside the package: {rel}"))
        elif not p.is_file():
            problems.append(tr(f"{who}输入缺失：{rel}",
                               f"{who}input missing: {rel}"))
        elif sha256_file(p) != f["sha256"]:
            problems.append(tr(f"{who}输入已改动：{rel}（sha256 与记录的不同）",
                               f"{who}input changed: {rel} (sha256 differs from the recorded one)"))
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() in FILE_EXTENSIONS and p.name not in recorded:
                problems.append(tr(f"{who}输入多出：{p.name}",
                                   f"{who}input added: {p.name}"))
    return problems


def reproduce(run_dir: str | Path, package: str | Path | None = None, trusted: str | Path | None = None,
              allow_demo: bool = False) -> tuple[list[str], dict]:
    """Verify the run, check the recorded inputs, re-run the checks with the recorded parameters, compare
    findings digests. Nothing recorded is trusted before the signature and the signer are."""
    problems, st = verify(run_dir, trusted, allow_demo)
    pred = st["predicate"]
    if problems:
        return ["not verified, so not re-produced: " + p for p in problems], pred
    from ..bag import is_bag, open_bag

    if is_bag(Path(run_dir)):
        run_dir = open_bag(run_dir)[0]
    differ = attest.package_differences(pred.get("environment", {}).get("packages"))
    if differ:
        pred = {**pred, "package_differences": differ}
    if pred.get("kind") == "followup":
        raise AuditError(tr("整改跟踪记录只需验证（audit verify，同时验证其所跟踪的运行）；要重现的是所跟踪的运行",
                            "a follow-up is verified (audit verify, which verifies the run it follows too); it is the "
                            "run followed up that is re-produced"))
    if pred.get("kind") == "region":
        return _reproduce_region(run_dir, pred, package)
    with tempfile.TemporaryDirectory(prefix="audit-reproduce-") as tmp:
        if package:
            folder = Path(package)
            problems += input_problems(folder, pred["package"]["files"])
        else:
            folder, found, notes = package_for(archive_root(run_dir), pred["package"]["path"],
                                               pred["package"]["files"], Path(tmp) / "package")
            problems += found
            if notes:
                pred = {**pred, "reproduce_notes": notes}
        return _reproduce_district(pred, folder, problems)


def archive_root(run_dir: Path) -> Path:
    return Path(run_dir).resolve().parent.parent.parent


def package_for(root: Path, path: str, files: list[dict], scratch: Path, who: str = "") \
        -> tuple[Path, list[str], list[str]]:
    """Where a run's inputs are read from for reproduction: the recorded folder while every input there is as
    recorded; else the archive's own copies (content-addressed), rebuilt into ``scratch``. Returns (folder,
    problems: when neither holds them, naming both, notes: what differs at the recorded folder when the
    archive's copies were used)."""
    from .. import inputs

    there = input_problems(Path(path), files, who)
    if not there:
        return Path(path), [], []
    kept = inputs.rebuild(root, files, scratch)
    if not kept:
        return scratch, [], there
    return Path(path), there + [who + x for x in kept], []


def _reproduce_district(pred: dict, folder: Path, problems: list[str]) -> tuple[list[str], dict]:
    from ..params import Params
    from ..pipeline import check_package

    from ..checks import REGISTRY

    for m in pred["parameters"].get("checks_from") or []:
        f = Path(m["path"])
        if f.is_file() and sha256_file(f) != m["sha256"]:
            problems.append(tr(f"检查模块已改动：{f}（sha256 与运行时所用的不同）",
                               f"check module changed: {f} (sha256 differs from the one the run used)"))
    if problems:
        return problems, pred
    params = Params.from_record(pred["parameters"])        # registers the recorded modules' checks
    problems += attest.code_differences(pred.get("code", {}).get("checks"), REGISTRY)
    if problems:
        return problems, pred
    _, _, doc = check_package(folder, params)
    if doc["digest"] != pred["findings_digest"]:
        problems.append(tr(f"审计发现不同：记录的为 {pred['findings_digest']}，重跑得到 {doc['digest']}",
                           f"findings differ: recorded {pred['findings_digest']}, re-run {doc['digest']}"))
    return problems, pred


def _reproduce_region(run_dir: Path, pred: dict, package) -> tuple[list[str], dict]:
    """A region run (verified, chain included): the district runs' recorded packages, each input checked, the
    cross-district checks again with the recorded parameters, the findings digests compared."""
    from ..checks import REGISTRY
    from ..params import Params
    from ..region.data import region_findings

    if package:
        raise AuditError(tr("区域运行依据各区县运行记录的数据包；--package 只用于区县运行",
                            "a region run rests on the packages its district runs recorded; --package is for "
                            "district runs only"))
    problems = []
    with tempfile.TemporaryDirectory(prefix="audit-reproduce-") as tmp:
        runs = []
        for i, r in enumerate(pred["district_runs"]):
            folder, found, notes = package_for(archive_root(run_dir), r["package"]["path"], r["package"]["files"],
                                               Path(tmp) / str(i), who=f"{r['district_code']}（{r['run']}）: ")
            problems += found
            if notes:
                pred = {**pred, "reproduce_notes": pred.get("reproduce_notes", []) + notes}
            runs.append({**r, "package": {**r["package"], "path": str(folder)}})
        if problems:
            return problems, pred
        params = Params.from_record(pred["parameters"])
        problems += attest.code_differences(pred.get("code", {}).get("checks"), REGISTRY)
        if problems:
            return problems, pred
        try:
            _, _, doc = region_findings(runs, params, {"district_code": pred["district_code"],
                                                       "district_name": pred.get("district_name", "")})
        except VerificationError as e:
            return [str(e)], pred
    if doc["digest"] != pred["findings_digest"]:
        problems.append(tr(f"审计发现不同：记录的为 {pred['findings_digest']}，重跑得到 {doc['digest']}",
                           f"findings differ: recorded {pred['findings_digest']}, re-run {doc['digest']}"))
    return problems, pred
