"""What the region notebook calls: no logic of its own."""
from __future__ import annotations

from pathlib import Path

from ..errors import AuditError
from ..report.notebook import refuse_unknown_parameters, show  # noqa: F401
from . import sections
from .data import RegionData, prepare

PARAMETERS = ("region_code", "year", "archive", "run_data", "run_id", "signer", "signer_keyid", "supersedes")


def load(run_data: str = "", archive: str = "", year: int = 0, region_code: str = "") -> RegionData:
    """The region run's data, handed over by ``audit region``. Opened by hand: the latest district runs of the
    year in the archive (verified, DEMO runs accepted: nothing here is signed); with no archive named and none
    in the project's, a preview over the bundled sample packages."""
    refuse_unknown_parameters(PARAMETERS)
    if run_data:
        d = RegionData.load(run_data)
    else:
        from .. import PROJECT_ROOT
        from .runner import region_meta, region_params
        from .select import district_runs

        if not year:
            raise AuditError("没有给出年度 no year given: 用 -p year 年度 运行本笔记本")
        root = Path(archive or PROJECT_ROOT / "reports")
        if not archive and not (root / str(year)).is_dir():
            from ..synth import ensure_samples
            from .data import preview

            return preview(sorted(ensure_samples().values()), region_params(None, int(year), None))
        runs = district_runs(root, int(year), None, region_code or None, allow_demo=True)
        meta = region_meta(runs, int(year), region_code or None, None)
        d = prepare(runs, region_params(None, int(year), meta["district_code"]), meta)
    if region_code and str(d.meta["district_code"]) != str(region_code):
        raise AuditError(f"数据属于 {d.meta['district_code']}，不是所要求的 {region_code}")
    if year and int(d.meta["year"]) != int(year):
        raise AuditError(f"数据是 {d.meta['year']} 年的，不是所要求的 {year} 年")
    return d


__all__ = ["load", "show", "sections"]
