"""Bulk helpers for set-based analytics: the session's asyncpg connection and binary COPY of
numpy columns (one buffer built by numpy, no Python loop over rows)."""

from __future__ import annotations

import asyncpg
import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_TRAILER = (-1).to_bytes(2, "big", signed=True)
# PostgreSQL binary COPY wire types per column type (big-endian, fixed width).
_WIRE = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8"}


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, inside its transaction (begun by a statement first:
    SQLAlchemy starts the driver's transaction lazily)."""
    await session.execute(text("SELECT 1"))
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def binary_copy(columns: list[tuple[str, np.ndarray]]) -> bytes:
    """COPY ... (FORMAT binary) data for fixed-width columns given as (pg type, values)."""
    n = len(columns[0][1]) if columns else 0
    fields = [("count", ">i2")]
    for i, (pg_type, _) in enumerate(columns):
        fields += [(f"len{i}", ">i4"), (f"val{i}", _WIRE[pg_type])]
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["count"] = len(columns)
    for i, (pg_type, values) in enumerate(columns):
        rows[f"len{i}"] = np.dtype(_WIRE[pg_type]).itemsize
        rows[f"val{i}"] = values
    return _SIGNATURE + rows.tobytes() + _TRAILER


async def copy_columns(
    conn: asyncpg.Connection, table: str, names: list[str], columns: list[tuple[str, np.ndarray]]
) -> None:
    data = memoryview(binary_copy(columns))

    async def chunks():
        for start in range(0, len(data), 1 << 20):
            yield data[start : start + (1 << 20)]

    await conn.copy_to_table(table, source=chunks(), columns=names, format="binary")
