"""Request ids, structured logs and Prometheus metrics."""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.exposition import ThreadingWSGIServer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
access_log = logging.getLogger("app.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Metric labels take the method from this set, any other is "other": a client inventing methods
# (`FOO /v1/stores`) must not create time series (route and status are bounded already).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(log_format: str, level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our access log carries the request id; uvicorn's would duplicate it without one.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pgserver").setLevel(logging.WARNING)


class Metrics:
    """Per-app registry; in multi-worker mode (PROMETHEUS_MULTIPROC_DIR) values are shared."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


METRICS_401_DETAIL = "Send the metrics token as 'Authorization: Bearer <token>'."


def metrics_refusal(authorization: str | None, token: str) -> tuple[str, str] | None:
    """Why a request for the metrics is refused (code, detail), or None: it sent the token."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "missing_credentials", METRICS_401_DETAIL
    # Constant time: the comparison must not tell how much of a guess was right.
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return "invalid_credentials", "The metrics token is wrong."
    return None


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # a scrape every few seconds is no news
        pass


class _IPv6Server(ThreadingWSGIServer):
    address_family = socket.AF_INET6


def serve_metrics(host: str, port: int, token: str | None) -> ThreadingWSGIServer:
    """The metrics of every worker (PROMETHEUS_MULTIPROC_DIR) on a port of their own, from a
    thread of the calling process; raises OSError if the port is taken."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        if token is not None and (
            refusal := metrics_refusal(environ.get("HTTP_AUTHORIZATION"), token)
        ):
            code, detail = refusal
            start_response(
                "401 Unauthorized",
                [("Content-Type", "application/problem+json"), ("WWW-Authenticate", "Bearer")],
            )
            body = {
                "type": f"urn:loyalty:problem:{code}",
                "title": "Authentication required",
                "status": 401,
                "detail": detail,
                "code": code,
                "errors": [],
            }
            return [json.dumps(body).encode()]
        return metrics(environ, start_response)

    server = make_server(
        host, port, app, _IPv6Server if ":" in host else ThreadingWSGIServer, handler_class=_Quiet
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


class RequestContextMiddleware:
    """Assigns the request id, times the request, logs it and counts it per route."""

    def __init__(self, app: ASGIApp, metrics: Metrics, route_templates) -> None:
        self.app = app
        self.metrics = metrics
        # operationId -> full path template; included routers only know their own suffix.
        self.route_templates = route_templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = (
                self.route_templates().get(route.name, route.path_format) if route else "unmatched"
            )
            method = scope["method"]
            label = method if method in METHODS else "other"
            self.metrics.requests.labels(label, template, str(status)).inc()
            self.metrics.latency.labels(label, template).observe(elapsed)
            access_log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)
