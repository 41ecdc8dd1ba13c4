"""The change account (零钞转存, docs/domain §4) through the HTTP API: deposits up to the class
limit, spends never below zero, disabled classes, exactly-once retries, sales paid partly from
the change account and their pro-rata refunds, isolation and a real race.

After every test the whole change ledger is checked (``change_ledger_is_consistent``): for
every member, the account's balance equals the sum of the entries and is never negative (and
the points ledger too, via ``ledger_is_consistent``)."""

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from app.db import create_engine, create_sessionmaker
from app.domain.change_account import ChangeKind
from app.domain.errors import Conflict
from app.domain.ledger import ChangeMovement, LedgerPlan
from app.uow import UnitOfWork
from tests.api.test_cards import GOLD, issue, setup_tenant
from tests.api.test_points import (  # noqa: F401  (an autouse fixture)
    adjust,
    balance_of,
    key_with,
    ledger_is_consistent,
)
from tests.api.test_sales import line, post_return, post_sale, sale_body

ISOLATION_COVERS = {
    ("GET", "/v1/cards/{number}/change-account"),
    ("GET", "/v1/cards/{number}/change-account/entries"),
    ("POST", "/v1/cards/{number}/change-account/deposits"),
    ("POST", "/v1/cards/{number}/change-account/spends"),
}

ENABLED = {"change_account_enabled": True, "change_account_limit": "100.00"}


async def change_report(database_url: str) -> dict[tuple[str, str], list[str]]:
    """Every member's change-ledger problems, read in one snapshot."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                accounts = (
                    await conn.execute(
                        text("SELECT tenant_id, member_id, balance FROM change_accounts")
                    )
                ).all()
                sums = (
                    await conn.execute(
                        text(
                            "SELECT tenant_id, member_id, sum(amount) FROM change_entries "
                            "GROUP BY tenant_id, member_id"
                        )
                    )
                ).all()
    finally:
        await engine.dispose()
    members: dict[tuple, dict] = defaultdict(dict)
    for t, m, balance in accounts:
        members[(str(t), str(m))]["balance"] = balance
    for t, m, total in sums:
        members[(str(t), str(m))]["sum"] = total
    report = {}
    for key, m in members.items():
        balance, total = m.get("balance"), m.get("sum", Decimal("0"))
        problems = []
        if balance is None:
            problems.append(f"entries summing to {total} but no account")
        elif balance != total:
            problems.append(f"balance {balance} != sum of entries {total}")
        elif balance < 0:
            problems.append(f"negative balance {balance}")
        if problems:
            report[key] = problems
    return report


@pytest.fixture(autouse=True)
async def change_ledger_is_consistent(database_url):
    yield
    assert await change_report(database_url) == {}


# --- helpers ---------------------------------------------------------------------------------


async def card_with_change(client, headers, **class_overrides):
    """A GOLD card (0.1 point per CNY, identity multiple 1) whose class offers the account."""
    overrides = {
        "default_points_rate": "0.1",
        "identity_points_multiple": "1",
        **ENABLED,
        **class_overrides,
    }
    member = await setup_tenant(client, headers, **overrides)
    card = await issue(client, headers, member)
    return member, card["number"]


async def move(client, headers, card, what, amount, status=201, key=None, **extra):
    h = {**headers, **({"Idempotency-Key": key} if key else {})}
    r = await client.post(
        f"/v1/cards/{card}/change-account/{what}", json={"amount": amount, **extra}, headers=h
    )
    assert r.status_code == status, r.text
    return r.json()


async def account(client, headers, card):
    r = await client.get(f"/v1/cards/{card}/change-account", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


# --- deposits and spends ----------------------------------------------------------------------


async def test_deposits_up_to_the_limit_and_spends(client, tenant):
    member, card = await card_with_change(client, tenant.headers)
    pos = await key_with(client, tenant.headers, "pos")
    first = await move(client, pos, card, "deposits", "60.40", reference="S01/R-1")
    assert (first["kind"], first["amount"], first["balance"]) == ("deposit", "60.40", "60.40")
    assert (first["card_number"], first["member_id"]) == (card, member)
    done = await move(client, pos, card, "deposits", "39.60")
    assert done["balance"] == "100.00"  # exactly the limit is allowed

    over = await move(client, pos, card, "deposits", "0.01", 409)
    assert (over["code"], over["max_deposit"], over["limit"], over["balance"]) == (
        "change_account_limit",
        "0.00",
        "100.00",
        "100.00",
    )
    spent = await move(client, pos, card, "spends", "30.00")
    assert (spent["kind"], spent["amount"], spent["balance"]) == ("spend", "-30.00", "70.00")
    over = await move(client, pos, card, "deposits", "30.01", 409)
    assert (over["code"], over["max_deposit"]) == ("change_account_limit", "30.00")
    huge = await move(client, pos, card, "deposits", "999999999999.99", 409)
    assert huge["code"] == "change_account_limit"

    got = await account(client, tenant.headers, card)
    assert (got["balance"], got["limit"], got["enabled"], got["member_id"]) == (
        "70.00",
        "100.00",
        True,
        member,
    )
    assert [(e["kind"], e["amount"], e["source_type"]) for e in got["entries"]] == [
        ("spend", "-30.00", "spend"),
        ("deposit", "39.60", "deposit"),
        ("deposit", "60.40", "deposit"),
    ]
    assert got["entries"][-1]["reference"] == "S01/R-1"
    assert got["entries"][0]["id"] == spent["entry_id"]

    # Scopes: the app may spend but not store change; analytics may only read.
    app_key = await key_with(client, tenant.headers, "app")
    analytics = await key_with(client, tenant.headers, "analytics")
    await move(client, app_key, card, "deposits", "1.00", 403)
    assert (await move(client, app_key, card, "spends", "1.00"))["balance"] == "69.00"
    await move(client, analytics, card, "spends", "1.00", 403)
    assert (await account(client, analytics, card))["balance"] == "69.00"


async def test_bad_amounts_are_422_never_500(client, tenant):
    _, card = await card_with_change(client, tenant.headers)
    for amount in ("0", "0.00", "-1.00", "1.001", "abc", 1, None, "1e3"):
        for what in ("deposits", "spends"):
            body = await move(client, tenant.headers, card, what, amount, 422)
            assert body["code"] in ("invalid_amount", "validation_error"), (amount, body)
    r = await client.post(
        f"/v1/cards/{card}/change-account/deposits",
        json={"amount": "1.00", "extra": 1},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    r = await client.post(
        f"/v1/cards/{card}/change-account/deposits",
        json={"amount": "1.00", "reference": "x" * 101},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert (await account(client, tenant.headers, card))["entries"] == []


async def test_overdraft_is_refused_with_the_shortfall(client, tenant):
    _, card = await card_with_change(client, tenant.headers)
    await move(client, tenant.headers, card, "deposits", "10.00")
    refused = await move(client, tenant.headers, card, "spends", "10.01", 409)
    assert (refused["code"], refused["shortfall"], refused["balance"]) == (
        "insufficient_change_balance",
        "0.01",
        "10.00",
    )
    assert (await move(client, tenant.headers, card, "spends", "10.00"))["balance"] == "0.00"
    refused = await move(client, tenant.headers, card, "spends", "0.01", 409)
    assert refused["shortfall"] == "0.01"
    assert (await account(client, tenant.headers, card))["balance"] == "0.00"


async def test_disabled_class(client, tenant):
    _, card = await card_with_change(client, tenant.headers, change_account_enabled=False)
    for what in ("deposits", "spends"):
        refused = await move(client, tenant.headers, card, what, "1.00", 409)
        assert (refused["code"], refused["card_class"]) == ("change_account_disabled", "GOLD")
    got = await account(client, tenant.headers, card)
    assert (got["balance"], got["enabled"], got["entries"]) == ("0.00", False, [])


async def test_money_stored_stays_spendable_when_the_class_stops_offering_it(client, tenant):
    _, card = await card_with_change(client, tenant.headers)
    await move(client, tenant.headers, card, "deposits", "20.00")
    r = await client.patch(
        "/v1/card-classes/GOLD", json={"change_account_enabled": False}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    refused = await move(client, tenant.headers, card, "deposits", "1.00", 409)
    assert refused["code"] == "change_account_disabled"
    assert (await move(client, tenant.headers, card, "spends", "20.00"))["balance"] == "0.00"
    refused = await move(client, tenant.headers, card, "spends", "1.00", 409)
    assert refused["code"] == "change_account_disabled"  # nothing left, not offered


async def test_card_must_be_active_and_a_replacement_carries_the_balance(client, tenant):
    member, card = await card_with_change(client, tenant.headers)
    await move(client, tenant.headers, card, "deposits", "12.34")
    missing = await move(client, tenant.headers, "NOPE0000", "deposits", "1.00", 404)
    assert missing["code"] == "card_not_found"
    r = await client.get("/v1/cards/NOPE0000/change-account", headers=tenant.headers)
    assert (r.status_code, r.json()["code"]) == (404, "card_not_found")

    await client.post(f"/v1/cards/{card}/freeze", headers=tenant.headers)
    for what in ("deposits", "spends"):
        refused = await move(client, tenant.headers, card, what, "1.00", 409)
        assert (refused["code"], refused["card_status"]) == ("card_frozen", "frozen")
    assert (await account(client, tenant.headers, card))["balance"] == "12.34"  # still readable

    r = await client.post(f"/v1/cards/{card}/report-lost", headers=tenant.headers)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/cards/{card}/replace", json={"store_code": "S02"}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    new = r.json()["number"]
    got = await account(client, tenant.headers, new)
    assert (got["balance"], got["member_id"], got["card_number"]) == ("12.34", member, new)
    assert (await move(client, tenant.headers, new, "spends", "2.34"))["balance"] == "10.00"
    entries = (await account(client, tenant.headers, card))["entries"]  # the old card: same
    assert [(e["card_number"], e["amount"]) for e in entries] == [
        (new, "-2.34"),
        (card, "12.34"),
    ]


async def test_entries_are_paged_newest_first(client, tenant):
    _, card = await card_with_change(client, tenant.headers)
    for cents in range(1, 6):
        await move(client, tenant.headers, card, "deposits", f"0.0{cents}")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get(
            f"/v1/cards/{card}/change-account/entries", params=params, headers=tenant.headers
        )
        assert r.status_code == 200, r.text
        seen += [e["amount"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["0.05", "0.04", "0.03", "0.02", "0.01"]
    r = await client.get(
        f"/v1/cards/{card}/change-account/entries",
        params={"cursor": "garbage"},
        headers=tenant.headers,
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid_cursor")


# --- exactly once -----------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_is_replayed(client, tenant):
    _, card = await card_with_change(client, tenant.headers)
    key = f"dep-{uuid.uuid4().hex}"
    first = await move(client, tenant.headers, card, "deposits", "5.00", key=key)
    h = {**tenant.headers, "Idempotency-Key": key}
    r = await client.post(
        f"/v1/cards/{card}/change-account/deposits", json={"amount": "5.00"}, headers=h
    )
    assert (r.status_code, r.json(), r.headers.get("Idempotent-Replayed")) == (201, first, "true")
    reused = await move(client, tenant.headers, card, "deposits", "6.00", 422, key=key)
    assert reused["code"] == "idempotency_key_reused"
    assert len((await account(client, tenant.headers, card))["entries"]) == 1

    # A refusal is replayed too: the retried spend stays refused after money arrives.
    spend_key = f"spend-{uuid.uuid4().hex}"
    refused = await move(client, tenant.headers, card, "spends", "9.00", 409, key=spend_key)
    await move(client, tenant.headers, card, "deposits", "10.00")
    again = await move(client, tenant.headers, card, "spends", "9.00", 409, key=spend_key)
    assert again == refused
    assert (await account(client, tenant.headers, card))["balance"] == "15.00"


async def test_the_check_constraint_is_a_conflict_not_a_500(database_url, client, tenant):
    """The balance CHECK backs up the decision's own check: a plan that would overdraw (which
    no decision makes) is refused by it as a domain conflict."""
    member, card = await card_with_change(client, tenant.headers)
    now = datetime.now(UTC)
    overdraw = ChangeMovement(
        balance=Decimal("0.00"),
        entry_id=None,
        card_number=card,
        amount=Decimal("-1.00"),
        kind=ChangeKind.SPEND,
        source_type="spend",
        source_id="x",
        reference=None,
        created_at=now,
    )
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        uow = UnitOfWork(create_sessionmaker(engine))
        with pytest.raises(Conflict) as caught:
            async with uow:
                await uow.session.execute(text("SELECT 1"))  # the unit of work's transaction
                async with uow.ledger() as store:
                    await store.apply(LedgerPlan(tenant.id, member, now, change=overdraw))
        assert caught.value.code == "insufficient_change_balance"
    finally:
        await engine.dispose()
    assert (await account(client, tenant.headers, card))["balance"] == "0.00"


# --- sales and returns --------------------------------------------------------------------------


async def test_a_sale_paid_partly_from_the_change_account_and_its_returns(client, tenant):
    member, card = await card_with_change(client, tenant.headers)
    pos = await key_with(client, tenant.headers, "pos")
    await move(client, pos, card, "deposits", "50.00")
    lines = [line(1, "1", "100.00"), line(2, "1", "88.00")]
    paid = [
        {"method": "bank_card", "amount": "150.00"},
        {"method": "change_account", "amount": "38.00"},
    ]
    body = sale_body(card, "R-1", lines, paid)
    sale = await post_sale(client, pos, body)
    # The change-account share earns nothing: floor(150 × 0.1) = 15.
    assert sale["points_earned"]["A"] == 15
    got = await account(client, tenant.headers, card)
    assert got["balance"] == "12.00"
    assert (got["entries"][0]["kind"], got["entries"][0]["amount"]) == ("sale_payment", "-38.00")
    assert (got["entries"][0]["source_type"], got["entries"][0]["source_id"]) == (
        "sale",
        str(sale["sale_id"]),
    )
    # The same sale again is a replay: no second payment.
    again = await client.post("/v1/sales", json=body, headers=pos)
    assert again.status_code == 200
    assert (await account(client, tenant.headers, card))["balance"] == "12.00"

    # Line 1 is 100/188 of the receipt: floor_fen(38 × 100/188) = floor_fen(20.2127…) = 20.21.
    first = await post_return(client, pos, "RT-1", [{"line_no": 1, "qty": "1"}])
    assert (await account(client, tenant.headers, card))["balance"] == "32.21"
    # The rest of the receipt: exactly what is left of the 38.00, 17.79.
    await post_return(client, pos, "RT-2", [{"line_no": 2, "qty": "1"}])
    got = await account(client, tenant.headers, card)
    assert got["balance"] == "50.00"
    refunds = [(e["amount"], e["source_id"]) for e in got["entries"] if e["kind"] == "sale_refund"]
    assert [a for a, _ in refunds] == ["17.79", "20.21"]
    assert refunds[1][1] == str(first["return_id"])
    assert sum(Decimal(a) for a, _ in refunds) == Decimal("38.00")
    # A replayed return refunds nothing more.
    await post_return(client, pos, "RT-2", [{"line_no": 2, "qty": "1"}], status=200)
    assert (await account(client, tenant.headers, card))["balance"] == "50.00"
    await balance_of(client, tenant.headers, member)


async def test_partial_quantities_never_refund_more_than_was_paid(client, tenant):
    _, card = await card_with_change(client, tenant.headers)
    await move(client, tenant.headers, card, "deposits", "10.00")
    paid = [{"method": "cash", "amount": "0.01"}, {"method": "change_account", "amount": "9.99"}]
    await post_sale(client, tenant.headers, sale_body(card, "R-7", [line(1, "3", "10.00")], paid))
    balances = []
    for i in range(3):
        await post_return(
            client, tenant.headers, f"RT-{i}", [{"line_no": 1, "qty": "1"}], receipt="R-7"
        )
        balances.append((await account(client, tenant.headers, card))["balance"])
    # The returned share is the receipt's (remaining amounts half up, as for points): 1 −
    # 6.67/10 = 0.333, then 0.667, then 1. Refunds floor_fen(9.99 × share) cumulative:
    # 3.32, 6.66 − 3.32 = 3.34, 9.99 − 6.66 = 3.33: all 9.99 back, never more.
    assert balances == ["3.33", "6.67", "10.00"]


async def test_short_change_account_refuses_the_whole_sale(client, tenant):
    member, card = await card_with_change(client, tenant.headers)
    await adjust(client, tenant.headers, member, 1000)
    await move(client, tenant.headers, card, "deposits", "5.00")
    paid = [
        {"method": "points", "amount": "3.00"},  # 300 points at 100 per CNY
        {"method": "change_account", "amount": "10.00"},
        {"method": "cash", "amount": "375.00"},
    ]
    refused = await post_sale(client, tenant.headers, sale_body(card, "R-9", payments=paid), 409)
    assert (refused["code"], refused["shortfall"]) == ("insufficient_change_balance", "5.00")
    points = await balance_of(client, tenant.headers, member)
    assert (points["balance"], points["by_category"]["A"]) == (1000, 0)  # nothing recorded
    assert (await account(client, tenant.headers, card))["balance"] == "5.00"

    await move(client, tenant.headers, card, "deposits", "5.00")
    done = await post_sale(client, tenant.headers, sale_body(card, "R-9", payments=paid))
    assert done["points_spent"] == 300  # the receipt was not taken by the refusal
    assert (await account(client, tenant.headers, card))["balance"] == "0.00"


# --- isolation ----------------------------------------------------------------------------------


async def test_other_tenant_sees_and_moves_nothing(client, tenant, other_tenant):
    _, card = await card_with_change(client, tenant.headers)
    await move(client, tenant.headers, card, "deposits", "20.00")
    thief = other_tenant.headers
    for path in (f"/v1/cards/{card}/change-account", f"/v1/cards/{card}/change-account/entries"):
        r = await client.get(path, headers=thief)
        assert (r.status_code, r.json()["code"]) == (404, "card_not_found")
    for what in ("deposits", "spends"):
        assert (await move(client, thief, card, what, "1.00", 404))["code"] == "card_not_found"
    # The other tenant's own card with the very same number has its own account.
    theirs, same = await card_with_change(client, thief)
    assert same == card
    got = await account(client, thief, card)
    assert (got["balance"], got["member_id"], got["entries"]) == ("0.00", theirs, [])
    await move(client, thief, card, "spends", "1.00", 409)
    await move(client, thief, card, "deposits", "1.00")
    got = await account(client, tenant.headers, card)
    assert (got["balance"], len(got["entries"])) == ("20.00", 1)


# --- a real race --------------------------------------------------------------------------------


async def test_thirty_racing_spends_never_overdraw(live_server):
    admin = {"Authorization": f"Bearer {live_server.admin_key}"}
    code = "Z" + uuid.uuid4().hex[:6].upper()
    async with httpx.AsyncClient(base_url=live_server.url, headers=admin, timeout=60) as c:
        await c.post("/v1/stores", json={"code": "S01", "name": "x"})
        klass = {**GOLD, "code": code, "prefix": code[1:5], **ENABLED}
        r = await c.post("/v1/card-classes", json=klass)
        assert r.status_code == 201, r.text
        member = (await c.post("/v1/members", json={"name": "Race"})).json()["id"]
        r = await c.post(
            "/v1/cards", json={"card_class": code, "store_code": "S01", "member_id": member}
        )
        assert r.status_code == 201, r.text
        card = r.json()["number"]
        r = await c.post(f"/v1/cards/{card}/change-account/deposits", json={"amount": "100.00"})
        assert r.status_code == 201, r.text

        results = await asyncio.gather(
            *[
                c.post(f"/v1/cards/{card}/change-account/spends", json={"amount": "10.00"})
                for _ in range(30)
            ]
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201] * 10 + [409] * 20, statuses
        assert {r.json()["code"] for r in results if r.status_code == 409} == {
            "insufficient_change_balance"
        }
        balances = sorted(
            (r.json()["balance"] for r in results if r.status_code == 201), key=Decimal
        )
        assert balances == [f"{10 * i}.00" for i in range(10)]  # each saw the one before
        got = (await c.get(f"/v1/cards/{card}/change-account")).json()
    assert got["balance"] == "0.00"
    assert [e["kind"] for e in got["entries"]] == ["spend"] * 10 + ["deposit"]
