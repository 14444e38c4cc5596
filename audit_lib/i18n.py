"""The language the workbench speaks to its user: Chinese by default, English with ``--lang en`` or ``AUDIT_LANG=en``.

Every message a user reads is written once in both languages where it is raised, ``tr("中文", "English")``, so the
two never drift apart and a newcomer sees both at the place the message comes from. What is archived (findings.json,
the signed statement) does not depend on the language; reports and workpapers are Chinese, as the bureau files them.
"""
from __future__ import annotations

import argparse
import os

LANGS = ("zh", "en")
ENV = "AUDIT_LANG"
_chosen: str | None = None


def lang() -> str:
    """The language in force: the one set by ``--lang``, else ``AUDIT_LANG``, else Chinese."""
    if _chosen is not None:
        return _chosen
    return "en" if os.environ.get(ENV, "").strip().lower().startswith("en") else "zh"


def set_lang(value: str | None) -> None:
    """Choose the language for this process (None: back to ``AUDIT_LANG`` or Chinese)."""
    global _chosen
    if value is not None and value not in LANGS:
        raise ValueError(f"language must be one of {LANGS}")
    _chosen = value


def tr(zh: str, en: str) -> str:
    """The message in the language in force."""
    return en if lang() == "en" else zh


# argparse's own words (usage, errors, the help of -h), in Chinese. argparse looks them up through gettext at the
# moment it prints, so a lookup installed here serves every parser built in this process.
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "选项有歧义：%(option)s 可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "必须给出参数 %s 之一",
    "ignored explicit argument %r": "忽略了显式参数 %r",
}


def _argparse_gettext(message: str) -> str:
    return _ARGPARSE_ZH.get(message, message) if lang() == "zh" else message


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return _argparse_gettext(singular if n == 1 else plural)


def install_argparse() -> None:
    """Make argparse speak the language in force."""
    argparse._ = _argparse_gettext              # type: ignore[attr-defined]
    argparse.ngettext = _argparse_ngettext      # type: ignore[attr-defined]


def from_argv(argv: list[str]) -> str | None:
    """The ``--lang`` given on a command line, read before the parser is built (its help is in that language)."""
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a.startswith("--lang="):
            v = a.split("=", 1)[1]
            return v if v in LANGS else None
        if a == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LANGS else None
    return None


class using:
    """``with using("zh"):`` speaks one language inside the block (documents generated in Chinese, say)."""

    def __init__(self, value: str):
        self.value = value

    def __enter__(self):
        global _chosen
        self.before, _chosen = _chosen, self.value

    def __exit__(self, *exc):
        global _chosen
        _chosen = self.before
