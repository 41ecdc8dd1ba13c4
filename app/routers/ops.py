"""Liveness, readiness and metrics for load balancers and Prometheus."""

from fastapi import APIRouter, Request, Response

from app.domain.errors import Unauthenticated
from app.observability import METRICS_401_DETAIL, metrics_refusal
from app.routers.deps import Uow
from app.routers.openapi_docs import problems
from app.schemas.ops import Health, Readiness
from app.services.health import readiness

router = APIRouter(tags=["operations"])
# Left out of the app when the metrics have a port of their own (LOYALTY_METRICS_PORT).
metrics_router = APIRouter(tags=["operations"])

METRICS_EXAMPLE = 'http_requests_total{method="GET",route="/healthz",status="200"} 4.0\n'


@router.get("/healthz", response_model=Health, summary="Liveness: the process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: the database is reachable and migrated to head",
    responses=problems(503),
)
async def readyz(request: Request, uow: Uow) -> Readiness:
    current = await readiness(uow, request.app.state.migration_head)
    return Readiness(status="ready", database="ok", migration=current)


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Request counts and latency histograms per route template. When the server "
    "sets `LOYALTY_METRICS_TOKEN`, send it as `Authorization: Bearer <token>` (else 401); when "
    "it sets `LOYALTY_METRICS_PORT`, this answers on that port only.",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": METRICS_EXAMPLE,
                }
            }
        },
        401: {
            **problems(401, examples={401: ("missing_credentials", METRICS_401_DETAIL)})[401],
            "description": "Only with `LOYALTY_METRICS_TOKEN` set: the token is missing or wrong.",
        },
    },
)
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token is not None and (
        refusal := metrics_refusal(request.headers.get("authorization"), token.get_secret_value())
    ):
        raise Unauthenticated(*refusal)
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type)
