"""Every kind of bad input gets a clear 4xx problem body, never a 500."""

import pytest

from tests.factories.problems import assert_problem


async def test_malformed_json_is_400(client, tenant):
    r = await client.post(
        "/v1/stores",
        content=b'{"code": "S01",',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert_problem(r, 400, "malformed_json")


async def test_wrong_type_names_the_field(client, tenant):
    r = await client.post("/v1/stores", json={"code": "S01", "name": 42}, headers=tenant.headers)
    body = assert_problem(r, 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["name"]


async def test_unknown_field_is_rejected(client, tenant):
    r = await client.post(
        "/v1/stores", json={"code": "S01", "name": "x", "colour": "red"}, headers=tenant.headers
    )
    body = assert_problem(r, 422, "validation_error")
    assert body["errors"][0]["field"] == "colour"


async def test_missing_field(client, tenant):
    r = await client.post("/v1/stores", json={"code": "S01"}, headers=tenant.headers)
    body = assert_problem(r, 422, "validation_error")
    assert body["errors"] == [{"field": "name", "message": "Field required"}]


async def test_body_that_is_not_an_object(client, tenant):
    r = await client.post("/v1/stores", json=[1, 2], headers=tenant.headers)
    assert_problem(r, 422, "validation_error")


async def test_oversized_body_by_content_length_is_413(client, tenant, settings):
    big = b'{"code": "S01", "name": "' + b"x" * settings.max_body_bytes + b'"}'
    r = await client.post(
        "/v1/stores", content=big, headers={**tenant.headers, "content-type": "application/json"}
    )
    assert_problem(r, 413, "payload_too_large")


async def test_oversized_streamed_body_is_413(client, tenant, settings):
    async def chunks():
        yield b'{"code": "S01", "name": "'
        for _ in range(settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    r = await client.post(
        "/v1/stores",
        content=chunks(),
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload_too_large")


async def test_wrong_media_type_is_415(client, tenant):
    r = await client.post(
        "/v1/stores",
        content=b"code=S01&name=x",
        headers={**tenant.headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(r, 415, "unsupported_media_type")


async def test_unknown_route_and_method(client):
    assert_problem(await client.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(await client.delete("/v1/stores"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": "ten"},
        {"cursor": "garbage!"},
        {"cursor": "WzEsMl0"},
    ],  # the last is valid base64 JSON of the wrong shape
)
async def test_bad_paging_parameters(client, tenant, params):
    r = await client.get("/v1/stores", params=params, headers=tenant.headers)
    body = r.json()
    assert r.status_code == 422
    assert body["errors"][0]["field"] in {"limit", "cursor"}


async def test_nul_character_is_a_clean_422(client, tenant):
    r = await client.post(
        "/v1/stores", json={"code": "S01", "name": "a\u0000b"}, headers=tenant.headers
    )
    assert r.status_code == 422
    r = await client.get("/v1/stores/A%00B", headers=tenant.headers)
    assert r.status_code in {404, 422}


async def test_request_id_is_echoed_or_generated(client):
    r = await client.get("/healthz", headers={"X-Request-ID": "till-7-abc"})
    assert r.headers["x-request-id"] == "till-7-abc"
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    # A hostile id (spaces, too long) is replaced rather than echoed into logs.
    assert (await client.get("/healthz", headers={"X-Request-ID": "a b"})).headers[
        "x-request-id"
    ] != "a b"
