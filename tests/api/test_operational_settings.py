"""Settings for running in production: the docs served offline or not at all, the metrics
behind a token, metric series that clients cannot multiply, and the security headers."""

import re
from urllib.parse import urlsplit

import pytest

from app.main import create_app
from tests.conftest import bearer, make_settings, running

METRICS_TOKEN = "metrics-token-for-the-suite"
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_everything_from_the_app_itself(client, page):
    html = (await client.get(page)).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    urls += re.findall(r"""(?:url:\s*|spec-url=)["']([^"']+)""", html)
    assert len(urls) >= 3  # the script, the favicon, the document (and Swagger's stylesheet)
    assert not re.search(r"https?://", html)  # nothing from a CDN, no font service
    for url in urls:
        assert urlsplit(url).netloc == "" and url.startswith("/"), url
        r = await client.get(url)
        assert r.status_code == 200, url
        expected = next((t for ext, t in ASSET_TYPES.items() if url.endswith(ext)), "json")
        assert expected in r.headers["content-type"], (url, r.headers["content-type"])
        assert len(r.content) > 100
    if page == "/docs":  # Swagger's online validator would send the document out
        assert '"validatorUrl": null' in html


async def test_docs_and_the_document_can_be_switched_off(database_url):
    app = create_app(make_settings(database_url, docs_enabled=False))
    async with running(app) as client:
        assets = "/static-offline-docs/redoc.standalone.js"
        for path in ("/docs", "/redoc", "/openapi.json", assets):
            r = await client.get(path)
            assert r.status_code == 404, path
            assert r.headers["content-type"] == "application/problem+json"
        assert (await client.get("/healthz")).status_code == 200
    # The CLI still writes the document from such an app.
    assert "/v1/stores" in app.openapi()["paths"]


async def test_metrics_can_require_a_token(database_url):
    app = create_app(make_settings(database_url, metrics_token=METRICS_TOKEN))
    async with running(app) as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["code"] == "missing_credentials"
        wrong = await client.get("/metrics", headers=bearer(METRICS_TOKEN + "x"))
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
        assert "http_requests_total" not in wrong.text
        ok = await client.get("/metrics", headers=bearer(METRICS_TOKEN))
        assert ok.status_code == 200
        assert 'route="/metrics",status="401"' in ok.text


async def test_metrics_on_a_port_of_their_own_leave_the_api(database_url):
    app = create_app(make_settings(database_url, metrics_port=18499))
    async with running(app) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert "/metrics" not in app.openapi()["paths"]


def _series(text: str) -> set[str]:
    return {ln.rsplit(" ", 1)[0] for ln in text.splitlines() if ln.startswith("http_requests_")}


async def test_invented_methods_and_paths_add_no_metric_series(database_url, tenant):
    app = create_app(make_settings(database_url))
    async with running(app) as client:
        # One of each kind first, and a scrape.
        await client.request("FOO", "/v1/stores", headers=tenant.headers)
        await client.request("BAR", "/no/such/path")
        await client.get("/v1/stores/nope", headers=tenant.headers)
        await client.get("/metrics")
        before = _series((await client.get("/metrics")).text)
        for i in range(20):
            await client.request(f"M{i}X", "/v1/stores", headers=tenant.headers)
            await client.request(f"Q{i}", f"/no/such/path-{i}")
            await client.get(f"/v1/stores/nope-{i}", headers=tenant.headers)
        text = (await client.get("/metrics")).text
        assert _series(text) == before
        methods = set(re.findall(r'http_requests_total\{method="([^"]+)"', text))
        assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
        assert 'method="other",route="/v1/stores",status="405"' in text
        assert 'method="other",route="unmatched",status="404"' in text


SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY"}


async def test_every_response_carries_the_security_headers(client, tenant):
    sale = {"store_code": "NOPE", "receipt_no": "R-1", "card_number": "1", "lines": []}
    responses = [
        await client.get("/v1/stores", headers=tenant.headers),  # member data
        await client.get("/v1/stores"),  # 401
        await client.get("/v1/nothing-here"),  # 404
        await client.post("/v1/sales", json=sale, headers=tenant.headers),  # the sales lane
        await client.get("/healthz"),
        await client.get("/docs"),
        await client.get("/openapi.json"),
    ]
    for r in responses:
        for name, value in SECURITY.items():
            assert r.headers.get(name) == value, (r.request.url, name)
        assert r.headers.get("cache-control") == "no-store", r.request.url
        assert "strict-transport-security" not in r.headers  # not configured
    # The docs' scripts and styles may be cached; they hold nothing of anyone's.
    asset = await client.get("/static-offline-docs/swagger-ui.css")
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in asset.headers


async def test_hsts_when_configured(database_url):
    app = create_app(make_settings(database_url, hsts_max_age=31536000))
    async with running(app) as client:
        for path in ("/healthz", "/v1/stores", "/docs"):
            r = await client.get(path)
            assert r.headers["strict-transport-security"] == "max-age=31536000", path
