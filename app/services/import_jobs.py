"""History imports as jobs: ``POST`` answers 202 at once the upload is in, the import runs on.

The body is spooled to an anonymous temporary file (``TMPDIR``) as it arrives, and a task of
the same process imports from that file while it grows, so the import runs alongside the
upload as it did when it was synchronous. The task writes the job's progress to its row
about twice a second, in transactions of their own, and reads back a cancel request (which
any worker may set); the import itself stays one transaction, so a cancelled or failed job
imported nothing. A job's outcome is written in the import's own transaction when it
succeeds, else after its rollback.

A job lives in the process that received it: if that process dies, its row stops moving,
and a running job whose row has not moved for ``STALE_AFTER`` is reported failed
(``import_interrupted``) — send the file again; what was imported before is recognised as
duplicates. The spool takes as much disk as the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from app.domain.access import Principal
from app.domain.errors import Conflict, DomainError, Invalid, NotFound
from app.domain.ids import parse_id
from app.domain.imports import ImportFormat, OnError
from app.repositories.import_jobs import ImportJob
from app.services.imports import ImportResult, Progress, import_transactions
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 0.5
STALE_AFTER = timedelta(seconds=30)
READ_SIZE = 1 << 20

NewUow = Callable[[], UnitOfWork]


def problem_of(exc: DomainError) -> dict:
    """A domain error as a job keeps it: its kind (the router picks the status) and body."""
    return {
        "kind": type(exc).__name__,
        "code": exc.code,
        "detail": exc.detail,
        "errors": [{"field": e.field, "message": e.message} for e in exc.errors],
        "extra": exc.extra,
    }


INTERRUPTED = {
    "kind": "Unavailable",
    "code": "import_interrupted",
    "detail": "The import stopped with the process that ran it; nothing of it was imported. "
    "Send the file again.",
    "errors": [],
    "extra": {},
}


class Spool:
    """The body on disk as it arrives, read back by the import while it is still written."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by read())
        self._written = 0
        self._done = False
        self._failed: BaseException | None = None
        self._more = asyncio.Event()

    async def fill(self, chunks: AsyncIterable[bytes]) -> None:
        try:
            async for chunk in chunks:
                if self._file.closed:  # the import ended early (a bad header): drain the rest
                    continue
                self._file.write(chunk)
                self._file.flush()  # to the page cache, where pread() finds it
                self._written += len(chunk)
                self._more.set()
        except BaseException as exc:
            self._failed = exc
            raise
        finally:
            self._done = True
            self._more.set()

    async def read(self) -> AsyncIterator[bytes]:
        fd, at = self._file.fileno(), 0
        try:
            while True:
                if at < self._written:
                    chunk = os.pread(fd, min(READ_SIZE, self._written - at), at)
                    at += len(chunk)
                    yield chunk
                    continue
                if self._failed is not None:
                    raise Invalid(
                        "upload_incomplete",
                        "The upload broke off before the end of the body; nothing was imported.",
                        field="body",
                    )
                if self._done:
                    return
                self._more.clear()
                try:
                    await asyncio.wait_for(self._more.wait(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b""  # the upload stalls: the reader may still look for a cancel
        finally:
            self._file.close()


class JobTasks:
    """The import tasks of this process (the lifespan cancels them on shutdown)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, job: Coroutine[Any, Any, object]) -> asyncio.Task:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def create_job(
    uow: UnitOfWork,
    who: Principal,
    *,
    fmt: ImportFormat,
    on_error: OnError,
    bytes_total: int | None,
) -> ImportJob:
    async with uow:
        job = await uow.import_jobs.create(
            who.tenant_id,
            fmt=fmt.value,
            on_error=on_error.value,
            actor=who.key_name,
            bytes_total=bytes_total,
        )
        await uow.commit()
    return job


async def _heartbeat(new_uow: NewUow, who: Principal, job_id: int, progress: Progress) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            async with new_uow() as uow:
                cancel = await uow.import_jobs.progress(
                    who.tenant_id, job_id, progress.bytes_read, progress.rows, progress.rejected
                )
                await uow.commit()
        except Exception:  # the next beat tries again; the import goes on meanwhile
            log.warning("import job progress not written", exc_info=True)
            continue
        if cancel:
            progress.cancelled = True


async def _finish(
    new_uow: NewUow, who: Principal, job_id: int, status: str, progress: Progress, problem: dict
) -> None:
    async with new_uow() as uow:
        await uow.import_jobs.finish(
            who.tenant_id,
            job_id,
            status,
            bytes_read=progress.bytes_read,
            rows_read=progress.rows,
            rejected=progress.rejected,
            problem=problem,
        )
        await uow.commit()


async def run_job(
    new_uow: NewUow,
    who: Principal,
    job_id: int,
    chunks: AsyncIterable[bytes],
    *,
    fmt: ImportFormat,
    on_error: OnError,
    gzipped: bool,
    now: datetime,
) -> ImportResult:
    """Import ``chunks`` for the job, keeping its row up to date; its errors are raised too."""
    progress = Progress()
    beat = asyncio.create_task(_heartbeat(new_uow, who, job_id, progress))
    try:
        return await import_transactions(
            new_uow(),
            who,
            chunks,
            fmt=fmt,
            on_error=on_error,
            gzipped=gzipped,
            now=now,
            progress=progress,
            job_id=job_id,
        )
    except DomainError as exc:
        status = "cancelled" if exc.code == "import_cancelled" else "failed"
        await _finish(new_uow, who, job_id, status, progress, problem_of(exc))
        raise
    except asyncio.CancelledError:  # the server is shutting down
        await asyncio.shield(_finish(new_uow, who, job_id, "failed", progress, INTERRUPTED))
        raise
    except Exception:
        log.exception("import job failed", extra={"tenant_id": who.tenant_id, "job": job_id})
        await _finish(new_uow, who, job_id, "failed", progress, INTERRUPTED)
        raise
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def run_in_background(
    new_uow: NewUow,
    tasks: JobTasks,
    who: Principal,
    job_id: int,
    body: AsyncIterable[bytes],
    *,
    fmt: ImportFormat,
    on_error: OnError,
    gzipped: bool,
    now: datetime,
) -> None:
    """Spool ``body`` while a background task imports it; returns once the body is in."""
    spool = Spool()
    tasks.spawn(
        _quietly(
            run_job(
                new_uow,
                who,
                job_id,
                spool.read(),
                fmt=fmt,
                on_error=on_error,
                gzipped=gzipped,
                now=now,
            )
        )
    )
    with contextlib.suppress(Exception):  # a broken upload: the job says so
        await spool.fill(body)


async def _quietly(job: Coroutine[Any, Any, ImportResult]) -> None:
    """A background job's errors are in its row (a bad file is no server error)."""
    with contextlib.suppress(DomainError):
        await job


async def get_job(uow: UnitOfWork, who: Principal, job_id: str, now: datetime) -> ImportJob:
    key = parse_id(job_id)
    async with uow:
        job = None if key is None else await uow.import_jobs.get(who.tenant_id, key)
        if job is None:
            raise NotFound("import_job_not_found", "No import job {job_id}.", job_id=job_id)
        if job.status == "running" and job.updated_at < now - STALE_AFTER:
            await uow.import_jobs.fail_stale(who.tenant_id, job.id, now - STALE_AFTER, INTERRUPTED)
            await uow.commit()
            job = await uow.import_jobs.get(who.tenant_id, job.id)
    assert job is not None
    return job


async def cancel_job(uow: UnitOfWork, who: Principal, job_id: str, now: datetime) -> ImportJob:
    """Ask a running job to stop (it does within about a second; the load step, if it has
    begun, first ends and is rolled back)."""
    job = await get_job(uow, who, job_id, now)
    if job.status != "running":
        raise Conflict(
            "import_job_finished",
            "Import job {job_id} has {status} already.",
            field="id",
            job_id=job_id,
            status=job.status,
        )
    async with uow:
        await uow.import_jobs.request_cancel(who.tenant_id, job.id)
        await uow.commit()
    return await get_job(uow, who, job_id, now)
