"""Keyset paging in SQL for the lists that run newest first by id."""

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute


def newest_first(query: Select, id_column: InstrumentedAttribute, before: int | None, limit: int):
    """``query`` below id ``before`` (None: from the newest), newest first, ``limit + 1`` rows:
    the extra one tells the caller another page follows."""
    if before is not None:
        query = query.where(id_column < before)
    return query.order_by(id_column.desc()).limit(limit + 1)
