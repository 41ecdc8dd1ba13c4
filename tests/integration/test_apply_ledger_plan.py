"""apply_ledger_plan() writes a plan only while what it relied on still holds: two sales of
one member decided on the same read are both valid decisions, but only the first is written;
a receipt recorded meanwhile is not recorded twice. What was refused wrote nothing at all."""

from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
from sqlalchemy import text

from app.db import create_engine, plain_url
from app.domain.access import Scope, hash_api_key
from app.domain.points import Payment, PaymentMethod
from app.domain.sales import SaleRequest, TillLine, decide_sale
from app.repositories.ledger import LedgerStore
from app.services.sales import read_sale
from app.uow import UnitOfWork
from tests.factories.cards import issue
from tests.factories.ledger import ledger_report
from tests.factories.points import new_member
from tests.factories.sales import member_with_card

TILL = frozenset({Scope.ADMIN})


def sale(card: str, receipt: str) -> SaleRequest:
    return SaleRequest(
        store_code="S01",
        receipt_no=receipt,
        card_number=card,
        occurred_at=datetime.now(UTC),
        lines=(TillLine(1, "SKU1", Decimal(1), Decimal("388.00")),),
        payments=(Payment(PaymentMethod.CASH, Decimal("388.00")),),
    )


async def _counts(database_url: str, tenant_id: str) -> dict[str, int]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            counts = {}
            for table in ("sales", "points_lots", "points_entries", "member_spend"):
                counts[table] = await conn.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),  # noqa: S608
                    {"t": tenant_id},
                )
            return counts
    finally:
        await engine.dispose()


async def test_a_plan_decided_on_a_stale_read_writes_nothing(app, client, tenant, database_url):
    _, card = await member_with_card(client, tenant.headers)
    other = (await issue(client, tenant.headers, await new_member(client, tenant.headers)))[
        "number"
    ]
    state = app.state
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        store = LedgerStore(connection, joined=False)
        uow = UnitOfWork(state.sessionmaker, state.reader)
        key = hash_api_key(tenant.admin_key)
        now = datetime.now(UTC)

        async def decide(request: SaleRequest):
            context, terms = await read_sale(
                uow, store, state.card_kit, state.pricing_cache, key, TILL, request, now
            )
            return decide_sale(context, request, terms, now)

        async with uow:
            first, second = await decide(sale(card, "R-1")), await decide(sale(card, "R-2"))
            assert await store.apply(first.plan)
            before = await _counts(database_url, tenant.id)
            assert not await store.apply(second.plan)  # the account moved since its read
            assert await _counts(database_url, tenant.id) == before

            # A receipt recorded by another member's card meanwhile is claimed: nothing of
            # this member's plan is written, not even the points.
            mine = await decide(sale(card, "R-3"))
            r = await client.post("/v1/sales", json=_body(other, "R-3"), headers=tenant.headers)
            assert r.status_code == 201, r.text
            before = await _counts(database_url, tenant.id)
            assert not await store.apply(mine.plan)
            assert await _counts(database_url, tenant.id) == before
            # Decided again, it is the other sale's receipt: a conflict, not a second sale.
            r = await client.post("/v1/sales", json=_body(card, "R-3"), headers=tenant.headers)
            assert (r.status_code, r.json()["code"]) == (409, "receipt_conflict")
    finally:
        await connection.close()
    assert await ledger_report(database_url) == {}


def _body(card: str, receipt: str) -> dict:
    return {
        "store_code": "S01",
        "receipt_no": receipt,
        "card_number": card,
        "occurred_at": datetime.now(UTC).isoformat(),
        "lines": [{"line_no": 1, "sku": "SKU9", "qty": "1", "final_amount": "10.00"}],
        "payments": [{"method": "cash", "amount": "10.00"}],
    }
