import pandas as pd
import pytest

from audit_lib.package import arrowtext
from audit_lib.package import identity as idn


def test_published_examples_of_the_standard_are_valid():
    # The examples printed in GB 11643-1999 (the second is born in 1880).
    v = idn.validate(pd.Series(["11010519491231002X", "440524188001010014"]))
    assert v["valid"].tolist() == [True, True]
    assert v["birth_date"].dt.strftime("%Y-%m-%d").tolist() == ["1949-12-31", "1880-01-01"]


@pytest.mark.parametrize("value,reason", [
    ("11010519491231002Y", "not 18 digits (the last may be X)"),
    ("110105194912310021", "wrong check digit"),
    ("11010519490230002X", "impossible birth date"),
    ("1101051949123100", "not 18 digits (the last may be X)"),
    (idn.check_char("99010519491231002") and "99010519491231002" + idn.check_char("99010519491231002"),
     "unknown region code"),
])
def test_invalid_numbers_say_why(value, reason):
    v = idn.validate(pd.Series([value]))
    assert not v["valid"][0]
    assert v["reason"][0] == reason


def test_birth_after_the_audit_year_is_impossible():
    body = "12010420250101001"
    v = idn.validate(pd.Series([body + idn.check_char(body)]), latest_birth="2023-12-31")
    assert v["reason"][0] == "impossible birth date"


def test_check_character_matches_standard():
    assert idn.check_char("11010519491231002") == "X"
    assert idn.check_char("44052418800101001") == "4"


def test_masking_helpers():
    assert idn.masked_id("11010519491231002X") == "110105********002X"
    assert idn.masked_ids(pd.Series(["11010519491231002X", None])).tolist() == ["110105********002X", ""]
    assert idn.masked_name("张三明") == "张*"
    assert idn.masked_names(pd.Series(["李四", ""])).tolist() == ["李*", ""]
    assert idn.masked_account("6222021234567890123") == "****0123"
    assert idn.masked_accounts(pd.Series(["6222021234567890123"])).tolist() == ["****0123"]


def test_age_in_whole_years():
    birth = pd.Series(pd.to_datetime(["2005-06-15", "2005-06-15", "1943-01-01"]))
    on = pd.Series(pd.to_datetime(["2023-06-14", "2023-06-15", "2023-01-01"]))
    assert idn.age_on(birth, on).tolist() == [17, 18, 80]


def test_numbers_judged_in_blocks_repeated_and_missing_as_one_by_one(monkeypatch):
    """Numbers are read from their bytes a block at a time; repeated and missing numbers and numbers of other
    lengths or with other characters get, row by row, what each gets alone."""
    body = "12010419800101001"
    good = body + idn.check_char(body)
    cells = [good, None, "1201041980010100", good, "12010419800101001x", "１" + good[1:], good[:17] + "0",
             "120104198002300011", None, good + " "]
    alone = [idn.validate(pd.Series([c], dtype="str")) for c in cells]
    monkeypatch.setattr(arrowtext, "_BLOCK", 2)
    v = idn.validate(pd.Series(cells, dtype="str"), latest_birth="2023-12-31")
    assert v["valid"].tolist() == [bool(a["valid"][0]) for a in alone] == \
        [True, False, False, True, False, False, False, False, False, False]
    assert [None if pd.isna(r) else r for r in v["reason"]][2:8] == ["not 18 digits (the last may be X)", None, "not 18 digits (the last may be X)",
                                         "not 18 digits (the last may be X)", "wrong check digit",
                                         "impossible birth date"]
    assert v["birth_date"].iloc[3] == pd.Timestamp("1980-01-01") and pd.isna(v["birth_date"].iloc[1])
