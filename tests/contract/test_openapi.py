"""The committed OpenAPI document is the app's, and every operation is documented."""

import json
import re
from pathlib import Path

import pytest

from app.main import create_app
from app.settings import Settings

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@pytest.fixture(scope="module")
def schema():
    return create_app(Settings(database_url="postgresql://unused@localhost/unused")).openapi()


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_committed_document_is_current(schema):
    committed = json.loads(COMMITTED.read_text())
    assert committed == json.loads(json.dumps(schema)), (
        "openapi/openapi.json is stale: run `.venv/bin/loyalty openapi` and commit it"
    )


def test_every_operation_is_documented(schema):
    ids = []
    for path, method, op in operations(schema):
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        ids.append(op["operationId"])
        # Stable ids are the endpoint function names, not FastAPI's path-derived defaults.
        assert re.fullmatch(r"[a-z][a-z0-9_]*", op["operationId"]), where
        assert not op["operationId"].endswith(("_get", "_post", "_patch")), where
        codes = set(op["responses"])
        assert any(c.startswith("2") for c in codes), where
        if path.startswith("/v1"):
            assert {"401", "403", "422"} <= codes, where
            assert op.get("security") == [{"HTTPBearer": []}], where
            for code in codes - {"200", "201", "202", "204"}:
                content = op["responses"][code]["content"]["application/problem+json"]
                assert content["example"]["code"], where
        if "requestBody" in op:
            assert {"400", "413"} <= codes, where
    assert len(ids) == len(set(ids))


def test_schemas_have_examples(schema):
    for name, component in schema["components"]["schemas"].items():
        if name.endswith(("Create", "Update", "Read", "Issued")):
            assert component.get("examples"), name


def test_document_describes_auth(schema):
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "Authorization: Bearer" in schema["info"]["description"]
    assert {t["name"] for t in schema["tags"]} >= {"stores", "api keys", "operations"}
