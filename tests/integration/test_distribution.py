"""The schema against Citus's rules for distributed and reference tables (domain-free: the
rules of app/models/distribution.py, then the migrated schema read from the catalog), and
`loyalty distribute` on plain PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_engine, downgrade, migrate
from app.main import create_app
from app.models.distribution import (
    MEMBER,
    REFERENCE,
    TABLES,
    TENANT,
    Constraint,
    Kind,
    Placement,
    Table,
    steps,
    violations,
)
from app.repositories.distribution import DistributionRepository
from app.uow import constraint_error
from tests.api.test_points import ledger_report
from tests.api.test_sales import member_with_card, post_return, post_sale, sale_body
from tests.conftest import make_settings, new_tenant, running, scratch_database
from tests.integration.test_cli import run

PLACEMENTS = {
    "members": Placement(Kind.MEMBER, "id"),
    "sales": MEMBER,
    "stores": REFERENCE,
    "audit_log": TENANT,
}


def table(name: str, *columns: str, nullable: tuple[str, ...] = ()) -> Table:
    return Table(name, columns, frozenset(c for c in columns if c not in nullable))


SCHEMA = [
    table("members", "tenant_id", "id"),
    table("sales", "tenant_id", "member_id", "id", "store_code"),
    table("stores", "tenant_id", "code"),
    table("audit_log", "tenant_id", "id", "member_id", nullable=("member_id",)),
]
KEYS = [
    Constraint("pk_members", "p", "members", ("id",)),
    Constraint("pk_sales", "p", "sales", ("tenant_id", "member_id", "id")),
    Constraint("pk_stores", "p", "stores", ("tenant_id", "code")),
    Constraint("pk_audit_log", "p", "audit_log", ("tenant_id", "id")),
    Constraint(
        "fk_sales_members", "f", "sales", ("tenant_id", "member_id"), "members", ("tenant_id", "id")
    ),
    Constraint(
        "fk_sales_stores",
        "f",
        "sales",
        ("tenant_id", "store_code"),
        "stores",
        ("tenant_id", "code"),
    ),
]


def check(*changes: Constraint | Table, drop: str | None = None) -> list[str]:
    tables = [
        t for t in SCHEMA if not any(isinstance(c, Table) and c.name == t.name for c in changes)
    ]
    tables += [c for c in changes if isinstance(c, Table)]
    keys = [k for k in KEYS if k.name != drop] + [c for c in changes if isinstance(c, Constraint)]
    return violations(tables, keys, PLACEMENTS)


def test_a_schema_keyed_by_member_passes():
    assert check() == []


def test_a_key_without_the_distribution_column_is_named():
    unique = Constraint("uq_sales_receipt", "u", "sales", ("tenant_id", "store_code", "id"))
    assert check(unique) == [
        "sales: unique constraint uq_sales_receipt (tenant_id, store_code, id) lacks member_id"
    ]
    pk = Constraint("pk_sales", "p", "sales", ("id",))
    assert check(pk, drop="pk_sales") == ["sales: primary key pk_sales (id) lacks member_id"]


def test_a_reference_table_may_have_any_unique_key():
    assert check(Constraint("uq_stores_code", "u", "stores", ("code",))) == []


def test_foreign_keys_must_be_co_located_and_pair_the_distribution_columns():
    to_member = Constraint("fk_audit_members", "f", "audit_log", ("member_id",), "members", ("id",))
    assert check(to_member) == [
        "audit_log: foreign key fk_audit_members to members: not co-located (tenant → member)"
    ]
    unpaired = Constraint("fk_sales_m2", "f", "sales", ("tenant_id",), "members", ("tenant_id",))
    assert check(unpaired) == [
        "sales: foreign key fk_sales_m2 to members: does not pair member_id with id"
    ]
    from_reference = Constraint(
        "fk_stores_members", "f", "stores", ("tenant_id",), "members", ("tenant_id",)
    )
    assert check(from_reference) == [
        "stores: foreign key fk_stores_members to members: "
        "a reference table may reference reference tables only"
    ]


def test_every_table_is_declared_and_carries_its_distribution_column():
    assert check(table("vouchers", "tenant_id", "code")) == [
        "vouchers: no placement declared (app/models/distribution.py)"
    ]
    assert check(table("sales", "tenant_id", "id")) == ["sales: no distribution column member_id"]
    assert check(table("sales", "tenant_id", "member_id", "id", nullable=("member_id",))) == [
        "sales: distribution column member_id may be null"
    ]
    assert violations(SCHEMA[:1], [], PLACEMENTS) == [
        "audit_log: not in the schema",
        "sales: not in the schema",
        "stores: not in the schema",
    ]


def test_steps_place_reference_tables_first_and_anchor_each_group():
    order = steps(placed=(), placements=PLACEMENTS)
    assert [(s.table, s.colocate_with) for s in order] == [
        ("stores", "none"),
        ("members", "none"),
        ("sales", "members"),
        ("audit_log", "none"),
    ]
    # A run that stopped half-way: what Citus manages is skipped, the rest joins its group.
    again = steps(placed=("stores", "members"), placements=PLACEMENTS)
    assert [(s.table, s.colocate_with) for s in again] == [
        ("sales", "members"),
        ("audit_log", "none"),
    ]


async def test_the_migrated_schema_obeys_citus_rules(
    database_url,
):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with AsyncSession(engine) as session:
            catalog = DistributionRepository(session)
            tables, keys = await catalog.tables(), await catalog.constraints()
    finally:
        await engine.dispose()
    assert {t.name for t in tables} == set(TABLES)
    problems = violations(tables, keys)
    assert problems == [], "\n".join(problems)


def test_distribute_on_plain_postgresql_does_nothing(database_url):
    done = run(database_url, "distribute")
    assert done.returncode == 0, done.stderr
    assert "plain PostgreSQL (no citus extension): nothing to distribute" in done.stdout


def test_a_shard_suffixed_constraint_name_maps_to_the_same_error():
    for name in (
        "pk_card_numbers",
        "pk_card_numbers_102008",
    ):  # Citus names a shard's copy with its id
        exc = asyncpg.UniqueViolationError("duplicate key")
        exc.constraint_name = name
        refused = constraint_error(exc)
        assert refused.code == "card_number_taken"
        assert [e.field for e in refused.errors] == ["card_class"]
    exc = asyncpg.UniqueViolationError("duplicate key")
    exc.constraint_name = "uq_unknown_7"
    assert constraint_error(exc).code == "integrity_conflict"


BEFORE_REKEY = "202612021100"


async def test_rekeying_carries_a_ledger_with_data_over(server_url):
    """Sales, returns and a redemption recorded, then the schema taken down to before the
    re-keying and up again: every member's ledger still adds up, and the API goes on."""
    with scratch_database(server_url) as url:
        await asyncio.to_thread(migrate, url)
        keys = await new_tenant(url)
        headers = keys.headers
        async with running(create_app(make_settings(url))) as client:
            _, card = await member_with_card(client, headers)
            for receipt in ("R-1", "R-2"):
                await post_sale(client, headers, sale_body(card, receipt))
            await post_return(client, headers, "B-1", [{"line_no": 1, "qty": "1"}], receipt="R-2")
            redemption = {"card_number": card, "points": 10, "purpose": "gift"}
            r = await client.post("/v1/points/redemptions", json=redemption, headers=headers)
            assert r.status_code == 201, r.text
        await asyncio.to_thread(downgrade, url, BEFORE_REKEY)
        await asyncio.to_thread(migrate, url)
        assert await ledger_report(url) == {}
        async with running(create_app(make_settings(url))) as client:
            back = [{"line_no": 1, "qty": "1"}]
            done = await post_return(
                client, headers, "B-1", back, receipt="R-1", shortfall="purchase"
            )
            assert done["points_purchased"] == 10  # the redemption spent them
            again = await client.get(f"/v1/points/redemptions/{r.json()['id']}", headers=headers)
            assert again.status_code == 200 and again.json()["points"] == 10
            await post_sale(client, headers, sale_body(card, "R-3"))
        assert await ledger_report(url) == {}
