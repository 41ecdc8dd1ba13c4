"""API keys with given scopes."""

from tests.conftest import bearer


async def key_for(client, tenant, *scopes: str) -> dict[str, str]:
    r = await client.post(
        "/v1/api-keys",
        json={"name": "-".join(scopes), "scopes": list(scopes)},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    return bearer(r.json()["key"])
