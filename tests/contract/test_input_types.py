"""A catalog of every operation's inputs: no request field or parameter takes a plain ``int``,
``bool``, ``float``, ``date`` or ``datetime`` (pydantic's lax mode would take ``true`` for 1,
``"1700000000"`` for a time, a naive time, year 1 or 9999), so a new endpoint can't bring them
back. Bodies use ``JsonInt``, ``JsonBool``, ``Instant`` and ``Day`` (app.schemas.common) and
the ``Strict`` base; parameters arrive as strings, so their ints are FastAPI's, but bounded."""

import datetime as dt
import types
import typing

import annotated_types
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, BeforeValidator, Strict

from app.main import create_app
from app.schemas.common import Strict as StrictModel
from app.schemas.common import parse_day, parse_instant
from app.settings import Settings

# Query ints whose range the domain checks with a code of its own (documented on the route).
DOMAIN_BOUNDED = {("GET", "/v1/analytics/churn", "inactive_days")}  # 422 invalid_period


def _routes():
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield context.path_format, sorted(route.methods)[0], context.dependant


ROUTES = list(_routes())


def _leaves(annotation, metadata=()):
    """(type, metadata) of each leaf of an annotation, through Annotated, unions and
    containers (an outer Field's constraints don't reach a container's items)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        yield from _leaves(inner, (*metadata, *extra))
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _leaves(arg, metadata)
    elif origin in (list, tuple, set, frozenset, dict):
        for arg in typing.get_args(annotation):
            yield from _leaves(arg)
    elif origin is not typing.Literal and annotation is not type(None):
        yield annotation, tuple(metadata)


def _strict(metadata) -> bool:
    return any(isinstance(m, Strict) and m.strict for m in metadata)


def _parsed_by(metadata, function) -> bool:
    return any(isinstance(m, BeforeValidator) and m.func is function for m in metadata)


def _bounded(metadata) -> bool:
    low = any(isinstance(m, annotated_types.Ge | annotated_types.Gt) for m in metadata)
    high = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in metadata)
    return low and high


def body_problems(annotation, metadata, where: str, seen: set) -> list[str]:
    """What is wrong with a body field's type, recursing into nested models."""
    problems = []
    for kind, meta in _leaves(annotation, metadata):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if not issubclass(kind, StrictModel):
                problems.append(f"{where}: {kind.__name__} is not a Strict model")
            if kind not in seen:
                seen.add(kind)
                for name, field in kind.model_fields.items():
                    problems += body_problems(
                        field.annotation, field.metadata, f"{where}.{name}", seen
                    )
        elif kind in (int, bool) and not _strict(meta):
            problems.append(f"{where}: a plain {kind.__name__} (use JsonInt / JsonBool)")
        elif kind is float:
            problems.append(f"{where}: a float (send numbers as DecimalString)")
        elif kind is dt.datetime and not _parsed_by(meta, parse_instant):
            problems.append(f"{where}: a plain datetime (use Instant)")
        elif kind is dt.date and not _parsed_by(meta, parse_day):
            problems.append(f"{where}: a plain date (use Day)")
    return problems


def _parameters(dependant):
    yield from dependant.query_params
    yield from dependant.path_params
    for sub in dependant.dependencies:
        yield from _parameters(sub)


def parameter_problems(method: str, path: str, param) -> list[str]:
    where = f"{method} {path} ?{param.alias}"
    problems = []
    for kind, meta in _leaves(param.field_info.annotation, param.field_info.metadata):
        if kind is int and not _bounded(meta) and (method, path, param.name) not in DOMAIN_BOUNDED:
            problems.append(f"{where}: an int parameter without ge/le bounds")
        elif kind in (bool, float):
            problems.append(f"{where}: a {kind.__name__} parameter")
        elif kind is dt.datetime and not _parsed_by(meta, parse_instant):
            problems.append(f"{where}: a plain datetime parameter (use Instant)")
        elif kind is dt.date and not _parsed_by(meta, parse_day):
            problems.append(f"{where}: a plain date parameter (use Day)")
    return problems


def test_the_catalog_reaches_the_bodies_and_parameters():
    """The walk sees what it must judge (else the tests below would pass on nothing)."""
    bodies = {p.field_info.annotation for _, _, d in ROUTES for p in d.body_params}
    names = {p.alias for _, _, d in ROUTES for p in _parameters(d)}
    assert len(ROUTES) > 100 and len(bodies) > 40
    assert {"limit", "from", "as_of", "inactive_days", "code"} <= names


@pytest.mark.parametrize(
    ("path", "method", "dependant"), ROUTES, ids=[f"{m} {p}" for p, m, _ in ROUTES]
)
def test_no_lax_input_types(path, method, dependant):
    problems = []
    for body in dependant.body_params:
        where = f"{method} {path} body"
        problems += body_problems(
            body.field_info.annotation, body.field_info.metadata, where, set()
        )
    for param in _parameters(dependant):
        problems += parameter_problems(method, path, param)
    assert problems == []


def test_the_catalog_finds_what_slipped_through():
    """The checks themselves: each kind of lax field is reported."""

    class Inner(StrictModel):
        when: dt.datetime
        tags: list[int]

    class Loose(BaseModel):
        n: int

    class Outer(StrictModel):
        flag: bool | None = None
        day: dt.date
        inner: list[Inner]
        loose: Loose

    found = body_problems(Outer, (), "body", set())
    assert found == [
        "body.flag: a plain bool (use JsonInt / JsonBool)",
        "body.day: a plain date (use Day)",
        "body.inner.when: a plain datetime (use Instant)",
        "body.inner.tags: a plain int (use JsonInt / JsonBool)",
        "body.loose: Loose is not a Strict model",
        "body.loose.n: a plain int (use JsonInt / JsonBool)",
    ]
