"""History import (issue 6): CSV and NDJSON transactions, validated row by row.

Pure: bytes in, COPY-ready CSV out. ``Splitter`` cuts the byte stream into blocks of whole
lines; a ``Parser`` turns each block into CSV for PostgreSQL's ``COPY ... (FORMAT csv)`` plus
the errors of its bad rows. Every data line gives exactly one output line, a bad or blank
one an empty placeholder (all NULL), so the n-th row COPY loads is the file's n-th data line
and the database can name lines too (``occurred_at`` after today is checked there, set-based).

Formats (decisions where the issue is silent):

* **CSV**: UTF-8 (a BOM is ignored), a header naming the columns in any order —
  ``member_ref``, ``occurred_at``, ``amount`` required, ``receipt_no``, ``store_code``
  optional. One record per line; fields may be double-quoted (RFC 4180) but a line break
  inside a field is not accepted. Surrounding spaces of a field are ignored.
* **NDJSON**: one JSON object per line with the same keys; ``amount`` a decimal string (a
  JSON number is taken as written); ``receipt_no`` and ``store_code`` may be null. Unknown
  keys are an error.
* Blank lines are skipped. ``member_ref``: 1-64 characters; ``occurred_at``: a date
  ``YYYY-MM-DD`` (midnight, tenant time zone) or an ISO-8601 time ``YYYY-MM-DDThh:mm[:ss[.f]]``
  with an optional offset ``Z``/``±hh[:mm]`` (without one: the tenant's time zone), years
  1900-2099; ``amount``: CNY ≥ 0 with at most 2 decimals and 12 digits before the point
  (a receipt's net amount: returns are not imported as negative rows); ``receipt_no`` up to
  64 characters, ``store_code`` up to 12.

Speed: a block whose every line has the plain shape (no quotes, no stray spaces) is checked
by one regular expression over the whole block and passed on as it is; only a block with an
odd line is taken line by line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import Invalid

REQUIRED = ("member_ref", "occurred_at", "amount")
OPTIONAL = ("receipt_no", "store_code")
COLUMNS = REQUIRED + OPTIONAL
MAX_LENGTH = {"member_ref": 64, "receipt_no": 64, "store_code": 12}
MAX_REPORTED = 100  # bad rows listed in a report
MAX_LINE_BYTES = 1 << 20


class ImportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


class OnError(StrEnum):
    REJECT = "reject"
    SKIP = "skip"


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    field: str | None
    reason: str


# --- the grammar -----------------------------------------------------------------------------

_YEAR = r"(?:19|20)\d\d"
_LEAP_YEAR = r"(?:19(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26]))"
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])"
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)"
)
_DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = (
    r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?"
    r"(?:Z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?)?)?"
)
OCCURRED_AT = re.compile(_DATE + _TIME)
AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_NEGATIVE = re.compile(r"-\d{1,12}(?:\.\d{1,2})?")
# A text field as the fast path takes it: no quote, comma or control character, no
# surrounding space (such lines go the careful way, which strips and quotes).
_TEXT = r'[^,"\x00-\x20](?:[^,"\x00-\x1f]{{0,{inner}}}[^,"\x00-\x20])?'
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _field_pattern(column: str, required: bool) -> str:
    if column == "occurred_at":
        body = OCCURRED_AT.pattern
    elif column == "amount":
        body = AMOUNT.pattern
    else:
        body = _TEXT.format(inner=MAX_LENGTH[column] - 2)
    return body if required else f"(?:{body})?"


def parse_header(line: str) -> tuple[str, ...]:
    """The CSV header's columns, in file order; 422 ``invalid_header`` naming what is wrong."""
    names = [name.strip().lower() for name in line.lstrip("\ufeff").rstrip("\r").split(",")]
    allowed = ", ".join(COLUMNS)
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise Invalid(
            "invalid_header",
            "Unknown column {unknown!r} in the header; the columns are {allowed}.",
            field="header",
            unknown=unknown[0],
            allowed=allowed,
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise Invalid(
            "invalid_header",
            "Column {duplicated!r} appears twice.",
            field="header",
            duplicated=duplicated[0],
        )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise Invalid(
            "invalid_header",
            "The header lacks {value}; it names the columns ({allowed}), the first three required.",
            field="header",
            value=", ".join(missing),
            allowed=allowed,
        )
    return tuple(names)


# --- checking one record (the careful path) ---------------------------------------------------


def check_field(column: str, value: str | None) -> str | None:
    """Why ``value`` is not acceptable for ``column``, or None. ``value`` is stripped; None or
    "" means absent."""
    if not value:
        return "is required" if column in REQUIRED else None
    if column == "occurred_at":
        if OCCURRED_AT.fullmatch(value) is None:
            return (
                "is not a date (YYYY-MM-DD) or an ISO-8601 time (YYYY-MM-DDThh:mm[:ss][±hh:mm])"
                " between 1900 and 2099"
            )
        return None
    if column == "amount":
        if AMOUNT.fullmatch(value) is not None:
            return None
        if _NEGATIVE.fullmatch(value) is not None:
            return "is negative: import each receipt's net amount (≥ 0)"
        return "is not an amount in CNY ≥ 0 with at most 2 decimals, e.g. 128.50"
    if len(value) > MAX_LENGTH[column]:
        return f"is longer than {MAX_LENGTH[column]} characters"
    if _CONTROL.search(value):
        return "contains a control character"
    return None


def check_record(values: Mapping[str, str | None]) -> RowError | None:
    """The first problem of a record (line 0: the caller sets it)."""
    for column in COLUMNS:
        reason = check_field(column, values.get(column))
        if reason is not None:
            return RowError(0, column, f"{column} {reason}")
    return None


def _quoted(value: str | None) -> str:
    """A value as a COPY CSV field: empty is NULL, anything else quoted when needed."""
    if not value:
        return ""
    if any(c in value for c in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


# --- streams and parsers ----------------------------------------------------------------------


class Splitter:
    """Cuts a byte stream into blocks of whole lines (without their final line break)."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._rest = b""
        self._max_line = max_line
        self.lines_seen = 0  # complete lines handed out so far

    def feed(self, chunk: bytes) -> bytes | None:
        data = self._rest + chunk if self._rest else chunk
        end = data.rfind(b"\n")
        if end < 0:
            self._rest = data
            self._check_rest()
            return None
        self._rest = data[end + 1 :]
        self._check_rest()
        block = data[:end]
        self.lines_seen += block.count(b"\n") + 1
        return block

    def finish(self) -> bytes | None:
        """The last line when the stream did not end with a line break."""
        rest, self._rest = self._rest, b""
        if rest:
            self.lines_seen += 1
            return rest
        return None

    def _check_rest(self) -> None:
        if len(self._rest) > self._max_line:
            raise Invalid(
                "line_too_long",
                "Line {value} is longer than {max_line} bytes.",
                field="body",
                value=self.lines_seen + 1,
                max_line=self._max_line,
            )


@dataclass
class Parsed:
    """One block's outcome: CSV for COPY (one line per data line), its bad rows, counts."""

    copy: bytes
    rows: int  # data lines (blank lines not counted)
    errors: list[RowError]


def _parse_lines(
    block: bytes,
    first_line: int,
    line_of: Callable[[bytes, int], tuple[str | None, RowError | None]],
    placeholder: str,
) -> Parsed:
    """Each line through ``line_of``: (its COPY line, None), (None, its error) or, when it is
    blank, (None, None). A bad or blank line keeps its place as ``placeholder`` (all NULL), so
    the n-th row COPY loads is the block's n-th line."""
    out: list[str] = []
    errors: list[RowError] = []
    rows = 0
    for n, raw in enumerate(block.split(b"\n"), start=first_line):
        line, error = line_of(raw, n)
        if line is None and error is None:  # blank
            out.append(placeholder)
            continue
        rows += 1
        if error is not None:
            errors.append(error)
            out.append(placeholder)
        else:
            assert line is not None  # a line, an error or neither (blank)
            out.append(line)
    return Parsed(("\n".join(out) + "\n").encode(), rows, errors)


class CsvParser:
    """CSV after its header. ``columns`` is the order COPY receives them in (the file's)."""

    line_offset = 1  # the n-th data line is line n + 1 of the file (the header is line 1)

    def __init__(self, header: tuple[str, ...]) -> None:
        self.columns = header
        fields = [_field_pattern(c, c in REQUIRED) for c in header]
        line = ",".join(fields)
        self._line = re.compile(line)
        self._block = re.compile(f"^{line}$", re.MULTILINE)
        self._placeholder = "," * (len(header) - 1)

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """``block``: whole lines without the last line break; ``first_line`` its line number."""
        try:
            text = block.decode()
        except UnicodeDecodeError:
            text = None
        if text is not None:
            if "\r" in text:
                text = text.replace("\r\n", "\n")
                if text.endswith("\r"):
                    text = text[:-1]
            lines = text.count("\n") + 1
            if "\r" not in text and sum(1 for _ in self._block.finditer(text)) == lines:
                return Parsed((text + "\n").encode(), lines, [])
        return self._careful(block, first_line)

    def _careful(self, block: bytes, first_line: int) -> Parsed:
        return _parse_lines(block, first_line, self._line_of, self._placeholder)

    def _line_of(self, raw: bytes, n: int) -> tuple[str | None, RowError | None]:
        try:
            text = raw.decode().rstrip("\r")
        except UnicodeDecodeError:
            return None, RowError(n, None, "the line is not valid UTF-8")
        if not text.strip():
            return None, None
        if self._line.fullmatch(text) is not None:
            return text, None
        try:
            fields = next(csv.reader(io.StringIO(text), strict=True))
        except (csv.Error, StopIteration):
            return None, RowError(n, None, "the line is not valid CSV (check the quotes)")
        if len(fields) != len(self.columns):
            return None, RowError(
                n, None, f"expected {len(self.columns)} fields, found {len(fields)}"
            )
        values = {c: v.strip() for c, v in zip(self.columns, fields, strict=True)}
        error = check_record(values)
        if error is not None:
            return None, RowError(n, error.field, error.reason)
        return ",".join(_quoted(values[c]) for c in self.columns), None


class NdjsonParser:
    """One JSON object per line; COPY receives the columns in ``COLUMNS`` order."""

    line_offset = 0
    columns = COLUMNS

    def __init__(self) -> None:
        self._placeholder = "," * (len(COLUMNS) - 1)

    def parse(self, block: bytes, first_line: int) -> Parsed:
        return _parse_lines(block, first_line, self._line_of, self._placeholder)

    def _line_of(self, raw: bytes, n: int) -> tuple[str | None, RowError | None]:
        if not raw.strip():
            return None, None
        try:
            record = json.loads(
                raw, parse_float=_Number, parse_int=_Number, parse_constant=_no_constant
            )
        except (ValueError, RecursionError):
            return None, RowError(n, None, "the line is not a JSON object")
        if not isinstance(record, dict):
            return None, RowError(n, None, "the line is not a JSON object")
        unknown = sorted(set(record) - set(COLUMNS))
        if unknown:
            return None, RowError(n, unknown[0], f"unknown field {unknown[0]!r}")
        values: dict[str, str | None] = {}
        for column in COLUMNS:
            value = record.get(column)
            if value is not None and (
                not isinstance(value, str) or (isinstance(value, _Number) and column != "amount")
            ):
                return None, RowError(n, column, f"{column} must be a string")
            values[column] = str(value).strip() if value is not None else None
        error = check_record(values)
        if error is not None:
            return None, RowError(n, error.field, error.reason)
        return ",".join(_quoted(values[c]) for c in COLUMNS), None


class _Number(str):
    """A JSON number as written (an amount may be sent as one)."""


def _no_constant(name: str) -> None:
    raise ValueError(name)


def parser_for(fmt: ImportFormat, header: str | None) -> CsvParser | NdjsonParser:
    if fmt is ImportFormat.CSV:
        if header is None or not header.strip("\ufeff\r\n\t "):
            raise Invalid(
                "invalid_header",
                "The body is empty: a CSV import starts with a header line ({value}).",
                field="header",
                value=", ".join(COLUMNS),
            )
        return CsvParser(parse_header(header))
    return NdjsonParser()


@dataclass
class Report:
    """What a whole import found: rows read, bad rows (the first ``MAX_REPORTED``) and their
    number."""

    rows: int = 0
    rejected: int = 0
    first_errors: list[RowError] | None = None

    def add(self, errors: list[RowError]) -> None:
        self.rejected += len(errors)
        if self.first_errors is None:
            self.first_errors = []
        room = MAX_REPORTED - len(self.first_errors)
        if room > 0:
            self.first_errors.extend(errors[:room])

    def merged(self, more: list[RowError], more_count: int) -> tuple[list[RowError], int]:
        """These errors with ``more`` (found elsewhere, e.g. by the database), by line."""
        listed = sorted([*(self.first_errors or []), *more])[:MAX_REPORTED]
        return listed, self.rejected + more_count


def percent(bytes_read: int, bytes_total: int | None, succeeded: bool) -> float | None:
    """How much of the body an import job has read, 0-100 with one decimal; None when its
    size is unknown (a chunked upload). A job that succeeded is at 100."""
    if succeeded:
        return 100.0
    if not bytes_total:
        return None
    return min(100.0, round(100 * bytes_read / bytes_total, 1))
