"""History import: the report of one import."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.domain.imports import ImportFormat, OnError

_BAD = {
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

    id: int
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
                    "id": 12,
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

    id: int = Field(description="The import's number.")
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
                    "id": 12,
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

    id: int = Field(description="The import's number, as `POST /v1/imports/transactions` gave.")
    duplicates: int = Field(description="Good rows not stored because the receipt was known.")
    rejected: int = Field(description="Bad rows skipped (`skip` only; their lines are not kept).")
    actor: str = Field(description="The name of the API key that ran the import.")
    started_at: datetime = Field(description="When the request arrived.")
    finished_at: datetime = Field(description="As the import's response gave it.")
