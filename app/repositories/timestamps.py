"""Finding and repairing timestamps and dates no client can read (``app.domain.timestamps``),
and validating the CHECKs that keep them out (migration 202612021000)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Date, DateTime, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.timestamps import CREATED_AT, Fix, Rule, rule_for
from app.models import Base
from app.models.base import finite_name

# What the driver can decode: years 1 to 9999 (timestamps in UTC, as asyncpg reads them).
# ±infinity lie outside too.
_LOW = {True: "'0001-01-01'::date", False: "'0001-01-01 00:00:00+00'::timestamptz"}
_HIGH = {True: "'10000-01-01'::date", False: "'10000-01-01 00:00:00+00'::timestamptz"}


@dataclass(frozen=True)
class TimeColumn:
    table: str
    name: str
    is_date: bool
    rule: Rule

    @property
    def check(self) -> str:
        return finite_name(self.table, self.name)

    def too_early(self) -> str:
        return f"{self.name} < {_LOW[self.is_date]}"

    def too_late(self) -> str:
        return f"{self.name} >= {_HIGH[self.is_date]}"

    def value(self, fix: Fix, created_at: str = CREATED_AT) -> str:
        """The SQL expression of ``fix`` for this column (``created_at``: that of the row's
        creation time, repaired itself if need be)."""
        cast = "::date" if self.is_date else "::timestamptz"
        if fix is Fix.NULL:
            return "NULL"
        if fix is Fix.CREATED_AT:
            return f"({created_at} AT TIME ZONE 'UTC')::date" if self.is_date else created_at
        if fix is Fix.NOW:
            return "(now() AT TIME ZONE 'UTC')::date" if self.is_date else "now()"
        return f"'{fix.value}'{cast}"

    def repaired(self, created_at: str = CREATED_AT) -> str:
        """This column with a bad value replaced by its rule's."""
        early = self.value(self.rule.too_early, created_at)
        late = self.value(self.rule.too_late, created_at)
        return (
            f"CASE WHEN {self.too_early()} THEN {early} "
            f"WHEN {self.too_late()} THEN {late} ELSE {self.name} END"
        )


def time_columns() -> dict[str, list[TimeColumn]]:
    """Every timestamp and date column of the models, by table (in name order); ``created_at``
    first, as the other columns' repairs may take its (repaired) value."""
    out: dict[str, list[TimeColumn]] = {}
    for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
        has_created_at = CREATED_AT in table.columns
        columns = [
            TimeColumn(
                table.name,
                c.name,
                isinstance(c.type, Date) and not isinstance(c.type, DateTime),
                rule_for(c.name, nullable=bool(c.nullable), has_created_at=has_created_at),
            )
            for c in table.columns
            if isinstance(c.type, Date | DateTime)
        ]
        if columns:
            out[table.name] = sorted(columns, key=lambda c: (c.name != CREATED_AT, c.name))
    return out


class TimestampRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count_bad(self, table: str, columns: list[TimeColumn]) -> dict[str, tuple[int, int]]:
        """column → (too early, too late), in one scan of the table."""
        counts = ", ".join(
            f"count(*) FILTER (WHERE {c.too_early()}), count(*) FILTER (WHERE {c.too_late()})"
            for c in columns
        )
        query = f"SELECT {counts} FROM {table}"  # noqa: S608 (the models' names, no input)
        row = (await self.session.execute(text(query))).one()
        return {c.name: (row[2 * i], row[2 * i + 1]) for i, c in enumerate(columns)}

    async def repair(self, table: str, columns: list[TimeColumn]) -> int:
        """Repair the bad values of ``columns`` in one statement: a row is checked as a whole
        (every CHECK, NOT VALID ones too), so all its bad columns change at once. How many
        rows changed."""
        created = next((c for c in columns if c.name == CREATED_AT), None)
        created_at = created.repaired() if created else CREATED_AT
        sets = ", ".join(f"{c.name} = {c.repaired(created_at)}" for c in columns)
        bad = " OR ".join(f"{c.too_early()} OR {c.too_late()}" for c in columns)
        statement = f"UPDATE {table} SET {sets} WHERE {bad}"  # noqa: S608 (the models' names)
        done = await self.session.execute(text(statement))
        return cast("CursorResult[Any]", done).rowcount

    async def checks(self) -> dict[str, bool]:
        """The CHECK constraints of the schema in use: name → validated."""
        rows = await self.session.execute(
            text(
                "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'c' "
                "AND connamespace = current_schema()::regnamespace"
            )
        )
        return {name: validated for name, validated in rows}

    async def validate(self, table: str, constraint: str) -> None:
        await self.session.execute(text(f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}"))
