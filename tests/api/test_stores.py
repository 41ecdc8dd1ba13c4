async def test_create_get_update_list(client, tenant):
    h = tenant.headers
    r = await client.post("/v1/stores", json={"code": "S01", "name": "Flagship"}, headers=h)
    assert r.status_code == 201
    assert r.json()["time_zone"] == "Asia/Shanghai"  # the tenant's default
    r = await client.post(
        "/v1/stores",
        json={"code": "U01", "name": "Urumqi", "time_zone": "Asia/Urumqi"},
        headers=h,
    )
    assert r.json()["time_zone"] == "Asia/Urumqi"

    got = await client.get("/v1/stores/S01", headers=h)
    assert got.status_code == 200 and got.json()["name"] == "Flagship"

    patched = await client.patch("/v1/stores/S01", json={"name": "Flagship East"}, headers=h)
    assert patched.status_code == 200
    assert patched.json()["name"] == "Flagship East"
    assert patched.json()["time_zone"] == "Asia/Shanghai"
    assert patched.json()["updated_at"] >= got.json()["updated_at"]


async def test_duplicate_code_is_409(client, tenant):
    body = {"code": "D01", "name": "One"}
    assert (await client.post("/v1/stores", json=body, headers=tenant.headers)).status_code == 201
    r = await client.post("/v1/stores", json=body, headers=tenant.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "store_exists"
    assert r.json()["errors"] == [{"field": "code", "message": r.json()["detail"]}]


async def test_same_code_in_two_tenants_is_fine(client, tenant, other_tenant):
    body = {"code": "S01", "name": "Same code"}
    assert (await client.post("/v1/stores", json=body, headers=tenant.headers)).status_code == 201
    r = await client.post("/v1/stores", json=body, headers=other_tenant.headers)
    assert r.status_code == 201


async def test_cursor_pagination_walks_every_store_once(client, tenant):
    codes = [f"P{i:02d}" for i in range(7)]
    for code in reversed(codes):
        await client.post("/v1/stores", json={"code": code, "name": code}, headers=tenant.headers)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/stores", params=params, headers=tenant.headers)).json()
        seen += [s["code"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == codes
    assert pages == 3


async def test_invalid_time_zone_and_code(client, tenant):
    r = await client.post(
        "/v1/stores",
        json={"code": "S01", "name": "x", "time_zone": "Mars/Base"},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_time_zone"
    assert r.json()["errors"][0]["field"] == "time_zone"

    r = await client.post("/v1/stores", json={"code": "s-01", "name": "x"}, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code"


async def test_patch_rejects_null_and_unknown_store(client, tenant):
    await client.post("/v1/stores", json={"code": "N01", "name": "x"}, headers=tenant.headers)
    r = await client.patch("/v1/stores/N01", json={"name": None}, headers=tenant.headers)
    assert r.status_code == 422
    r = await client.patch("/v1/stores/NOPE", json={"name": "y"}, headers=tenant.headers)
    assert r.status_code == 404 and r.json()["code"] == "store_not_found"
    r = await client.patch("/v1/stores/N01", json={"code": "N02"}, headers=tenant.headers)
    assert r.status_code == 422  # the code is immutable: not a patchable field
