"""The customer satisfaction index (docs/domain §9): models (a tree of variables, indicators and
questionnaire items), node weights set with any weighting method (inputs and diagnostics
kept for audit), questionnaire responses, the index with every node's score, and the
satisfaction × loyalty quadrants.

Decisions where the business rules and the issue are silent:

* A model is immutable once created (responses refer to its items); make a new model (new
  code) to change the questionnaire. Weights can be set again at any time.
* Weights are set on a parent node naming exactly its children; ``root`` is the CSI itself.
  A Delphi weighting is only applied once it has converged or reached its ``max_rounds``.
* A response is identified by (respondent_ref, answered_at): the same response sent again
  is the first one (200); other content for it is 409 ``response_conflict``.
* Quadrants use each respondent's latest response in the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from app.domain import csi
from app.domain.access import Principal
from app.domain.csi import ROOT, Model, NodeScore, NodeSpec, Quadrant
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.pagination import Page, decode_cursor, id_cursor, id_page, page_of
from app.domain.voc import TWO, fingerprint, to_decimal
from app.domain.weights import Method
from app.domain.weights import Weighting as Computed
from app.repositories.csi import CsiResponse, Weighting
from app.services.voc import check_answered_at, check_refs, report_period
from app.services.weights import weigh
from app.uow import UnitOfWork


@dataclass(frozen=True)
class ModelView:
    model: Model
    methods: dict[str, str]  # parent node → method of its latest weighting


@dataclass(frozen=True)
class WeightsSet:
    computed: Computed
    record: Weighting


@dataclass(frozen=True)
class Recorded:
    response: CsiResponse
    created: bool


@dataclass(frozen=True)
class Score:
    model: Model
    start: date | None
    end: date | None
    store_code: str | None
    csi: Decimal | None
    responses: int
    nodes: list[NodeScore]


@dataclass(frozen=True)
class QuadrantGroup:
    count: int
    members: list[str]


@dataclass(frozen=True)
class Quadrants:
    model: Model
    start: date | None
    end: date | None
    store_code: str | None
    threshold: Decimal
    respondents: int
    unclassified: int
    groups: dict[Quadrant, QuadrantGroup]


def _missing(code: str) -> NotFound:
    return NotFound("csi_model_not_found", "No CSI model with code {code_name}.", code_name=code)


async def _model(uow: UnitOfWork, who: Principal, code: str, *, lock: bool = False) -> Model:
    model = await uow.csi.get_model(who.tenant_id, code, lock=lock)
    if model is None:
        raise _missing(code)
    return model


def template() -> dict:
    return csi.ACSI_TEMPLATE


# --- models and weights --------------------------------------------------------------------


async def create_model(
    uow: UnitOfWork,
    who: Principal,
    *,
    code: str,
    name: str,
    scale_points: int,
    nodes: Sequence[NodeSpec],
    satisfaction_node: str | None,
    loyalty_node: str | None,
    threshold: Decimal,
) -> ModelView:
    csi.check_code(code, "code")
    tree = csi.build_tree(nodes)
    csi.check_model(tree, scale_points, satisfaction_node, loyalty_node, threshold)
    model = Model(code, name, scale_points, satisfaction_node, loyalty_node, threshold, tree)
    async with uow:
        stored = await uow.csi.add_model(who.tenant_id, model)
        if stored is None:
            raise Conflict(
                "csi_model_exists",
                "A CSI model with code {code_name} exists.",
                field="code",
                code_name=code,
            )
        await uow.commit()
    return ModelView(stored, {})


async def get_model(uow: UnitOfWork, who: Principal, code: str) -> ModelView:
    async with uow:
        model = await _model(uow, who, code)
        methods = await uow.csi.latest_methods(who.tenant_id, code)
    return ModelView(model, methods)


async def list_models(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[tuple[str, str, int, datetime]]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.csi.list_models(who.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda r: [r[0]])


async def set_weights(
    uow: UnitOfWork,
    who: Principal,
    *,
    code: str,
    node: str,
    method: Method,
    indicators: list[str],
    params: dict,
    inputs: dict,
) -> WeightsSet:
    """Weigh the children of ``node`` (``root``: the level-2 variables) and keep the inputs
    and the result for audit."""
    async with uow:
        model = await _model(uow, who, code, lock=True)
        if node != ROOT and node not in model.tree.by_code:
            raise NotFound(
                "csi_node_not_found",
                "Model {code_name} has no node {node}.",
                code_name=code,
                node=node,
            )
        csi.check_weight_target(model.tree, node, indicators)
        computed = weigh(method, indicators, params)
        if computed.converged is False and not computed.round_limit_reached:
            cvs = computed.rounds[-1].cv if computed.rounds else {}
            shown = ", ".join(f"{k} {v}" for k, v in cvs.items())
            raise Invalid(
                "delphi_not_converged",
                "The last round has not converged (every coefficient of variation below the "
                "threshold) and max_rounds is not reached (CV: {shown}). Run another round.",
                field="rounds",
                extra={"cv": {k: str(v) for k, v in cvs.items()}},
                shown=shown,
            )
        weights = {c: computed.weights[c] for c in model.tree.children[node]}
        record = await uow.csi.set_weights(
            who.tenant_id,
            code,
            node,
            weights,
            method.value,
            inputs,
            {"weights": {k: str(v) for k, v in weights.items()}, **computed.diagnostics()},
            who.key_name,
        )
        await uow.commit()
    return WeightsSet(computed, record)


async def list_weightings(
    uow: UnitOfWork, who: Principal, code: str, node: str, cursor: str | None, limit: int
) -> Page[Weighting]:
    before = id_cursor(cursor)
    async with uow:
        model = await _model(uow, who, code)
        if node != ROOT and node not in model.tree.by_code:
            raise NotFound(
                "csi_node_not_found",
                "Model {code_name} has no node {node}.",
                code_name=code,
                node=node,
            )
        rows = await uow.csi.weightings(who.tenant_id, code, node, before, limit)
    return id_page(rows, limit)


# --- responses and scores ---------------------------------------------------------------------


async def record_response(
    uow: UnitOfWork,
    who: Principal,
    *,
    code: str,
    respondent_ref: str,
    member_id: str | None,
    store_code: str | None,
    answered_at: datetime,
    answers: dict[str, int],
    now: datetime,
) -> Recorded:
    check_answered_at(answered_at, now)
    async with uow:
        model = await _model(uow, who, code)
        csi.check_answers(model.tree, answers, model.scale_points)
        member_id = await check_refs(uow, who.tenant_id, member_id, store_code)
        content = fingerprint(
            {
                "member_id": member_id,
                "store_code": store_code,
                "answers": answers,
            }
        )
        response, created = await uow.csi.add_response(
            who.tenant_id,
            code,
            respondent_ref=respondent_ref,
            member_id=member_id,
            store_code=store_code,
            answered_at=answered_at,
            answers=answers,
            fingerprint=content,
        )
        if not created and response.fingerprint != content:
            raise Conflict(
                "response_conflict",
                "Respondent {respondent_ref} answered at {answered_at} with other content.",
                field="respondent_ref",
                extra={"response_id": str(response.id)},
                respondent_ref=respondent_ref,
                answered_at=answered_at.astimezone(UTC).isoformat(),
            )
        await uow.commit()
    return Recorded(response, created)


async def score(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    *,
    start: date | None,
    end: date | None,
    store_code: str | None,
) -> Score:
    async with uow:
        await uow.points.read_snapshot()
        model = await _model(uow, who, code)
        window, _ = await report_period(uow, who.tenant_id, start, end)
        tree = model.tree
        totals = await uow.csi.item_totals(who.tenant_id, code, window, store_code)
        items_of = {ROOT: tree.items()} | {n.code: tree.items_under(n.code) for n in tree.nodes}
        counts = await uow.csi.responses_per_node(who.tenant_id, code, window, store_code, items_of)
        methods = await uow.csi.latest_methods(who.tenant_id, code)
    scores = csi.roll_up(tree, totals, model.scale_points)
    index = scores[ROOT]
    return Score(
        model,
        start,
        end,
        store_code,
        to_decimal(index, TWO) if index is not None else None,
        counts.get(ROOT, 0),
        csi.node_scores(tree, scores, counts, methods),
    )


async def satisfaction_loyalty(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    *,
    start: date | None,
    end: date | None,
    store_code: str | None,
    threshold: Decimal | None,
) -> Quadrants:
    async with uow:
        model = await _model(uow, who, code)
        sat, loy = model.satisfaction_node, model.loyalty_node
        if sat is None or loy is None:
            raise Conflict(
                "quadrant_nodes_not_set",
                "Model {code_name} names no satisfaction and loyalty nodes.",
                code_name=code,
            )
        cut = model.threshold if threshold is None else threshold
        csi.check_model(model.tree, model.scale_points, sat, loy, cut)
        window, _ = await report_period(uow, who.tenant_id, start, end)
        items = model.tree.items_under(sat) + model.tree.items_under(loy)
        respondents = await uow.csi.latest_respondents(
            who.tenant_id, code, window, store_code, items
        )
    groups: dict[Quadrant, tuple[int, list[str]]] = {q: (0, []) for q in Quadrant}
    unclassified = 0
    for r in respondents:
        s = csi.respondent_score(model.tree, sat, r.answers, model.scale_points)
        ll = csi.respondent_score(model.tree, loy, r.answers, model.scale_points)
        if s is None or ll is None:
            unclassified += 1
            continue
        q = csi.quadrant(s, ll, cut)
        count, members = groups[q]
        if r.member_id is not None and r.member_id not in members:
            members.append(r.member_id)
        groups[q] = (count + 1, members)
    return Quadrants(
        model,
        start,
        end,
        store_code,
        cut,
        len(respondents),
        unclassified,
        {q: QuadrantGroup(c, sorted(m)) for q, (c, m) in groups.items()},
    )
