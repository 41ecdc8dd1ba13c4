"""History import (issue 6): past receipts for the analytics, streamed as CSV or NDJSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.domain.access import Principal, Scope
from app.domain.imports import ImportFormat, OnError, percent
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, IdPath, Limit, Uow, UowFactory, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.routers.problems import STATUS_OF, problem_body, problem_response
from app.schemas.common import Page
from app.schemas.enums import QueryFlag
from app.schemas.imports import (
    BadRowRead,
    ImportJobRead,
    ImportProblemRead,
    ImportRead,
    ImportSummaryRead,
)
from app.services import import_jobs, imports
from app.services.import_jobs import ImportJob
from app.services.imports import ImportResult

router = APIRouter(prefix="/imports", tags=["imports"])

MEDIA_TYPES = {
    "text/csv": ImportFormat.CSV,
    "application/x-ndjson": ImportFormat.NDJSON,
    "application/ndjson": ImportFormat.NDJSON,
    "application/jsonl": ImportFormat.NDJSON,
}
CSV_EXAMPLE = (
    "member_ref,occurred_at,amount,receipt_no,store_code\n"
    "C000123,2025-11-02T14:31:00+08:00,388.00,R-20251102-0042,S01\n"
    "C000456,2025-11-03,59.90,,\n"
)
NDJSON_EXAMPLE = (
    '{"member_ref": "C000123", "occurred_at": "2025-11-02T14:31:00+08:00", "amount": "388.00", '
    '"receipt_no": "R-20251102-0042", "store_code": "S01"}\n'
    '{"member_ref": "C000456", "occurred_at": "2025-11-03", "amount": "59.90"}\n'
)
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file, streamed: CSV with a header line, or NDJSON. May be sent "
        "with `Content-Encoding: gzip`.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
            "application/x-ndjson": {"schema": {"type": "string"}, "example": NDJSON_EXAMPLE},
        },
    }
}


def _now() -> datetime:
    return datetime.now(UTC)


def _unsupported(detail: str) -> JSONResponse:
    return problem_response(415, "unsupported_media_type", detail)


JOB_DOC = (
    "Progress, then the outcome: `GET /v1/imports/jobs/{id}` (the `Location` header) gives "
    "`status` (`running`, `succeeded`, `failed`, `cancelled`), `bytes_read` of `bytes_total` "
    "(from `Content-Length`) and `percent`, `rows_read`, `rejected`, then `imported` and "
    "`duplicates`; at the end `report` (the synchronous answer) or `problem` (the problem "
    "the synchronous import would have answered, e.g. `invalid_rows`). "
)


def _location(job_id: int) -> str:
    return f"/v1/imports/jobs/{job_id}"


def _report(done: ImportResult) -> ImportRead:
    return ImportRead(
        id=done.id,
        format=done.format.value,
        on_error=done.on_error.value,
        rows=done.rows,
        imported=done.imported,
        duplicates=done.duplicates,
        rejected=done.rejected,
        members_created=done.members_created,
        bad_rows=[BadRowRead(line=e.line, field=e.field, reason=e.reason) for e in done.bad_rows],
        started_at=done.started_at,
        finished_at=done.finished_at,
        duration_ms=done.duration_ms,
    )


_KINDS = {kind.__name__: (kind, status) for kind, status in STATUS_OF.items()}


def _problem(stored: dict) -> ImportProblemRead:
    kind, status = _KINDS[stored["kind"]]
    return ImportProblemRead(
        **problem_body(
            status,
            stored["code"],
            stored["detail"],
            title=kind.title,
            errors=stored["errors"],
            extra=stored["extra"],
        )
    )


def _job(job: ImportJob) -> ImportJobRead:
    return ImportJobRead(
        id=job.id,
        status=job.status,
        format=job.format,
        on_error=job.on_error,
        bytes_total=job.bytes_total,
        bytes_read=job.bytes_read,
        rows_read=job.rows_read,
        rejected=job.rejected,
        imported=job.imported,
        duplicates=job.duplicates,
        percent=percent(job.bytes_read, job.bytes_total, job.status == "succeeded"),
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
        report=ImportRead.model_validate(job.report) if job.report else None,
        problem=_problem(job.problem) if job.problem else None,
    )


def _size(request: Request) -> int | None:
    length = request.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


@router.post(
    "/transactions",
    status_code=202,
    response_model=ImportJobRead,
    summary="Import purchase history (CSV or NDJSON, streamed) as a job",
    description="Scope: `admin`. Loads past receipts for the analytics (RFM, member groups, "
    "churn, lifecycle, CLV); they earn no points. The body is streamed and checked row by row, "
    "never held whole: files of tens of millions of rows are fine (`Content-Encoding: gzip` "
    "accepted). **CSV** (`text/csv`, UTF-8): a header naming `member_ref`, `occurred_at`, "
    "`amount` and optionally `receipt_no`, `store_code`, in any order; one record per line, "
    "fields may be double-quoted. **NDJSON** (`application/x-ndjson`): one object per line with "
    "those keys. `member_ref` is the member's `external_ref` (1-64 characters); an unknown one "
    "creates the member. `occurred_at` is a date (YYYY-MM-DD) or an ISO-8601 time; without an "
    "offset it is read in the tenant's time zone; not after today. `amount`: the receipt's net "
    "CNY, ≥ 0, at most 2 decimals (0 is a purchase). **202**: the body is in, the import runs "
    "on as a job (it began while the body arrived). " + JOB_DOC + "`wait=true` (small files): "
    "the import runs within the request and answers **201** with the report (and the job's "
    "`Location`), or its problem. `on_error=reject` (default): any bad row → `invalid_rows` "
    "listing the first 100 bad rows (`bad_rows: [{line, field, reason}]`, `rejected`) and "
    "nothing is imported; `on_error=skip` imports the good rows and reports the bad ones. "
    "An import is one transaction: a job that fails or is cancelled imported nothing. "
    "Importing the same file again adds nothing: a receipt is known by its store "
    "and `receipt_no` (per member), a row without `receipt_no` by all its values; receipts "
    "recorded through `POST /v1/sales` (same store and receipt number) are not imported again. "
    "Imports of one tenant run one after the other. A bad header is `invalid_header`; a "
    "line over 1 MiB `line_too_long`; another media type or encoding 415 (at once).",
    openapi_extra=REQUEST_BODY,
    responses={
        201: {
            "model": ImportRead,
            "description": "`wait=true`: imported; `Location` names the job.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        202: {
            "description": "The body is in; the import runs as a job at `Location`.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **BODY_ERRORS,
        **problems(
            415,
            examples={
                415: (
                    "unsupported_media_type",
                    "Send text/csv or application/x-ndjson, not application/json.",
                )
            },
        ),
        **problems(
            422,
            examples={
                422: (
                    "invalid_rows",
                    "1 row cannot be imported; nothing was imported (the first 1 are listed). "
                    "Fix them, or send on_error=skip to import the good rows.",
                )
            },
        ),
    },
)
async def import_transactions(
    request: Request,
    uow: Uow,
    new_uow: UowFactory,
    on_error: Annotated[
        OnError, Query(description="`reject` (all or nothing) or `skip` (import the good rows).")
    ] = OnError.REJECT,
    wait: Annotated[
        QueryFlag,
        Query(description="`true`: import within the request, 201 with the report (small files)."),
    ] = "false",
    who: Principal = scoped(Scope.ADMIN),
):
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = MEDIA_TYPES.get(media_type)
    if fmt is None:
        return _unsupported(
            f"Send text/csv or application/x-ndjson, not {media_type or 'no content type'}."
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        return _unsupported(f"Content-Encoding {encoding} is not supported (gzip is).")
    job = await import_jobs.create_job(
        uow, who, fmt=fmt, on_error=on_error, bytes_total=_size(request)
    )
    location = {"Location": _location(job.id)}
    gzipped = encoding == "gzip"
    if wait == "true":
        done = await import_jobs.run_job(
            new_uow,
            who,
            job.id,
            request.stream(),
            fmt=fmt,
            on_error=on_error,
            gzipped=gzipped,
            now=_now(),
        )
        body = _report(done).model_dump(mode="json")
        return JSONResponse(body, status_code=201, headers=location)
    tasks = request.app.state.import_tasks
    await import_jobs.run_in_background(
        new_uow,
        tasks,
        who,
        job.id,
        request.stream(),
        fmt=fmt,
        on_error=on_error,
        gzipped=gzipped,
        now=_now(),
    )
    job = await import_jobs.get_job(uow, who, str(job.id), _now())
    return JSONResponse(_job(job).model_dump(mode="json"), status_code=202, headers=location)


@router.get(
    "/jobs/{job_id}",
    response_model=ImportJobRead,
    summary="An import job: progress, then its report or problem",
    description="Scope: `admin`. " + JOB_DOC + "A job whose process stopped (a restart) is "
    "`failed` with `import_interrupted` about 30 s later: it imported nothing; send the file "
    "again. Unknown job: 404 `import_job_not_found`.",
    responses=problems(404, examples={404: ("import_job_not_found", "No import job 7.")}),
)
async def get_import_job(
    job_id: IdPath, uow: Uow, who: Principal = scoped(Scope.ADMIN)
) -> ImportJobRead:
    return _job(await import_jobs.get_job(uow, who, job_id, _now()))


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=202,
    response_model=ImportJobRead,
    summary="Cancel a running import job",
    description="Scope: `admin`. Asks the job to stop: it does within about a second "
    "(`status` becomes `cancelled`), or, if the last step (loading the checked rows) has "
    "begun, when that step ends; either way it is rolled back and **nothing** of it is "
    "imported (an import is one transaction). 202 with the job (`cancel_requested: true`); "
    "poll it for `cancelled`. A job that has finished: 409 `import_job_finished`; unknown: "
    "404 `import_job_not_found`.",
    responses=problems(
        404,
        409,
        examples={
            404: ("import_job_not_found", "No import job 7."),
            409: ("import_job_finished", "Import job 7 has succeeded already."),
        },
    ),
)
async def cancel_import_job(
    job_id: IdPath, uow: Uow, who: Principal = scoped(Scope.ADMIN)
) -> ImportJobRead:
    return _job(await import_jobs.cancel_job(uow, who, job_id, _now()))


@router.get(
    "/transactions",
    response_model=Page[ImportSummaryRead],
    summary="List the history imports, newest first",
    description="Scope: `admin` (as the import itself). Each import that was loaded, with what "
    "`POST /v1/imports/transactions` answered: format, `on_error`, the counts, who ran it "
    "(the key's name) and when; the bad rows' details are not kept. A refused import "
    "(`invalid_rows` with `on_error=reject`, a bad header, 415...) loads nothing and is not "
    "listed. In cursor pages; a cursor this API did not issue is 422 `invalid_cursor`.",
    responses=problems(
        422, examples={422: ("invalid_cursor", "The cursor is not one this API issued.")}
    ),
)
async def list_transaction_imports(
    uow: Uow,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = scoped(Scope.ADMIN),
) -> Page[ImportSummaryRead]:
    page = await imports.list_imports(uow, who, cursor, limit)
    return Page[ImportSummaryRead](
        items=[
            ImportSummaryRead(
                id=r.id,
                format=r.format,
                on_error=r.on_error,
                rows=r.rows,
                imported=r.imported,
                duplicates=r.duplicates,
                rejected=r.rejected,
                members_created=r.members_created,
                actor=r.actor,
                started_at=r.started_at,
                finished_at=r.finished_at,
            )
            for r in page.items
        ],
        next_cursor=page.next_cursor,
    )
