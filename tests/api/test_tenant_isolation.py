"""A key of one tenant never sees or changes another tenant's data, on every router.

Every test module under tests/api that checks isolation declares the operations it covers
in a module-level ``ISOLATION_COVERS`` set of (METHOD, path template); the first test below
fails when a /v1 operation is covered by none, so isolation is checked for each one.
"""

import importlib
import pkgutil

import pytest

import tests.api

# (method, path template, body); the template's fields are filled with the victim's ids.
ROUTES = [
    ("GET", "/v1/stores/{code}", None),
    ("PATCH", "/v1/stores/{code}", {"name": "hijacked"}),
    ("POST", "/v1/api-keys/{key_id}/revoke", None),
]
LISTS = ["/v1/stores", "/v1/api-keys"]
CREATES = [("POST", "/v1/stores"), ("POST", "/v1/api-keys")]


ISOLATION_COVERS = {(m, p) for m, p, _ in ROUTES} | {("GET", p) for p in LISTS} | set(CREATES)


def test_every_v1_route_is_covered(app):
    declared = {
        (method, path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/v1")
        for method in (m.upper() for m in ops)
    }
    covered = set()
    for module in pkgutil.iter_modules(tests.api.__path__):
        imported = importlib.import_module(f"tests.api.{module.name}")
        covered |= getattr(imported, "ISOLATION_COVERS", set())
    assert declared - covered == set(), "operations without a tenant-isolation test"


@pytest.fixture
async def victim(client, tenant):
    store = await client.post(
        "/v1/stores", json={"code": "V01", "name": "Victim"}, headers=tenant.headers
    )
    key = await client.post(
        "/v1/api-keys", json={"name": "v", "scopes": ["pos"]}, headers=tenant.headers
    )
    return {"code": store.json()["code"], "key_id": key.json()["id"]}


@pytest.mark.parametrize(("method", "template", "body"), ROUTES)
async def test_other_tenant_gets_404(client, tenant, other_tenant, victim, method, template, body):
    path = template.format(**victim)
    r = await client.request(method, path, json=body, headers=other_tenant.headers)
    assert r.status_code == 404
    # ... and the victim's data is untouched.
    store = await client.get(f"/v1/stores/{victim['code']}", headers=tenant.headers)
    assert store.json()["name"] == "Victim"
    keys = (await client.get("/v1/api-keys", headers=tenant.headers)).json()["items"]
    assert all(k["revoked_at"] is None for k in keys)


@pytest.mark.parametrize("path", LISTS)
async def test_lists_show_only_own_rows(client, tenant, other_tenant, victim, path):
    theirs = (await client.get(path, headers=other_tenant.headers)).json()["items"]
    mine = (await client.get(path, headers=tenant.headers)).json()["items"]
    assert mine, "the victim tenant should see its own rows"
    ids = {row.get("id") or row.get("code") for row in mine}
    assert not ids & {row.get("id") or row.get("code") for row in theirs}
    if path == "/v1/api-keys":
        assert {k["tenant_id"] for k in theirs} == {other_tenant.id}


async def test_creating_with_same_natural_key_lands_in_own_tenant(
    client, tenant, other_tenant, victim
):
    r = await client.post(
        "/v1/stores", json={"code": "V01", "name": "Mine"}, headers=other_tenant.headers
    )
    assert r.status_code == 201
    victim_store = await client.get("/v1/stores/V01", headers=tenant.headers)
    assert victim_store.json()["name"] == "Victim"
