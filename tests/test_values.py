import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from audit_lib.package import arrowtext
from audit_lib.package import values as v


def parse(type_, cells, enum=None):
    return v.parse(v.normalize(pa.chunked_array([cells], type=pa.string())), type_, enum)


@pytest.mark.parametrize("cell", ["1234.5", "1,234.50", "¥1234.50", "￥1234.50", "1234.50元", "１２３４．５０",
                                  " 1234.50 ", "1234.500"])
def test_money_forms_all_read_as_the_same_fen(cell):
    p = parse("money", [cell])
    assert p.values.tolist() == [123450]
    assert not p.bad.any()


def test_money_fast_path_and_text_path_agree():
    plain = parse("money", ["0.01", "12", "99999999.99"])
    assert plain.values.tolist() == [1, 1200, 9999999999]
    mixed = parse("money", ["0.01", "12", "¥99,999,999.99"])
    assert mixed.values.tolist() == plain.values.tolist()


def test_bad_money_is_flagged_with_a_reason():
    p = parse("money", ["-50", "abc", "1.234", None, ""])
    assert p.reasons.tolist() == ["negative amount", "unreadable amount", "unreadable amount", None, None]
    assert p.values.isna().tolist() == [False, True, True, True, True]


@pytest.mark.parametrize("cell", ["2023-05-10", "2023/5/10", "20230510", "2023年5月10日", "45056",
                                  "2023-05-10 00:00:00", "２０２３－０５－１０"])
def test_date_forms(cell):
    p = parse("date", [cell])
    assert p.values.dt.strftime("%Y-%m-%d").tolist() == ["2023-05-10"]


def test_impossible_dates_are_unreadable():
    p = parse("date", ["2023-02-30", "2023-13-01", "hello", "2023-02-28"])
    assert p.reasons.tolist() == ["unreadable date"] * 3 + [None]


@pytest.mark.parametrize("cell", ["2023-05", "202305", "2023年5月", "2023-5", "2023/05", "2023-05-01"])
def test_period_forms(cell):
    assert parse("period", [cell]).values.tolist() == ["2023-05"]


def test_bad_period():
    p = parse("period", ["2023-13", "May"])
    assert p.bad.tolist() == [True, True]


def test_booleans_and_enums_in_chinese_or_english():
    assert parse("bool", ["是", "否", "Y", "n", "1", "0", "TRUE", "false"]).values.tolist() == \
        [True, False, True, False, True, False, True, False]
    assert parse("enum", ["月", "monthly", "季", "一次性", "按年"], "frequency").values.tolist() == \
        ["monthly", "monthly", "quarterly", "one_off", "annual"]
    assert parse("enum", ["社保卡", "存折", "bank_card"], "channel").values.tolist() == ["card", "passbook", "bank_card"]
    p = parse("enum", ["weekly"], "frequency")
    assert p.reasons.tolist() == ["unknown value"]
    p = parse("enum", ["SUCCESS", None, "Failed", "bogus", "成功"], "pay_status")
    assert str(p.values.dtype) == "str"
    assert p.values.astype(object).where(p.values.notna(), None).tolist() == ["success", None, "failed", None, "success"]
    assert p.bad.tolist() == [False, False, False, True, False] and p.reasons[3] == "unknown value"


def test_identity_numbers_are_text_with_upper_case_x():
    p = parse("id", ["11010519491231002x", " 120104197001010011 "])
    assert p.values.tolist() == ["11010519491231002X", "120104197001010011"]


def test_identity_numbers_that_lost_digits_are_detected():
    col = v.normalize(pa.chunked_array([["1.20104E+17", "120104197001010011.0", "11010519491231002X"]]))
    assert v.lost_digits(col).tolist() == [True, True, False]


def test_fen_to_yuan_text():
    assert v.fen_to_yuan_text(123450) == "1234.50"
    assert v.fen_to_yuan_text(-5) == "-0.05"
    assert v.fen_to_yuan_text(123456789, grouping=True) == "1,234,567.89"
    assert v.fen_to_yuan_text(None) == ""


@pytest.mark.parametrize("type_,forms", [
    ("date", ["2023-01-17", "2023/2/16", "2023年3月14日", "20230510", "45000", "2023-13-45", None, "不详"]),
    ("period", ["2023-01", "202302", "2023年3月", "2023-13", None, "x"]),
    ("money", ["￥1,140.00", "1140", "1,140.5元", "-5", None, "abc", "¥0.01"]),
    ("enum", ["成功", "success", "失败", "maybe", None]),
    ("bool", ["是", "否", "Y", "N", "1", "0", "也许", None]),
    ("int", ["1", "60", "1.0", "x", None]),
])
def test_parsing_once_per_distinct_value_gives_what_parsing_every_cell_gives(type_, forms):
    """Repeated values (a million lines of a few hundred spellings) are parsed once each; the rows get exactly
    what parsing each cell would give them: values, quarantine marks and reasons."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(0)
    cells = [forms[i] for i in rng.integers(0, len(forms), 20000)]
    arr = v.normalize(pa.chunked_array([pa.array(cells[:7000], pa.string()), pa.array(cells[7000:], pa.string())]))
    enum = "pay_status" if type_ == "enum" else None
    fast = v.parse(arr, type_, enum)
    slow = v.parse_enum(arr, enum) if type_ == "enum" else v.PARSERS[type_](arr)
    assert fast.values.astype(object).where(fast.values.notna(), None).tolist() == \
        slow.values.astype(object).where(slow.values.notna(), None).tolist()
    assert (fast.bad == slow.bad).all() and fast.reasons[fast.bad].tolist() == slow.reasons[slow.bad].tolist()
    assert fast.bad.any()


def test_an_empty_column_of_a_large_table_parses():
    import pyarrow as pa

    p = v.parse(pa.chunked_array([pa.nulls(10000, pa.string())]), "date")
    assert p.values.isna().all() and not p.bad.any()


DATETIME_CELLS = ["2023-05-10 14:03:22", "2023-02-30 10:00:00", "2023-05-10 24:00:00", "2023-05-10 23:59:60",
                  "2023-05-10 23:60:00", "2023-05-10 23:00:00x", "2023-05-10T23:00:00", "2023-05-10 23:00:0",
                  None, "", "1799-01-01 00:00:00", "2024-02-29 00:00:00", "2023-02-29 00:00:00",
                  "20230510140322", "2023年5月10日 14时03分", "45000.5", "２０２３-05-10 23:00:01",
                  "2023/5/10 23:00:01", "2023-05-10"]


def test_datetime_canonical_cells_read_from_bytes_as_the_patterns_read_them(monkeypatch):
    """Cells written exactly YYYY-MM-DD HH:MM:SS are read straight from their bytes; every cell, impossible
    days and hours included, must come out as the patterns alone read it, and in a column of only such
    cells as well as in a mixed one."""
    fast = parse("datetime", DATETIME_CELLS)
    canonical = parse("datetime", ["2023-05-10 14:03:22", "2024-02-29 23:59:59", "2023-01-01 00:00:00"])
    with monkeypatch.context() as m:                     # read in blocks of three cells: the same values
        m.setattr(arrowtext, "_BLOCK", 3)
        blocks = parse("datetime", DATETIME_CELLS)
        blocks_canonical = parse("datetime", ["2023-05-10 14:03:22", "2024-02-29 23:59:59", "2023-01-01 00:00:00",
                                              "2023-01-01 00:00:01"])
    assert blocks.values.astype(str).tolist() == fast.values.astype(str).tolist()
    assert blocks.bad.tolist() == fast.bad.tolist()
    assert blocks_canonical.values.astype(str).tolist()[:3] == canonical.values.astype(str).tolist()
    assert blocks_canonical.values.iloc[3] == pd.Timestamp("2023-01-01 00:00:01")
    monkeypatch.setattr(v, "_canonical_datetimes",
                        lambda a: (np.full(len(a), np.datetime64("NaT", "s")), np.zeros(len(a), bool)))
    slow = parse("datetime", DATETIME_CELLS)
    assert fast.values.astype(str).tolist() == slow.values.astype(str).tolist()
    assert fast.bad.tolist() == slow.bad.tolist()
    assert fast.values.iloc[0] == pd.Timestamp("2023-05-10 14:03:22")
    assert fast.bad[1] and fast.bad[2] and fast.bad[3] and fast.bad[4]       # 30 Feb, hour 24, second 60, minute 60
    assert canonical.values.astype(str).tolist() == ["2023-05-10 14:03:22", "2024-02-29 23:59:59",
                                                     "2023-01-01 00:00:00"]
    assert not canonical.bad.any()


def test_text_columns_reach_arrow_with_missing_kept_and_positions_minus_one_where_not_found():
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from audit_lib.package.arrowtext import as_text, positions

    held = pd.Series(["甲", None, "b"], dtype="str")
    for s in (held, pd.Series(["甲", None, "b"], dtype=object)):
        a = as_text(s)
        assert a.type == pa.string() and a.to_pylist() == ["甲", None, "b"]
    assert as_text(pd.Series([7, 12])).to_pylist() == ["7", "12"]
    wide = as_text(held, large=True)
    assert wide.type in (pa.string(), pa.large_string()) and wide.to_pylist() == ["甲", None, "b"]
    at = positions(pc.index_in(as_text(held), value_set=pa.array(["b", "甲"])))
    assert at.dtype == np.int64 and at.tolist() == [1, -1, 0]


def test_a_byte_scan_finds_what_a_value_holds_and_nothing_outside_the_values(monkeypatch):
    monkeypatch.setattr(arrowtext, "_BLOCK", 4)             # several blocks per chunk
    whole = pa.array(["1201", None, "E5", "abc", "99.5"])
    assert arrowtext.has_bytes(whole, b".")
    assert arrowtext.has_bytes(whole, b"E") and arrowtext.has_bytes(whole, from_byte=ord("a"))
    # a slice sees only its own values, though it shares the buffer with the rest
    assert not arrowtext.has_bytes(whole.slice(0, 2), b".E") and not arrowtext.has_bytes(whole.slice(0, 2),
                                                                                          from_byte=ord("a"))
    assert arrowtext.has_bytes(whole.slice(4, 1), b".")
    assert not arrowtext.has_bytes(whole, up_to=ord(" ")) and arrowtext.has_bytes(pa.array(["a\tb"]), up_to=ord(" "))
    chunked = pa.chunked_array([["120"], [], ["12 3"], pa.array(["x"], type=pa.string())])
    assert arrowtext.has_bytes(chunked, b" ") and not arrowtext.has_bytes(chunked, b".")
    assert arrowtext.has_bytes(pa.array(["甲"], type=pa.large_string()), from_byte=0x80)
    assert not arrowtext.has_bytes(pa.array([], type=pa.string()), b".")
    assert arrowtext.has_bytes(pa.array([1, 2]), b".")       # not text: never ruled out


def test_identity_columns_ruled_out_by_the_byte_scan_read_as_the_exact_rules_read_them():
    # lower-case x, spaces inside, full-width forms and clean numbers, in columns with and without them
    for cells in (["11010519491231002x", "120104 197001010011"], ["120104197001010011", None],
                  ["１２０１０４１９７００１０１００１１", "11010519491231002X"]):
        col = v.normalize(pa.chunked_array([cells], type=pa.string()))
        got = v.parse(col, "id").values
        up = pa.compute.utf8_upper(col)
        want = pa.compute.replace_substring_regex(up, r"\s+", "").to_pylist()
        assert got.astype(object).where(got.notna(), None).tolist() == want
        assert v.lost_digits(col).tolist() == [False] * len(cells)


def test_columns_with_no_bad_cell_share_one_none_and_bad_cells_keep_their_reasons():
    clean = parse("date", ["2023-01-02"] * 5000 + ["2023/1/3"] * 10)
    assert not clean.bad.any() and set(clean.reasons.tolist()) == {None} and len(clean.reasons) == 5010
    mixed = parse("date", ["2023-01-02"] * 5000 + ["no date", None])
    assert mixed.bad.tolist()[-2:] == [True, False] and mixed.reasons[-2] == "unreadable date"
    assert mixed.reasons[-1] is None and mixed.reasons[0] is None


def test_newlines_counted_a_block_at_a_time_as_bytes_count_counts_them():
    from audit_lib.package.passing import count_newlines as _count_newlines

    data = b"a,b\n" + b"1,2\r\n" * 7 + b"\n\n3,4"
    for block in (1, 3, 5, 1 << 22):
        assert _count_newlines(data, block) == data.count(b"\n")
    assert _count_newlines(b"") == 0


def test_normalising_trims_every_kind_of_white_space_and_leaves_clean_columns_as_they_are():
    import pyarrow.compute as pc

    def exact(cells, fold):
        a = pa.chunked_array([cells], type=pa.string())
        if fold:
            a = pc.utf8_normalize(a, form="NFKC")
        a = pc.utf8_trim_whitespace(a)
        return [None if x == "" else x for x in a.to_pylist()]

    for cells in (["\t120104\r", "\x0b12\x0c", " a b ", "", None, "   "], ["120104", "X1", None],
                  ["\u3000张三\u3000", "李 四 ", "ＡＢ"], ["plain", "text"]):
        for fold in (True, False):
            got = v.normalize(pa.chunked_array([cells], type=pa.string()), fold=fold).to_pylist()
            assert got == exact(cells, fold), (cells, fold)
    clean = pa.chunked_array([["120104", "X1"]], type=pa.string())
    assert v.normalize(clean) is clean                  # nothing to trim: the column itself, not a copy
