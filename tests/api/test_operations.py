"""Health, readiness (also with the database down or unmigrated), metrics, bootstrap."""

from app.main import create_app
from tests.conftest import BOOTSTRAP_KEY, bearer, make_settings, running, scratch_database


async def test_healthz_and_readyz(client, app):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migration"] == app.state.migration_head


async def test_readyz_with_database_down():
    # Nothing listens on port 1: the process is alive but not ready.
    app = create_app(make_settings("postgresql://postgres@127.0.0.1:1/none"))
    async with running(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "database_unavailable"
        assert r.headers["Retry-After"] == "5"
        # A business call while the database is down is a 503 problem too, not a 500.
        r = await client.get("/v1/stores", headers=bearer("lk_whatever"))
        assert r.status_code == 503
        # So is a sale on the lean lane, which reads through its own pool.
        sale = {
            "store_code": "S01",
            "receipt_no": "R-1",
            "card_number": "9000001",
            "occurred_at": "2026-11-23T10:00:00+08:00",
            "lines": [{"line_no": 1, "sku": "A", "qty": "1", "final_amount": "10.00"}],
            "payments": [{"method": "cash", "amount": "10.00"}],
        }
        r = await client.post("/v1/sales", json=sale, headers=bearer("lk_whatever"))
        assert r.status_code == 503
        assert r.json()["code"] == "database_unavailable"
        assert r.headers["Retry-After"] == "5"  # the lane's problems carry it too


async def test_readyz_before_migrations(server_url):
    with scratch_database(server_url) as empty:
        app = create_app(make_settings(empty))
        async with running(app) as client:
            r = await client.get("/readyz")
            assert r.status_code == 503
            assert r.json()["code"] == "migrations_pending"


async def test_metrics_count_requests_per_route_template(client, tenant):
    await client.get("/v1/stores/ANY1", headers=tenant.headers)
    await client.get("/v1/stores/ANY2", headers=tenant.headers)
    text = (await client.get("/metrics")).text
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("http_requests_total{")
        and 'method="GET"' in ln  # other tests add their PATCH 404s on the route
        and 'route="/v1/stores/{code}"' in ln
        and 'status="404"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) >= 2
    assert "http_request_duration_seconds_bucket" in text


async def test_bootstrap_key_is_idempotent(database_url):
    for _ in range(2):  # two startups with the same key
        app = create_app(make_settings(database_url, bootstrap_key=BOOTSTRAP_KEY))
        async with running(app) as client:
            r = await client.get("/v1/stores", headers=bearer(BOOTSTRAP_KEY))
            assert r.status_code == 200
            keys = (await client.get("/v1/api-keys", headers=bearer(BOOTSTRAP_KEY))).json()
    bootstrap = [k for k in keys["items"] if k["name"] == "bootstrap"]
    assert len(bootstrap) == 1 and bootstrap[0]["scopes"] == ["admin"]
