"""``loyalty repair-timestamps``: repair stored timestamps and dates no client can read
(``app.domain.timestamps``), then VALIDATE the CHECKs that keep them out from now on."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import Conflict
from app.domain.timestamps import Repaired
from app.repositories.timestamps import TimestampRepository, time_columns
from app.uow import UnitOfWork


@dataclass(frozen=True)
class TimestampRepair:
    repaired: list[Repaired]
    validated: list[str]  # the constraints validated by this run


async def repair_timestamps(uow: UnitOfWork) -> TimestampRepair:
    """One transaction: every repair and validation, or (on any failure) none of them."""
    columns = time_columns()
    async with uow:
        # A maintenance job over every table: not one of the unit of work's repositories.
        timestamps = TimestampRepository(uow.session)
        checks = await timestamps.checks()
        missing = [c.check for cs in columns.values() for c in cs if c.check not in checks]
        if missing:
            raise Conflict(
                "database_not_migrated",
                "The database lacks {len} of the finite-timestamp checks (e.g. {missing}): "
                "run `loyalty migrate` first.",
                len=len(missing),
                missing=missing[0],
            )
        repaired = []
        for table, table_columns in columns.items():
            counts = await timestamps.count_bad(table, table_columns)
            bad = [c for c in table_columns if any(counts[c.name])]
            if not bad:
                continue
            await timestamps.repair(table, bad)
            for column in bad:
                early, late = counts[column.name]
                rule = column.rule
                if early:
                    repaired.append(Repaired(table, column.name, False, early, rule.too_early))
                if late:
                    repaired.append(Repaired(table, column.name, True, late, rule.too_late))
        validated = []
        for table, table_columns in columns.items():
            for column in table_columns:
                if not checks[column.check]:
                    await timestamps.validate(table, column.check)
                    validated.append(column.check)
        await uow.commit()
    return TimestampRepair(repaired, validated)
