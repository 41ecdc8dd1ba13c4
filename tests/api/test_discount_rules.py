"""Discount rule documents, their change log, the pricing settings and what pricing reads
(version, stacking mode, rule entries), through the API and the unit of work."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.db import create_engine, create_sessionmaker
from app.domain.pricing import Level, StackingMode
from app.uow import UnitOfWork
from tests.conftest import bearer

CLASS = {"name": "Gold", "usage": "member", "serial_length": 6, "serial_start": 1}
ENTRY = {"target": "OLAY", "card_class": "GOLD", "rate": "0.9", "stackable": True}
RULE = {"level": "brand", "entries": [ENTRY]}
PAST, FUTURE = "2020-01-01T00:00:00+08:00", "2099-01-01T00:00:00Z"

ISOLATION_COVERS = {
    ("POST", "/v1/discount-rules"),
    ("GET", "/v1/discount-rules"),
    ("GET", "/v1/discount-rules/{rule_id}"),
    ("PATCH", "/v1/discount-rules/{rule_id}"),
    ("POST", "/v1/discount-rules/{rule_id}/approve"),
    ("POST", "/v1/discount-rules/{rule_id}/void"),
    ("GET", "/v1/discount-rules/{rule_id}/changes"),
    ("GET", "/v1/settings/pricing"),
    ("PUT", "/v1/settings/pricing"),
}


@pytest.fixture
async def classes(client, tenant):
    """The tenant with classes GOLD and DIAMOND."""
    for code in ("GOLD", "DIAMOND"):
        r = await client.post(
            "/v1/card-classes",
            json={"code": code, **CLASS, "serial_end": 999999},
            headers=tenant.headers,
        )
        assert r.status_code == 201, r.text
    return tenant


@pytest.fixture
async def uow(database_url) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        yield UnitOfWork(create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def create(client, tenant, **fields) -> dict:
    r = await client.post("/v1/discount-rules", json={**RULE, **fields}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, tenant, rule_id: str, action: str) -> dict:
    r = await client.post(f"/v1/discount-rules/{rule_id}/{action}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def changes_of(client, tenant, rule_id: str) -> list[dict]:
    r = await client.get(f"/v1/discount-rules/{rule_id}/changes", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def version_of(database_url: str, tenant_id: str) -> int | None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(
                text("SELECT version FROM pricing_versions WHERE tenant_id = :t"),
                {"t": uuid.UUID(tenant_id)},
            )
    finally:
        await engine.dispose()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- documents -----------------------------------------------------------------------------


async def test_create_is_a_draft_and_reads_back(client, classes):
    body = {
        "level": "brand",
        "effective_from": "2026-12-01T00:00:00+08:00",
        "effective_to": "2027-01-01T00:00:00+08:00",
        "note": "Winter skin care",
        "entries": [
            {"target": "OLAY", "card_class": "GOLD", "rate": "0.80", "stackable": True},
            {"target": "OLAY", "card_class": "DIAMOND", "rate": "0.75", "stackable": False},
            {"target": "LOREAL", "card_class": "GOLD", "rate": "1", "stackable": True},
        ],
    }
    r = await client.post("/v1/discount-rules", json=body, headers=classes.headers)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["id"].isdigit()
    assert (doc["status"], doc["approved_at"], doc["voided_at"]) == ("draft", None, None)
    assert doc["level"] == "brand" and doc["note"] == "Winter skin care"
    assert at(doc["effective_from"]) == at(body["effective_from"])
    assert at(doc["effective_to"]) == at(body["effective_to"])
    # In order, each rate with its 4 decimals.
    assert [e["rate"] for e in doc["entries"]] == ["0.8000", "0.7500", "1.0000"]
    assert [(e["target"], e["card_class"], e["stackable"]) for e in doc["entries"]] == [
        ("OLAY", "GOLD", True),
        ("OLAY", "DIAMOND", False),
        ("LOREAL", "GOLD", True),
    ]
    assert doc["created_at"] and doc["updated_at"]
    got = await client.get(f"/v1/discount-rules/{doc['id']}", headers=classes.headers)
    assert got.status_code == 200 and got.json() == doc


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"entries": [{**ENTRY, "rate": "1.5"}]}, "invalid_discount_rule", "entries[0].rate"),
        ({"entries": [{**ENTRY, "rate": "0"}]}, "invalid_discount_rule", "entries[0].rate"),
        ({"entries": [{**ENTRY, "rate": "0.12345"}]}, "invalid_discount_rule", "entries[0].rate"),
        ({"entries": [ENTRY, {**ENTRY, "rate": "0.5"}]}, "invalid_discount_rule", "entries[1]"),
        (
            {"entries": [ENTRY, {**ENTRY, "card_class": "NOPE"}]},
            "unknown_card_class",
            "entries[1].card_class",
        ),
        (
            {"effective_from": FUTURE, "effective_to": "2098-12-31T23:59:59Z"},
            "invalid_discount_rule",
            "effective_to",
        ),
        ({"effective_from": "2026-12-01T00:00:00"}, "validation_error", "effective_from"),
        ({"level": "aisle"}, "validation_error", "level"),
        ({"entries": []}, "validation_error", "entries"),
        ({"entries": [{**ENTRY, "target": ""}]}, "validation_error", "entries[0].target"),
        ({"entries": [{**ENTRY, "rate": 0.9}]}, "validation_error", "entries[0].rate"),
        ({"entries": [{**ENTRY, "stackable": None}]}, "validation_error", "entries[0].stackable"),
        ({"status": "approved"}, "validation_error", "status"),
    ],
)
async def test_invalid_create_is_422_naming_the_field(client, classes, fields, code, field):
    r = await client.post("/v1/discount-rules", json={**RULE, **fields}, headers=classes.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert [e["field"] for e in r.json()["errors"]] == [field]


async def test_patch_edits_a_draft_and_replaces_entries(client, classes):
    doc = await create(client, classes, note="first")
    new_entries = [{"target": "LOREAL", "card_class": "DIAMOND", "rate": "0.7", "stackable": False}]
    r = await client.patch(
        f"/v1/discount-rules/{doc['id']}",
        json={"note": None, "effective_to": FUTURE, "entries": new_entries},
        headers=classes.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["note"] is None
    assert at(r.json()["effective_to"]) == at(FUTURE)
    stored = [{**new_entries[0], "rate": "0.7000"}]  # the rate with its 4 decimals
    assert r.json()["entries"] == stored
    assert r.json()["level"] == "brand"  # untouched
    assert r.json()["updated_at"] >= doc["updated_at"]

    # The merged document is validated; a level alone keeps the entries.
    r = await client.patch(
        f"/v1/discount-rules/{doc['id']}",
        json={"effective_from": FUTURE},
        headers=classes.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "effective_to"
    r = await client.patch(
        f"/v1/discount-rules/{doc['id']}", json={"level": "product"}, headers=classes.headers
    )
    assert r.status_code == 200 and r.json()["entries"] == stored
    for body, field in (({"level": None}, "level"), ({"entries": None}, "entries")):
        r = await client.patch(
            f"/v1/discount-rules/{doc['id']}", json=body, headers=classes.headers
        )
        assert r.status_code == 422 and r.json()["code"] == "validation_error", field
    r = await client.patch(
        f"/v1/discount-rules/{doc['id']}",
        json={"entries": [{**ENTRY, "card_class": "NOPE"}]},
        headers=classes.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_card_class"


async def test_approve_stamps_the_database_time_and_defaults_the_start(client, classes):
    doc = await create(client, classes)
    approved = await act(client, classes, doc["id"], "approve")
    assert approved["status"] == "approved"
    assert approved["approved_at"] is not None
    assert approved["effective_from"] == approved["approved_at"]
    assert approved["entries"] == doc["entries"]


async def test_approve_clamps_a_past_start_and_keeps_a_future_one(client, classes):
    past = await act(
        client, classes, (await create(client, classes, effective_from=PAST))["id"], "approve"
    )
    assert past["effective_from"] == past["approved_at"]
    assert at(past["approved_at"]) > at(PAST)
    future = await create(client, classes, effective_from=FUTURE)
    future = await act(client, classes, future["id"], "approve")
    assert at(future["effective_from"]) == at(FUTURE)
    assert at(future["approved_at"]) < at(FUTURE)


async def test_approve_refuses_a_window_that_is_over(client, classes):
    doc = await create(client, classes, effective_from=PAST, effective_to="2021-01-01T00:00:00Z")
    r = await client.post(f"/v1/discount-rules/{doc['id']}/approve", headers=classes.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_window"
    assert r.json()["errors"][0]["field"] == "effective_to"
    got = await client.get(f"/v1/discount-rules/{doc['id']}", headers=classes.headers)
    assert got.json()["status"] == "draft"


async def test_transitions_twice_and_edits_after_approval_are_409(client, classes):
    doc = await create(client, classes)
    await act(client, classes, doc["id"], "approve")
    path = f"/v1/discount-rules/{doc['id']}"
    r = await client.post(f"{path}/approve", headers=classes.headers)
    assert r.status_code == 409 and r.json()["code"] == "rule_not_draft"
    r = await client.patch(path, json={"note": "late"}, headers=classes.headers)
    assert r.status_code == 409 and r.json()["code"] == "rule_not_draft"

    voided = await act(client, classes, doc["id"], "void")
    assert voided["status"] == "voided" and voided["voided_at"] >= voided["approved_at"]
    r = await client.post(f"{path}/void", headers=classes.headers)
    assert r.status_code == 409 and r.json()["code"] == "rule_already_voided"
    r = await client.post(f"{path}/approve", headers=classes.headers)
    assert r.status_code == 409 and r.json()["code"] == "rule_not_draft"
    r = await client.patch(path, json={"note": "late"}, headers=classes.headers)
    assert r.status_code == 409 and r.json()["code"] == "rule_not_draft"


async def test_a_draft_can_be_voided_but_not_approved_after(client, classes):
    doc = await create(client, classes)
    voided = await act(client, classes, doc["id"], "void")
    assert voided["approved_at"] is None and voided["voided_at"] is not None
    r = await client.post(f"/v1/discount-rules/{doc['id']}/approve", headers=classes.headers)
    assert r.status_code == 409 and r.json()["code"] == "rule_not_draft"


@pytest.mark.parametrize("rule_id", ["abc", "0", "-1", "1.5", str(2**63), "99999999999"])
async def test_unknown_or_malformed_id_is_404(client, tenant, rule_id):
    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("POST", "/approve"),
        ("POST", "/void"),
        ("GET", "/changes"),
    ):
        r = await client.request(
            method,
            f"/v1/discount-rules/{rule_id}{suffix}",
            json={"note": "x"} if method == "PATCH" else None,
            headers=tenant.headers,
        )
        assert r.status_code == 404, (method, suffix, r.text)
        assert r.json()["code"] == "rule_not_found"


async def test_list_filters_and_pages_newest_first(client, classes):
    olay = await create(client, classes)
    mixed = await create(
        client,
        classes,
        entries=[
            {**ENTRY, "target": "LOREAL", "card_class": "DIAMOND"},
            {**ENTRY, "target": "SKII"},
        ],
    )
    counter = await create(client, classes, level="counter", entries=[{**ENTRY, "target": "C07"}])
    await act(client, classes, olay["id"], "approve")
    await act(client, classes, counter["id"], "void")

    async def ids(**params) -> list[str]:
        r = await client.get("/v1/discount-rules", params=params, headers=classes.headers)
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["items"]]

    assert await ids() == [counter["id"], mixed["id"], olay["id"]]
    assert await ids(status="approved") == [olay["id"]]
    assert await ids(status="draft") == [mixed["id"]]
    assert await ids(level="counter") == [counter["id"]]
    assert await ids(card_class="DIAMOND") == [mixed["id"]]
    assert await ids(target="SKII") == [mixed["id"]]
    assert await ids(card_class="GOLD") == [counter["id"], mixed["id"], olay["id"]]
    # Both filters must hold for the same entry.
    assert await ids(card_class="DIAMOND", target="SKII") == []
    assert await ids(card_class="DIAMOND", target="LOREAL", level="brand") == [mixed["id"]]

    items = (await client.get("/v1/discount-rules", headers=classes.headers)).json()["items"]
    assert [d["entry_count"] for d in items] == [1, 2, 1]
    assert "entries" not in items[0]

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get("/v1/discount-rules", params=params, headers=classes.headers)
        ).json()
        seen += [d["id"] for d in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [counter["id"], mixed["id"], olay["id"]]

    for params in ({"status": "live"}, {"level": "aisle"}, {"cursor": "garbage"}):
        r = await client.get("/v1/discount-rules", params=params, headers=classes.headers)
        assert r.status_code == 422, params


async def test_change_log_records_each_action_with_its_actor(client, classes):
    key = await client.post(
        "/v1/api-keys", json={"name": "pricing-desk", "scopes": ["admin"]}, headers=classes.headers
    )
    desk = bearer(key.json()["key"])
    doc = await create(client, classes, note="draft one")
    r = await client.patch(
        f"/v1/discount-rules/{doc['id']}",
        json={"note": "final", "entries": [{**ENTRY, "rate": "0.85"}]},
        headers=desk,
    )
    assert r.status_code == 200
    approved = await act(client, classes, doc["id"], "approve")
    await act(client, classes, doc["id"], "void")

    log = await changes_of(client, classes, doc["id"])
    ids = [int(e["id"]) for e in log]
    assert ids == sorted(ids, reverse=True)  # newest first
    by_action: dict[str, dict[str, tuple]] = {}
    for e in log:
        by_action.setdefault(e["action"], {})[e["field"]] = (e["old"], e["new"], e["actor"])
    assert set(by_action["create"]) == {"status", "level", "note", "entries"}
    assert by_action["create"]["note"] == (None, "draft one", "admin")
    assert json.loads(by_action["create"]["entries"][1]) == [ENTRY]
    assert by_action["update"]["note"] == ("draft one", "final", "pricing-desk")
    old, new, _ = by_action["update"]["entries"]
    assert (json.loads(old)[0]["rate"], json.loads(new)[0]["rate"]) == ("0.9", "0.85")
    assert set(by_action["update"]) == {"note", "entries"}
    assert by_action["approve"]["status"] == ("draft", "approved", "admin")
    assert at(by_action["approve"]["approved_at"][1]) == at(approved["approved_at"])
    assert by_action["approve"]["effective_from"][0] is None
    assert set(by_action["void"]) == {"status", "voided_at"}
    assert by_action["void"]["status"] == ("approved", "voided", "admin")

    r = await client.get(
        f"/v1/discount-rules/{doc['id']}/changes", params={"limit": 2}, headers=classes.headers
    )
    assert len(r.json()["items"]) == 2 and r.json()["next_cursor"]


async def test_reads_for_every_scope_writes_for_admin(client, classes):
    doc = await create(client, classes)
    for scope in ("pos", "app", "partner", "analytics"):
        key = await client.post(
            "/v1/api-keys", json={"name": scope, "scopes": [scope]}, headers=classes.headers
        )
        reader = bearer(key.json()["key"])
        for path in ("", f"/{doc['id']}", f"/{doc['id']}/changes"):
            r = await client.get(f"/v1/discount-rules{path}", headers=reader)
            assert r.status_code == 200, (scope, path)
        assert (await client.get("/v1/settings/pricing", headers=reader)).status_code == 200
        writes = [
            ("POST", "/v1/discount-rules", RULE),
            ("PATCH", f"/v1/discount-rules/{doc['id']}", {"note": "x"}),
            ("POST", f"/v1/discount-rules/{doc['id']}/approve", None),
            ("POST", f"/v1/discount-rules/{doc['id']}/void", None),
            ("PUT", "/v1/settings/pricing", {"stacking_mode": "multiply"}),
        ]
        for method, path, body in writes:
            r = await client.request(method, path, json=body, headers=reader)
            assert r.status_code == 403, (scope, method, path)


# --- settings and what pricing reads -------------------------------------------------------


async def test_pricing_settings_default_and_put(client, tenant):
    r = await client.get("/v1/settings/pricing", headers=tenant.headers)
    assert r.status_code == 200 and r.json() == {"stacking_mode": "threshold"}
    r = await client.put(
        "/v1/settings/pricing", json={"stacking_mode": "multiply"}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json() == {"stacking_mode": "multiply"}
    r = await client.get("/v1/settings/pricing", headers=tenant.headers)
    assert r.json() == {"stacking_mode": "multiply"}
    for body in ({"stacking_mode": "add"}, {}, {"stacking_mode": "threshold", "x": 1}):
        r = await client.put("/v1/settings/pricing", json=body, headers=tenant.headers)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", body


async def test_pricing_version_bumps_with_approve_void_and_settings(
    client, classes, database_url, uow
):
    # Creating the card classes already bumped it (classes carry default rates).
    base = await version_of(database_url, classes.id)
    async with uow:
        assert await uow.pricing.version(classes.id) == base > 0
    doc = await create(client, classes)
    r = await client.patch(
        f"/v1/discount-rules/{doc['id']}", json={"note": "x"}, headers=classes.headers
    )
    assert r.status_code == 200
    assert await version_of(database_url, classes.id) == base  # drafts price nothing
    await act(client, classes, doc["id"], "approve")
    assert await version_of(database_url, classes.id) == base + 1
    await act(client, classes, doc["id"], "void")
    assert await version_of(database_url, classes.id) == base + 2
    await client.put(
        "/v1/settings/pricing", json={"stacking_mode": "multiply"}, headers=classes.headers
    )
    assert await version_of(database_url, classes.id) == base + 3
    # A refused transition changes nothing.
    await client.post(f"/v1/discount-rules/{doc['id']}/void", headers=classes.headers)
    assert await version_of(database_url, classes.id) == base + 3
    async with uow:
        assert await uow.pricing.version(classes.id) == base + 3
        assert await uow.pricing.settings(classes.id) is StackingMode.MULTIPLY


async def test_rule_entries_are_approved_documents_ending_at_voiding(client, classes, uow):
    kept = await create(
        client,
        classes,
        effective_to=FUTURE,
        entries=[ENTRY, {**ENTRY, "card_class": "DIAMOND", "rate": "0.80", "stackable": False}],
    )
    voided = await create(client, classes, level="counter", entries=[{**ENTRY, "target": "C07"}])
    await create(client, classes, entries=[{**ENTRY, "target": "DRAFT"}])
    draft_voided = await create(client, classes, entries=[{**ENTRY, "target": "NEVER"}])
    kept = await act(client, classes, kept["id"], "approve")
    await act(client, classes, voided["id"], "approve")
    voided = await act(client, classes, voided["id"], "void")
    await act(client, classes, draft_voided["id"], "void")

    async with uow:
        entries = await uow.pricing.rule_entries(classes.id)
    assert [(e.rule_id, e.target, e.card_class) for e in entries] == [
        (kept["id"], "OLAY", "GOLD"),
        (kept["id"], "OLAY", "DIAMOND"),
        (voided["id"], "C07", "GOLD"),
    ]
    gold, diamond, counter = entries
    assert (gold.level, gold.rate, gold.stackable) == (Level.BRAND, Decimal("0.9"), True)
    assert (diamond.rate, diamond.stackable) == (Decimal("0.8"), False)
    assert gold.approved_at == at(kept["approved_at"])
    assert gold.effective_from == at(kept["effective_from"])
    assert gold.effective_to == at(FUTURE)
    assert counter.level is Level.COUNTER
    assert counter.effective_to == at(voided["voided_at"])  # no end of its own: the voiding

    # A window that ends after the voiding is cut at the voiding.
    short = await create(client, classes, effective_to=FUTURE, entries=[{**ENTRY, "target": "A"}])
    await act(client, classes, short["id"], "approve")
    short = await act(client, classes, short["id"], "void")
    async with uow:
        ends_at = {e.target: e.effective_to for e in await uow.pricing.rule_entries(classes.id)}
    assert ends_at == {
        "OLAY": at(FUTURE),
        "C07": at(voided["voided_at"]),
        "A": at(short["voided_at"]),
    }


# --- tenant isolation ----------------------------------------------------------------------


async def test_other_tenant_sees_nothing_and_changes_nothing(client, classes, other_tenant):
    doc = await create(client, classes, note="victim")
    approved = await create(client, classes)
    await act(client, classes, approved["id"], "approve")
    for rule_id in (doc["id"], approved["id"]):
        for method, suffix, body in (
            ("GET", "", None),
            ("PATCH", "", {"note": "hijacked"}),
            ("POST", "/approve", None),
            ("POST", "/void", None),
            ("GET", "/changes", None),
        ):
            r = await client.request(
                method,
                f"/v1/discount-rules/{rule_id}{suffix}",
                json=body,
                headers=other_tenant.headers,
            )
            assert r.status_code == 404, (method, suffix, r.text)
    got = (await client.get(f"/v1/discount-rules/{doc['id']}", headers=classes.headers)).json()
    assert (got["status"], got["note"]) == ("draft", "victim")
    got = await client.get(f"/v1/discount-rules/{approved['id']}", headers=classes.headers)
    assert got.json()["status"] == "approved"
    assert {e["action"] for e in await changes_of(client, classes, doc["id"])} == {"create"}

    r = await client.get("/v1/discount-rules", headers=other_tenant.headers)
    assert r.json()["items"] == []
    # Classes are the tenant's own: the victim's GOLD is unknown to the other tenant.
    r = await client.post("/v1/discount-rules", json=RULE, headers=other_tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "unknown_card_class"


async def test_settings_are_per_tenant(client, tenant, other_tenant, uow):
    r = await client.put(
        "/v1/settings/pricing", json={"stacking_mode": "multiply"}, headers=tenant.headers
    )
    assert r.status_code == 200
    r = await client.get("/v1/settings/pricing", headers=other_tenant.headers)
    assert r.json() == {"stacking_mode": "threshold"}
    async with uow:
        assert await uow.pricing.version(other_tenant.id) == 0
        assert await uow.pricing.version(tenant.id) == 1
