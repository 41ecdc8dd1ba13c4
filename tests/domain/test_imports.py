"""The history import's formats (app/domain/imports.py): the grammar, both parsers, and the
promise that every data line yields exactly one COPY line, whatever the chunking."""

import csv
import datetime as dt
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.imports import (
    AMOUNT,
    COLUMNS,
    MAX_REPORTED,
    OCCURRED_AT,
    CsvParser,
    NdjsonParser,
    Report,
    RowError,
    Splitter,
    check_field,
    parse_header,
    percent,
)


@given(st.integers(1900, 2099), st.integers(0, 13), st.integers(0, 32))
def test_dates_are_accepted_exactly_when_they_exist(year, month, day):
    text = f"{year:04d}-{month:02d}-{day:02d}"
    try:
        dt.date(year, month, day)
        exists = True
    except ValueError:
        exists = False
    assert (OCCURRED_AT.fullmatch(text) is not None) == exists


@pytest.mark.parametrize(
    "value",
    [
        "2025-11-23",
        "2025-11-23T08:00",
        "2025-11-23 08:00:59",
        "2025-11-23T08:00:00.123456",
        "2025-11-23T08:00:00Z",
        "2025-11-23T08:00:00+08:00",
        "2025-11-23T08:00:00-0530",
        "2025-11-23T08:00+08",
        "2000-02-29",
        "2024-02-29T23:59:59Z",
    ],
)
def test_times_accepted(value):
    assert check_field("occurred_at", value) is None


@pytest.mark.parametrize(
    "value",
    [
        "1900-02-29",  # 1900 was no leap year
        "2025-02-29",
        "2025-04-31",
        "2025-11-23T24:00",
        "2025-11-23T08:60",
        "2025-11-23T08",
        "2025-11-23T08:00:00+15:00",
        "23/11/2025",
        "20251123",
        "2100-01-01",
        "1899-12-31",
        "2025-11-23T08:00:00 Asia/Shanghai",
    ],
)
def test_times_refused(value):
    assert check_field("occurred_at", value) is not None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0", True),
        ("0.5", True),
        ("12.50", True),
        ("999999999999.99", True),
        ("1000000000000", False),
        ("1.234", False),
        ("-1", False),
        ("1,5", False),
        (".5", False),
        ("5.", False),
        ("1e3", False),
    ],
)
def test_amounts(value, ok):
    assert (check_field("amount", value) is None) == ok
    assert (AMOUNT.fullmatch(value) is not None) == ok


def test_text_fields():
    assert check_field("member_ref", None) == "is required"
    assert check_field("receipt_no", None) is None
    assert check_field("store_code", "S" * 13) == "is longer than 12 characters"
    assert check_field("member_ref", "M" * 64) is None
    assert check_field("member_ref", "a\tb") == "contains a control character"


def test_header():
    assert parse_header("\ufeffAmount, member_ref ,occurred_at\r") == (
        "amount",
        "member_ref",
        "occurred_at",
    )
    for bad in ("member_ref,amount", "member_ref,occurred_at,amount,x", "a,a"):
        with pytest.raises(Invalid) as caught:
            parse_header(bad)
        assert caught.value.code == "invalid_header"


# --- the splitter ---------------------------------------------------------------------------------


@given(st.binary(max_size=300), st.lists(st.integers(1, 50), max_size=20))
def test_any_chunking_gives_the_same_lines(data, cuts):
    splitter = Splitter(max_line=10_000)
    blocks, position = [], 0
    for cut in cuts:
        block = splitter.feed(data[position : position + cut])
        position += cut
        if block is not None:
            blocks.append(block)
    block = splitter.feed(data[position:])
    if block is not None:
        blocks.append(block)
    tail = splitter.finish()
    lines = b"\n".join(blocks).split(b"\n") if blocks else []
    if tail is not None:
        lines.append(tail)
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    assert lines == expected
    assert splitter.lines_seen == len(expected)


def test_splitter_refuses_a_line_that_never_ends():
    splitter = Splitter(max_line=10)
    splitter.feed(b"header\n12345")
    with pytest.raises(Invalid) as caught:
        splitter.feed(b"678901")
    assert caught.value.code == "line_too_long" and "Line 2" in caught.value.detail


# --- the parsers ----------------------------------------------------------------------------------

_ref = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x7f"),
    min_size=1,
    max_size=64,
).filter(lambda s: s.strip() == s and s)
_date = st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat)
_amount = st.decimals(0, 10**9, places=2).map(lambda d: format(d, "f"))
_receipt = st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9\-/]{1,64}", fullmatch=True))
_row = st.tuples(_ref, _date, _amount, _receipt, st.sampled_from(["", "S01", "S,2"]))


def _csv(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().rstrip("\n").encode()


def _copied(parsed, columns):
    """The COPY CSV read back as PostgreSQL would: empty unquoted field = NULL."""
    lines = parsed.copy.decode().split("\n")
    assert lines[-1] == ""
    out = []
    for line in lines[:-1]:
        fields = next(csv.reader([line])) if line else [""] * len(columns)
        out.append(dict(zip(columns, fields, strict=True)))
    return out


@given(st.lists(_row, min_size=1, max_size=30))
def test_valid_csv_rows_come_through_unchanged(rows):
    parser = CsvParser(COLUMNS)
    parsed = parser.parse(_csv(rows), 2)
    assert parsed.errors == [] and parsed.rows == len(rows)
    copied = _copied(parsed, COLUMNS)
    assert [tuple(c.values()) for c in copied] == [tuple(r) for r in rows]


@given(st.lists(_row, min_size=2, max_size=20), st.data())
def test_a_bad_line_becomes_a_placeholder_in_place(rows, data):
    bad_at = data.draw(st.integers(0, len(rows) - 1))
    lines = _csv(rows).split(b"\n")
    lines[bad_at] = b"not,a,valid,row,at all,really"
    parser = CsvParser(COLUMNS)
    parsed = parser.parse(b"\n".join(lines), 10)
    assert parsed.errors == [RowError(10 + bad_at, None, "expected 5 fields, found 6")]
    copied = _copied(parsed, COLUMNS)
    assert len(copied) == len(rows)
    assert copied[bad_at] == dict.fromkeys(COLUMNS, "")
    others = [tuple(c.values()) for i, c in enumerate(copied) if i != bad_at]
    assert others == [tuple(r) for i, r in enumerate(rows) if i != bad_at]


def test_fast_and_careful_paths_agree():
    parser = CsvParser(("occurred_at", "member_ref", "amount"))
    plain = parser.parse(b"2025-01-01,C1,1\n2025-01-02,C2,2.5", 2)
    careful = parser.parse(b"2025-01-01,C1,1\n2025-01-02, C2 ,2.5\n", 2)  # forces line by line
    assert plain.copy.split(b"\n")[:2] == careful.copy.split(b"\n")[:2]
    assert careful.rows == 2 and careful.errors == []  # the blank last line is no row


@given(st.lists(_row, min_size=1, max_size=20))
def test_ndjson_rows(rows):
    lines = [
        json.dumps(
            {
                "member_ref": r[0],
                "occurred_at": r[1],
                "amount": r[2],
                "receipt_no": r[3] or None,
                "store_code": r[4] or None,
            }
        )
        for r in rows
    ]
    parsed = NdjsonParser().parse("\n".join(lines).encode(), 1)
    assert parsed.errors == [] and parsed.rows == len(rows)
    assert [tuple(c.values()) for c in _copied(parsed, COLUMNS)] == [tuple(r) for r in rows]


def test_report_keeps_the_first_hundred_and_counts_all():
    report = Report()
    report.add([RowError(n, None, "x") for n in range(2, 150)])
    report.add([RowError(200, None, "y")])
    listed, count = report.merged([RowError(1, "occurred_at", "late")], 1)
    assert count == 150
    assert len(listed) == MAX_REPORTED and listed[0].line == 1 and listed[-1].line == 100


@pytest.mark.parametrize(
    ("read", "total", "succeeded", "expected"),
    [
        (0, 1000, False, 0.0),
        (333, 1000, False, 33.3),
        (1000, 1000, False, 100.0),  # all read, the load step still to come
        (1200, 1000, False, 100.0),  # a Content-Length that lied: never past 100
        (500, None, False, None),  # chunked: the size is unknown
        (500, 0, False, None),
        (500, None, True, 100.0),
    ],
)
def test_an_import_jobs_percent(read, total, succeeded, expected):
    assert percent(read, total, succeeded) == expected
