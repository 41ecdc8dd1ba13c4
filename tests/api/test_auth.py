"""Authentication (401), scopes (403), key issue and revocation."""

import pytest

from tests.conftest import bearer


async def test_no_key_is_401_problem(client):
    r = await client.get("/v1/stores")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["code"] == "missing_credentials"


@pytest.mark.parametrize(
    "header", ["Bearer lk_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer ", "lk_no_scheme"]
)
async def test_bad_credentials_are_401(client, header):
    r = await client.get("/v1/stores", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["code"] in {"missing_credentials", "invalid_credentials"}


async def test_scope_is_enforced(client, tenant):
    r = await client.post(
        "/v1/api-keys", json={"name": "till-1", "scopes": ["pos"]}, headers=tenant.headers
    )
    assert r.status_code == 201
    pos_key = r.json()["key"]
    assert r.json()["scopes"] == ["pos"]

    # A pos key may read stores but not create them nor manage keys.
    assert (await client.get("/v1/stores", headers=bearer(pos_key))).status_code == 200
    denied = await client.post(
        "/v1/stores", json={"code": "S77", "name": "x"}, headers=bearer(pos_key)
    )
    assert denied.status_code == 403
    assert denied.json()["code"] == "insufficient_scope"
    assert (await client.get("/v1/api-keys", headers=bearer(pos_key))).status_code == 403


async def test_keys_are_listed_without_secrets_and_revocation_takes_effect(client, tenant):
    created = await client.post(
        "/v1/api-keys", json={"name": "app", "scopes": ["app", "partner"]}, headers=tenant.headers
    )
    key = created.json()
    assert key["key"].startswith("lk_") and key["display_prefix"] == key["key"][:10]

    listed = (await client.get("/v1/api-keys", headers=tenant.headers)).json()["items"]
    assert {k["name"] for k in listed} == {"admin", "app"}
    assert all("key" not in k for k in listed)

    assert (await client.get("/v1/stores", headers=bearer(key["key"]))).status_code == 200
    revoked = await client.post(f"/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = await client.get("/v1/stores", headers=bearer(key["key"]))
    assert after.status_code == 401 and after.json()["code"] == "invalid_credentials"
    # Revoking again is harmless and keeps the first revocation time.
    again = await client.post(f"/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_invalid_scope_is_422(client, tenant):
    r = await client.post(
        "/v1/api-keys", json={"name": "x", "scopes": ["root"]}, headers=tenant.headers
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"].startswith("scopes")


async def test_unknown_key_id_is_404(client, tenant):
    for key_id in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"]:
        r = await client.post(f"/v1/api-keys/{key_id}/revoke", headers=tenant.headers)
        assert r.status_code == 404 and r.json()["code"] == "api_key_not_found"
