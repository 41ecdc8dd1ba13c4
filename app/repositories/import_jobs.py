"""History import jobs: one row per import, its progress, a cancel flag and its outcome."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ImportJobRow


@dataclass(frozen=True)
class ImportJob:
    id: int
    status: str
    format: str
    on_error: str
    actor: str
    bytes_total: int | None
    bytes_read: int
    rows_read: int
    rejected: int
    imported: int | None
    duplicates: int | None
    cancel_requested: bool
    import_id: int | None
    report: dict | None
    problem: dict | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def _job(r: ImportJobRow) -> ImportJob:
    return ImportJob(
        r.id,
        r.status,
        r.format,
        r.on_error,
        r.actor,
        r.bytes_total,
        r.bytes_read,
        r.rows_read,
        r.rejected,
        r.imported,
        r.duplicates,
        r.cancel_requested,
        r.import_id,
        r.report,
        r.problem,
        r.created_at,
        r.updated_at,
        r.finished_at,
    )


def _key(tenant_id: str, job_id: int) -> tuple:
    t = ImportJobRow
    return (t.tenant_id == uuid.UUID(tenant_id), t.id == job_id)


class ImportJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, tenant_id: str, *, fmt: str, on_error: str, actor: str, bytes_total: int | None
    ) -> ImportJob:
        row = await self.session.scalar(
            insert(ImportJobRow)
            .values(
                tenant_id=uuid.UUID(tenant_id),
                status="running",
                format=fmt,
                on_error=on_error,
                actor=actor,
                bytes_total=bytes_total,
                bytes_read=0,
                rows_read=0,
                rejected=0,
                cancel_requested=False,
            )
            .returning(ImportJobRow)
        )
        assert row is not None  # INSERT ... RETURNING gives the row
        return _job(row)

    async def get(self, tenant_id: str, job_id: int) -> ImportJob | None:
        row = await self.session.scalar(select(ImportJobRow).where(*_key(tenant_id, job_id)))
        return _job(row) if row is not None else None

    async def progress(
        self, tenant_id: str, job_id: int, bytes_read: int, rows_read: int, rejected: int
    ) -> bool:
        """Record how far a running job got; whether a cancel was requested."""
        return bool(
            await self.session.scalar(
                update(ImportJobRow)
                .where(*_key(tenant_id, job_id), ImportJobRow.status == "running")
                .values(
                    bytes_read=bytes_read,
                    rows_read=rows_read,
                    rejected=rejected,
                    updated_at=func.clock_timestamp(),
                )
                .returning(ImportJobRow.cancel_requested)
            )
        )

    async def request_cancel(self, tenant_id: str, job_id: int) -> None:
        await self.session.execute(
            update(ImportJobRow)
            .where(*_key(tenant_id, job_id), ImportJobRow.status == "running")
            .values(cancel_requested=True)
        )

    async def finish(self, tenant_id: str, job_id: int, status: str, **values: object) -> None:
        """The job's outcome (only a running job has one to write)."""
        await self.session.execute(
            update(ImportJobRow)
            .where(*_key(tenant_id, job_id), ImportJobRow.status == "running")
            .values(
                status=status,
                updated_at=func.clock_timestamp(),
                finished_at=func.clock_timestamp(),
                **values,
            )
        )

    async def fail_stale(
        self, tenant_id: str, job_id: int, older_than: datetime, problem: dict
    ) -> None:
        """A running job whose process stopped writing progress before ``older_than`` died
        with it: failed."""
        await self.session.execute(
            update(ImportJobRow)
            .where(
                *_key(tenant_id, job_id),
                ImportJobRow.status == "running",
                ImportJobRow.updated_at < older_than,
            )
            .values(status="failed", problem=problem, finished_at=func.clock_timestamp())
        )
