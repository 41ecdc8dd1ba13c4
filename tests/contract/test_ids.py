"""Ids are opaque strings everywhere in the document, as the README promises ("API
conventions"): no property, parameter or example gives a client an integer id to keep."""

from collections.abc import Iterator


def is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def types_of(schema: dict) -> set[str]:
    """Every JSON type ``schema`` allows, through anyOf / oneOf / allOf."""
    found = set()
    kind = schema.get("type")
    found |= set(kind) if isinstance(kind, list) else {kind} if kind else set()
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, []):
            found |= types_of(member)
    return found


def properties(schema: object, where: str) -> Iterator[tuple[str, str, dict]]:
    """(place, name, schema) of every property declared anywhere inside ``schema``."""
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            yield where, name, sub
        for key, sub in schema.items():
            yield from properties(sub, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            yield from properties(sub, f"{where}[{i}]")


def id_values(example: object, where: str) -> Iterator[tuple[str, object]]:
    """(place, value) of every id-named member in an example document."""
    if isinstance(example, dict):
        for key, value in example.items():
            if is_id(key):
                yield f"{where}.{key}", value
            yield from id_values(value, f"{where}.{key}")
    elif isinstance(example, list):
        for i, item in enumerate(example):
            yield from id_values(item, f"{where}[{i}]")


def test_no_property_named_as_an_id_is_an_integer(openapi_document):
    checked = 0
    for place, name, schema in properties(openapi_document["components"], "components"):
        if is_id(name):
            checked += 1
            assert "integer" not in types_of(schema), f"{place}.{name}"
            assert "$ref" in schema or "string" in types_of(schema), f"{place}.{name}"
    assert checked > 50  # the walk reached the schemas (there are dozens of ids)


def test_path_and_query_ids_are_strings(openapi_document):
    checked = 0
    for path, ops in openapi_document["paths"].items():
        for method, op in ops.items():
            for parameter in op.get("parameters", []):
                if is_id(parameter["name"]):
                    checked += 1
                    where = f"{method.upper()} {path} {parameter['name']}"
                    assert types_of(parameter["schema"]) <= {"string", "null"}, where
    assert checked > 20


def examples(document: object, where: str) -> Iterator[tuple[str, object]]:
    """(place, example) of every ``example`` and ``examples`` in the document."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("example", "examples"):
                yield f"{where}.{key}", value
            else:
                yield from examples(value, f"{where}.{key}")
    elif isinstance(document, list):
        for i, item in enumerate(document):
            yield from examples(item, f"{where}[{i}]")


def test_examples_show_ids_as_strings(openapi_document):
    found = [
        pair
        for place, example in examples(openapi_document, "")
        for pair in id_values(example, place)
    ]
    assert len(found) > 20
    for place, value in found:
        assert value is None or isinstance(value, str), place
