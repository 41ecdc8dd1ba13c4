"""The schema as Citus sees it: PostgreSQL's catalog read for app/models/distribution.py's
rules, and the calls that distribute tables and functions on a Citus coordinator."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.distribution import Constraint, Table

# Every table of the schema with its columns, and every primary key, unique or exclusion
# constraint and foreign key with its columns in order.
CATALOG = """
SELECT c.relname AS table_name,
       array_agg(a.attname ORDER BY a.attnum) AS columns,
       array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attnotnull) AS not_null
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
GROUP BY c.relname
"""

CONSTRAINTS = """
SELECT con.conname AS name, con.contype::text AS type, c.relname AS table_name,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS columns,
       f.relname AS referenced,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS referenced_columns
FROM pg_constraint AS con
JOIN pg_class AS c ON c.oid = con.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_class AS f ON f.oid = con.confrelid
WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'x', 'f')
"""


class DistributionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tables(self) -> list[Table]:
        rows = await self.session.execute(text(CATALOG))
        return [Table(r.table_name, tuple(r.columns), frozenset(r.not_null or ())) for r in rows]

    async def constraints(self) -> list[Constraint]:
        rows = await self.session.execute(text(CONSTRAINTS))
        return [
            Constraint(
                r.name,
                r.type,
                r.table_name,
                tuple(r.columns),
                r.referenced,
                tuple(r.referenced_columns),
            )
            for r in rows
        ]

    async def citus_version(self) -> str | None:
        """The installed Citus extension's version; None on plain PostgreSQL."""
        return await self.session.scalar(
            text("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        )

    async def placed(self) -> dict[str, str]:
        """Tables Citus already manages → 'reference' or 'distributed'."""
        rows = await self.session.execute(
            text(
                "SELECT logicalrelid::regclass::text AS name, partmethod::text AS method "
                "FROM pg_dist_partition"
            )
        )
        return {r.name: "reference" if r.method == "n" else "distributed" for r in rows}

    async def create_reference_table(self, table: str) -> None:
        await self.session.execute(text("SELECT create_reference_table(:t)"), {"t": table})

    async def create_distributed_table(self, table: str, column: str, colocate_with: str) -> None:
        await self.session.execute(
            text("SELECT create_distributed_table(:t, :c, colocate_with => :w)"),
            {"t": table, "c": column, "w": colocate_with},
        )

    async def distributed_function(self, signature: str) -> bool:
        """Whether the function is delegated (distributed with a distribution argument)."""
        found = await self.session.scalar(
            text(
                "SELECT distribution_argument_index IS NOT NULL FROM pg_dist_object "
                "WHERE classid = 'pg_proc'::regclass AND objid = CAST(:f AS regprocedure)"
            ),
            {"f": signature},
        )
        return bool(found)

    async def create_distributed_function(
        self, signature: str, argument: str, colocate_with: str
    ) -> None:
        await self.session.execute(
            text("SELECT create_distributed_function(:f, :a, colocate_with => :w)"),
            {"f": signature, "a": argument, "w": colocate_with},
        )
