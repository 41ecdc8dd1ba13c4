"""History import: COPY into a staging table, then set-based INSERT ... SELECT.

Everything runs in the unit of work's transaction on its asyncpg connection: the staging
table is temporary (dropped at commit, gone with a rollback), so a refused import leaves
nothing behind. Imports of one tenant queue up on an advisory lock for their load step, so
two imports can't both insert the same receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.imports import MAX_REPORTED, RowError
from app.models import TransactionImportRow
from app.repositories.bulk import driver_connection
from app.repositories.paging import newest_first

STAGING = "import_staging"

CREATE_STAGING = """
CREATE TEMP TABLE import_staging (
    line bigint GENERATED ALWAYS AS IDENTITY,
    member_ref text,
    occurred_at timestamptz,
    amount numeric(14, 2),
    receipt_no text,
    store_code text
) ON COMMIT DROP
"""

LATE = """
SELECT line FROM import_staging WHERE occurred_at >= $1 ORDER BY line LIMIT $2
"""
LATE_COUNT = "SELECT count(*) FROM import_staging WHERE occurred_at >= $1"

# Members for unknown refs, set-based. Their ids are time-ordered (6 bytes of the import's
# milliseconds, 4 of the ref's rank, 6 random ones, like a UUIDv7), so the members' indexes and
# the transactions' primary key grow at their ends instead of at random pages.
NEW_MEMBERS = """
WITH claimed AS (
    INSERT INTO member_refs (tenant_id, external_ref, member_id)
    SELECT $1, r.member_ref,
           encode($3::bytea || int4send(row_number() OVER (ORDER BY r.member_ref)::int)
                  || substring(uuid_send(gen_random_uuid()) FROM 11 FOR 6), 'hex')::uuid
    FROM (SELECT DISTINCT member_ref FROM import_staging
          WHERE member_ref IS NOT NULL AND occurred_at < $2) AS r
    ORDER BY r.member_ref
    ON CONFLICT (tenant_id, external_ref) DO NOTHING
    RETURNING external_ref, member_id
)
INSERT INTO members (id, tenant_id, external_ref, source_channel)
SELECT c.member_id, $1, c.external_ref, 'import' FROM claimed AS c ORDER BY c.member_id
"""

# New receipts only: the first of duplicates within the file, not a sale recorded through the
# API (same store and receipt number), not imported before (for this member). One sort by the
# primary key serves the deduplication and the anti-join, and makes the index grow in order.
#
# The receipt's key, 64 bits, unique per member (it follows the member in the primary key):
# (store, receipt number) when there is a receipt number, else the row's time, amount and
# store. PostgreSQL's own hash functions: stable across versions (hash indexes and hash
# partitions survive pg_upgrade), and far cheaper than md5 over a concatenation.
LOAD = """
INSERT INTO imported_transactions
    (tenant_id, member_id, dedup_key, occurred_at, amount, receipt_no, store_code, import_id)
SELECT $1, n.member_id, n.key, n.occurred_at, n.amount, n.receipt_no, n.store_code, $3
FROM (SELECT DISTINCT ON (m.member_id, k.key)
             m.member_id, k.key, s.occurred_at, s.amount, s.receipt_no, s.store_code
      FROM import_staging AS s
      JOIN member_refs AS m ON m.tenant_id = $1 AND m.external_ref = s.member_ref
      CROSS JOIN LATERAL (
          SELECT CASE WHEN s.receipt_no IS NOT NULL
                      THEN hashtextextended(s.receipt_no,
                                            hashtextextended(coalesce(s.store_code, ''), 1))
                      ELSE hashtextextended(coalesce(s.store_code, ''),
                               hash_numeric_extended(s.amount,
                                   timestamp_hash_extended(s.occurred_at AT TIME ZONE 'UTC', 2)))
                 END AS key) AS k
      WHERE s.member_ref IS NOT NULL AND s.occurred_at < $2
        AND (s.receipt_no IS NULL OR s.store_code IS NULL
             OR NOT EXISTS (SELECT 1 FROM sale_receipts AS x
                            WHERE x.tenant_id = $1 AND x.store_code = s.store_code
                              AND x.receipt_no = s.receipt_no))
      ORDER BY m.member_id, k.key, s.line) AS n
WHERE NOT EXISTS (SELECT 1 FROM imported_transactions AS i
                  WHERE i.tenant_id = $1 AND i.member_id = n.member_id AND i.dedup_key = n.key)
"""

# clock_timestamp(), not now(): the transaction began before the body was streamed.
RECORD = """
INSERT INTO transaction_imports (id, tenant_id, format, on_error, rows, imported, duplicates,
                                 rejected, members_created, actor, started_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, clock_timestamp())
RETURNING finished_at
"""


@dataclass(frozen=True)
class Loaded:
    import_id: int
    imported: int
    members_created: int
    finished_at: datetime


@dataclass(frozen=True)
class ImportRecord:
    """One import as ``transaction_imports`` keeps it (the bad rows are not kept)."""

    id: int
    format: str
    on_error: str
    rows: int
    imported: int
    duplicates: int
    rejected: int
    members_created: int
    actor: str
    started_at: datetime
    finished_at: datetime


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def begin(self, time_zone: str) -> None:
        """Open the staging table; text times without an offset are read in ``time_zone``."""
        conn = await driver_connection(self.session)
        await conn.execute("SELECT set_config('TimeZone', $1, true)", time_zone)
        # Sorting millions of rows in memory rather than on disk, and no JIT compilation (it
        # costs more than it saves here); local to this transaction.
        await conn.execute("SET LOCAL work_mem = '1GB'")
        await conn.execute("SET LOCAL jit = off")
        await conn.execute(CREATE_STAGING)

    async def copy(self, columns: tuple[str, ...], source: AsyncIterable[bytes]) -> None:
        """COPY CSV lines (one per data line, placeholders included) into the staging table."""
        conn = await driver_connection(self.session)
        await conn.copy_to_table(STAGING, source=source, columns=list(columns), format="csv")
        await conn.execute("ANALYZE import_staging")  # row counts for the plans below

    async def late_rows(self, cutoff: datetime, line_offset: int) -> tuple[list[RowError], int]:
        """Rows dated at or after ``cutoff`` (the end of the tenant's today): the first ones and
        how many."""
        conn = await driver_connection(self.session)
        count = await conn.fetchval(LATE_COUNT, cutoff)
        if not count:
            return [], 0
        reason = "occurred_at is after today (tenant time zone)"
        rows = await conn.fetch(LATE, cutoff, MAX_REPORTED)
        return [RowError(r["line"] + line_offset, "occurred_at", reason) for r in rows], count

    async def load(
        self,
        tenant_id: str,
        cutoff: datetime,
        *,
        fmt: str,
        on_error: str,
        rows: int,
        rejected: int,
        actor: str,
        started_at: datetime,
    ) -> Loaded:
        """Create the unknown members, insert the new receipts, record the import."""
        conn = await driver_connection(self.session)
        tid = uuid.UUID(tenant_id)
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('transaction-import:' || $1, 0))",
            tenant_id,
        )
        import_id = await conn.fetchval(
            "SELECT nextval(pg_get_serial_sequence('transaction_imports', 'id'))"
        )
        millis = int(started_at.timestamp() * 1000).to_bytes(8, "big")[2:]
        created = _count(await conn.execute(NEW_MEMBERS, tid, cutoff, millis))
        # The members just created have no statistics yet: the planner would probe their
        # index once per row instead of hashing them once.
        await conn.execute("SET LOCAL enable_nestloop = off")
        imported = _count(await conn.execute(LOAD, tid, cutoff, import_id))
        finished_at = await conn.fetchval(
            RECORD,
            import_id,
            tid,
            fmt,
            on_error,
            rows,
            imported,
            rows - rejected - imported,
            rejected,
            created,
            actor,
            started_at,
        )
        return Loaded(import_id, imported, created, finished_at)

    async def list(self, tenant_id: str, before: int | None, limit: int) -> list[ImportRecord]:
        """The tenant's recorded imports, newest first, up to ``limit + 1``."""
        t = TransactionImportRow
        query = select(t).where(t.tenant_id == uuid.UUID(tenant_id))
        rows = await self.session.scalars(newest_first(query, t.id, before, limit))
        return [
            ImportRecord(
                r.id,
                r.format,
                r.on_error,
                r.rows,
                r.imported,
                r.duplicates,
                r.rejected,
                r.members_created,
                r.actor,
                r.started_at,
                r.finished_at,
            )
            for r in rows
        ]
