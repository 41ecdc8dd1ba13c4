"""History import: the report of one import."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.imports import ImportFormat, OnError
from app.schemas.common import IntId, Problem
from app.schemas.enums import ImportJobStatus

_BAD: JsonDict = {
    "line": 17,
    "field": "amount",
    "reason": "amount is negative: import each receipt's net amount (≥ 0)",
}


class BadRowRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_BAD]})

    line: int = Field(description="Line number in the file (the CSV header is line 1).")
    field: str | None = Field(description="The offending column; null when the whole line is.")
    reason: str


class _ImportCounts(BaseModel):
    """What an import's report and its history entry both state, in this order; each states
    its id, duplicates and rejected in its own words."""

    id: IntId
    format: ImportFormat
    on_error: OnError
    rows: int = Field(description="Data lines read (blank lines not counted).")
    imported: int = Field(description="New receipts stored.")
    duplicates: int
    rejected: int
    members_created: int = Field(description="Members created for unknown `member_ref`s.")


class ImportRead(_ImportCounts):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "12",
                    "format": "csv",
                    "on_error": "skip",
                    "rows": 1000000,
                    "imported": 999000,
                    "duplicates": 999,
                    "rejected": 1,
                    "members_created": 41230,
                    "bad_rows": [_BAD],
                    "started_at": "2026-11-23T08:00:00Z",
                    "finished_at": "2026-11-23T08:00:09Z",
                    "duration_ms": 9120,
                }
            ]
        }
    )

    id: IntId = Field(description="The import's id.")
    duplicates: int = Field(
        description="Good rows not stored because the receipt is known: imported before, "
        "recorded as a sale through the API, or repeated in this file."
    )
    rejected: int = Field(description="Bad rows (skipped; with `reject` there are none).")
    bad_rows: list[BadRowRead] = Field(description="The first 100 bad rows, by line.")
    started_at: datetime
    finished_at: datetime
    duration_ms: int


class ImportSummaryRead(_ImportCounts):
    """A recorded import in the history list: the report's counts, without the bad rows."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "12",
                    "format": "csv",
                    "on_error": "skip",
                    "rows": 1000000,
                    "imported": 999000,
                    "duplicates": 999,
                    "rejected": 1,
                    "members_created": 41230,
                    "actor": "head office ETL",
                    "started_at": "2026-11-23T08:00:00Z",
                    "finished_at": "2026-11-23T08:00:00Z",
                }
            ]
        }
    )

    id: IntId = Field(description="The import's id, as `POST /v1/imports/transactions` gave.")
    duplicates: int = Field(description="Good rows not stored because the receipt was known.")
    rejected: int = Field(description="Bad rows skipped (`skip` only; their lines are not kept).")
    actor: str = Field(description="The name of the API key that ran the import.")
    started_at: datetime = Field(description="When the request arrived.")
    finished_at: datetime = Field(description="As the import's response gave it.")


class ImportProblemRead(Problem):
    """Why a job did not import: the problem the synchronous import would have answered."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:loyalty:problem:invalid_rows",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "1 row cannot be imported; nothing was imported (the first 1 "
                    "are listed). Fix them, or send on_error=skip to import the good rows.",
                    "code": "invalid_rows",
                    "errors": [{"field": "line[17].amount", "message": _BAD["reason"]}],
                    "rejected": 1,
                    "bad_rows": [_BAD],
                }
            ]
        }
    )

    bad_rows: list[BadRowRead] | None = Field(
        default=None, description="`invalid_rows`: the first 100 bad rows."
    )


class ImportJobRead(BaseModel):
    """A history import run as a job: its progress, then its report or its problem."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7",
                    "status": "running",
                    "format": "csv",
                    "on_error": "skip",
                    "bytes_total": 734003200,
                    "bytes_read": 367001600,
                    "rows_read": 5000000,
                    "rejected": 2,
                    "imported": None,
                    "duplicates": None,
                    "percent": 50.0,
                    "cancel_requested": False,
                    "created_at": "2026-11-23T08:00:00Z",
                    "updated_at": "2026-11-23T08:00:46Z",
                    "finished_at": None,
                    "report": None,
                    "problem": None,
                }
            ]
        }
    )

    id: IntId = Field(description="The job's id (not the import's: see `report.id`).")
    status: ImportJobStatus = Field(
        description="`running` until the import commits (`succeeded`, `report` set) or rolls "
        "back (`failed` with `problem`, or `cancelled`): a job that did not succeed imported "
        "nothing."
    )
    format: ImportFormat
    on_error: OnError
    bytes_total: int | None = Field(
        description="The body's size from `Content-Length` (as sent, compressed if gzipped); "
        "null when the body was sent chunked."
    )
    bytes_read: int = Field(description="Bytes of the body read by the import so far.")
    rows_read: int = Field(description="Data lines read so far.")
    rejected: int = Field(description="Bad rows found so far.")
    imported: int | None = Field(description="New receipts stored; null until the end.")
    duplicates: int | None = Field(description="Known receipts not stored; null until the end.")
    percent: float | None = Field(
        description="`bytes_read` of `bytes_total`, 0-100 with one decimal (100 once "
        "succeeded); null when the size is not known. The last step (loading the checked "
        "rows) comes after 100 % of the body is read."
    )
    cancel_requested: bool
    created_at: datetime
    updated_at: datetime = Field(description="The last progress written (about twice a second).")
    finished_at: datetime | None
    report: ImportRead | None = Field(
        description="When succeeded: the import's report (the synchronous answer)."
    )
    problem: ImportProblemRead | None = Field(description="When failed or cancelled: why.")
