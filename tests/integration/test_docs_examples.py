"""/docs' "Try it out" on the demo tenant: every operation of the OpenAPI document, sent with
its pre-filled values (request body example, path and required query parameter examples) and
the demo admin key, answers 2xx on a freshly seeded demo tenant, but for the few listed below.

Order: an example may need what another one creates (the rule it approves) and may spoil what
another needs (a frozen card sells nothing). The operations go in phases: creates (POST
without a path parameter), then updates (PUT, PATCH), then reads (GET), then actions on one
resource (POST with a path parameter), then deletes; within a phase, in document order.
"""

import json
import re
from pathlib import Path

from app.main import create_app
from tests.conftest import bearer, make_settings, running, scratch_database
from tests.factories.cli import run

DOCUMENT = Path(__file__).parents[2] / "openapi" / "openapi.json"

# Operations whose example cannot answer 2xx on a fresh demo tenant by nature: the answer
# each gives instead (a problem `code`), and why.
EXPECTED_PROBLEMS = {
    # The demo card was replaced just before (the step before it): a replaced card is not
    # cancelled. Cancelling first would fail replace the same way; one of the two must.
    ("POST", "/v1/cards/{number}/cancel"): "invalid_card_transition",
    # The issue example (an action, before the deletes) issued the campaign: it is kept.
    ("DELETE", "/v1/campaigns/{code}"): "campaign_issued",
    # A member's vouchers are listed by member_id or card_number, neither of them required
    # alone, so /docs pre-fills neither.
    ("GET", "/v1/vouchers"): "card_or_member_required",
    # The issue example gave a voucher of the template the create example made: in use now.
    ("DELETE", "/v1/voucher-templates/{code}"): "template_in_use",
}
# Ids the server assigns (rules, runs, complaints, jobs, ...) are pre-filled with "42", an id
# of no particular tenant's: on the demo tenant it names nothing, and the answer is the 404.
SERVER_ID_EXAMPLE = "42"
# Path parameters /docs leaves empty, with why.
NOT_PRE_FILLED = {
    # Revoking a key: none to pre-fill but the demo's own, and revoking that locks /docs out.
    ("POST", "/v1/api-keys/{key_id}/revoke"),
}


# The demo card's life, in an order each step allows; last, as a cancelled card does nothing.
CARD_STEPS = [
    "change-account/deposits",
    "change-account/spends",
    "freeze",
    "unfreeze",
    "report-lost",
    "replace",
    "cancel",
]


def _phase(method: str, path: str) -> tuple[int, int]:
    if path.startswith("/v1/cards/{number}/") and method == "POST":
        return 3, 1 + CARD_STEPS.index(path.removeprefix("/v1/cards/{number}/"))
    has_param = "{" in path
    return {
        ("POST", False): 0,
        ("PUT", False): 1,
        ("PUT", True): 1,
        ("PATCH", True): 1,
        ("GET", False): 2,
        ("GET", True): 2,
        ("POST", True): 3,
        ("DELETE", True): 4,
    }[(method, has_param)], 0


def _example(holder: dict, schemas: dict):
    """The value Swagger UI pre-fills: a media type's or parameter's own example, else its
    schema's first; None when the document gives none."""
    if "example" in holder:
        return holder["example"]
    if "examples" in holder:
        return next(iter(holder["examples"].values()))["value"]
    schema = holder.get("schema", {})
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if "examples" in schema:
        return schema["examples"][0]
    return schema.get("example")


def _requests(document: dict):
    schemas = document["components"]["schemas"]
    operations = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            method = method.upper()
            if method not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            operations.append((_phase(method, path), method, path, op))
    for _, method, path, op in sorted(operations, key=lambda o: o[0]):
        url, query, missing, server_id = path, {}, [], False
        for parameter in op.get("parameters", []):
            if parameter["in"] not in {"path", "query"}:
                continue
            if parameter["in"] == "query" and not parameter.get("required"):
                continue
            value = _example(parameter, schemas)
            if value is None:
                missing.append(parameter["name"])
            elif parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(value))
                server_id = server_id or value == SERVER_ID_EXAMPLE
            else:
                query[parameter["name"]] = value
        content, body = None, None
        for media, spec in op.get("requestBody", {}).get("content", {}).items():
            content, body = media, _example(spec, schemas)
            break
        yield method, path, url, query, content, body, missing, server_id


async def test_every_documented_example_works_on_the_demo_tenant(server_url, tmp_path):
    committed = json.loads(DOCUMENT.read_text())
    with scratch_database(server_url) as url:
        assert run(url, "migrate").returncode == 0
        seeded = run(url, "seed-demo", data_dir=tmp_path)
        assert seeded.returncode == 0, seeded.stderr
        key = re.search(r"admin API key: (\S+)", seeded.stdout).group(1)
        app = create_app(make_settings(url))
        # The document as served: the committed one (equal as JSON) keeps keys sorted, so it
        # loses which of several named examples /docs pre-fills (the first).
        document = app.openapi()
        assert document == committed
        failures, sent = [], 0
        async with running(app) as client:
            for method, path, target, query, content, body, missing, server_id in _requests(
                document
            ):
                if missing:
                    if (method, path) not in NOT_PRE_FILLED:
                        failures.append(f"{method} {path}: no example for {missing}")
                    continue
                headers = bearer(key)
                payload: dict = {}
                if content == "application/json":
                    payload["json"] = body if body is not None else {}
                elif content is not None:
                    headers["Content-Type"] = content
                    payload["content"] = body.encode() if isinstance(body, str) else b""
                r = await client.request(method, target, params=query, headers=headers, **payload)
                sent += 1
                expected = EXPECTED_PROBLEMS.get((method, path))
                if server_id:
                    ok = r.status_code == 404
                elif expected:
                    ok = r.status_code >= 400 and r.json().get("code") == expected
                else:
                    ok = 200 <= r.status_code < 300
                if not ok:
                    failures.append(f"{method} {path} -> {r.status_code}: {r.text[:300]}")
    assert sent > 100
    assert not failures, "\n".join(failures)
