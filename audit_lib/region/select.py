"""Which district runs a region report rests on, each verified (signature, signer, place, every file) before
anything in it is believed; a run that fails is refused by name, never skipped for an older one."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..archive import runs_of, statement_of
from ..errors import AuditError, VerificationError
from ..i18n import tr
from ..package.load import sha256_file
from ..provenance import attest
from ..provenance.verify import verify

MUNICIPALITIES = {"11", "12", "31", "50"}
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省", "22": "吉林省",
    "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省",
    "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区", "61": "陕西省",
    "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区"}
_CODE = re.compile(r"^[1-9][0-9]{5}$")


@dataclass
class DistrictRun:
    folder: Path                # <archive>/<year>/<district_code>/<run_id>
    rel: str                    # <year>/<district_code>/<run_id>, as the region's attestation names it
    statement: dict             # verified
    findings: dict              # the run's findings.json (its digest verified through the signed subject)
    attestation_sha256: str

    @property
    def predicate(self) -> dict:
        return self.statement["predicate"]

    @property
    def code(self) -> str:
        return str(self.predicate["district_code"])


def prefix(code: str) -> str:
    """The part of a region code its districts share: 120000 -> 12, 410700 -> 4107."""
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code


def region_of(codes: list[str]) -> str | None:
    """The smallest region holding every district: a city (XXXX00), a municipality or province (XX0000)."""
    if not codes:
        return None
    if len({c[:4] for c in codes}) == 1 and codes[0][:2] not in MUNICIPALITIES:
        return codes[0][:4] + "00"
    if len({c[:2] for c in codes}) == 1:
        return codes[0][:2] + "0000"
    return None


def region_name(code: str) -> str:
    return PROVINCES.get(code[:2], "") if code.endswith("0000") else ""


def check_code(code: str, what: str = "--code") -> str:
    if not _CODE.match(code or "") or not code.endswith("00"):
        raise AuditError(tr(f"{what} {code!r} 不是城市或省级行政区划代码（6 位数字，以 00 结尾，例如 120000）",
                            f"{what} {code!r} is not a city or province code (6 digits ending in 00, e.g. 120000)"))
    return code


def latest_runs(root: Path, year: int, code: str | None) -> list[Path]:
    """The latest run of each district of the year in the archive (region runs and, with a code, districts
    outside the region left out)."""
    folder = root / str(year)
    if not folder.is_dir():
        raise AuditError(tr(f"档案库 {root} 中没有 {year} 年的运行", f"the archive {root} holds no runs of {year}"))
    out = []
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not _CODE.match(d.name) or (code and (d.name == code or not d.name.startswith(prefix(code)))):
            continue
        runs = runs_of(root, year, d.name)
        if not runs:
            continue
        st = statement_of(runs[-1])
        if st and st["predicate"].get("kind") == "region":
            continue
        out.append(runs[-1])
    if not out:
        raise AuditError(tr(f"档案库 {root} 中没有 {year} 年" + (f"属于 {code} 的" if code else "") + "区县运行",
                            f"the archive {root} holds no district runs of {year}" + (f" within {code}" if code else "")))
    return out


def _findings(folder: Path) -> dict:
    try:
        return json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise VerificationError(tr(f"{folder}：findings.json 无法读取（{type(e).__name__}）",
                                   f"{folder}: findings.json cannot be read ({type(e).__name__})")) from None


def district_runs(root: Path, year: int, runs: list | None, code: str | None, trusted=None,
                  allow_demo: bool = False) -> list[DistrictRun]:
    """The district runs, verified; VerificationError naming every run that fails and why."""
    root = Path(root).resolve()
    folders = [Path(r).resolve() for r in runs] if runs else latest_runs(root, year, code)
    out, failed, seen = [], [], {}
    for f in folders:
        try:
            rel = f.relative_to(root)
        except ValueError:
            raise AuditError(tr(f"{f} 不在档案库 {root} 中：区域报告只依据同一档案库中的区县运行（用 --archive 指定）",
                                f"{f} is not in the archive {root}: a region report rests only on district runs "
                                f"of the same archive (name it with --archive)")) from None
        if len(rel.parts) != 3:
            raise AuditError(tr(f"{f}：不是运行文件夹（应为 <档案库>/<年度>/<区划代码>/<运行编号>）",
                                f"{f}: not a run folder (<archive>/<year>/<district_code>/<run_id> expected)"))
        try:
            problems, st = verify(f, trusted, allow_demo=allow_demo)
        except VerificationError as e:
            failed.append(f"{rel.as_posix()}: {e}")
            continue
        if problems:
            failed.append(f"{rel.as_posix()}: " + "; ".join(problems))
            continue
        pred = st["predicate"]
        if pred.get("kind") == "region":
            raise AuditError(tr(f"{rel.as_posix()} 是区域运行，不是区县运行", f"{rel.as_posix()} is a region run, not "
                                                                    f"a district run"))
        if int(pred["year"]) != int(year):
            raise AuditError(tr(f"{rel.as_posix()}：年度为 {pred['year']}，不是 {year}",
                                f"{rel.as_posix()}: of {pred['year']}, not {year}"))
        dc = str(pred["district_code"])
        if code and not dc.startswith(prefix(code)):
            raise AuditError(tr(f"{rel.as_posix()}：区县 {dc} 不属于 {code}", f"{rel.as_posix()}: district {dc} is not "
                                                                          f"within {code}"))
        if dc in seen:
            raise AuditError(tr(f"区县 {dc} 给出了两次运行：{seen[dc]} 与 {rel.as_posix()}",
                                f"district {dc} is given twice: {seen[dc]} and {rel.as_posix()}"))
        seen[dc] = rel.as_posix()
        out.append(DistrictRun(f, rel.as_posix(), st, _findings(f), sha256_file(f / attest.SIGNATURE)))
    if failed:
        raise VerificationError(tr("以下区县运行验证未通过，区域报告不能以其为依据：\n  " + "\n  ".join(failed),
                                   "these district runs do not verify; a region report cannot rest on them:\n  "
                                   + "\n  ".join(failed)))
    return sorted(out, key=lambda r: r.code)
