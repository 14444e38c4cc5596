"""Reading data packages: every form the contract allows, and every error it names."""
import json
import subprocess
import sys

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit_lib.errors import PackageError
from audit_lib.package import load_package
from audit_lib.synth import generate
from audit_lib.synth.writer import WriteOptions, write_package as write_district

from helpers import HEAD, base, write_package


@pytest.fixture(scope="module")
def district():
    return generate(lines=1500, seed=11)


def _same_tables(a, b):
    for name in ("payments", "beneficiaries", "cards", "policy_items", "fund_flows", "disclosures"):
        x = a.tables[name].drop(columns="_row")
        y = b.tables[name].drop(columns="_row")
        pd.testing.assert_frame_equal(x, y, check_dtype=False)


@pytest.mark.parametrize("opt", [
    WriteOptions(encoding="utf-8-sig"),
    WriteOptions(encoding="gbk", chinese_headers=True, chinese_values=True),
    WriteOptions(encoding="gb18030", title_rows=2, money_style="comma"),
    WriteOptions(fmt="parquet"),
    WriteOptions(money_style="yen", chinese_file_names=True),
    WriteOptions(money_style="yuan", chinese_headers=True),
], ids=["bom", "gbk-chinese", "gb18030-titles", "parquet", "yen-chinese-files", "yuan"])
def test_every_format_reads_to_the_same_tables(tmp_path, district, opt):
    ref = load_package(write_district(tmp_path / "ref", district))
    other = load_package(write_district(tmp_path / "other", district, opt))
    assert other.quarantine.empty
    _same_tables(ref, other)


def test_xlsx_with_title_rows_and_chinese_headers(tmp_path, district):
    small = generate(lines=300, seed=3)
    opt = WriteOptions(formats={"payments": "xlsx", "policy_items": "xlsx"}, chinese_headers=True, title_rows=2)
    ref = load_package(write_district(tmp_path / "ref", small))
    other = load_package(write_district(tmp_path / "x", small, opt))
    _same_tables(ref, other)
    # Rows are numbered as Excel shows them: two title rows, the header on row 3, data from row 4.
    assert other.tables["payments"]["_row"].iloc[0] == 4


def test_full_width_headers_and_lower_case_x(tmp_path):
    t = base()
    t["payments"][0]["person_id"] = HEAD.lower()
    root = write_package(tmp_path / "p", t)
    text = (root / "payments.csv").read_text(encoding="utf-8")
    (root / "payments.csv").write_text(text.replace("payment_id", "ｐａｙｍｅｎｔ＿ｉｄ", 1), encoding="utf-8")
    pkg = load_package(root)
    assert pkg.tables["payments"]["person_id"].iloc[0] == HEAD.upper()


def test_bad_rows_are_quarantined_with_excel_row_and_reason(tmp_path):
    t = base()
    t["payments"][1]["amount"] = "-50"
    t["payments"][2]["pay_date"] = "2023-02-30"
    t["payments"].append(dict(t["payments"][0], payment_id=t["payments"][0]["payment_id"]))
    pkg = load_package(write_package(tmp_path / "p", t))
    q = pkg.quarantine
    got = sorted(zip(q["row"], q["column"], q["value"], q["reason"]))
    assert got == [(3, "amount", "-50", "negative amount"),
                   (4, "pay_date", "2023-02-30", "unreadable date"),
                   (5, "payment_id", t["payments"][0]["payment_id"], "duplicate payment_id (first at row 2)")]
    assert len(pkg.tables["payments"]) == 1
    assert pkg.rows_read["payments"] == 4       # nothing lost: 1 loaded + 3 quarantined


def test_ragged_rows_are_quarantined(tmp_path):
    root = write_package(tmp_path / "p", base())
    with open(root / "payments.csv", "a", encoding="utf-8") as f:
        f.write("P9,B1,A01\n")
    pkg = load_package(root)
    q = pkg.quarantine
    assert q["row"].tolist() == [5] and "wrong number of columns" in q["reason"][0]


def test_empty_key_is_quarantined_but_check_material_is_kept(tmp_path):
    t = base()
    t["payments"][0]["item_code"] = ""
    t["payments"][1]["item_code"] = "ZZ99"                 # not on the list: kept for CP03
    t["payments"][2]["person_id"] = "120104197001010012"    # wrong check digit: kept for CP12
    pkg = load_package(write_package(tmp_path / "p", t))
    assert pkg.quarantine["reason"].tolist() == ["empty value"]
    assert sorted(pkg.tables["payments"]["item_code"]) == ["A01", "ZZ99"]


def test_quoted_fields_with_new_lines_keep_row_numbers(tmp_path):
    t = base()
    t["policy_items"][0]["legal_basis"] = "第一行\n第二行"
    t["payments"][1]["amount"] = "abc"
    root = write_package(tmp_path / "p", t)
    pkg = load_package(root)
    assert pkg.tables["policy_items"]["legal_basis"][0] == "第一行\n第二行"
    assert pkg.quarantine["row"].tolist() == [3]


def _fails(root, *words):
    with pytest.raises(PackageError) as e:
        load_package(root)
    for w in words:
        assert w in str(e.value)
    return str(e.value)


def test_missing_required_table(tmp_path):
    root = write_package(tmp_path / "p", base())
    (root / "cards.csv").unlink()
    _fails(root, "cards", "社保卡", "missing")


def test_missing_required_column(tmp_path):
    root = write_package(tmp_path / "p", base())
    df = pd.read_csv(root / "payments.csv", dtype=str).drop(columns=["amount"])
    df.to_csv(root / "payments.csv", index=False)
    _fails(root, "payments.csv", "amount", "发放金额")


def test_identity_numbers_in_scientific_notation(tmp_path):
    root = write_package(tmp_path / "p", base())
    text = (root / "payments.csv").read_text(encoding="utf-8").replace(HEAD, "1.20104E+17")
    (root / "payments.csv").write_text(text, encoding="utf-8")
    _fails(root, "payments.csv", "person_id", "row 2", "lost digits")


def test_identity_numbers_as_excel_numbers(tmp_path):
    root = write_package(tmp_path / "p", base())
    df = pd.read_csv(root / "beneficiaries.csv", dtype=str)
    (root / "beneficiaries.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        cells = list(row)
        cells[0] = float(cells[0][:17])
        ws.append(cells)
    wb.save(root / "beneficiaries.xlsx")
    _fails(root, "beneficiaries.xlsx", "person_id", "row 2")


def test_identity_numbers_as_parquet_integers(tmp_path):
    root = write_package(tmp_path / "p", base())
    df = pd.read_csv(root / "cards.csv", dtype=str)
    (root / "cards.csv").unlink()
    tbl = pa.table({c: pa.array(df[c].tolist()) for c in df.columns}).set_column(
        0, "person_id", pa.array([int(x[:17]) for x in df["person_id"]]))
    pq.write_table(tbl, root / "cards.parquet")
    _fails(root, "cards.parquet", "person_id")


def test_unreadable_and_empty_files(tmp_path):
    root = write_package(tmp_path / "p", base())
    (root / "cards.csv").write_bytes(b"")
    _fails(root, "cards.csv", "empty")
    root = write_package(tmp_path / "q", base())
    (root / "cards.csv").unlink()
    (root / "cards.xlsx").write_bytes(b"this is not a workbook")
    _fails(root, "cards.xlsx", "not a readable Excel workbook")
    root = write_package(tmp_path / "r", base())
    (root / "payments.csv").write_bytes(b"\xff\xfe\x00garbage\x81\x00\xff")
    _fails(root, "payments.csv")


def test_header_without_rows_for_a_required_table(tmp_path):
    t = base()
    root = write_package(tmp_path / "p", t)
    (root / "payments.csv").write_text(",".join(pd.read_csv(root / "payments.csv", dtype=str).columns) + "\n")
    _fails(root, "payments.csv", "no rows")


def test_package_yaml_is_required_and_checked(tmp_path):
    root = write_package(tmp_path / "p", base())
    (root / "package.yaml").unlink()
    _fails(root, "package.yaml")
    root = write_package(tmp_path / "q", base())
    (root / "package.yaml").write_text("district_code: 12\nyear: 2023\n")
    _fails(root, "district_code")


def test_two_files_for_one_table_is_an_error(tmp_path):
    root = write_package(tmp_path / "p", base())
    (root / "社保卡.csv").write_bytes((root / "cards.csv").read_bytes())
    _fails(root, "cards", "more than one file")


def test_missing_optional_table_is_not_loaded(tmp_path):
    pkg = load_package(write_package(tmp_path / "p", base()))
    assert not pkg.has("deaths") and pkg.has("payments")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "audit_lib.cli", *args], capture_output=True, text=True)


def test_cli_validate_prints_summary_and_exits_2_on_fatal(tmp_path):
    t = base()
    t["payments"][1]["amount"] = "-50"
    root = write_package(tmp_path / "p", t)
    r = _cli("validate", str(root))
    assert r.returncode == 0
    assert "payments.csv row 3 amount: '-50'" in r.stdout and "negative amount" in r.stdout
    (root / "cards.csv").unlink()
    r = _cli("validate", str(root))
    assert r.returncode == 2
    assert "cards" in r.stderr and "Traceback" not in r.stderr


def test_findings_lists_quarantine(tmp_path):
    t = base()
    t["payments"][1]["amount"] = "-50"
    root = write_package(tmp_path / "p", t)
    # One of three payment lines quarantined is a third of the table: the run stops unless the loss is accepted.
    r = _cli("check", str(root), "--out", str(tmp_path / "f.json"))
    assert r.returncode == 2 and "1 of 3 rows of payments" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "accept.yaml").write_text("max_quarantined_share: 0.5\n", encoding="utf-8")
    r = _cli("check", str(root), "--params", str(tmp_path / "accept.yaml"), "--out", str(tmp_path / "f.json"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert doc["data_quality"] == [{"table": "payments", "file": "payments.csv", "row": 3, "column": "amount",
                                    "value": "-50", "reason": "negative amount"}]


def test_garbage_cells_are_quarantined_or_kept_and_no_check_errors(tmp_path):
    """1% of the cells of the main tables replaced by junk: every row is either loaded or quarantined with a
    reason, and every check still runs (none reports an error)."""
    import numpy as np

    from audit_lib.pipeline import check_package
    from audit_lib.synth import make_package

    root = tmp_path / "p"
    make_package(root, lines=3000, seed=13)
    rng = np.random.default_rng(0)
    junk = np.array(["", "  ", "N/A", "-1", "abc", "2023-13-45", "1.2E+17", "＝SUM(A1)", "<b>x</b>", "None"],
                    dtype=object)
    rows = {}
    for name in ("payments", "beneficiaries", "cards", "bank_returns", "policy_items"):
        df = pd.read_csv(root / f"{name}.csv", dtype=str, keep_default_na=False)
        id_cols = {"person_id", "account_holder_id"}
        for col in df.columns:
            if col in id_cols:
                continue              # identity numbers that lost digits are fatal by design: tested elsewhere
            hit = rng.random(len(df)) < 0.01
            df.loc[hit, col] = junk[rng.integers(0, len(junk), hit.sum())]
        df.to_csv(root / f"{name}.csv", index=False)
        rows[name] = len(df)
    pkg, outcomes, doc = check_package(root, {"max_quarantined_share": 0.5})
    for name, n in rows.items():
        q = pkg.quarantine[pkg.quarantine["table"] == name]
        assert len(pkg.tables[name]) + q["row"].nunique() == n == pkg.rows_read[name]
        assert q["reason"].notna().all() and (q["row"] >= 2).all()
    assert [o.check.id for o in outcomes if o.status == "error"] == []


def test_blank_line_and_multi_line_record_together_keep_row_numbers(tmp_path):
    t = base()
    t["policy_items"][0]["legal_basis"] = "第一行\n第二行"          # one record over two lines
    t["payments"][2]["amount"] = "abc"
    root = write_package(tmp_path / "p", t)
    text = (root / "payments.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    text.insert(2, "\n")                                             # a blank line after the first payment
    (root / "payments.csv").write_text("".join(text), encoding="utf-8")
    pkg = load_package(root)
    assert pkg.quarantine["row"].tolist() == [5]                     # header 1, P1 2, blank 3, P2 4, P3 5
    assert len(pkg.tables["payments"]) == 2


def test_xlsx_through_calamine_keeps_every_rule(tmp_path):
    """Dates as Excel dates and as text in one column, money as numbers and as text, a number in a text column,
    a blank row and title rows: values as written, quarantined rows at their Excel row numbers."""
    import datetime as dt

    import openpyxl

    t = base()
    root = write_package(tmp_path / "p", t)
    pay = pd.read_csv(root / "payments.csv", dtype=str, keep_default_na=False)
    (root / "payments.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "发放明细"
    ws.append(["南开区2023年发放明细"])                      # title row 1
    ws.append([])                                            # blank row 2
    ws.append(list(pay.columns))                             # header row 3
    for k, row in enumerate(pay.to_dict("records")):
        row = dict(row)
        if k == 0:
            row["pay_date"] = dt.datetime(2023, 1, 15)       # an Excel date
            row["amount"] = 100                              # money as a number
            row["batch_id"] = 20230101                       # a number where text is expected
        if k == 1:
            row["pay_date"] = "2023年2月15日"                  # the same column as text
            row["amount"] = "￥100.00"
        ws.append(list(row.values()))
        if k == 1:
            ws.append([])                                    # a blank row between records: row 6
    bad = dict(pay.iloc[2])
    bad["pay_date"] = "不详"
    ws.append(list(bad.values()))                            # row 8
    wb.save(root / "payments.xlsx")
    pkg = load_package(root)
    p = pkg.tables["payments"]
    assert [d.strftime("%Y-%m-%d") for d in p["pay_date"]] == ["2023-01-15", "2023-02-15", "2023-03-15"][:len(p)]
    assert p["amount"].tolist()[:2] == [10000, 10000] and p["batch_id"].iloc[0] == "20230101"
    assert pkg.quarantine[["row", "column", "reason"]].values.tolist() == [[8, "pay_date", "unreadable date"]]
    assert p["_row"].tolist() == [4, 5, 7]


def test_repeats_marks_every_later_occurrence_across_chunks():
    import numpy as np
    import pyarrow as pa

    from audit_lib.package.load import _repeats

    rng = np.random.default_rng(1)
    vals = [None if x == 0 else f"P{x}" for x in rng.integers(0, 3000, 20000)]
    s = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(vals[:8000]), pa.array(vals[8000:])])))
    expected = pd.Series(vals).duplicated(keep="first").to_numpy() & pd.Series(vals).notna().to_numpy()
    assert (_repeats(s) == expected).all() and expected.any()
    assert not _repeats(pd.Series(pd.arrays.ArrowStringArray(pa.array([f"P{i}" for i in range(5000)])))).any()


@pytest.mark.parametrize("small", [1 << 18, 0])
def test_repeated_numbers_found_whatever_the_order_and_nulls(monkeypatch, small):
    """A unique column's repeats (nulls never repeat) are found the same way by each of the reader's paths: a
    column in increasing order, one in any order, one with empty cells; counted by Arrow (a small table) or by
    DuckDB (a large one)."""
    import numpy as np

    from audit_lib.package import load as load_mod
    from audit_lib.package.load import _all_distinct, _repeats

    monkeypatch.setattr(load_mod, "_SMALL", small)
    rng = np.random.default_rng(5)
    for n, width in ((50, 2), (3000, 4), (3000, 9)):
        ids = rng.integers(0, 10 ** width, n).astype(str)
        for cells in (sorted(set(ids)), list(ids), [None if i % 7 == 0 else x for i, x in enumerate(ids)],
                      [None if i % 7 == 0 else x for i, x in enumerate(sorted(set(ids)))]):
            s = pd.Series(cells, dtype="str")
            expected = (s.duplicated(keep="first") & s.notna()).to_numpy()
            assert (_repeats(s) == expected).all()
            assert _all_distinct(pa.chunked_array([pa.array(cells, pa.string())])) == (not expected.any())


def test_passing_hands_on_every_byte_once_and_counts_its_line_ends():
    import hashlib
    import io

    from audit_lib.package.passing import Passing

    data = b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\n5\r6\r"
    for step in (1, 2, 3, 5, 64):
        src = Passing(io.BytesIO(data))
        assert src.head(4) == data[:4]
        src.skip(3)                                   # the byte-order mark is hashed, not handed on
        out = b""
        while chunk := src.read(step):
            out += chunk
        assert out == data[3:]
        assert src.hexdigest() == hashlib.sha256(data).hexdigest() and src.size == len(data)
        # A CR at the end of one read and its LF at the start of the next are still one CRLF.
        assert (src.newlines, src.cr, src.crlf, src.last) == (3, 4, 2, b"\r")


def test_csv_is_parsed_as_it_is_read_and_read_whole_only_where_it_must_be(tmp_path):
    """The same text columns, row numbers and digest streamed as read whole; the files only a whole reading
    can number rightly (or report on) are read whole."""
    import hashlib

    import audit_lib.package.load as L
    from audit_lib.package.schema import TABLE_BY_NAME

    t = base()
    root = write_package(tmp_path / "p", t)
    plain = (root / "payments.csv").read_bytes().replace(b"\r\n", b"\n")    # the csv module ends lines CRLF
    lines = plain.split(b"\n")
    text = plain.decode("utf-8")
    variants = {
        "utf-8": (plain, True),
        "bom": (b"\xef\xbb\xbf" + plain, True),
        "crlf": (plain.replace(b"\n", b"\r\n"), True),
        "gb18030": (text.replace("A01", "甲01").encode("gb18030"), False),
        "title rows": ("明细表\n单位：元\n".encode("utf-8") + plain, True),
        "lone cr": (plain.replace(b"\n", b"\r"), False),
        "blank line": (b"\n".join(lines[:2] + [b""] + lines[2:]), False),
        "ragged row": (plain + b"P9,B1,A01\n", False),
        "mixed encodings": (plain + "P9,甲".encode("gb18030") + plain.split(b"\n")[1][5:] + b"\n", False),
        "no header": (b"x,y\n1,2\n", False),
    }
    table = TABLE_BY_NAME["payments"]
    path = root / "payments.csv"
    for name, (data, streams) in variants.items():
        path.write_bytes(data)
        got = L._stream_csv(path, table)
        assert (got is not None) == streams, name
        if got is None:
            continue
        raw, digest, size = got
        whole = L._read_csv(path, table, data)
        assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data)), name
        assert raw.rows.tolist() == whole.rows.tolist() and raw.ignored == whole.ignored, name
        assert {k: v.to_pylist() for k, v in raw.columns.items()} == \
            {k: v.to_pylist() for k, v in whole.columns.items()}, name
    # Read whole where it must be, the package still reads: the ragged row quarantined, its digest recorded.
    path.write_bytes(variants["ragged row"][0])
    pkg = load_package(root)
    assert pkg.quarantine["row"].tolist() == [len(t["payments"]) + 2]
    [f] = [f for f in pkg.files if f.table == "payments"]
    assert f.sha256 == hashlib.sha256(variants["ragged row"][0]).hexdigest()


def test_text_columns_come_out_of_reading_in_one_piece():
    """A text column read in several blocks is one Arrow chunk once typed (rows taken from a column in pieces
    join the pieces first, every time); values, missing cells, dtype, labels and name unchanged; other
    columns untouched."""
    import numpy as np

    from audit_lib.package.arrowtext import one_piece
    from audit_lib.package.load import Raw, type_table
    from audit_lib.package.schema import TABLE_BY_NAME

    chunks = pa.chunked_array([["P1", None], ["P3"], [" P4 ", "P5"]], type=pa.string())
    text = pd.StringDtype("pyarrow", na_value=np.nan)                   # the "str" dtype the loader gives
    s = pd.Series(pd.arrays.ArrowStringArray(chunks.cast(pa.large_string()), dtype=text), index=[5, 6, 7, 8, 9],
                  name="person_id")
    got = one_piece(s)
    assert got.array.__arrow_array__().num_chunks == 1
    pd.testing.assert_series_equal(got, s)
    ints = pd.Series([1, 2, 3])
    assert one_piece(ints) is ints

    # Through the typing of a table read in three blocks: every text column one chunk, the same values.
    cols = {"person_id": pa.chunked_array([["P1", "P2"], ["P3"], [" P4 ", "P5"]]),
            "account_no": pa.chunked_array([["A1", "A2"], ["A3"], ["A4", "A5"]]),
            "bank": pa.chunked_array([["B", None], ["B"], ["B", "B"]]),
            "status": pa.chunked_array([["normal", "normal"], ["lost"], ["normal", "normal"]])}
    df, q = type_table(Raw(dict(cols), np.arange(2, 7), [], []), TABLE_BY_NAME["cards"], "cards.csv")
    assert len(df) == 5 and q.empty
    for name in cols:
        assert df[name].array.__arrow_array__().num_chunks == 1, name
    assert df["person_id"].tolist() == ["P1", "P2", "P3", "P4", "P5"]
    assert df["bank"].isna().tolist() == [False, True, False, False, False]
    assert df["status"].tolist() == ["normal", "normal", "lost", "normal", "normal"]
