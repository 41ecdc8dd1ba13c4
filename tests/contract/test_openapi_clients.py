"""What client generators need of the OpenAPI document: unique meaningful names, typed
replays, examples that validate, named enums, and the enum of error codes."""

from __future__ import annotations

import re
from collections import Counter

import jsonschema_rs

from app.domain.cards import CardNumberFormat, verify_card_number
from app.routers.problems import ERROR_CODES
from app.services.demo import DEMO_CARD_NUMBER, DEMO_CLASSES, DEMO_MEMBER_ID, DEMO_STORES

SCHEMAS = "#/components/schemas/"


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def walk(node, where=""):
    """Every dict in ``node`` with its JSON pointer."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


def test_schema_names_are_unique_and_meaningful(openapi_document):
    schemas = openapi_document["components"]["schemas"]
    for name in schemas:
        assert "__" not in name, f"{name}: a module path leaked into the name"
        assert not name.endswith(("-Input", "-Output")), f"{name}: an input/output twin"
    for name, schema in schemas.items():
        if "enum" in schema:  # generators name an enum type after its title
            assert schema.get("title") == name
    titles = Counter(s["title"] for s in schemas.values() if "title" in s)
    assert [t for t, n in titles.items() if n > 1] == []
    generic = {"Status", "Step", "Method", "Scope", "Kind", "Category", "Type", "Group"}
    assert generic & set(schemas) == set()


def test_every_enum_is_one_named_component(openapi_document):
    """An enum inline in a property or parameter gives each use its own generated type; the
    same values twice are two types a client must convert between."""
    schemas = openapi_document["components"]["schemas"]
    inline = [
        where
        for where, node in walk(openapi_document)
        if "enum" in node
        and len(node["enum"]) > 1
        and not re.fullmatch(r"/components/(schemas/[A-Za-z]+|headers/\w+/schema)", where)
    ]
    assert inline == []
    values = Counter(tuple(s["enum"]) for s in schemas.values() if "enum" in s)
    assert [v for v, n in values.items() if n > 1] == []


def test_every_success_has_a_schema(openapi_document):
    """A replay answers 200 where the first answer was 201: both must be typed, or every
    generator drops the body of one of them."""
    for where, operation in operations(openapi_document):
        for status, response in operation["responses"].items():
            if status.startswith("2") and status != "204":
                assert response.get("content"), f"{where} {status} has no schema"
        if "201" in operation["responses"] and "200" in operation["responses"]:
            first, again = (operation["responses"][s]["content"] for s in ("201", "200"))
            assert first == again, f"{where}: a replay is typed unlike the first answer"
            headers = operation["responses"]["200"]["headers"]
            assert "Idempotent-Replayed" in headers, where


def test_response_headers_are_documented(openapi_document):
    for where, operation in operations(openapi_document):
        keyed = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", ()))
        for status, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], f"{where} {status}"
            if keyed and status.startswith("2"):
                assert "Idempotent-Replayed" in response["headers"], f"{where} {status}"
            if status in ("409", "429", "503"):
                assert "Retry-After" in response["headers"], f"{where} {status}"


def test_document_names_its_servers_and_license(openapi_document):
    assert openapi_document["servers"]
    assert openapi_document["info"]["license"]["identifier"] == "Apache-2.0"


def _examples(document):
    """(where, schema, example) for every example in the document: schemas' own, media
    types' and parameters'."""
    for where, node in walk(document):
        if "example" in node and "schema" in node:  # a media type or a parameter
            yield where, node["schema"], node["example"]
        for name, example in node.get("examples", {}).items() if "schema" in node else ():
            yield f"{where}/examples/{name}", node["schema"], example.get("value")
        if isinstance(node.get("examples"), list):  # a schema's (a JSON Schema keyword)
            for i, example in enumerate(node["examples"]):
                yield f"{where}/examples/{i}", node, example


def test_every_example_validates_against_its_schema(openapi_document):
    components = {"components": openapi_document["components"]}
    invalid = []
    for where, schema, example in _examples(openapi_document):
        validator = jsonschema_rs.Draft202012Validator(
            {**schema, **components}, validate_formats=True
        )
        invalid += [f"{where}: {e.message}" for e in validator.iter_errors(example)]
    assert invalid == []


def test_examples_are_found(openapi_document):
    """The example test above sees the kinds of example the document has."""
    found = [where for where, _, _ in _examples(openapi_document)]
    assert any(w.startswith("/components/schemas/SaleCreate/examples/") for w in found)
    assert any(
        "/responses/409/content/application~1problem+json" in w or "problem+json" in w
        for w in found
    )
    assert len(found) > 300


def _example_values(document, keys):
    for where, _, example in _examples(document):
        for _, node in walk(example, where):
            for key in keys & node.keys():
                if isinstance(node[key], str):
                    yield where, key, node[key]


def test_examples_use_the_demo_tenant(openapi_document):
    """/docs pre-fills requests with the examples: on the demo tenant (`make run`) their
    card numbers, stores, classes and member exist, and every card number has valid check
    digits."""
    formats = {terms.prefix: terms for _, terms in DEMO_CLASSES}
    stores = {code for code, _, _ in DEMO_STORES}
    numbers = list(_example_values(openapi_document, {"card_number", "number", "replaced_by"}))
    assert numbers
    for where, _, number in numbers:
        store = next((s for s in stores if number.startswith(s)), None)
        assert store, f"{where}: {number} is not of a demo store"
        terms = formats[number[len(store)]]
        fmt = CardNumberFormat(
            terms.prefix, terms.serial_length, terms.check_digit_length, terms.suffix
        )
        verify_card_number(number, fmt)  # raises on wrong check digits
    requests = {
        name: schema
        for name, schema in openapi_document["components"]["schemas"].items()
        if "card_number" in schema.get("properties", {})
        and name.endswith(("Create", "Request", "Resolve"))
    }
    assert {"QuoteRequest", "SaleCreate", "CardResolve", "RedemptionCreate"} <= set(requests)
    for name, schema in requests.items():
        assert schema["examples"][0]["card_number"] == DEMO_CARD_NUMBER, name
    for where, operation in operations(openapi_document):
        for parameter in operation.get("parameters", ()):
            if parameter["name"] == "number":
                value = parameter["examples"]["demo"]["value"]
                assert value == DEMO_CARD_NUMBER, where
    for where, _, code in _example_values(openapi_document, {"store_code"}):
        assert code in stores, f"{where}: {code}"
    for where, _, code in _example_values(openapi_document, {"card_class", "upgrade_to"}):
        assert code in formats.keys() | {c for c, _ in DEMO_CLASSES}, f"{where}: {code}"
    member_ids = list(_example_values(openapi_document, {"member_id"}))
    assert member_ids
    for where, _, member_id in member_ids:
        assert member_id == DEMO_MEMBER_ID, where
    for where, operation in operations(openapi_document):
        for parameter in operation.get("parameters", ()):
            if parameter["name"] == "member_id" and parameter["in"] == "path":
                assert parameter["examples"]["demo"]["value"] == DEMO_MEMBER_ID, where


def test_problem_code_is_the_enum_of_every_code(openapi_document):
    """Clients match on ``code``: the document lists every code a problem can carry (the
    registry that tests/contract/test_messages.py keeps complete)."""
    schemas = openapi_document["components"]["schemas"]
    assert schemas["Problem"]["properties"]["code"]["$ref"] == SCHEMAS + "ErrorCode"
    assert schemas["ErrorCode"]["enum"] == list(ERROR_CODES)
    assert {"busy", "validation_error", "card_frozen", "store_exists"} <= set(ERROR_CODES)
