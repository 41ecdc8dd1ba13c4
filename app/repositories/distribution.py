"""The schema as Citus sees it: PostgreSQL's catalog read for app/models/distribution.py's
rules, and the calls that distribute tables and functions on a Citus coordinator."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.distribution import Constraint, Table

ASIDE_SCHEMA = "citus_distribute"  # what a run sets aside until it is done

RECORD_FOREIGN_KEYS = f"""
INSERT INTO {ASIDE_SCHEMA}.foreign_keys
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint AS c
WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
ON CONFLICT DO NOTHING
"""  # noqa: S608 (a constant schema name)

_ASIDE = f"""
SELECT f.table_name, f.name, f.definition FROM {ASIDE_SCHEMA}.foreign_keys AS f
WHERE {{}} EXISTS (SELECT 1 FROM pg_constraint AS c
                  WHERE c.conname = f.name AND c.conrelid = to_regclass(f.table_name))
ORDER BY f.table_name, f.name
"""  # noqa: S608 (a constant schema name)
ASIDE_PRESENT, ASIDE_MISSING = _ASIDE.format(""), _ASIDE.format("NOT")

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
        """Tables Citus manages → 'reference', 'distributed' or 'local' (a Citus-local
        table: one a foreign key to a reference table pulled in)."""
        rows = await self.session.execute(
            text("SELECT table_name::text AS name, citus_table_type AS kind FROM citus_tables")
        )
        return {r.name: r.kind for r in rows}

    async def undistribute_table(self, table: str) -> None:
        await self.session.execute(text("SELECT undistribute_table(:t)"), {"t": table})

    # Citus distributes no table that a foreign key links to a table it does not manage yet,
    # so the keys are set aside (in a schema of their own, which survives an interrupted
    # run) and restored once every table is placed.

    async def set_foreign_keys_aside(self) -> int:
        """Record every foreign key of the schema not yet recorded, then drop them all."""
        await self.session.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ASIDE_SCHEMA}"))
        await self.session.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {ASIDE_SCHEMA}.foreign_keys "
                "(table_name text, name text, definition text, PRIMARY KEY (table_name, name))"
            )
        )
        await self.session.execute(text(RECORD_FOREIGN_KEYS))
        dropped = 0
        for row in await self._foreign_keys(present=True):
            await self.session.execute(
                text(f'ALTER TABLE "{row.table_name}" DROP CONSTRAINT "{row.name}"')
            )
            dropped += 1
        return dropped

    async def restore_foreign_keys(self) -> int:
        """Add back every recorded foreign key that is missing, then forget them."""
        if not await self.session.scalar(
            text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"{ASIDE_SCHEMA}.foreign_keys"}
        ):
            return 0
        restored = 0
        for row in await self._foreign_keys(present=False):
            await self.session.execute(
                text(f'ALTER TABLE "{row.table_name}" ADD CONSTRAINT "{row.name}" {row.definition}')
            )
            restored += 1
        await self.session.execute(text(f"DROP SCHEMA {ASIDE_SCHEMA} CASCADE"))
        return restored

    async def _foreign_keys(self, *, present: bool):
        """The recorded keys that exist now (``present``) or are missing."""
        return list(await self.session.execute(text(ASIDE_PRESENT if present else ASIDE_MISSING)))

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

    async def propagate_set_local(self) -> bool:
        """Have every new session of this database send its ``SET LOCAL`` settings (the
        idempotency claim's lock_timeout, analytics' work_mem) to the workers its transaction
        uses: whether it did not already."""
        current = await self.session.scalar(
            text(
                "SELECT 'citus.propagate_set_commands=local' = ANY(s.setconfig) "
                "FROM pg_db_role_setting AS s JOIN pg_database AS d ON d.oid = s.setdatabase "
                "WHERE d.datname = current_database() AND s.setrole = 0"
            )
        )
        if current:
            return False
        await self.session.execute(
            text(
                "DO $$ BEGIN EXECUTE format("
                "'ALTER DATABASE %I SET citus.propagate_set_commands = local', "
                "current_database()); END $$"
            )
        )
        return True

    async def plan_each_call(self, signature: str) -> bool:
        """Have the function plan its statements for each call's values (Citus routes by
        them; a generic plan has none): whether it was not so already."""
        current = await self.session.scalar(
            text(
                "SELECT 'plan_cache_mode=force_custom_plan' = ANY(coalesce(proconfig, '{}')) "
                "FROM pg_proc WHERE oid = to_regprocedure(:f)"
            ),
            {"f": signature},
        )
        if current:
            return False
        await self.session.execute(
            text(f"ALTER FUNCTION {signature} SET plan_cache_mode = force_custom_plan")
        )
        return True

    async def create_distributed_function(
        self, signature: str, argument: str, colocate_with: str
    ) -> None:
        await self.session.execute(
            text("SELECT create_distributed_function(:f, :a, colocate_with => :w)"),
            {"f": signature, "a": argument, "w": colocate_with},
        )
