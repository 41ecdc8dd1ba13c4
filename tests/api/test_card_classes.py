"""Card classes, their change log and sharing groups, through the API."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from app.db import create_engine
from tests.conftest import bearer

MINIMAL = {"name": "Silver", "usage": "member", "serial_length": 6, "serial_start": 1}
GROUP = {"code": "STD", "name": "Standard", "store_share": "0.5"}

ISOLATION_COVERS = {
    ("POST", "/v1/card-classes"),
    ("GET", "/v1/card-classes"),
    ("GET", "/v1/card-classes/{code}"),
    ("PATCH", "/v1/card-classes/{code}"),
    ("DELETE", "/v1/card-classes/{code}"),
    ("GET", "/v1/card-classes/{code}/changes"),
    ("POST", "/v1/sharing-groups"),
    ("GET", "/v1/sharing-groups"),
    ("GET", "/v1/sharing-groups/{code}"),
    ("PATCH", "/v1/sharing-groups/{code}"),
}


def klass(code: str, **fields) -> dict:
    return {"code": code, **MINIMAL, "serial_end": 999999, **fields}


async def create(client, tenant, code: str, **fields):
    r = await client.post("/v1/card-classes", json=klass(code, **fields), headers=tenant.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def issue_cards(database_url: str, tenant_id: str, code: str, n: int) -> None:
    """Stand-in for the cards endpoint: take ``n`` serials the way it does."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE card_classes SET next_serial = next_serial + :n "
                    "WHERE tenant_id = :t AND code = :c"
                ),
                {"n": n, "t": uuid.UUID(tenant_id), "c": code},
            )
    finally:
        await engine.dispose()


async def changes_of(client, tenant, code: str) -> list[dict]:
    r = await client.get(f"/v1/card-classes/{code}/changes?limit=500", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


# --- card classes --------------------------------------------------------------------------


async def test_create_applies_documented_defaults(client, tenant):
    body = await create(client, tenant, "SILVER")
    assert body["prefix"] == body["suffix"] == ""
    assert body["check_digit_length"] == 1
    assert body["validity_months"] is None and body["verification"] == "none"
    assert body["default_points_rate"] == "0.1000"  # rates: always 4 decimals
    assert body["identity_points_multiple"] == "0.0000"
    assert body["default_discount_rate"] == "1.0000"
    assert (body["stack_threshold_rate"], body["stack_rate"]) == ("0.8000", "1.0000")
    assert body["change_account_enabled"] is False
    assert body["change_account_limit"] == "0.00"
    assert body["sharing_group"] is body["upgrade_to"] is body["upgrade_spend_12m"] is None
    assert body["receipt_open_threshold"] is None
    assert body["cards_issued"] == 0
    assert body["created_at"] and body["updated_at"]


async def test_create_with_every_field_and_get(client, tenant):
    assert (
        await client.post("/v1/sharing-groups", json=GROUP, headers=tenant.headers)
    ).status_code == 201
    await create(client, tenant, "DIAMOND")
    full = klass(
        "GOLD",
        usage="member",
        prefix="G",
        serial_length=8,
        serial_start=100,
        serial_end=99999999,
        check_digit_length=2,
        suffix="X",
        validity_months=24,
        verification="code",
        default_points_rate="0.2",
        identity_points_multiple="1",
        default_discount_rate="0.9",
        sharing_group="STD",
        receipt_open_threshold="5000",
        stack_threshold_rate="0.85",
        stack_rate="0.95",
        change_account_enabled=True,
        change_account_limit="100.5",
        upgrade_to="DIAMOND",
        upgrade_spend_12m="50000.00",
    )
    r = await client.post("/v1/card-classes", json=full, headers=tenant.headers)
    assert r.status_code == 201, r.text
    got = (await client.get("/v1/card-classes/GOLD", headers=tenant.headers)).json()
    money = {"receipt_open_threshold": "5000.00", "change_account_limit": "100.50"}
    rates = {
        "default_points_rate": "0.2000",
        "identity_points_multiple": "1.0000",
        "default_discount_rate": "0.9000",
        "stack_threshold_rate": "0.8500",
        "stack_rate": "0.9500",
    }
    assert got == r.json()
    assert {k: got[k] for k in full} == {**full, **money, **rates}


async def test_list_pages_by_code(client, tenant):
    codes = [f"C{i}" for i in range(7)]
    for code in reversed(codes):
        await create(client, tenant, code)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/card-classes", params=params, headers=tenant.headers)
        assert r.status_code == 200
        seen += [c["code"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == codes


async def test_duplicate_code_is_409(client, tenant):
    await create(client, tenant, "DUP")
    r = await client.post("/v1/card-classes", json=klass("DUP"), headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "card_class_exists"
    assert r.json()["errors"][0]["field"] == "code"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"serial_end": 1000000}, "invalid_card_class", "serial_end"),  # 7 digits > 6
        ({"serial_start": 5, "serial_end": 4}, "invalid_card_class", "serial_end"),
        ({"default_discount_rate": "1.5"}, "invalid_card_class", "default_discount_rate"),
        ({"stack_rate": "0"}, "invalid_card_class", "stack_rate"),
        ({"change_account_limit": "1.005"}, "invalid_card_class", "change_account_limit"),
        ({"default_points_rate": "-1"}, "invalid_card_class", "default_points_rate"),
        ({"upgrade_spend_12m": "10"}, "invalid_card_class", "upgrade_to"),
        ({"sharing_group": "NOPE"}, "unknown_sharing_group", "sharing_group"),
        ({"upgrade_to": "NOPE", "upgrade_spend_12m": "10"}, "unknown_card_class", "upgrade_to"),
        ({"default_points_rate": 0.1}, "validation_error", "default_points_rate"),
        ({"prefix": "vip"}, "validation_error", "prefix"),
        ({"usage": "gift"}, "validation_error", "usage"),
        ({"colour": "red"}, "validation_error", "colour"),
    ],
)
async def test_invalid_create_is_422_naming_the_field(client, tenant, fields, code, field):
    r = await client.post("/v1/card-classes", json=klass("BAD", **fields), headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert [e["field"] for e in r.json()["errors"]] == [field]
    r = await client.get("/v1/card-classes/BAD", headers=tenant.headers)
    assert r.status_code == 404


async def test_patch_merges_and_logs_each_changed_field_with_actor(client, tenant):
    await create(client, tenant, "GOLD", default_discount_rate="0.9")
    key = await client.post(
        "/v1/api-keys", json={"name": "ops-console", "scopes": ["admin"]}, headers=tenant.headers
    )
    r = await client.patch(
        "/v1/card-classes/GOLD",
        json={"name": "Gold 2027", "default_discount_rate": "0.88", "stack_rate": "1"},
        headers=bearer(key.json()["key"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Gold 2027"
    assert r.json()["default_discount_rate"] == "0.8800"
    assert r.json()["serial_end"] == 999999  # untouched

    log = await changes_of(client, tenant, "GOLD")
    updates = [e for e in log if e["action"] == "update"]
    # stack_rate was sent but did not change, so it is not logged.
    assert {(e["field"], e["old"], e["new"]) for e in updates} == {
        ("name", "Silver", "Gold 2027"),
        ("default_discount_rate", "0.9", "0.88"),
    }
    assert {e["actor"] for e in updates} == {"ops-console"}
    creates = [e for e in log if e["action"] == "create"]
    assert {e["actor"] for e in creates} == {"admin"}
    assert ("serial_end", None, "999999") in {(e["field"], e["old"], e["new"]) for e in creates}
    assert log.index(updates[0]) < log.index(creates[0])  # newest first
    ids = [int(e["id"]) for e in log]
    assert ids == sorted(ids, reverse=True)


async def test_patch_validates_the_merged_class(client, tenant):
    await create(client, tenant, "GOLD")
    r = await client.patch(
        "/v1/card-classes/GOLD", json={"serial_length": 3}, headers=tenant.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "serial_end"
    r = await client.patch(
        "/v1/card-classes/GOLD",
        json={"upgrade_to": "GOLD", "upgrade_spend_12m": "1"},
        headers=tenant.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "upgrade_to"
    for body in ({"name": None}, {"code": "GOLD2"}):
        r = await client.patch("/v1/card-classes/GOLD", json=body, headers=tenant.headers)
        assert r.status_code == 422, body
    r = await client.patch(
        "/v1/card-classes/GOLD", json={"validity_months": 12}, headers=tenant.headers
    )
    assert r.json()["validity_months"] == 12
    r = await client.patch(
        "/v1/card-classes/GOLD", json={"validity_months": None}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["validity_months"] is None
    r = await client.patch("/v1/card-classes/NOPE", json={"name": "x"}, headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "card_class_not_found"


async def test_upgrades_cannot_form_a_cycle(client, tenant):
    await create(client, tenant, "C")
    await create(client, tenant, "B", upgrade_to="C", upgrade_spend_12m="2000")
    await create(client, tenant, "A", upgrade_to="B", upgrade_spend_12m="1000")
    r = await client.patch(
        "/v1/card-classes/C",
        json={"upgrade_to": "A", "upgrade_spend_12m": "3000"},
        headers=tenant.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "upgrade_cycle"
    assert r.json()["errors"][0]["field"] == "upgrade_to"
    r = await client.patch(
        "/v1/card-classes/A",
        json={"upgrade_to": "C", "upgrade_spend_12m": "3000"},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text  # skipping a step is fine


async def test_number_format_freezes_once_a_card_is_issued(client, tenant, database_url):
    await create(client, tenant, "GOLD", serial_start=1, serial_end=100)
    await issue_cards(database_url, tenant.id, "GOLD", 10)  # serials 1..10 used
    got = (await client.get("/v1/card-classes/GOLD", headers=tenant.headers)).json()
    assert got["cards_issued"] == 10

    for body in ({"prefix": "G"}, {"serial_length": 7}, {"serial_start": 2}, {"suffix": "Z"}):
        r = await client.patch("/v1/card-classes/GOLD", json=body, headers=tenant.headers)
        assert r.status_code == 409, body
        assert r.json()["code"] == "card_class_in_use"
        assert [e["field"] for e in r.json()["errors"]] == list(body)
    r = await client.patch("/v1/card-classes/GOLD", json={"serial_end": 9}, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "serial_end"

    # Same format values, a shrink down to the last issued serial and other fields are fine.
    r = await client.patch(
        "/v1/card-classes/GOLD",
        json={"prefix": "", "serial_end": 10, "name": "Gold"},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        "/v1/card-classes/GOLD", json={"serial_end": 500}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["serial_end"] == 500


async def test_delete_rules_and_log_survives(client, tenant, database_url):
    await create(client, tenant, "USED")
    await issue_cards(database_url, tenant.id, "USED", 1)
    r = await client.delete("/v1/card-classes/USED", headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "card_class_in_use"

    await create(client, tenant, "TOP")
    await create(client, tenant, "LOW", upgrade_to="TOP", upgrade_spend_12m="1000")
    r = await client.delete("/v1/card-classes/TOP", headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "card_class_referenced"
    assert "LOW" in r.json()["detail"]

    assert (await client.delete("/v1/card-classes/LOW", headers=tenant.headers)).status_code == 204
    assert (await client.get("/v1/card-classes/LOW", headers=tenant.headers)).status_code == 404
    r = await client.delete("/v1/card-classes/LOW", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "card_class_not_found"

    log = await changes_of(client, tenant, "LOW")
    deletes = {e["field"]: (e["old"], e["new"]) for e in log if e["action"] == "delete"}
    assert deletes["upgrade_to"] == ("TOP", None)
    assert deletes["upgrade_spend_12m"] == ("1000.00", None)
    assert set(deletes) == {e["field"] for e in log if e["action"] == "create"}
    # With its referrer gone, TOP can go.
    assert (await client.delete("/v1/card-classes/TOP", headers=tenant.headers)).status_code == 204


async def test_change_log_pages_and_unknown_class(client, tenant):
    await create(client, tenant, "LOG")
    for i in range(3):
        await client.patch("/v1/card-classes/LOG", json={"name": f"n{i}"}, headers=tenant.headers)
    everything = await changes_of(client, tenant, "LOG")
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/card-classes/LOG/changes", params=params, headers=tenant.headers)
        seen += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert [e["new"] for e in everything[:3]] == ["n2", "n1", "n0"]

    r = await client.get("/v1/card-classes/NEVER/changes", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "card_class_not_found"
    r = await client.get(
        "/v1/card-classes/LOG/changes", params={"cursor": "bm9wZQ"}, headers=tenant.headers
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"


async def test_reads_for_any_scope_writes_for_admin(client, tenant):
    await create(client, tenant, "READ")
    key = await client.post(
        "/v1/api-keys", json={"name": "till", "scopes": ["pos"]}, headers=tenant.headers
    )
    pos = bearer(key.json()["key"])
    assert (await client.get("/v1/card-classes/READ", headers=pos)).status_code == 200
    assert (await client.get("/v1/card-classes/READ/changes", headers=pos)).status_code == 200
    assert (await client.get("/v1/sharing-groups", headers=pos)).status_code == 200
    r = await client.patch("/v1/card-classes/READ", json={"name": "x"}, headers=pos)
    assert r.status_code == 403
    assert (await client.delete("/v1/card-classes/READ", headers=pos)).status_code == 403
    assert (await client.post("/v1/sharing-groups", json=GROUP, headers=pos)).status_code == 403


# --- sharing groups ------------------------------------------------------------------------


async def test_sharing_group_crud(client, tenant):
    overrides = [
        {"level": "counter", "code": "COSMETICS", "store_share": "0.3"},
        {"level": "brand", "code": "OLAY", "store_share": "0"},
    ]
    r = await client.post(
        "/v1/sharing-groups", json={**GROUP, "overrides": overrides}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    # Shares come back with their 4 decimals, whatever form was sent.
    shares = [{**overrides[0], "store_share": "0.3000"}, {**overrides[1], "store_share": "0.0000"}]
    assert r.json()["overrides"] == shares
    assert r.json()["store_share"] == "0.5000"

    r = await client.post("/v1/sharing-groups", json=GROUP, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "sharing_group_exists"

    got = await client.get("/v1/sharing-groups/STD", headers=tenant.headers)
    assert got.status_code == 200 and got.json()["overrides"] == shares

    r = await client.patch(
        "/v1/sharing-groups/STD",
        json={"store_share": "0.6", "overrides": overrides[1:]},
        headers=tenant.headers,
    )
    assert r.status_code == 200
    assert (r.json()["store_share"], r.json()["overrides"]) == ("0.6000", shares[1:])
    assert r.json()["name"] == "Standard"

    await client.post("/v1/sharing-groups", json={**GROUP, "code": "ALT"}, headers=tenant.headers)
    page = (await client.get("/v1/sharing-groups?limit=1", headers=tenant.headers)).json()
    assert [g["code"] for g in page["items"]] == ["ALT"]
    page = (
        await client.get(
            "/v1/sharing-groups", params={"cursor": page["next_cursor"]}, headers=tenant.headers
        )
    ).json()
    assert [g["code"] for g in page["items"]] == ["STD"] and page["next_cursor"] is None

    r = await client.get("/v1/sharing-groups/NOPE", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "sharing_group_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"store_share": "1.5"}, "store_share"),
        (
            {
                "overrides": [
                    {"level": "brand", "code": "OLAY", "store_share": "0.1"},
                    {"level": "brand", "code": "OLAY", "store_share": "0.2"},
                ]
            },
            "overrides[1]",
        ),
        (
            {"overrides": [{"level": "counter", "code": "C1", "store_share": "0.12345"}]},
            "overrides[0].store_share",
        ),
    ],
)
async def test_invalid_sharing_group_is_422(client, tenant, body, field):
    r = await client.post("/v1/sharing-groups", json={**GROUP, **body}, headers=tenant.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_sharing_group"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    # The same rules hold for a patch.
    await client.post("/v1/sharing-groups", json=GROUP, headers=tenant.headers)
    r = await client.patch("/v1/sharing-groups/STD", json=body, headers=tenant.headers)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [field]


# --- tenant isolation ----------------------------------------------------------------------

PER_CODE = [
    ("GET", "/v1/card-classes/VIC", None),
    ("PATCH", "/v1/card-classes/VIC", {"name": "hijacked"}),
    ("DELETE", "/v1/card-classes/VIC", None),
    ("GET", "/v1/card-classes/VIC/changes", None),
    ("GET", "/v1/sharing-groups/VSG", None),
    ("PATCH", "/v1/sharing-groups/VSG", {"name": "hijacked"}),
]


@pytest.fixture
async def victim(client, tenant):
    r = await client.post(
        "/v1/sharing-groups",
        json={**GROUP, "code": "VSG", "name": "Victim"},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    await create(client, tenant, "VIC", name="Victim", sharing_group="VSG")
    return tenant


@pytest.mark.parametrize(("method", "path", "body"), PER_CODE)
async def test_other_tenant_gets_404(client, victim, other_tenant, method, path, body):
    r = await client.request(method, path, json=body, headers=other_tenant.headers)
    assert r.status_code == 404, r.text
    assert (await client.get("/v1/card-classes/VIC", headers=victim.headers)).json()[
        "name"
    ] == "Victim"
    assert (await client.get("/v1/sharing-groups/VSG", headers=victim.headers)).json()[
        "name"
    ] == "Victim"
    log = await changes_of(client, victim, "VIC")
    assert {e["action"] for e in log} == {"create"}


@pytest.mark.parametrize(
    ("path", "mine", "theirs"),
    [("/v1/card-classes", {"VIC"}, {"THEIRS"}), ("/v1/sharing-groups", {"VSG"}, {"STD"})],
)
async def test_lists_show_only_own_rows(client, victim, other_tenant, path, mine, theirs):
    await client.post("/v1/sharing-groups", json=GROUP, headers=other_tenant.headers)
    await create(client, other_tenant, "THEIRS")
    for tenant, expected in ((victim, mine), (other_tenant, theirs)):
        items = (await client.get(path, headers=tenant.headers)).json()["items"]
        assert {row["code"] for row in items} == expected


async def test_creates_land_in_own_tenant_and_cannot_reference_another(
    client, victim, other_tenant
):
    r = await client.post(
        "/v1/card-classes", json=klass("VIC", sharing_group="VSG"), headers=other_tenant.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sharing_group"
    r = await client.post(
        "/v1/card-classes",
        json=klass("MINE", upgrade_to="VIC", upgrade_spend_12m="1"),
        headers=other_tenant.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "upgrade_to"

    r = await client.post(
        "/v1/sharing-groups", json={**GROUP, "code": "VSG"}, headers=other_tenant.headers
    )
    assert r.status_code == 201
    r = await client.post(
        "/v1/card-classes", json=klass("VIC", sharing_group="VSG"), headers=other_tenant.headers
    )
    assert r.status_code == 201 and r.json()["name"] == "Silver"
    assert (await client.get("/v1/card-classes/VIC", headers=victim.headers)).json()[
        "name"
    ] == "Victim"
    assert (await client.get("/v1/sharing-groups/VSG", headers=victim.headers)).json()[
        "name"
    ] == "Victim"
