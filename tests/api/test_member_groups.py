"""Member groups (docs/domain §10) through the HTTP API: every kind of criterion, generation into a
dated list, staleness after a criteria change, immutable codes, the repository answer for
targeting (``groups_of``), refusals and isolation."""

import uuid
from datetime import UTC, datetime

import pytest

from app.db import create_engine, create_sessionmaker
from app.uow import UnitOfWork
from tests.api.test_cards import issue, setup_tenant
from tests.api.test_imports import HEADER, post_import
from tests.api.test_points import key_with
from tests.api.test_problems import assert_problem

ISOLATION_COVERS = {
    ("POST", "/v1/member-groups"),
    ("GET", "/v1/member-groups"),
    ("GET", "/v1/member-groups/{code}"),
    ("PATCH", "/v1/member-groups/{code}"),
    ("POST", "/v1/member-groups/{code}/generate"),
    ("GET", "/v1/member-groups/{code}/members"),
}

GROUPS = "/v1/member-groups"
THIS_YEAR = datetime.now(UTC).year


async def member(client, headers, ref, **fields):
    r = await client.post("/v1/members", json={"external_ref": ref, **fields}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def create(client, headers, code, criteria, status=201, name="Group"):
    r = await client.post(
        GROUPS, json={"code": code, "name": name, "criteria": criteria}, headers=headers
    )
    assert r.status_code == status, r.text
    return r.json()


async def generate(client, headers, code):
    r = await client.post(f"{GROUPS}/{code}/generate", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def refs(client, headers, code, **params):
    out, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"{GROUPS}/{code}/members", params=query, headers=headers)
        assert r.status_code == 200, r.text
        out += [m["member_ref"] for m in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return _sorted(out)


def _sorted(values):
    return sorted(values, key=lambda x: (x is None, x or ""))


async def select(client, headers, criteria):
    code = f"G{uuid.uuid4().hex[:8]}"
    await create(client, headers, code, criteria)
    group = await generate(client, headers, code)
    found = await refs(client, headers, code)
    assert group["member_count"] == len(found)
    return found


@pytest.fixture
async def shop(client, tenant):
    """Five members with attributes, a GOLD card for two, and imported purchases."""
    h = tenant.headers
    await setup_tenant(client, h)  # stores S01, S02 and the GOLD class (+ one member)
    ids = {
        "ANN": await member(
            client,
            h,
            "ANN",
            gender="female",
            birthday=f"{THIS_YEAR - 30}-12-31",
            region="上海",
            tags=["beauty", "vip"],
        ),
        "BOB": await member(
            client, h, "BOB", gender="male", birthday=f"{THIS_YEAR - 45}-01-01", region="杭州"
        ),
        "CAT": await member(
            client, h, "CAT", gender="female", birthday=f"{THIS_YEAR - 22}-06-01", tags=["kids"]
        ),
        "DAN": await member(client, h, "DAN", gender="male", region="上海"),
        "EVE": await member(client, h, "EVE", gender="female", region="上海"),
    }
    await issue(client, h, ids["ANN"])
    card = await issue(client, h, ids["BOB"])
    r = await client.post(f"/v1/cards/{card['number']}/freeze", json={"reason": "x"}, headers=h)
    assert r.status_code == 200, r.text  # a frozen card does not count
    await issue(client, h, ids["DAN"])
    body = HEADER + (
        "ANN,2026-03-01,1200.00,A1,S01\nANN,2026-03-15,800.00,A2,S01\nANN,2025-01-01,50,A3,S01\n"
        "BOB,2026-04-01,300.00,B1,S01\n"
        "CAT,2026-05-01,90.00,C1,S01\nCAT,2026-05-02,95.00,C2,S01\nCAT,2026-05-03,99.00,C3,S01\n"
        "EVE,2025-02-01,5000.00,E1,S01\n"
    )
    await post_import(client, h, body)
    return ids


H1 = {"from": "2026-01-01", "to": "2026-06-30"}


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, ["ANN", "BOB", "CAT", "DAN", "EVE", None]),
        ({"attributes": {"genders": ["female"]}}, ["ANN", "CAT", "EVE"]),
        ({"attributes": {"age": {"min": 25, "max": 45}}}, ["ANN", "BOB"]),
        ({"attributes": {"age": {"max": 29}}}, ["CAT"]),
        ({"attributes": {"regions": ["上海"], "genders": ["female"]}}, ["ANN", "EVE"]),
        ({"attributes": {"tags": ["vip", "kids"]}}, ["ANN", "CAT"]),
        ({"attributes": {"card_classes": ["GOLD"]}}, ["ANN", "DAN"]),
        ({"consumption": H1}, ["ANN", "BOB", "CAT"]),
        ({"consumption": {**H1, "amount": {"min": "1000"}}}, ["ANN"]),
        ({"consumption": {**H1, "amount": {"max": "300"}}}, ["BOB", "CAT"]),
        ({"consumption": {**H1, "count": {"min": 2, "max": 2}}}, ["ANN"]),
        ({"consumption": {**H1, "count": {"max": 0}}}, ["DAN", "EVE", None]),
        (
            {
                "consumption": {"from": "2025-01-01", "to": "2025-12-31"},
                "ranking": {"by": "amount", "top": 1},
            },
            ["EVE"],
        ),
        ({"ranking": {"by": "count", "top": 2}}, ["ANN", "CAT"]),
        ({"ranking": {"by": "amount", "top": 100}}, ["ANN", "BOB", "CAT", "EVE"]),
        (
            {
                "attributes": {"genders": ["female"]},
                "consumption": H1,
                "ranking": {"by": "amount", "top": 1},
            },
            ["ANN"],
        ),
    ],
)
async def test_criteria(client, tenant, shop, criteria, expected):
    found = await select(client, tenant.headers, criteria)
    assert found == _sorted(expected)


async def test_rfm_segments(client, tenant, shop):
    r = await client.post(
        "/v1/analytics/rfm/runs", json={"as_of": "2026-06-30"}, headers=tenant.headers
    )
    assert r.status_code == 201
    # ANN: 3 purchases in the window → F2, avg 683.33 → M2, last 107 days ago → R3:
    # general_develop
    found = await select(
        client, tenant.headers, {"attributes": {"rfm_segments": ["general_develop"]}}
    )
    assert "ANN" in found and "EVE" not in found


async def test_rfm_segments_need_a_run(client, tenant, shop):
    await create(
        client, tenant.headers, "SEG", {"attributes": {"rfm_segments": ["important_value"]}}
    )
    r = await client.post(f"{GROUPS}/SEG/generate", headers=tenant.headers)
    assert_problem(r, 409, "rfm_not_run")


async def test_categories_and_brands_read_the_sale_lines(client, tenant, shop):
    """Lines of sales recorded through the API (on the lane and, with an Idempotency-Key,
    through the endpoint), as stored with the sale: these criteria read their categories and
    brands."""
    h = tenant.headers
    card = (await issue(client, h, shop["DAN"]))["number"]
    lines = [
        {
            "line_no": 1,
            "sku": "A",
            "qty": "1",
            "final_amount": "10.00",
            "major_category": "10",
            "mid_category": "1010",
            "brand": "OLAY",
        },
        {
            "line_no": 1,
            "sku": "B",
            "qty": "1",
            "final_amount": "5.00",
            "minor_category": "202020",
            "brand": "NIVEA",
        },
    ]
    for n, (line, extra) in enumerate(zip(lines, ({}, {"Idempotency-Key": "x-2"}), strict=True)):
        body = {
            "store_code": "S01",
            "receipt_no": f"X-{n}",
            "card_number": card,
            "occurred_at": "2026-02-01T10:00:00+08:00",
            "lines": [line],
            "payments": [{"method": "cash", "amount": line["final_amount"]}],
        }
        r = await client.post("/v1/sales", json=body, headers={**h, **extra})
        assert r.status_code == 201, r.text
    for criteria, expected in [
        ({**H1, "categories": ["1010"]}, ["DAN"]),
        ({**H1, "categories": ["202020"], "brands": ["NIVEA"]}, ["DAN"]),
        ({**H1, "brands": ["OLAY", "SK-II"]}, ["DAN"]),
        ({**H1, "brands": ["SK-II"]}, []),
        ({"from": "2026-03-01", "to": "2026-06-30", "brands": ["OLAY"]}, []),  # out of range
    ]:
        assert await select(client, tenant.headers, {"consumption": criteria}) == expected


async def test_generate_patch_stale_and_regenerate(client, tenant, shop, database_url):
    h = tenant.headers
    made = await create(client, h, "LADIES", {"attributes": {"genders": ["female"]}}, name="Ladies")
    assert (made["status"], made["member_count"], made["generated_at"]) == ("new", None, None)
    assert made["criteria"]["attributes"]["genders"] == ["female"]
    assert await refs(client, h, "LADIES") == []
    done = await generate(client, h, "LADIES")
    assert (done["status"], done["member_count"]) == ("generated", 3)
    assert done["generated_as_of"] is not None and done["generated_at"] is not None

    r = await client.patch(f"{GROUPS}/LADIES", json={"name": "Women"}, headers=h)
    assert (r.json()["name"], r.json()["status"]) == (
        "Women",
        "generated",
    )  # a name is no criterion
    r = await client.patch(
        f"{GROUPS}/LADIES",
        json={
            "code": "LADIES",
            "criteria": {"attributes": {"genders": ["female"], "regions": ["上海"]}},
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "stale"
    assert await refs(client, h, "LADIES") == ["ANN", "CAT", "EVE"]  # the old list stays

    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with UnitOfWork(create_sessionmaker(engine)) as uow:
            assert await uow.member_groups.groups_of(tenant.id, shop["CAT"]) == {"LADIES"}
        again = await generate(client, h, "LADIES")
        assert (again["status"], again["member_count"]) == ("generated", 2)
        assert await refs(client, h, "LADIES", limit=1) == ["ANN", "EVE"]
        await create(client, h, "SH", {"attributes": {"regions": ["上海"]}})
        await generate(client, h, "SH")
        async with UnitOfWork(create_sessionmaker(engine)) as uow:
            assert await uow.member_groups.groups_of(tenant.id, shop["CAT"]) == set()
            assert await uow.member_groups.groups_of(tenant.id, shop["ANN"]) == {"LADIES", "SH"}
            assert await uow.member_groups.groups_of(tenant.id, "not-an-id") == set()
    finally:
        await engine.dispose()

    listed = (await client.get(GROUPS, params={"limit": 1}, headers=h)).json()
    assert [g["code"] for g in listed["items"]] == ["LADIES"]
    rest = await client.get(GROUPS, params={"cursor": listed["next_cursor"]}, headers=h)
    assert [g["code"] for g in rest.json()["items"]] == ["SH"]
    got = (await client.get(f"{GROUPS}/SH", headers=h)).json()
    assert got["criteria"]["attributes"]["regions"] == ["上海"]
    assert got["criteria"]["attributes"]["genders"] is None
    assert got["criteria"]["consumption"] is None and got["criteria"]["ranking"] is None


async def test_erased_members_are_never_listed(client, tenant, shop):
    r = await client.delete(f"/v1/members/{shop['EVE']}", headers=tenant.headers)
    assert r.status_code == 204, r.text
    assert "EVE" not in await select(
        client, tenant.headers, {"attributes": {"genders": ["female"]}}
    )


# --- refusals -----------------------------------------------------------------------------------


async def test_refusals(client, tenant):
    h = tenant.headers
    await create(client, h, "VIP", {})
    assert_problem(
        await client.post(GROUPS, json={"code": "VIP", "name": "x", "criteria": {}}, headers=h),
        409,
        "member_group_exists",
    )
    body = assert_problem(
        await client.post(GROUPS, json={"code": "V I P", "name": "x", "criteria": {}}, headers=h),
        422,
        "invalid_group_code",
    )
    assert body["errors"][0]["field"] == "code"
    body = assert_problem(
        await client.patch(f"{GROUPS}/VIP", json={"code": "VIP2"}, headers=h), 422, "code_immutable"
    )
    assert body["errors"][0]["field"] == "code"
    body = assert_problem(
        await client.post(
            GROUPS,
            json={
                "code": "B",
                "name": "x",
                "criteria": {"consumption": {"from": "2026-02-01", "to": "2026-01-01"}},
            },
            headers=h,
        ),
        422,
        "invalid_criteria",
    )
    assert body["errors"][0]["field"] == "criteria.consumption.to"
    body = assert_problem(
        await client.post(
            GROUPS, json={"code": "C", "name": "x", "criteria": {"colour": "red"}}, headers=h
        ),
        422,
        "validation_error",
    )
    assert body["errors"][0]["field"] == "criteria.colour"
    assert_problem(
        await client.post(
            GROUPS,
            json={"code": "D", "name": "x", "criteria": {"attributes": {"rfm_segments": ["vip"]}}},
            headers=h,
        ),
        422,
        "validation_error",
    )
    assert_problem(
        await client.patch(f"{GROUPS}/VIP", json={"name": None}, headers=h), 422, "validation_error"
    )
    for method, path in [
        ("GET", f"{GROUPS}/NOPE"),
        ("PATCH", f"{GROUPS}/NOPE"),
        ("POST", f"{GROUPS}/NOPE/generate"),
        ("GET", f"{GROUPS}/NOPE/members"),
    ]:
        r = await client.request(method, path, json={} if method == "PATCH" else None, headers=h)
        assert_problem(r, 404, "member_group_not_found")
    assert_problem(
        await client.get(f"{GROUPS}/VIP/members", params={"cursor": "!!"}, headers=h),
        422,
        "invalid_cursor",
    )


async def test_scopes(client, tenant):
    analyst = await key_with(client, tenant.headers, "analytics")
    await create(client, analyst, "A1", {})
    assert (await client.post(f"{GROUPS}/A1/generate", headers=analyst)).status_code == 200
    pos = await key_with(client, tenant.headers, "pos", "app", "partner")
    for method, path in [
        ("GET", GROUPS),
        ("GET", f"{GROUPS}/A1"),
        ("POST", f"{GROUPS}/A1/generate"),
    ]:
        assert_problem(await client.request(method, path, headers=pos), 403, "insufficient_scope")


async def test_other_tenant_sees_nothing(client, tenant, other_tenant):
    await member(client, tenant.headers, "MINE", gender="female")
    await create(client, tenant.headers, "VIP", {})
    await generate(client, tenant.headers, "VIP")
    thief = other_tenant.headers
    for method, path in [
        ("GET", f"{GROUPS}/VIP"),
        ("POST", f"{GROUPS}/VIP/generate"),
        ("GET", f"{GROUPS}/VIP/members"),
    ]:
        assert_problem(
            await client.request(method, path, headers=thief), 404, "member_group_not_found"
        )
    r = await client.patch(f"{GROUPS}/VIP", json={"name": "hijacked"}, headers=thief)
    assert_problem(r, 404, "member_group_not_found")
    assert (await client.get(GROUPS, headers=thief)).json()["items"] == []
    theirs = await create(client, thief, "VIP", {})  # the same code is theirs to use
    assert theirs["code"] == "VIP"
    assert (await generate(client, thief, "VIP"))["member_count"] == 0
    mine = (await client.get(f"{GROUPS}/VIP", headers=tenant.headers)).json()
    assert (mine["name"], mine["member_count"]) == ("Group", 1)
