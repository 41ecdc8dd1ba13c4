import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from app.db import create_engine, create_sessionmaker
from app.services.members import backfill_birth_years
from app.uow import UnitOfWork
from tests.factories.members import key_for

ISOLATION_COVERS = {
    ("POST", "/v1/members"),
    ("GET", "/v1/members"),
    ("GET", "/v1/members/{member_id}"),
    ("PATCH", "/v1/members/{member_id}"),
    ("DELETE", "/v1/members/{member_id}"),
}

PHONE = "13812345678"
BIRTHDAY = "1990-05-17"
PROFILE = {
    "external_ref": "CRM-1",
    "name": "王芳",
    "phone": "+86 138-1234-5678",
    "birthday": BIRTHDAY,
    "gender": "female",
    "region": "上海",
    "occupation": "teacher",
    "source_channel": "store",
    "tags": ["vip", "cosmetics", "vip"],
    "consent": {"marketing": True},
}


async def create(client, headers, **overrides) -> dict:
    r = await client.post("/v1/members", json={**PROFILE, **overrides}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def stored_row(database_url: str, member_id: str) -> dict:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text("SELECT * FROM members WHERE id = :id"), {"id": uuid.UUID(member_id)}
            )
            return dict(result.mappings().one())
    finally:
        await engine.dispose()


async def test_create_get_patch(client, tenant):
    h = tenant.headers
    created = await create(client, h)
    assert created["phone"] == PHONE and created["birthday"] == BIRTHDAY  # admin: in full
    assert created["tags"] == ["vip", "cosmetics"]
    assert created["consent"]["marketing"] is True and created["consent"]["updated_at"]
    assert created["erased_at"] is None
    uuid.UUID(created["id"])

    got = await client.get(f"/v1/members/{created['id']}", headers=h)
    assert got.status_code == 200 and got.json() == created

    r = await client.patch(
        f"/v1/members/{created['id']}",
        json={"name": "王芳芳", "consent": {"marketing": True}, "tags": []},
        headers=h,
    )
    assert r.status_code == 200
    assert r.json()["name"] == "王芳芳" and r.json()["tags"] == []
    assert r.json()["consent"] == created["consent"]  # unchanged value: not re-stamped
    assert r.json()["phone"] == PHONE and r.json()["region"] == "上海"

    r = await client.patch(
        f"/v1/members/{created['id']}",
        json={"consent": {"marketing": False}, "phone": "139 0000 1111", "birthday": None},
        headers=h,
    )
    assert r.json()["consent"]["marketing"] is False
    stamped = datetime.fromisoformat(r.json()["consent"]["updated_at"])
    assert stamped > datetime.fromisoformat(created["consent"]["updated_at"])
    assert r.json()["phone"] == "13900001111" and r.json()["birthday"] is None


async def test_minimal_member_and_defaults(client, tenant):
    r = await client.post("/v1/members", json={}, headers=tenant.headers)
    assert r.status_code == 201
    body = r.json()
    assert body["gender"] == "unknown" and body["tags"] == [] and body["phone"] is None
    assert body["consent"] == {"marketing": False, "updated_at": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"birthday": "1899-12-31"}, "birthday"),
        ({"birthday": (date.today() + timedelta(days=2)).isoformat()}, "birthday"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"gender": "f"}, "gender"),
        ({"tags": ["x" * 33]}, "tags[0]"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"name": "x" * 101}, "name"),
        ({"external_ref": ""}, "external_ref"),
        (
            {"consent": {"marketing": True, "updated_at": "2020-01-01T00:00:00Z"}},
            "consent.updated_at",
        ),
        ({"points": 5}, "points"),
    ],
)
async def test_invalid_input_is_422_on_the_field(client, tenant, body, field):
    r = await client.post("/v1/members", json=body, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_patch_rejects_null_for_required_fields(client, tenant):
    member = await create(client, tenant.headers)
    for body in ({"gender": None}, {"tags": None}, {"consent": None}):
        r = await client.patch(f"/v1/members/{member['id']}", json=body, headers=tenant.headers)
        assert r.status_code == 422, body


async def test_phone_search_matches_any_formatting_and_lists_mask(client, tenant):
    h = tenant.headers
    member = await create(client, h)
    await create(client, h, external_ref="CRM-2", phone="+44 20 7946 0958")

    for query in ("13812345678", "+86 138 1234 5678", "138-1234-5678"):
        r = await client.get("/v1/members", params={"phone": query}, headers=h)
        assert r.status_code == 200
        assert [m["id"] for m in r.json()["items"]] == [member["id"]], query

    listed = (await client.get("/v1/members", headers=h)).json()["items"]
    assert [m["phone"] for m in listed] == ["138****5678", "+44********58"]
    assert all(m["birthday"] is None for m in listed)  # even for an admin key

    by_ref = await client.get("/v1/members", params={"external_ref": "CRM-2"}, headers=h)
    assert [m["external_ref"] for m in by_ref.json()["items"]] == ["CRM-2"]
    none = await client.get("/v1/members", params={"phone": "13900000000"}, headers=h)
    assert none.json()["items"] == []

    r = await client.get("/v1/members", params={"phone": "not a phone"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone"
    assert r.json()["errors"][0]["field"] == "phone"


async def test_single_reads_mask_for_scopes_that_dont_serve_the_member(client, tenant):
    member = await create(client, tenant.headers)
    path = f"/v1/members/{member['id']}"
    for scope in ("admin", "app"):
        got = (await client.get(path, headers=await key_for(client, tenant, scope))).json()
        assert (got["phone"], got["birthday"]) == (PHONE, BIRTHDAY), scope
    for scope in ("pos", "partner", "analytics"):
        got = (await client.get(path, headers=await key_for(client, tenant, scope))).json()
        assert (got["phone"], got["birthday"]) == ("138****5678", None), scope
        assert got["name"] == "王芳"


async def test_writes_answer_in_full_only_to_admin_and_app(client, tenant):
    pos, partner, app = [await key_for(client, tenant, s) for s in ("pos", "partner", "app")]
    by_pos = await create(client, pos, external_ref="P-1")
    assert (by_pos["phone"], by_pos["birthday"]) == ("138****5678", None)
    by_app = await create(client, app, external_ref="A-1")
    assert (by_app["phone"], by_app["birthday"]) == (PHONE, BIRTHDAY)
    r = await client.patch(f"/v1/members/{by_pos['id']}", json={"name": "x"}, headers=partner)
    assert r.status_code == 200 and r.json()["phone"] == "138****5678"


async def test_scopes_are_enforced(client, tenant):
    member = await create(client, tenant.headers)
    path = f"/v1/members/{member['id']}"
    analytics = await key_for(client, tenant, "analytics")
    pos = await key_for(client, tenant, "pos")
    app = await key_for(client, tenant, "app")
    assert (await client.post("/v1/members", json={}, headers=analytics)).status_code == 403
    assert (await client.patch(path, json={"name": "x"}, headers=pos)).status_code == 403
    assert (await client.delete(path, headers=app)).status_code == 403
    assert (await client.get("/v1/members", headers=analytics)).status_code == 200


async def test_database_holds_no_plaintext_phone_or_birthday(client, tenant, database_url):
    member = await create(client, tenant.headers)
    row = await stored_row(database_url, member["id"])
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    for plaintext in (PHONE, "8613812345678", BIRTHDAY, "19900517", "1990/05/17"):
        assert plaintext.encode() not in stored, plaintext
    assert row["phone_ciphertext"] and row["birthday_ciphertext"]
    assert len(row["phone_hash"]) == 64
    assert row["name"] == "王芳"  # only phone and birthday are encrypted


async def test_erasure_keeps_the_id_and_blanks_the_person(client, tenant, database_url):
    h = tenant.headers
    member = await create(client, h)
    path = f"/v1/members/{member['id']}"
    assert (await client.delete(path, headers=h)).status_code == 204

    got = await client.get(path, headers=h)
    assert got.status_code == 200
    body = got.json()
    assert body["id"] == member["id"] and body["erased_at"]
    for field in ("external_ref", "name", "phone", "birthday", "region", "occupation"):
        assert body[field] is None, field
    assert body["tags"] == [] and body["gender"] == "unknown"
    assert body["consent"]["marketing"] is False

    row = await stored_row(database_url, member["id"])
    assert row["phone_ciphertext"] is row["phone_hash"] is row["birthday_ciphertext"] is None

    r = await client.patch(path, json={"name": "back"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "member_erased"
    again = await client.delete(path, headers=h)
    assert again.status_code == 204
    assert (await client.get(path, headers=h)).json()["erased_at"] == body["erased_at"]

    found = await client.get("/v1/members", params={"phone": PHONE}, headers=h)
    assert found.json()["items"] == []
    await create(client, h)  # its external_ref and phone are free again


async def test_external_ref_is_unique_per_tenant(client, tenant, other_tenant):
    first = await create(client, tenant.headers)
    r = await client.post("/v1/members", json=PROFILE, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["code"] == "member_exists"
    assert r.json()["errors"][0]["field"] == "external_ref"
    await create(client, other_tenant.headers)  # the same ref in another tenant is fine

    second = await create(client, tenant.headers, external_ref="CRM-2")
    r = await client.patch(
        f"/v1/members/{second['id']}", json={"external_ref": "CRM-1"}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["code"] == "member_exists"
    still = await client.get(f"/v1/members/{first['id']}", headers=tenant.headers)
    assert still.json()["external_ref"] == "CRM-1"


@pytest.mark.parametrize("member_id", [str(uuid.uuid4()), "not-a-uuid", "1"])
async def test_unknown_or_malformed_id_is_404(client, tenant, member_id):
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        r = await client.request(
            method, f"/v1/members/{member_id}", json=body, headers=tenant.headers
        )
        assert r.status_code == 404 and r.json()["code"] == "member_not_found", method


async def test_cursor_pagination_oldest_first(client, tenant):
    ids = [(await create(client, tenant.headers, external_ref=f"R{i}"))["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/members", params=params, headers=tenant.headers)).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    for bad in ("garbage", "WyJ4IiwieSJd"):  # the second is ["x","y"]: right shape, bad values
        r = await client.get("/v1/members", params={"cursor": bad}, headers=tenant.headers)
        assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"


async def test_other_tenant_cannot_see_or_touch_a_member(client, tenant, other_tenant):
    member = await create(client, tenant.headers)
    path = f"/v1/members/{member['id']}"
    theirs = other_tenant.headers
    assert (await client.get(path, headers=theirs)).status_code == 404
    assert (await client.patch(path, json={"name": "hijacked"}, headers=theirs)).status_code == 404
    assert (await client.delete(path, headers=theirs)).status_code == 404

    for params in ({}, {"phone": PHONE}, {"external_ref": "CRM-1"}):
        r = await client.get("/v1/members", params=params, headers=theirs)
        assert r.status_code == 200 and r.json()["items"] == [], params

    # A member the other tenant creates with the same data lands in its own tenant.
    own = await create(client, theirs)
    assert own["id"] != member["id"]
    mine = (await client.get("/v1/members", params={"phone": PHONE}, headers=tenant.headers)).json()
    assert [m["id"] for m in mine["items"]] == [member["id"]]
    untouched = (await client.get(path, headers=tenant.headers)).json()
    assert untouched == member


async def test_birth_years_of_older_members_are_backfilled(client, tenant, app, database_url):
    """Members whose birthday was stored before birth years were kept in clear get it from
    the decrypted birthday (``loyalty backfill-birth-years``)."""
    r = await client.post(
        "/v1/members", json={"name": "老会员", "birthday": "1975-06-30"}, headers=tenant.headers
    )
    member = r.json()["id"]
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE members SET birth_year = NULL WHERE id = :m"), {"m": uuid.UUID(member)}
            )
        filled = await backfill_birth_years(
            UnitOfWork(create_sessionmaker(engine)), app.state.vault, batch=2
        )
        assert filled >= 1
        async with engine.begin() as conn:
            year = await conn.scalar(
                text("SELECT birth_year FROM members WHERE id = :m"), {"m": uuid.UUID(member)}
            )
            left = await conn.scalar(
                text(
                    "SELECT count(*) FROM members "
                    "WHERE birthday_ciphertext IS NOT NULL AND birth_year IS NULL"
                )
            )
    finally:
        await engine.dispose()
    assert (year, left) == (1975, 0)
