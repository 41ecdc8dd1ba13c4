"""NPS (docs/domain §8) through the HTTP API: the stateless calculator, survey answers (idempotent
on response_ref), the summary per store and per month in the tenant's time zone, scopes and
tenant isolation."""

import pytest

from tests.api.test_members import key_for

ISOLATION_COVERS = {
    ("POST", "/v1/analytics/nps"),
    ("POST", "/v1/surveys/nps/responses"),
    ("GET", "/v1/analytics/nps/summary"),
}


async def calc(client, headers, body, status=200):
    r = await client.post("/v1/analytics/nps", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def answer(client, headers, status=201, **body):
    r = await client.post(
        "/v1/surveys/nps/responses",
        json={"answered_at": "2026-10-10T10:00:00+08:00", **body},
        headers=headers,
    )
    assert r.status_code == status, r.text
    return r


async def summary(client, headers, status=200, **params):
    r = await client.get("/v1/analytics/nps/summary", params=params, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def stores_and_member(client, headers):
    for code in ("S01", "S02"):
        r = await client.post("/v1/stores", json={"code": code, "name": code}, headers=headers)
        assert r.status_code == 201, r.text
    r = await client.post("/v1/members", json={"name": "李雷"}, headers=headers)
    return r.json()["id"]


# --- the calculator --------------------------------------------------------------------------


async def test_calculator_reproduces_the_exercises(client, tenant):
    got = await calc(client, tenant.headers, {"promoters": 30, "passives": 40, "detractors": 30})
    assert got == {
        "nps": "0.00",
        "n": 100,
        "promoters": 30,
        "passives": 40,
        "detractors": 30,
        "promoter_share": "0.3000",
        "detractor_share": "0.3000",
        "standard_error": "7.75",
        "margin_of_error_95": "15.18",
    }
    got = await calc(client, tenant.headers, {"promoters": 60, "passives": 80, "detractors": 60})
    assert (got["nps"], got["n"], got["standard_error"]) == ("0.00", 200, "5.48")


async def test_calculator_from_scores(client, tenant):
    # 9, 10, 10 promoters; 7, 8 passives; 0, 6, 3 detractors: (3 − 3)/8 → 0; then one more 9.
    got = await calc(client, tenant.headers, {"scores": [9, 10, 10, 7, 8, 0, 6, 3, 9]})
    assert (got["n"], got["promoters"], got["passives"], got["detractors"]) == (9, 4, 2, 3)
    assert got["nps"] == "11.11"  # 100 × (4 − 3) / 9
    assert got["promoter_share"] == "0.4444"


async def test_calculator_works_for_any_scope(client, tenant):
    partner = await key_for(client, tenant, "partner")
    assert (await calc(client, partner, {"scores": [10]}))["nps"] == "100.00"
    r = await client.post("/v1/analytics/nps", json={"scores": [10]})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"scores": [3, 11]}, "invalid_score", "scores[1]"),
        ({"scores": [-1]}, "invalid_score", "scores[0]"),
        ({"scores": [9.5]}, "validation_error", "scores[0]"),
        ({"scores": ["9"]}, "validation_error", "scores[0]"),
        ({"scores": [True]}, "validation_error", "scores[0]"),
        ({"scores": []}, "no_answers", "scores"),
        ({}, "scores_or_counts", "scores"),
        ({"scores": [9], "promoters": 1}, "scores_or_counts", "scores"),
        ({"promoters": 1, "passives": 2}, "scores_or_counts", "detractors"),
        ({"promoters": 0, "passives": 0, "detractors": 0}, "no_answers", "scores"),
        ({"promoters": -3, "passives": 0, "detractors": 5}, "invalid_count", "promoters"),
        ({"promoters": 1.5, "passives": 0, "detractors": 5}, "validation_error", "promoters"),
        ({"scores": [9], "extra": 1}, "validation_error", "extra"),
    ],
)
async def test_calculator_refusals(client, tenant, body, code, field):
    got = await calc(client, tenant.headers, body, 422)
    assert got["code"] == code
    assert field in [e["field"] for e in got["errors"]]


async def test_malformed_json_is_400(client, tenant):
    r = await client.post(
        "/v1/analytics/nps",
        content=b"{scores:",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "malformed_json")


# --- survey answers --------------------------------------------------------------------------


async def test_answers_are_recorded_and_idempotent_on_their_reference(client, tenant):
    member = await stores_and_member(client, tenant.headers)
    app_key = await key_for(client, tenant, "app")
    body = {
        "member_id": member,
        "store_code": "S01",
        "score": 9,
        "comment": "Friendly staff",
        "response_ref": "wx-1",
    }
    first = (await answer(client, app_key, **body)).json()
    assert (first["score"], first["group"], first["member_id"], first["store_code"]) == (
        9,
        "promoter",
        member,
        "S01",
    )
    assert first["answered_at"].startswith("2026-10-10T02:00:00")
    again = await answer(client, app_key, 200, **body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first
    other = await answer(client, app_key, 409, **{**body, "score": 3})
    assert (other.json()["code"], other.json()["response_id"]) == (
        "response_ref_conflict",
        first["id"],
    )
    # Without a reference, the same content is simply another answer.
    a = (await answer(client, app_key, score=4)).json()
    b = (await answer(client, app_key, score=4)).json()
    assert a["id"] != b["id"] and a["group"] == "detractor"
    got = await summary(client, tenant.headers)
    assert got["overall"]["n"] == 3


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"score": 11}, "invalid_score", "score"),
        ({"score": -1}, "invalid_score", "score"),
        ({"score": 7.5}, "validation_error", "score"),
        ({"score": 7, "member_id": "no-such-member"}, "member_not_found", "member_id"),
        (
            {"score": 7, "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"},
            "member_not_found",
            "member_id",
        ),
        ({"score": 7, "store_code": "S99"}, "store_not_found", "store_code"),
        ({"score": 7, "answered_at": "2026-10-10T10:00:00"}, "validation_error", "answered_at"),
        ({"score": 7, "answered_at": "2099-01-01T00:00:00Z"}, "answered_in_future", "answered_at"),
        ({"score": 7, "response_ref": ""}, "validation_error", "response_ref"),
        ({"score": 7, "comment": "x" * 2001}, "validation_error", "comment"),
    ],
)
async def test_answer_refusals(client, tenant, body, code, field):
    await stores_and_member(client, tenant.headers)
    got = (await answer(client, tenant.headers, 422, **body)).json()
    assert got["code"] == code
    assert field in [e["field"] for e in got["errors"]]


async def test_scopes(client, tenant):
    analytics = await key_for(client, tenant, "analytics")
    pos = await key_for(client, tenant, "pos")
    r = await answer(client, analytics, 403, score=9)
    assert r.json()["code"] == "insufficient_scope"
    await answer(client, pos, score=9)
    assert (await summary(client, pos, 403))["code"] == "insufficient_scope"
    assert (await summary(client, analytics))["overall"]["n"] == 1


# --- summaries -------------------------------------------------------------------------------


async def test_summary_by_store_and_month_in_the_tenants_zone(client, tenant):
    await stores_and_member(client, tenant.headers)
    h = tenant.headers
    # 2026-09-30T16:30Z is 2026-10-01 00:30 in Shanghai: an October answer.
    for store, score, at in [
        ("S01", 10, "2026-09-15T12:00:00+08:00"),
        ("S01", 3, "2026-09-30T23:59:00+08:00"),
        ("S01", 9, "2026-09-30T16:30:00Z"),
        ("S02", 8, "2026-10-05T09:00:00+08:00"),
        ("S02", 0, "2026-10-31T23:00:00+08:00"),
        (None, 10, "2026-10-20T09:00:00+08:00"),
    ]:
        await answer(
            client, h, score=score, answered_at=at, **({"store_code": store} if store else {})
        )

    everything = await summary(client, h)
    assert (everything["overall"]["n"], everything["overall"]["nps"]) == (6, "16.67")
    assert everything["groups"] == [] and everything["group_by"] is None

    by_month = await summary(client, h, group_by="month")
    months = {g["key"]: g for g in by_month["groups"]}
    assert list(months) == ["2026-09", "2026-10"]
    assert (months["2026-09"]["n"], months["2026-09"]["nps"]) == (2, "0.00")
    assert (months["2026-10"]["n"], months["2026-10"]["promoters"]) == (4, 2)
    assert months["2026-10"]["nps"] == "25.00"

    by_store = await summary(client, h, group_by="store")
    assert [(g["key"], g["n"]) for g in by_store["groups"]] == [("S01", 3), ("S02", 2), (None, 1)]
    s02 = by_store["groups"][1]
    # p = 0, q = ½, n = 2: sqrt((0 + ½ − ¼)/2)·100 = 35.36
    assert (s02["nps"], s02["standard_error"]) == ("-50.00", "35.36")

    october = await summary(client, h, **{"from": "2026-10-01", "to": "2026-10-31"})
    assert october["overall"]["n"] == 4
    assert (october["from"], october["to"]) == ("2026-10-01", "2026-10-31")
    one_day = await summary(client, h, **{"from": "2026-09-30", "to": "2026-09-30"})
    assert one_day["overall"]["n"] == 1  # 23:59 local on the 30th; 00:30 on the 1st is not
    s01 = await summary(client, h, store_code="S01", group_by="month")
    assert s01["overall"]["n"] == 3 and s01["store_code"] == "S01"
    assert [(g["key"], g["n"]) for g in s01["groups"]] == [("2026-09", 2), ("2026-10", 1)]


async def test_summary_of_nothing_and_bad_parameters(client, tenant):
    empty = await summary(client, tenant.headers, group_by="store")
    assert empty["overall"] == {
        "nps": None,
        "n": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "promoter_share": None,
        "detractor_share": None,
        "standard_error": None,
        "margin_of_error_95": None,
    }
    assert empty["groups"] == []
    bad = await summary(client, tenant.headers, 422, **{"from": "2026-10-02", "to": "2026-10-01"})
    assert (bad["code"], bad["errors"][0]["field"]) == ("invalid_period", "to")
    bad = await summary(client, tenant.headers, 422, group_by="week")
    assert bad["code"] == "validation_error"
    bad = await summary(client, tenant.headers, 422, **{"from": "yesterday"})
    assert (bad["code"], bad["errors"][0]["field"]) == ("validation_error", "from")


# --- isolation -------------------------------------------------------------------------------


async def test_other_tenant_sees_and_uses_nothing(client, tenant, other_tenant):
    member = await stores_and_member(client, tenant.headers)
    await answer(client, tenant.headers, score=10, member_id=member, response_ref="r-1")
    thief = other_tenant.headers
    assert (await summary(client, thief))["overall"]["n"] == 0
    r = await answer(client, thief, 422, score=1, member_id=member)
    assert r.json()["code"] == "member_not_found"
    r = await answer(client, thief, 422, score=1, store_code="S01")
    assert r.json()["code"] == "store_not_found"
    # The same reference in another tenant is another answer, not a conflict.
    await answer(client, thief, 201, score=0, response_ref="r-1")
    mine = await summary(client, tenant.headers)
    assert (mine["overall"]["n"], mine["overall"]["nps"]) == (1, "100.00")
    theirs = await calc(client, thief, {"scores": [0]})
    assert theirs["nps"] == "-100.00"


async def test_extreme_dates_are_422_not_500(client, tenant):
    got = (
        await answer(client, tenant.headers, 422, score=5, answered_at="0001-01-01T00:00:00+05:00")
    ).json()
    # Outside the instants and days the API takes (app.schemas.common): refused by the schema.
    assert (got["code"], got["errors"][0]["field"]) == ("validation_error", "answered_at")
    for field, params in (("to", {"to": "9999-12-31"}), ("from", {"from": "0001-01-01"})):
        got = await summary(client, tenant.headers, 422, **params)
        assert (got["code"], got["errors"][0]["field"]) == ("validation_error", field)
