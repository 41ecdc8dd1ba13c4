"""Application factory. The lifespan owns the database engine (and an embedded server)."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from app import __version__
from app.crypto import Vault
from app.db import (
    create_engine,
    create_reader,
    create_sessionmaker,
    embedded_postgres,
    migration_head,
)
from app.observability import Metrics, RequestContextMiddleware, configure_logging
from app.routers import i18n, ops, problems, v1
from app.routers.lanes import Lane, Lanes
from app.routers.security_headers import SecurityHeaders
from app.routers.single_authorization import SingleAuthorization
from app.routers.v1 import checkout, sales
from app.scheduler import Scheduler
from app.schemas.common import Problem
from app.services.access import ensure_demo_tenant
from app.services.cards import CardKit
from app.services.import_jobs import JobTasks
from app.services.pricing import PricingCache
from app.settings import Settings
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

# Swagger UI's and ReDoc's scripts and styles, served by the app itself (fastapi-offline ships
# them): the docs work on a closed network and where the usual CDNs are out of reach.
DOCS_ASSETS = "/static-offline-docs"

DESCRIPTION = """\
A headless member loyalty API for retailers: card classes and cards, member pricing at
checkout, a points ledger and customer analytics.

**Authentication.** Every `/v1` call sends an API key: `Authorization: Bearer lk_…`.
Keys belong to one tenant and carry scopes (`admin`, `pos`, `app`, `partner`,
`analytics`); each operation says which scopes it accepts. A missing or revoked key gets
401, a key without the scope 403. Nothing of another tenant is ever visible: it is 404.

**Conventions.** Errors are RFC 9457 `application/problem+json` bodies with a stable
`code` and, for invalid input, `errors: [{field, message}]`; their `title`, `detail` and
messages follow `Accept-Language` (English, or Simplified Chinese for `zh-CN`/`zh-Hans`),
their `code` never changes. Lists are cursor-paginated
(`?cursor=&limit=`, default 50, max 500) and answer `{items, next_cursor}`. Money and
rates are decimal strings (`"0.90"`), times ISO-8601 with offset, ids opaque strings.
Every response carries `X-Request-ID` (yours if you send one).
"""

TAGS = [
    {"name": "stores", "description": "The tenant's stores (门店)."},
    {"name": "card classes", "description": "Card classes (会员卡类别) and their change log."},
    {"name": "sharing groups", "description": "Who bears member discounts (折扣分担)."},
    {"name": "api keys", "description": "Keys, their scopes and revocation."},
    {"name": "members", "description": "Members (会员) and their protected personal data."},
    {"name": "cards", "description": "Cards: issue, lifecycle, and identifying a customer."},
    {"name": "jobs", "description": "Periodic jobs that can also be run on demand."},
    {"name": "discount rules", "description": "Discount rule documents (折扣规则单)."},
    {"name": "settings", "description": "Tenant settings, e.g. the stacking mode (E3)."},
    {"name": "checkout", "description": "Member prices for a basket at the till."},
    {
        "name": "points",
        "description": "The points ledger (积分): balances, entries, adjustments, redemptions, "
        "purchases.",
    },
    {
        "name": "change account",
        "description": "The change account (零钞转存): change stored on a card, spent later.",
    },
    {
        "name": "sales",
        "description": "Sales and returns from the till: points earned, paid and clawed back.",
    },
    {
        "name": "points rules",
        "description": "Points rules by level (积分规则): points per CNY per class, 0 excludes.",
    },
    {
        "name": "points earning",
        "description": "Multiplier events (B) and warm rules (C) for points earned on sales.",
    },
    {
        "name": "voice of the customer",
        "description": "NPS (净推荐值), indicator weights, the satisfaction index (CSI) and "
        "complaints (客户投诉).",
    },
    {
        "name": "imports",
        "description": "Purchase history streamed in (CSV, NDJSON) for the analytics.",
    },
    {
        "name": "analytics",
        "description": "Head office's view of its members: RFM, churn, lifecycle, CLV.",
    },
    {"name": "member groups", "description": "Member groups (会员卡群组): saved queries."},
    {
        "name": "rewards",
        "description": "The rewards catalogue (积分商城): vouchers exchanged for points.",
    },
    {
        "name": "voucher rules",
        "description": "返券 rules: sales earn vouchers, one per full amount spent.",
    },
    {"name": "operations", "description": "Health, readiness and metrics."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_format, settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with contextlib.ExitStack() as stack:
            url = settings.database_url or stack.enter_context(embedded_postgres(settings.data_dir))
            engine = create_engine(
                url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
            )
            app.state.sessionmaker = create_sessionmaker(engine)
            app.state.reader = await create_reader(url, settings.db_pool_size)
            try:
                if settings.bootstrap_key:
                    await ensure_demo_tenant(
                        UnitOfWork(app.state.sessionmaker, app.state.reader),
                        settings.bootstrap_key.get_secret_value(),
                    )
                    log.info("bootstrap key ensured for tenant 'demo'")
                if settings.scheduler_interval_seconds:
                    app.state.scheduler = Scheduler(
                        lambda: UnitOfWork(app.state.sessionmaker, app.state.reader),
                        settings.scheduler_interval_seconds,
                    )
                    app.state.scheduler.start()
                route_templates()  # now, not on the first request
                _tune_gc()
                yield
            finally:
                if app.state.scheduler is not None:
                    await app.state.scheduler.stop()
                await app.state.import_tasks.close()  # their jobs are marked failed
                await app.state.reader.close()
                await engine.dispose()

    app = _fastapi(settings.docs_enabled, lifespan)
    app.state.settings = settings
    app.state.scheduler = None
    app.state.import_tasks = JobTasks()
    app.state.metrics = Metrics()
    app.state.vault = Vault(settings.secret_key.get_secret_value())
    app.state.card_kit = CardKit(app.state.vault)
    app.state.pricing_cache = PricingCache()
    app.state.migration_head = migration_head()
    route_templates = functools.cache(lambda: _route_templates(app))

    i18n.load()
    problems.install(app)
    app.include_router(ops.router)
    if settings.metrics_port is None:  # else `loyalty serve` answers them on their own port
        app.include_router(ops.metrics_router)
    app.include_router(v1.router)
    # Added innermost first: request context wraps everything, so every line has the id.
    app.add_middleware(
        Lanes,
        state=app.state,
        lanes={
            "/v1/sales": Lane(sales.sale_lane, "create_sale"),
            "/v1/checkout/quote": Lane(checkout.quote_lane, "quote_basket"),
        },
    )
    # Outside the lanes, which read the Authorization header their own way.
    app.add_middleware(SingleAuthorization)
    app.add_middleware(
        problems.BodyLimitMiddleware,
        limit=settings.max_body_bytes,
        overrides={"/v1/imports/transactions": settings.max_import_bytes},  # streamed
    )
    app.add_middleware(problems.UnexpectedErrorMiddleware)
    app.add_middleware(i18n.LanguageMiddleware)  # every problem inside is in its language
    app.add_middleware(
        RequestContextMiddleware, metrics=app.state.metrics, route_templates=route_templates
    )
    app.add_middleware(
        SecurityHeaders, hsts_max_age=settings.hsts_max_age, cacheable_prefix=DOCS_ASSETS + "/"
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]  # FastAPI's documented way
    return app


def _fastapi(docs: bool, lifespan) -> FastAPI:
    common = dict(
        title="Member Loyalty API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
    )
    if not docs:
        return FastAPI(docs_url=None, redoc_url=None, openapi_url=None, **common)
    # No validator badge: it would send the document to validator.swagger.io.
    return FastAPIOffline(
        static_url=DOCS_ASSETS, swagger_ui_parameters={"validatorUrl": None}, **common
    )


def _tune_gc() -> None:
    """A quote allocates thousands of short-lived objects (Decimals, dicts); with CPython's
    default thresholds the collector runs every few requests and its full passes showed up as
    the checkout's p99 (bench/README.md). Freeze what startup built and collect less often."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


# Response headers, documented once and referenced from every response that carries them.
HEADERS = {
    "XRequestId": {
        "description": "The request's id: the `X-Request-ID` sent, else a new one. Quote it "
        "when reporting a problem.",
        "schema": {"type": "string"},
    },
    "IdempotentReplayed": {
        "description": "`true` when this is the stored first answer to the same request sent "
        "again (an `Idempotency-Key`, or the operation's own natural key).",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "RetryAfter": {
        "description": "Seconds to wait before sending the request again: 409 `busy` and "
        "`idempotency_in_flight`, 429 `card_locked` (until the lock ends), 503 "
        "`database_unavailable`.",
        "schema": {"type": "integer", "minimum": 0},
    },
}


def _openapi(app: FastAPI) -> dict:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            # Relative: the server the document is read from (`/docs` tries calls there).
            # `make run` serves http://localhost:8000; a client is given its base URL.
            servers=[{"url": "/", "description": "The server that serves this document."}],
            license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        )
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        problem = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        schemas.update(problem.pop("$defs", {}))
        problem["properties"]["code"] = {
            "$ref": "#/components/schemas/ErrorCode",
            "description": problem["properties"]["code"]["description"],
        }
        schemas["Problem"] = problem
        schemas["ErrorCode"] = {
            "type": "string",
            "enum": list(problems.ERROR_CODES),
            "title": "ErrorCode",
            "description": "Every code a problem can carry, to match on.",
        }
        _restore_example_nulls(schemas)
        for name, component in schemas.items():
            # A domain enum under its API name (app/schemas/enums.py) keeps its class's title,
            # and generators name the type after the title: make it the API name.
            if "enum" in component:
                component["title"] = name
        components["headers"] = HEADERS
        _document_headers(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _restore_example_nulls(schemas: dict) -> None:
    """FastAPI writes the document with ``exclude_none``, which also drops every ``null``
    from the models' examples: a nullable required field shown as null went missing, and
    the example no longer validated against its own schema. Put the models' examples back."""
    models: dict[str, type[BaseModel]] = {}
    pending = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("app."):
                models[model.__name__] = model
    for name, schema in schemas.items():
        extra = models[name].model_config.get("json_schema_extra") if name in models else None
        if "examples" in schema and isinstance(extra, dict) and "examples" in extra:
            schema["examples"] = to_jsonable_python(extra["examples"])


def _document_headers(schema: dict) -> None:
    """X-Request-ID on every response; Idempotent-Replayed on the successes of operations
    that replay; Retry-After where a retry is asked for."""
    for operation in (op for item in schema["paths"].values() for op in item.values()):
        operation.setdefault("security", [])  # health, readiness, metrics: no key
        keyed = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", ()))
        for status, response in operation["responses"].items():
            headers = response.setdefault("headers", {})
            headers["X-Request-ID"] = {"$ref": "#/components/headers/XRequestId"}
            if keyed and status.startswith("2"):
                headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/IdempotentReplayed"}
            if status in ("409", "429", "503"):
                headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}


def _route_templates(app: FastAPI) -> dict[str, str]:
    # The routes' effective contexts, as routing builds them (the OpenAPI document took
    # seconds to generate on a small machine).
    contexts = iter_route_contexts(app.routes)
    return {c.name: c.path_format for c in contexts if c.name and c.path_format is not None}
