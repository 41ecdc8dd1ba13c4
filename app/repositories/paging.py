"""Keyset paging in SQL for the lists that run newest first."""

from datetime import datetime

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute


def newest_first(query: Select, id_column: InstrumentedAttribute, before: int | None, limit: int):
    """``query`` below id ``before`` (None: from the newest), newest first, ``limit + 1`` rows:
    the extra one tells the caller another page follows."""
    if before is not None:
        query = query.where(id_column < before)
    return query.order_by(id_column.desc()).limit(limit + 1)


def newest_first_in_time(
    query: Select,
    time_column: InstrumentedAttribute,
    id_column: InstrumentedAttribute,
    before: tuple[datetime, int] | None,
    limit: int,
):
    """As ``newest_first``, by (time, id): for a member's ledgers, whose ids come from the
    sequence of whichever node holds the member on Citus, so they follow time on one node
    only (README "Running on Citus")."""
    if before is not None:
        query = query.where(tuple_(time_column, id_column) < before)
    return query.order_by(time_column.desc(), id_column.desc()).limit(limit + 1)
