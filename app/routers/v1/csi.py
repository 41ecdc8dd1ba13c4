"""The customer satisfaction index (客户满意度指数, docs/domain §9): models as trees of variables,
indicators and questionnaire items; weights per parent node by any weighting method;
responses; the index with every node's score; satisfaction × loyalty quadrants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse

from app.domain.access import Principal, Scope
from app.domain.csi import Quadrant
from app.domain.pagination import DEFAULT_LIMIT
from app.routers.deps import Cursor, Limit, Uow, scoped
from app.routers.idempotency import created_or_replayed
from app.routers.openapi_docs import BODY_ERRORS, problems, ref, replayed
from app.routers.v1.nps import PERIOD_NOTE, From, StoreFilter, To
from app.routers.v1.weights import METHODS_NOTE
from app.schemas.common import DecimalString, Page
from app.schemas.csi import (
    CsiModelCreate,
    CsiModelRead,
    CsiModelSummaryRead,
    CsiResponseCreate,
    CsiResponseRead,
    CsiScoreRead,
    NodeScoreRead,
    QuadrantRead,
    SatisfactionLoyaltyRead,
)
from app.schemas.weights import EXAMPLES, WeightingRead, WeightsIn
from app.services import csi

router = APIRouter(prefix="/csi", tags=["voice of the customer"])

ADMIN = scoped(Scope.ADMIN)
ANALYSTS = scoped(Scope.ADMIN, Scope.ANALYTICS)
SURVEYORS = scoped(Scope.ADMIN, Scope.POS, Scope.APP, Scope.PARTNER)
# Pre-filled with the model the create example makes, and its root.
ModelCode = Path(
    max_length=32,
    description="The model's code.",
    openapi_examples={"demo": {"summary": "The create example's model", "value": "STORE-2026"}},
)
NodeCode = Path(
    max_length=32,
    description="A parent node's code; `root` for the CSI itself.",
    openapi_examples={"root": {"summary": "The CSI itself", "value": "root"}},
)
MODEL_NOT_FOUND = problems(
    404, examples={404: ("csi_model_not_found", "No CSI model with code STORE-2026.")}
)


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(
    "/templates/acsi",
    # The template is a create body: typed as that one schema, not as an output twin of it
    # (`CsiModelCreate-Output`), so clients can post what they get.
    response_model=None,
    responses={
        200: {
            "description": "A model to post as is or adjusted.",
            "content": {"application/json": {"schema": ref("CsiModelCreate")}},
        }
    },
    summary="The ACSI template: a ready-to-post model",
    description="Any scope. The American Customer Satisfaction Index's six variables "
    "(expectation, perceived quality, perceived value, satisfaction, complaints, loyalty) "
    "with indicators and questionnaire items on a 5-point scale, satisfaction `SAT` and "
    "loyalty `LOY` named for the quadrants. Adjust and `POST /v1/csi/models` it.",
)
async def get_acsi_template(who: Principal = scoped(*Scope)) -> dict:
    return CsiModelCreate.model_validate(csi.template()).model_dump(mode="json")


@router.post(
    "/models",
    status_code=201,
    response_model=CsiModelRead,
    summary="Create a satisfaction-index model",
    description="Scope: `admin`. `nodes` are the level-2 variables, each with level-3 "
    "indicators (`children`), each with level-4 questionnaire items (`children`, which have "
    "none): 422 `invalid_tree` naming the node otherwise. Codes are unique in the model "
    "(422 `duplicate_node`), 1–32 letters, digits, `_`, `.`, `-` (422 `invalid_code`); "
    "`root` is reserved for the CSI itself (422 `reserved_code`). `scale_points` is 5 or 7 "
    "(422 `invalid_scale`). `satisfaction_node` and `loyalty_node` (for the quadrants) must "
    "be nodes of the model (422 `unknown_node`) and differ. `threshold` (default 50) is the "
    "0–100 score above which a respondent counts as satisfied / loyal. Until weights are "
    "set, siblings weigh equally. A model is immutable (its items are what responses "
    "answer): a code already used is 409 `csi_model_exists`.",
    responses={
        **BODY_ERRORS,
        **problems(
            409,
            422,
            examples={
                409: ("csi_model_exists", "A CSI model with code STORE-2026 exists."),
                422: ("invalid_tree", "A level-3 indicator needs items."),
            },
        ),
    },
)
async def create_csi_model(body: CsiModelCreate, uow: Uow, who: Principal = ADMIN) -> CsiModelRead:
    view = await csi.create_model(
        uow,
        who,
        code=body.code,
        name=body.name,
        scale_points=body.scale_points,
        nodes=[n.spec() for n in body.nodes],
        satisfaction_node=body.satisfaction_node,
        loyalty_node=body.loyalty_node,
        threshold=body.threshold,
    )
    return CsiModelRead.of(view)


@router.get(
    "/models",
    response_model=Page[CsiModelSummaryRead],
    summary="List satisfaction-index models",
    description="Scopes: `admin`, `analytics`. By code; cursor-paginated.",
)
async def list_csi_models(
    uow: Uow, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, who: Principal = ANALYSTS
) -> Page[CsiModelSummaryRead]:
    page = await csi.list_models(uow, who, cursor, limit)
    return Page[CsiModelSummaryRead](
        items=[
            CsiModelSummaryRead(code=c, name=n, scale_points=k, created_at=at)
            for c, n, k, at in page.items
        ],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/models/{code}",
    response_model=CsiModelRead,
    summary="Get a satisfaction-index model with its weights",
    description="Scopes: `admin`, `analytics`. The tree, each node with its weight among its "
    "siblings and how the siblings were weighed (`equal` until set).",
    responses=MODEL_NOT_FOUND,
)
async def get_csi_model(
    uow: Uow, code: Annotated[str, ModelCode], who: Principal = ANALYSTS
) -> CsiModelRead:
    return CsiModelRead.of(await csi.get_model(uow, who, code))


@router.put(
    "/models/{code}/nodes/{node}/weights",
    response_model=WeightingRead,
    response_model_exclude_none=True,
    summary="Set the weights of a node's children, by any weighting method",
    description="Scope: `admin`. The body is that of `POST /v1/analytics/weights`; its "
    "`indicators` must be exactly the children of `node` (422 `indicators_mismatch` listing "
    "them; `root` weighs the level-2 variables; an item has no children: 422 "
    "`not_a_parent`). The weights replace the previous ones; the inputs, the weights and "
    "the method's diagnostics are kept for audit (`GET .../weights`). A Delphi weighting "
    "applies only once converged or at its `max_rounds` (422 `delphi_not_converged`). "
    f"{METHODS_NOTE}",
    responses={
        **BODY_ERRORS,
        **problems(
            404,
            422,
            examples={
                404: ("csi_node_not_found", "Model STORE-2026 has no node XYZ."),
                422: (
                    "indicators_mismatch",
                    "The indicators must be exactly the children of root: SAT, LOY.",
                ),
            },
        ),
    },
)
async def set_csi_weights(
    uow: Uow,
    code: Annotated[str, ModelCode],
    node: Annotated[str, NodeCode],
    body: Annotated[
        WeightsIn,
        Body(
            openapi_examples={
                # First, so pre-filled: the root of the create example's model.
                "root": {
                    "summary": "direct, for the example model's root",
                    "value": {
                        "method": "direct",
                        "indicators": ["SAT", "LOY"],
                        "multiples": {"SAT": "2", "LOY": "1"},
                    },
                },
                **{name: {"summary": name, "value": value} for name, value in EXAMPLES.items()},
            }
        ),
    ],
    who: Principal = ADMIN,
) -> WeightingRead:
    done = await csi.set_weights(
        uow,
        who,
        code=code,
        node=node,
        method=body.method,
        indicators=body.indicators,
        params=body.params(),
        inputs=body.model_dump(mode="json", exclude_none=True),
    )
    return WeightingRead.of_record(done.record)


@router.get(
    "/models/{code}/nodes/{node}/weights",
    response_model=Page[WeightingRead],  # all fields: the last page's next_cursor is null
    summary="The weightings of a node's children (audit)",
    description="Scopes: `admin`, `analytics`. Every weighting ever set on the node, newest "
    "first (the first is in force): inputs as sent, weights, diagnostics, who and when. "
    "Cursor-paginated.",
    responses={
        **problems(404, examples={404: ("csi_node_not_found", "Model STORE-2026 has no node XYZ.")})
    },
)
async def list_csi_weightings(
    uow: Uow,
    code: Annotated[str, ModelCode],
    node: Annotated[str, NodeCode],
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    who: Principal = ANALYSTS,
) -> Page[WeightingRead]:
    page = await csi.list_weightings(uow, who, code, node, cursor, limit)
    return Page[WeightingRead](
        items=[WeightingRead.of_record(w) for w in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/models/{code}/responses",
    status_code=201,
    response_model=CsiResponseRead,
    summary="Record a questionnaire response",
    description="Scopes: `admin`, `pos`, `app`, `partner`. `answers` maps questionnaire item "
    "codes (level 4) to scores on the model's scale: an unknown code or a node that is not "
    "an item is 422 `unknown_item`, a score outside 1..scale 422 `score_out_of_scale`, a "
    "non-integer 422 `validation_error`; at least one answer (422 `no_answers`). Items left "
    "out are missing and excluded from their node's mean. `member_id`/`store_code` must be "
    "the tenant's (422 `member_not_found`, `store_not_found`); `answered_at` not in the "
    "future (422 `answered_in_future`). A response is identified by `respondent_ref` and "
    "`answered_at`: sent again with the same content it answers the first with **200** and "
    "`Idempotent-Replayed: true`; with other content 409 `response_conflict`.",
    responses={
        **replayed(CsiResponseRead, "The same response again: the first one."),
        **BODY_ERRORS,
        **MODEL_NOT_FOUND,
        **problems(
            409,
            422,
            examples={
                409: (
                    "response_conflict",
                    "Respondent Q-2026-0001 answered at 2026-11-23T02:00:00+00:00 with other "
                    "content.",
                ),
                422: ("score_out_of_scale", "must be a whole number from 1 to 5"),
            },
        ),
    },
)
async def create_csi_response(
    uow: Uow,
    code: Annotated[str, ModelCode],
    body: CsiResponseCreate,
    who: Principal = SURVEYORS,
) -> JSONResponse:
    done = await csi.record_response(
        uow,
        who,
        code=code,
        respondent_ref=body.respondent_ref,
        member_id=body.member_id,
        store_code=body.store_code,
        answered_at=body.answered_at,
        answers=body.answers,
        now=_now(),
    )
    r = done.response
    read = CsiResponseRead(
        id=r.id,
        model_code=r.model_code,
        respondent_ref=r.respondent_ref,
        member_id=r.member_id,
        store_code=r.store_code,
        answered_at=r.answered_at,
        answers=r.answers,
        created_at=r.created_at,
    )
    return created_or_replayed(read.model_dump(mode="json"), done.created)


@router.get(
    "/models/{code}/score",
    response_model=CsiScoreRead,
    summary="The satisfaction index and every node's score",
    description="Scopes: `admin`, `analytics`. Over the responses answered in the period "
    "(optionally at one store): an item's score is the mean of its answers mapped to 0–100 "
    "as (x − 1)/(k − 1)·100; a node's score is the weighted mean of its children's scores "
    "over the children that have one (their weights renormalised: a missing answer is "
    "excluded, not counted as 0); the CSI is the root's. Each node comes with its weight, "
    "how it was set and the number of responses that answered something below it. "
    f"{PERIOD_NOTE} No responses: `csi` and the scores are null.",
    responses={
        **MODEL_NOT_FOUND,
        **problems(422, examples={422: ("invalid_period", "`to` must not be before `from`.")}),
    },
)
async def get_csi_score(
    uow: Uow,
    code: Annotated[str, ModelCode],
    from_: From = None,
    to: To = None,
    store_code: StoreFilter = None,
    who: Principal = ANALYSTS,
) -> CsiScoreRead:
    found = await csi.score(uow, who, code, start=from_, end=to, store_code=store_code)
    return CsiScoreRead(
        model_code=found.model.code,
        from_=found.start,
        to=found.end,
        store_code=found.store_code,
        csi=found.csi,
        responses=found.responses,
        nodes=[
            NodeScoreRead(
                code=n.code,
                name=n.name,
                level=n.level,
                parent=n.parent,
                weight=n.weight,
                weighted_by=n.weighted_by,
                score=n.score,
                responses=n.responses,
            )
            for n in found.nodes
        ],
    )


@router.get(
    "/models/{code}/satisfaction-loyalty",
    response_model=SatisfactionLoyaltyRead,
    summary="Satisfaction × loyalty quadrants of the respondents",
    description="Scopes: `admin`, `analytics`. Each respondent (by `respondent_ref`, their "
    "latest response in the period) gets a score of the model's satisfaction node and of "
    "its loyalty node from their own answers; high = strictly above the threshold (the "
    "model's, default 50 = the scale's midpoint; override with `threshold`). Quadrants: "
    "`loyalist` (both high, 忠诚型), `mercenary` (satisfied, not loyal, 图利型), `hostage` "
    "(loyal, not satisfied, 人质型), `defector` (neither, 流失型), each with its count and the "
    "member ids of its respondents; respondents without a satisfaction or loyalty answer are "
    "`unclassified`. A model without both nodes named is 409 `quadrant_nodes_not_set`. "
    f"{PERIOD_NOTE}",
    responses={
        **MODEL_NOT_FOUND,
        **problems(
            409,
            422,
            examples={
                409: (
                    "quadrant_nodes_not_set",
                    "Model STORE-2026 names no satisfaction and loyalty nodes.",
                ),
                422: ("invalid_threshold", "must be within 0..100 (exclusive), 2 decimals"),
            },
        ),
    },
)
async def get_satisfaction_loyalty(
    uow: Uow,
    code: Annotated[str, ModelCode],
    from_: From = None,
    to: To = None,
    store_code: StoreFilter = None,
    threshold: Annotated[
        DecimalString | None,
        Query(description="0–100 (exclusive); default: the model's threshold."),
    ] = None,
    who: Principal = ANALYSTS,
) -> SatisfactionLoyaltyRead:
    found = await csi.satisfaction_loyalty(
        uow, who, code, start=from_, end=to, store_code=store_code, threshold=threshold
    )

    def group(q: Quadrant) -> QuadrantRead:
        g = found.groups[q]
        return QuadrantRead(count=g.count, members=g.members)

    return SatisfactionLoyaltyRead(
        model_code=found.model.code,
        from_=found.start,
        to=found.end,
        store_code=found.store_code,
        satisfaction_node=found.model.satisfaction_node or "",
        loyalty_node=found.model.loyalty_node or "",
        threshold=found.threshold,
        respondents=found.respondents,
        unclassified=found.unclassified,
        loyalist=group(Quadrant.LOYALIST),
        mercenary=group(Quadrant.MERCENARY),
        hostage=group(Quadrant.HOSTAGE),
        defector=group(Quadrant.DEFECTOR),
    )
