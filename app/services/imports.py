"""History import (issue 6): a member's past receipts, streamed in as CSV or NDJSON.

The body is read chunk by chunk and never held whole: each block of lines is checked
(app/domain/imports.py) and handed to PostgreSQL's COPY while the next one is read, so memory
stays flat however long the file. One transaction: staging table, COPY, the checks only the
database can make (a date after today), then — unless a bad row refuses the whole import —
the unknown members are created and the new receipts inserted, set-based. Imported receipts
feed the analytics (``member_transactions``) and never the points ledger.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.domain.access import Principal
from app.domain.errors import Conflict, FieldError, Invalid, Message, NotFound
from app.domain.imports import (
    CsvParser,
    ImportFormat,
    NdjsonParser,
    OnError,
    Report,
    RowError,
    Splitter,
    parser_for,
)
from app.domain.pagination import Page, id_cursor, id_page
from app.domain.periods import day_end, local_date
from app.repositories.imports import ImportRecord
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

INFLATE_STEP = 1 << 20  # at most this much decompressed output per step


@dataclass(frozen=True)
class ImportResult:
    id: int
    format: ImportFormat
    on_error: OnError
    rows: int
    imported: int
    duplicates: int
    rejected: int
    members_created: int
    bad_rows: list[RowError]
    started_at: datetime
    finished_at: datetime
    duration_ms: int

    def as_json(self) -> dict:
        """The report as a job keeps it (what the synchronous answer says)."""
        return {
            "id": self.id,
            "format": self.format.value,
            "on_error": self.on_error.value,
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "members_created": self.members_created,
            "bad_rows": [
                {"line": e.line, "field": e.field, "reason": e.reason} for e in self.bad_rows
            ],
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_ms": self.duration_ms,
        }


@dataclass
class Progress:
    """How far a running import got, for its job row; ``cancelled`` (set from the job row)
    stops it at the next chunk of the body, or before it commits."""

    bytes_read: int = 0  # of the body as sent (compressed, if it was)
    rows: int = 0
    rejected: int = 0
    cancelled: bool = False


def cancelled() -> Conflict:
    return Conflict("import_cancelled", "The import was cancelled; nothing of it was imported.")


async def _counted(chunks: AsyncIterable[bytes], progress: Progress) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if progress.cancelled:
            raise cancelled()
        if chunk:  # an empty one only gives a stalled upload the chance to be cancelled
            progress.bytes_read += len(chunk)
            yield chunk


async def gunzip(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """A gzip stream decompressed on the fly, never more than INFLATE_STEP at a time."""
    inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header
    try:
        async for chunk in chunks:
            data = chunk
            while data:
                out = inflater.decompress(data, INFLATE_STEP)
                data = inflater.unconsumed_tail
                if out:
                    yield out
        tail = inflater.flush()
    except zlib.error as exc:
        raise Invalid(
            "invalid_encoding", "The body is not valid gzip.", field="content-encoding"
        ) from exc
    if tail:
        yield tail
    if not inflater.eof:
        raise Invalid("invalid_encoding", "The gzip body is truncated.", field="content-encoding")


class _Feed:
    """Blocks of whole lines from the body, parsed; the CSV for COPY comes out of ``copy()``."""

    def __init__(self, chunks: AsyncIterable[bytes], fmt: ImportFormat, progress: Progress) -> None:
        self._chunks = chunks.__aiter__()
        self._progress = progress
        self._fmt = fmt
        self._splitter = Splitter()
        self._pending: bytes | None = None
        self.report = Report()
        self.parser: CsvParser | NdjsonParser | None = None
        self._next_line = 1

    async def _blocks(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            block = self._splitter.feed(chunk)
            if block is not None:
                yield block
        tail = self._splitter.finish()
        if tail is not None:
            yield tail

    async def start(self) -> CsvParser | NdjsonParser:
        """Read up to the end of the header (CSV) and return the parser."""
        self._iter = self._blocks().__aiter__()
        if self._fmt is ImportFormat.NDJSON:
            self.parser = parser_for(self._fmt, None)
            return self.parser
        first = await anext(self._iter, None)
        header_bytes, _, rest = (first or b"").partition(b"\n")
        try:
            header = header_bytes.decode()
        except UnicodeDecodeError:
            raise Invalid(
                "invalid_header", "The header line is not valid UTF-8.", field="header"
            ) from None
        self.parser = parser_for(self._fmt, header if first is not None else None)
        self._next_line = 2
        self._pending = rest if first is not None and b"\n" in first else None
        return self.parser

    async def copy(self) -> AsyncIterator[bytes]:
        if self._pending is not None:
            yield self._parse(self._pending)
            self._pending = None
        async for block in self._iter:
            yield self._parse(block)

    def _parse(self, block: bytes) -> bytes:
        assert self.parser is not None  # copy() comes after start()
        parsed = self.parser.parse(block, self._next_line)
        self._next_line += block.count(b"\n") + 1
        self.report.rows += parsed.rows
        if parsed.errors:
            self.report.add(parsed.errors)
        self._progress.rows, self._progress.rejected = self.report.rows, self.report.rejected
        return parsed.copy


def _rejection(errors: list[RowError], count: int) -> Invalid:
    listed = [{"line": e.line, "field": e.field, "reason": e.reason} for e in errors]
    detail = (
        Message(
            "1 row cannot be imported; nothing was imported (the first {len} are listed). "
            "Fix it, or send on_error=skip to import the good rows."
        )
        if count == 1
        else Message(
            "{count} rows cannot be imported; nothing was imported (the first {len} are "
            "listed). Fix them, or send on_error=skip to import the good rows."
        )
    )
    return Invalid(
        "invalid_rows",
        detail,
        errors=[
            FieldError(f"line[{e.line}]" + (f".{e.field}" if e.field else ""), e.reason)
            for e in errors
        ],
        extra={"rejected": count, "bad_rows": listed},
        count=count,
        len=len(errors),
    )


async def import_transactions(
    uow: UnitOfWork,
    who: Principal,
    chunks: AsyncIterable[bytes],
    *,
    fmt: ImportFormat,
    on_error: OnError,
    gzipped: bool,
    now: datetime,
    progress: Progress | None = None,
    job_id: int | None = None,
) -> ImportResult:
    """Stream, check and load one file; all or nothing with ``reject``. With ``job_id``, the
    job's outcome is written in the import's own transaction."""
    clock = time.monotonic()
    progress = progress or Progress()
    counted = _counted(chunks, progress)
    source = gunzip(counted) if gzipped else counted
    feed = _Feed(source, fmt, progress)
    async with uow:
        tenant = await uow.tenants.get(who.tenant_id)
        if tenant is None:  # a key's tenant always exists; only a broken reference gets here
            raise NotFound("tenant_not_found", "No such tenant.")
        tz = ZoneInfo(tenant.time_zone)
        parser = await feed.start()
        await uow.imports.begin(tenant.time_zone)
        await uow.imports.copy(parser.columns, feed.copy())
        copied = time.monotonic()
        cutoff = day_end(local_date(now, tz), tz)
        late, late_count = await uow.imports.late_rows(cutoff, parser.line_offset)
        bad_rows, rejected = feed.report.merged(late, late_count)
        if rejected and on_error is OnError.REJECT:
            raise _rejection(bad_rows, rejected)
        loaded = await uow.imports.load(
            who.tenant_id,
            cutoff,
            fmt=fmt.value,
            on_error=on_error.value,
            rows=feed.report.rows,
            rejected=rejected,
            actor=who.key_name,
            started_at=now,
        )
        loaded_at = time.monotonic()
        rows = feed.report.rows
        result = ImportResult(
            id=loaded.import_id,
            format=fmt,
            on_error=on_error,
            rows=rows,
            imported=loaded.imported,
            duplicates=rows - rejected - loaded.imported,
            rejected=rejected,
            members_created=loaded.members_created,
            bad_rows=bad_rows,
            started_at=now,
            finished_at=loaded.finished_at,
            duration_ms=round((time.monotonic() - clock) * 1000),
        )
        if progress.cancelled:  # asked while the load ran: it goes back
            raise cancelled()
        if job_id is not None:
            await uow.import_jobs.finish(
                who.tenant_id,
                job_id,
                "succeeded",
                bytes_read=progress.bytes_read,
                rows_read=rows,
                rejected=rejected,
                imported=result.imported,
                duplicates=result.duplicates,
                import_id=result.id,
                report=result.as_json(),
            )
        await uow.commit()
    log.info(
        "history imported",
        extra={
            "tenant_id": who.tenant_id,
            "rows": rows,
            "imported": loaded.imported,
            "stream_and_copy_ms": round((copied - clock) * 1000),
            "load_ms": round((loaded_at - copied) * 1000),
            "commit_ms": round((time.monotonic() - loaded_at) * 1000),
        },
    )
    return result


async def list_imports(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[ImportRecord]:
    """The tenant's completed imports, newest first (a refused import leaves no record)."""
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.imports.list(who.tenant_id, before, limit)
    return id_page(rows, limit)
