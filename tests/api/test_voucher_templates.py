"""Voucher templates through the API: CRUD, one 422 naming every bad field, the in-use rules,
the change log, and every change bumping the pricing version."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from app.db import create_engine
from tests.factories.vouchers import (
    create_template,
    issue_voucher,
    new_member,
    template,
)

ISOLATION_COVERS = {
    ("POST", "/v1/voucher-templates"),
    ("GET", "/v1/voucher-templates"),
    ("GET", "/v1/voucher-templates/{code}"),
    ("PATCH", "/v1/voucher-templates/{code}"),
    ("DELETE", "/v1/voucher-templates/{code}"),
    ("GET", "/v1/voucher-templates/{code}/changes"),
}


def fields_of(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


async def changes_of(client, tenant, code: str) -> list[dict]:
    r = await client.get(f"/v1/voucher-templates/{code}/changes?limit=500", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def pricing_version(database_url: str, tenant_id: str) -> int:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT version FROM pricing_versions WHERE tenant_id = :t"),
                {"t": uuid.UUID(tenant_id)},
            )
            return found or 0
    finally:
        await engine.dispose()


async def test_create_each_kind_and_read_back(client, tenant):
    await client.post(
        "/v1/stores", json={"code": "S01", "name": "Flagship"}, headers=tenant.headers
    )
    await client.post(
        "/v1/sharing-groups",
        json={"code": "STD", "name": "Standard", "store_share": "0.5"},
        headers=tenant.headers,
    )
    off = await create_template(client, tenant, "OFF18")
    assert off["face_value"] == "18.00" and off["rate"] is None
    assert off["stores"] == [] and off["include"] == {} and off["bearer"] is False
    threshold = await create_template(
        client,
        tenant,
        "MAN100",
        kind="threshold_amount_off",
        face_value="20",
        min_spend="100",
        stores=["S01"],
        include={"brand": ["OLAY", "LOREAL"]},
        exclude={"sku": ["690123"]},
        sharing_group="STD",
        per_member_limit=2,
    )
    assert threshold["min_spend"] == "100.00"
    assert threshold["include"] == {"brand": ["LOREAL", "OLAY"]}
    assert threshold["exclude"] == {"sku": ["690123"]}
    assert threshold["sharing_group"] == "STD" and threshold["per_member_limit"] == 2
    percent = await create_template(
        client,
        tenant,
        "NINE",
        kind="percent_off",
        face_value=None,
        rate="0.9",
        max_discount="50",
        valid_days=None,
        valid_from="2026-12-01T00:00:00+08:00",
        valid_to="2027-01-01T00:00:00+08:00",
        store_share="0",
        bearer=True,
    )
    assert percent["rate"] == "0.9000" and percent["max_discount"] == "50.00"
    assert percent["valid_from"] == "2026-11-30T16:00:00Z" and percent["valid_days"] is None
    assert percent["store_share"] == "0.0000" and percent["bearer"] is True

    got = await client.get("/v1/voucher-templates/MAN100", headers=tenant.headers)
    assert got.json() == threshold
    listed = await client.get("/v1/voucher-templates?limit=2", headers=tenant.headers)
    assert [t["code"] for t in listed.json()["items"]] == ["MAN100", "NINE"]
    rest = await client.get(
        f"/v1/voucher-templates?cursor={listed.json()['next_cursor']}", headers=tenant.headers
    )
    assert [t["code"] for t in rest.json()["items"]] == ["OFF18"]
    assert rest.json()["next_cursor"] is None


async def test_one_422_names_every_bad_field(client, tenant):
    r = await client.post(
        "/v1/voucher-templates",
        json=template(
            "BAD",
            kind="threshold_amount_off",
            face_value="50",
            min_spend="30",
            rate="0.9",
            stores=["NOPE"],
            card_classes=["NOCLASS"],
            sharing_group="NOGROUP",
            store_share="0.5",
            valid_from="2026-12-01T00:00:00Z",
        ),
        headers=tenant.headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_voucher_template"
    assert fields_of(r) == {
        "min_spend",
        "rate",
        "stores",
        "card_classes",
        "sharing_group",
        "store_share",
        "valid_days",
    }


async def test_kind_specific_rules(client, tenant):
    cases = [
        ({"kind": "threshold_amount_off", "min_spend": None}, {"min_spend"}),
        ({"kind": "percent_off", "face_value": None}, {"rate"}),
        ({"kind": "percent_off", "face_value": None, "rate": "1"}, {"rate"}),
        ({"kind": "percent_off", "face_value": None, "rate": "0"}, {"rate"}),
        ({"kind": "percent_off", "rate": "0.8"}, {"face_value"}),
        ({"face_value": None}, {"face_value"}),
        ({"max_discount": "5"}, {"max_discount"}),
        ({"valid_days": None}, {"valid_days"}),
        ({"valid_from": "2026-12-01T00:00:00Z"}, {"valid_days"}),
        (
            {
                "valid_days": None,
                "valid_from": "2026-12-01T00:00:00Z",
                "valid_to": "2026-11-01T00:00:00Z",
            },
            {"valid_to"},
        ),
        ({"valid_days": None, "valid_to": "2026-12-01T00:00:00Z"}, {"valid_from"}),
        ({"face_value": "10000000000"}, {"face_value"}),
        ({"store_share": "1.5"}, {"store_share"}),
    ]
    for overrides, expected in cases:
        r = await client.post(
            "/v1/voucher-templates", json=template("T", **overrides), headers=tenant.headers
        )
        assert r.status_code == 422, (overrides, r.text)
        assert fields_of(r) == expected, (overrides, r.json())


async def test_shapes_refused_by_the_schema(client, tenant):
    for overrides in (
        {"include": {"aisle": ["A"]}},
        {"per_member_limit": 0},
        {"kind": "free_gift"},
        {"valid_days": 0},
        {"code": "has space"},
    ):
        body = {**template("T"), **overrides}
        r = await client.post("/v1/voucher-templates", json=body, headers=tenant.headers)
        assert r.status_code == 422, (overrides, r.text)


async def test_duplicate_code_is_409(client, tenant):
    await create_template(client, tenant, "DUP")
    r = await client.post("/v1/voucher-templates", json=template("DUP"), headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "voucher_template_exists"


async def test_patch_merges_is_judged_whole_and_logs_each_field(client, tenant):
    await create_template(client, tenant, "P", include={"brand": ["OLAY"]})
    r = await client.patch(
        "/v1/voucher-templates/P",
        json={"name": "Renamed", "exclude": {"counter": ["TOBACCO"]}, "per_member_limit": 3},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Renamed" and body["per_member_limit"] == 3
    assert body["include"] == {"brand": ["OLAY"]}  # not sent: kept
    assert body["exclude"] == {"counter": ["TOBACCO"]}
    # Switching validity forms needs the old one cleared.
    r = await client.patch(
        "/v1/voucher-templates/P",
        json={"valid_from": "2026-12-01T00:00:00Z", "valid_to": "2027-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert r.status_code == 422 and fields_of(r) == {"valid_days"}
    r = await client.patch(
        "/v1/voucher-templates/P",
        json={
            "valid_days": None,
            "valid_from": "2026-12-01T00:00:00Z",
            "valid_to": "2027-01-01T00:00:00Z",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 200 and r.json()["valid_days"] is None
    r = await client.patch("/v1/voucher-templates/P", json={"code": "Q"}, headers=tenant.headers)
    assert r.status_code == 422
    r = await client.patch("/v1/voucher-templates/P", json={"name": None}, headers=tenant.headers)
    assert r.status_code == 422

    log = await changes_of(client, tenant, "P")
    assert [e["action"] for e in log[:3]] == ["update"] * 3
    by_field = {(e["action"], e["field"]): e for e in log}
    assert by_field[("update", "name")]["old"] == "18 off"
    assert by_field[("update", "name")]["new"] == "Renamed"
    assert by_field[("update", "exclude")]["new"] == '{"counter":["TOBACCO"]}'
    assert by_field[("update", "valid_days")] == {
        **by_field[("update", "valid_days")],
        "old": "30",
        "new": None,
    }
    assert by_field[("create", "include")]["new"] == '{"brand":["OLAY"]}'
    assert all(e["actor"] for e in log)


async def test_every_change_bumps_the_pricing_version(client, tenant, database_url):
    before = await pricing_version(database_url, tenant.id)
    await create_template(client, tenant, "V")
    created = await pricing_version(database_url, tenant.id)
    await client.patch("/v1/voucher-templates/V", json={"name": "x"}, headers=tenant.headers)
    patched = await pricing_version(database_url, tenant.id)
    await client.delete("/v1/voucher-templates/V", headers=tenant.headers)
    deleted = await pricing_version(database_url, tenant.id)
    assert before < created < patched < deleted


async def test_in_use_template_keeps_its_value_and_cannot_be_deleted(client, tenant):
    await create_template(client, tenant, "USED")
    member = await new_member(client, tenant)
    await issue_voucher(client, tenant, "USED", member)

    r = await client.patch(
        "/v1/voucher-templates/USED",
        json={"face_value": "20", "kind": "threshold_amount_off", "min_spend": "100"},
        headers=tenant.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "template_in_use"
    assert fields_of(r) == {"kind", "face_value"}
    # The rest may change.
    r = await client.patch(
        "/v1/voucher-templates/USED",
        json={"name": "Still 18 off", "min_spend": "50", "valid_days": 10},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.delete("/v1/voucher-templates/USED", headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "template_in_use"
    assert (
        await client.get("/v1/voucher-templates/USED", headers=tenant.headers)
    ).status_code == 200


async def test_delete_unused_then_log_still_readable(client, tenant):
    await create_template(client, tenant, "GONE")
    r = await client.delete("/v1/voucher-templates/GONE", headers=tenant.headers)
    assert r.status_code == 204
    r = await client.get("/v1/voucher-templates/GONE", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "voucher_template_not_found"
    log = await changes_of(client, tenant, "GONE")
    assert log[0]["action"] == "delete" and log[-1]["action"] == "create"
    r = await client.get("/v1/voucher-templates/NEVER/changes", headers=tenant.headers)
    assert r.status_code == 404
    assert (
        await client.delete("/v1/voucher-templates/GONE", headers=tenant.headers)
    ).status_code == 404


async def test_writes_need_admin(client, tenant):
    from tests.factories.members import key_for

    pos = await key_for(client, tenant, "pos")
    r = await client.post("/v1/voucher-templates", json=template("POS"), headers=pos)
    assert r.status_code == 403
    await create_template(client, tenant, "RO")
    assert (await client.get("/v1/voucher-templates/RO", headers=pos)).status_code == 200
    assert (await client.delete("/v1/voucher-templates/RO", headers=pos)).status_code == 403


async def test_other_tenants_templates_are_invisible(client, tenant, other_tenant):
    await create_template(client, tenant, "MINE")
    theirs = other_tenant.headers
    for method, path, body in (
        ("GET", "/v1/voucher-templates/MINE", None),
        ("PATCH", "/v1/voucher-templates/MINE", {"name": "hijacked"}),
        ("DELETE", "/v1/voucher-templates/MINE", None),
        ("GET", "/v1/voucher-templates/MINE/changes", None),
    ):
        r = await client.request(method, path, json=body, headers=theirs)
        assert r.status_code == 404, (method, path)
    listed = await client.get("/v1/voucher-templates", headers=theirs)
    assert listed.json()["items"] == []
    # The same code is theirs to take.
    await create_template(client, other_tenant, "MINE", name="Theirs")
    mine = await client.get("/v1/voucher-templates/MINE", headers=tenant.headers)
    assert mine.json()["name"] == "18 off"
