import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _messages_in_english(monkeypatch):
    """The library's tests match messages in English (AUDIT_LANG=en); Chinese, the default, is tested on its
    own in test_i18n.py, which unsets this."""
    from audit_lib import i18n

    monkeypatch.setenv(i18n.ENV, "en")
    i18n.set_lang(None)
    yield
    i18n.set_lang(None)
