"""Reading the small YAML files users hand us (package.yaml, params files) with bounds: a size limit, and no
anchors or aliases, so that a "billion laughs" file cannot expand into gigabytes anywhere it is later walked."""
from __future__ import annotations

from pathlib import Path

import yaml
from .i18n import tr

MAX_BYTES = 1 << 20          # a package.yaml or a params file is a few hundred bytes; 1 MiB is generous


class YamlProblem(ValueError):
    pass


def load(path: Path, max_bytes: int = MAX_BYTES):
    """The document in ``path``; YamlProblem (with a message) when too large, not YAML, or using aliases."""
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlProblem(tr(f"文件有 {size:,} 字节；最多读取 {max_bytes:,} 字节",
                             f"the file is {size:,} bytes; at most {max_bytes:,} are read"))
    return loads(path.read_bytes()[:max_bytes])


def loads(data: bytes):
    if len(data) > MAX_BYTES:
        raise YamlProblem(tr(f"文件有 {len(data):,} 字节；最多读取 {MAX_BYTES:,} 字节",
                             f"the file is {len(data):,} bytes; at most {MAX_BYTES:,} are read"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise YamlProblem(tr("不是 UTF-8 文本",
                             "not UTF-8 text")) from None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YamlProblem(tr("此处不接受 YAML 锚点和别名（&、*）；请逐一写出每个值",
                                     "YAML anchors and aliases (&, *) are not accepted here; write each value out"))
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise YamlProblem(tr(f"不是可读的 YAML：{e}",
                             f"not readable YAML: {e}")) from None
