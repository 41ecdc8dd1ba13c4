"""Nothing is stored as ±infinity: every timestamp and date column has a CHECK isfinite(...)
(migration 202612021000, the models alike), and `loyalty repair-timestamps` repairs what an
older database holds, then validates the checks."""

import asyncio
import uuid

import pytest
from sqlalchemy import CheckConstraint, text
from sqlalchemy.exc import IntegrityError

from app.db import create_engine, migrate
from app.models import Base
from tests.conftest import scratch_database
from tests.factories.cli import run

BEFORE = "202611232300"  # the revision before the checks


async def _execute(url: str, *statements: tuple[str, dict]) -> list[list[tuple]]:
    """Run the statements in one transaction; the rows each SELECT returned."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    out = []
    try:
        async with engine.begin() as conn:
            for statement, params in statements:
                result = await conn.execute(text(statement), params)
                out.append(list(result) if result.returns_rows else [])
    finally:
        await engine.dispose()
    return out


# Migration 202612031700's tables, created with their checks.
VOUCHER_TIMESTAMPS = {
    "campaign_members": ("assigned_at",),
    "campaigns": ("created_at", "ends_at", "last_issued_at", "starts_at", "updated_at"),
    "rewards": ("created_at", "ends_at", "starts_at", "updated_at"),
    "voucher_rules": ("created_at", "ends_at", "starts_at", "updated_at"),
    "voucher_settings": ("updated_at",),
    "voucher_templates": ("created_at", "updated_at", "valid_from", "valid_to"),
    "vouchers": ("issued_at", "redeemed_at", "updated_at", "valid_from", "valid_to", "voided_at"),
}


def execute(url: str, *statements: str, **params) -> list[list[tuple]]:
    return asyncio.run(_execute(url, *((s, params) for s in statements)))


FINITE_CHECKS = """
SELECT c.conname, c.convalidated FROM pg_constraint c
WHERE c.contype = 'c' AND c.conname LIKE 'ck\\_%\\_finite'
  AND c.connamespace = current_schema()::regnamespace
"""
TIME_COLUMNS = """
SELECT c.table_name, c.column_name FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
  AND c.data_type IN ('timestamp with time zone', 'timestamp without time zone', 'date')
"""


def test_every_time_column_has_its_check_in_models_and_database(database_url):
    [checks, columns] = execute(database_url, FINITE_CHECKS, TIME_COLUMNS)
    in_database = {name for name, _ in checks}
    in_models = {
        c.name
        for table in Base.metadata.tables.values()
        for c in table.constraints
        if isinstance(c, CheckConstraint) and c.name.endswith("_finite")
    }
    assert in_database == in_models
    assert {f"ck_{table}_{column}_finite" for table, column in columns} == in_database
    assert len(in_database) >= 74


def test_the_check_refuses_infinity(database_url):
    tenant = uuid.uuid4()
    execute(
        database_url,
        "INSERT INTO tenants (id, name, time_zone) VALUES (:t, :n, 'UTC')",
        "INSERT INTO rfm_runs (tenant_id, as_of, trigger, config, members_scored, segments, "
        "duration_ms) VALUES (:t, '2026-01-31', 'api', '{}', 0, '{}', 0)",
        t=tenant,
        n=f"t-{tenant}",
    )
    for statement, check in [
        (
            "UPDATE tenants SET created_at = 'infinity' WHERE id = :t",
            "tenants_created_at",
        ),
        (
            "UPDATE rfm_runs SET as_of = '-infinity' WHERE tenant_id = :t",
            "rfm_runs_as_of",
        ),
        (
            "INSERT INTO points_warm_rules (tenant_id, name, points, condition, ends_at, active) "
            "VALUES (:t, 'w', 5, '{\"kind\": \"birthday\"}', 'infinity', true)",
            "points_warm_rules_ends_at",
        ),
    ]:
        with pytest.raises(IntegrityError, match=f"ck_{check}_finite"):
            execute(database_url, statement, t=tenant)
    [[(created,)]] = execute(database_url, "SELECT created_at FROM tenants WHERE id = :t", t=tenant)
    assert created.year >= 2026


# Bad values an older database may hold, and what the repair makes of them (see
# app/domain/timestamps.py): one row per table, in a tenant of its own.
SEED = [
    "INSERT INTO tenants (id, name, time_zone, created_at) "
    "VALUES (:bad, 'bad', 'UTC', '-infinity'), (:t, 't', 'UTC', '2026-01-01Z')",
    "INSERT INTO stores (tenant_id, code, name, time_zone, created_at, updated_at) "
    "VALUES (:t, 'S01', 's', 'UTC', '2026-01-02Z', 'infinity'), "
    "(:bad, 'S02', 's', 'UTC', '-infinity', 'infinity')",  # both bad: fixed at once
    "INSERT INTO points_multiplier_events (tenant_id, name, k, starts_at, ends_at, store_codes, "
    "card_classes, created_at, updated_at) "
    "VALUES (:t, 'e', 2, '-infinity', 'infinity', '{}', '{}', '2026-01-03Z', '2026-01-03Z')",
    "INSERT INTO points_warm_rules (tenant_id, name, points, condition, starts_at, ends_at, "
    "active, created_at, updated_at) VALUES (:t, 'w', 5, '{\"kind\": \"birthday\"}', "
    "'0044-03-15 00:00:00+00 BC', 'infinity', true, '2026-01-04Z', '2026-01-04Z')",
    "INSERT INTO discount_rules (tenant_id, level, status, effective_from, effective_to, "
    "created_at, updated_at) VALUES (:t, 'brand', 'draft', 'infinity', NULL, '2026-01-05Z', "
    "'12026-01-05Z')",
    "INSERT INTO rfm_runs (tenant_id, as_of, trigger, config, members_scored, segments, "
    "duration_ms, created_at) VALUES (:t, 'infinity', 'api', '{}', 0, '{}', 0, "
    "'2026-03-04T20:00:00Z')",
    "INSERT INTO job_runs (job, tenant_id, period, started_at, finished_at) "
    "VALUES ('expiry', :t, '2026-01-06', '-infinity', 'infinity')",
]
READ_BACK = [
    "SELECT created_at FROM tenants WHERE id IN (:bad, :t) ORDER BY name",
    "SELECT created_at, updated_at FROM stores WHERE tenant_id IN (:bad, :t) ORDER BY code",
    "SELECT starts_at, ends_at FROM points_multiplier_events WHERE tenant_id = :t",
    "SELECT starts_at, ends_at FROM points_warm_rules WHERE tenant_id = :t",
    "SELECT effective_from, effective_to, updated_at FROM discount_rules WHERE tenant_id = :t",
    "SELECT as_of::text FROM rfm_runs WHERE tenant_id = :t",
    "SELECT started_at, finished_at >= now() - interval '1 hour', finished_at <= now() "
    "FROM job_runs WHERE tenant_id = :t",
]


def _iso(rows):
    return [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in row) for row in rows]


def test_repair_timestamps_repairs_then_validates(server_url):
    ids = {"bad": uuid.uuid4(), "t": uuid.uuid4()}
    with scratch_database(server_url) as url:
        migrate(url, BEFORE)
        execute(url, *SEED, **ids)
        refused = run(url, "repair-timestamps")  # the checks are not there yet
        assert refused.returncode == 1 and "loyalty migrate" in refused.stderr

        migrate(url)  # NOT VALID: the rows above don't make the upgrade fail
        checks = dict(execute(url, FINITE_CHECKS)[0])
        born_valid = {  # created with their (new) tables
            "ck_sale_settings_updated_at_finite",
            *(f"ck_import_jobs_{c}_finite" for c in ("created_at", "updated_at", "finished_at")),
            *(f"ck_{t}_{c}_finite" for t, cs in VOUCHER_TIMESTAMPS.items() for c in cs),
        }
        assert checks and not any(v for name, v in checks.items() if name not in born_valid)
        with pytest.raises(IntegrityError, match="ck_stores_updated_at_finite"):
            execute(url, "UPDATE stores SET updated_at = '-infinity' WHERE tenant_id = :t", **ids)

        done = run(url, "repair-timestamps")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"repaired {line}"
            for line in [
                "discount_rules.effective_from: 1 row(s) +infinity or after year 9999 → "
                "2100-01-01T00:00:00Z",
                "discount_rules.updated_at: 1 row(s) +infinity or after year 9999 → "
                "the row's created_at",
                "job_runs.finished_at: 1 row(s) +infinity or after year 9999 → "
                "the time of the repair",
                "job_runs.started_at: 1 row(s) -infinity or before year 1 → 2000-01-01T00:00:00Z",
                "points_multiplier_events.ends_at: 1 row(s) +infinity or after year 9999 → "
                "2100-01-01T00:00:00Z",
                "points_multiplier_events.starts_at: 1 row(s) -infinity or before year 1 → "
                "2000-01-01T00:00:00Z",
                "points_warm_rules.ends_at: 1 row(s) +infinity or after year 9999 → null",
                "points_warm_rules.starts_at: 1 row(s) -infinity or before year 1 → "
                "2000-01-01T00:00:00Z",
                "rfm_runs.as_of: 1 row(s) +infinity or after year 9999 → the row's created_at",
                "stores.created_at: 1 row(s) -infinity or before year 1 → 2000-01-01T00:00:00Z",
                "stores.updated_at: 2 row(s) +infinity or after year 9999 → the row's created_at",
                "tenants.created_at: 1 row(s) -infinity or before year 1 → 2000-01-01T00:00:00Z",
            ]
        ] + [f"constraints validated: {len(checks) - len(born_valid)}"]

        got = [_iso(rows) for rows in execute(url, *READ_BACK, **ids)]
        assert got == [
            [("2000-01-01T00:00:00+00:00",), ("2026-01-01T00:00:00+00:00",)],  # bad, t
            [
                ("2026-01-02T00:00:00+00:00", "2026-01-02T00:00:00+00:00"),  # S01
                ("2000-01-01T00:00:00+00:00", "2000-01-01T00:00:00+00:00"),  # S02
            ],
            [("2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00")],
            [("2000-01-01T00:00:00+00:00", None)],
            [("2100-01-01T00:00:00+00:00", None, "2026-01-05T00:00:00+00:00")],
            [("2026-03-04",)],
            [("2000-01-01T00:00:00+00:00", True, True)],
        ]
        assert all(dict(execute(url, FINITE_CHECKS)[0]).values())

        again = run(url, "repair-timestamps")
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines() == [
            "no timestamp or date needed repairing",
            "constraints validated: 0",
        ]
