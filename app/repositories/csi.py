"""Satisfaction-index persistence: models and their nodes, weightings (append-only audit),
responses and their answers. Scores are aggregated in SQL (sums and counts per item, distinct
responses per node); the roll-up itself is app.domain.csi."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import String, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.csi import Model, Node, Tree
from app.domain.voc import Period
from app.models import CsiAnswerRow, CsiModelRow, CsiNodeRow, CsiResponseRow, CsiWeightingRow
from app.repositories.paging import newest_first

_TEXTS = ARRAY(String())


@dataclass(frozen=True)
class Weighting:
    id: int
    node: str
    method: str
    inputs: dict
    result: dict
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class CsiResponse:
    id: int
    model_code: str
    respondent_ref: str
    member_id: str | None
    store_code: str | None
    answered_at: datetime
    answers: dict[str, int]
    fingerprint: str
    created_at: datetime


@dataclass(frozen=True)
class Respondent:
    respondent_ref: str
    member_id: str | None
    answers: dict[str, int]


def _weighting(row: CsiWeightingRow) -> Weighting:
    return Weighting(
        row.id, row.node_code, row.method, row.inputs, row.result, row.actor, row.created_at
    )


class CsiRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- models ----------------------------------------------------------------------------

    async def add_model(self, tenant_id: str, model: Model) -> Model | None:
        """The model as stored; None if the tenant has a model with this code already."""
        tid = uuid.UUID(tenant_id)
        m = CsiModelRow
        row = await self.session.scalar(
            pg_insert(m)
            .values(
                tenant_id=tid,
                code=model.code,
                name=model.name,
                scale_points=model.scale_points,
                satisfaction_node=model.satisfaction_node,
                loyalty_node=model.loyalty_node,
                quadrant_threshold=model.threshold,
            )
            .on_conflict_do_nothing(index_elements=[m.tenant_id, m.code])
            .returning(m)
        )
        if row is None:
            return None
        await self.session.execute(
            insert(CsiNodeRow),
            [
                {
                    "tenant_id": tid,
                    "model_code": model.code,
                    "code": n.code,
                    "parent_code": n.parent,
                    "level": n.level,
                    "name": n.name,
                    "position": n.position,
                    "weight": None,
                }
                for n in model.tree.nodes
            ],
        )
        return await self.get_model(tenant_id, model.code)

    async def get_model(self, tenant_id: str, code: str, *, lock: bool = False) -> Model | None:
        """``lock``: hold the model row until commit (weightings of one model queue up)."""
        tid = uuid.UUID(tenant_id)
        query = select(CsiModelRow).where(CsiModelRow.tenant_id == tid, CsiModelRow.code == code)
        row = await self.session.scalar(query.with_for_update() if lock else query)
        if row is None:
            return None
        n = CsiNodeRow
        nodes = await self.session.scalars(
            select(n).where(n.tenant_id == tid, n.model_code == code).order_by(n.position)
        )
        return Model(
            row.code,
            row.name,
            row.scale_points,
            row.satisfaction_node,
            row.loyalty_node,
            row.quadrant_threshold,
            Tree(
                tuple(
                    Node(x.code, x.name, x.level, x.parent_code, x.position, x.weight)
                    for x in nodes
                )
            ),
            row.created_at,
        )

    async def list_models(
        self, tenant_id: str, after: str | None, limit: int
    ) -> list[tuple[str, str, int, datetime]]:
        """(code, name, scale_points, created_at) by code, up to ``limit + 1``."""
        m = CsiModelRow
        query = select(m.code, m.name, m.scale_points, m.created_at).where(
            m.tenant_id == uuid.UUID(tenant_id)
        )
        if after is not None:
            query = query.where(m.code > after)
        rows = await self.session.execute(query.order_by(m.code).limit(limit + 1))
        return [tuple(r) for r in rows]

    # --- weights ---------------------------------------------------------------------------

    async def set_weights(
        self,
        tenant_id: str,
        model_code: str,
        node: str,
        weights: dict[str, Decimal],
        method: str,
        inputs: dict,
        result: dict,
        actor: str,
    ) -> Weighting:
        """Give the children their weights and keep the weighting for audit."""
        tid = uuid.UUID(tenant_id)
        # The table, not the entity: an ORM update with many parameter sets would be a bulk
        # update by primary key. Mapped to a Table (typed as any FromClause).
        nodes = cast(Table, CsiNodeRow.__table__)
        n = nodes.c
        await self.session.execute(
            update(nodes)
            .where(
                n.tenant_id == tid,
                n.model_code == model_code,
                n.code == bindparam("child"),
            )
            .values(weight=bindparam("w")),
            [{"child": code, "w": w} for code, w in weights.items()],
        )
        inserted = await self.session.execute(
            insert(CsiWeightingRow)
            .values(
                tenant_id=tid,
                model_code=model_code,
                node_code=node,
                method=method,
                inputs=inputs,
                result=result,
                actor=actor,
            )
            .returning(CsiWeightingRow)
        )
        return _weighting(inserted.scalar_one())

    async def weightings(
        self, tenant_id: str, model_code: str, node: str, before: int | None, limit: int
    ) -> list[Weighting]:
        """Newest first, up to ``limit + 1``."""
        w = CsiWeightingRow
        query = select(w).where(
            w.tenant_id == uuid.UUID(tenant_id), w.model_code == model_code, w.node_code == node
        )
        rows = await self.session.scalars(newest_first(query, w.id, before, limit))
        return [_weighting(r) for r in rows]

    async def latest_methods(self, tenant_id: str, model_code: str) -> dict[str, str]:
        """The method of each parent node's latest weighting."""
        w = CsiWeightingRow
        rows = await self.session.execute(
            select(w.node_code, w.method)
            .where(w.tenant_id == uuid.UUID(tenant_id), w.model_code == model_code)
            .distinct(w.node_code)
            .order_by(w.node_code, w.id.desc())
        )
        return dict(rows.tuples().all())

    # --- responses ---------------------------------------------------------------------------

    async def add_response(
        self,
        tenant_id: str,
        model_code: str,
        *,
        respondent_ref: str,
        member_id: str | None,
        store_code: str | None,
        answered_at: datetime,
        answers: dict[str, int],
        fingerprint: str,
    ) -> tuple[CsiResponse, bool]:
        """(the response, True) when stored now; (the one stored before for the same
        respondent and time, False) otherwise."""
        tid = uuid.UUID(tenant_id)
        r = CsiResponseRow
        row = await self.session.scalar(
            pg_insert(r)
            .values(
                tenant_id=tid,
                model_code=model_code,
                respondent_ref=respondent_ref,
                member_id=uuid.UUID(member_id) if member_id else None,
                store_code=store_code,
                answered_at=answered_at,
                fingerprint=fingerprint,
            )
            .on_conflict_do_nothing(constraint="uq_csi_responses_natural_key")
            .returning(r)
        )
        if row is None:
            row = await self.session.scalar(
                select(r).where(
                    r.tenant_id == tid,
                    r.model_code == model_code,
                    r.respondent_ref == respondent_ref,
                    r.answered_at == answered_at,
                )
            )
            return await self._response(row), False
        await self.session.execute(
            insert(CsiAnswerRow),
            [
                {"tenant_id": tid, "response_id": row.id, "item_code": k, "score": v}
                for k, v in answers.items()
            ],
        )
        return await self._response(row), True

    async def _response(self, row: CsiResponseRow) -> CsiResponse:
        a = CsiAnswerRow
        answers = await self.session.execute(
            select(a.item_code, a.score).where(a.response_id == row.id).order_by(a.item_code)
        )
        return CsiResponse(
            row.id,
            row.model_code,
            row.respondent_ref,
            str(row.member_id) if row.member_id else None,
            row.store_code,
            row.answered_at,
            dict(answers.tuples().all()),
            row.fingerprint,
            row.created_at,
        )

    def _responses(self, tenant_id: str, model_code: str, period: Period, store: str | None):
        r = CsiResponseRow
        conditions = [r.tenant_id == uuid.UUID(tenant_id), r.model_code == model_code]
        if period.start is not None:
            conditions.append(r.answered_at >= period.start)
        if period.end is not None:
            conditions.append(r.answered_at < period.end)
        if store is not None:
            conditions.append(r.store_code == store)
        return and_(*conditions)

    async def item_totals(
        self, tenant_id: str, model_code: str, period: Period, store: str | None
    ) -> dict[str, tuple[int, int]]:
        """Per item: (sum of the answers, number of answers) over the responses chosen."""
        a, r = CsiAnswerRow, CsiResponseRow
        rows = await self.session.execute(
            select(a.item_code, func.sum(a.score), func.count())
            .join(r, r.id == a.response_id)
            .where(self._responses(tenant_id, model_code, period, store))
            .group_by(a.item_code)
        )
        return {item: (int(total), count) for item, total, count in rows}

    async def responses_per_node(
        self,
        tenant_id: str,
        model_code: str,
        period: Period,
        store: str | None,
        items_of: dict[str, list[str]],
    ) -> dict[str, int]:
        """Per node: the number of responses that answered at least one item below it."""
        pairs = [(item, node) for node, items in items_of.items() for item in items]
        if not pairs:
            return {}
        a, r = CsiAnswerRow, CsiResponseRow
        mapping = (
            select(
                func.unnest(bindparam("items", [p[0] for p in pairs], _TEXTS)).label("item"),
                func.unnest(bindparam("nodes", [p[1] for p in pairs], _TEXTS)).label("node"),
            )
        ).subquery("mapping")
        rows = await self.session.execute(
            select(mapping.c.node, func.count(a.response_id.distinct()))
            .select_from(a)
            .join(r, r.id == a.response_id)
            .join(mapping, mapping.c.item == a.item_code)
            .where(self._responses(tenant_id, model_code, period, store))
            .group_by(mapping.c.node)
        )
        return dict(rows.tuples().all())

    async def latest_respondents(
        self,
        tenant_id: str,
        model_code: str,
        period: Period,
        store: str | None,
        items: list[str],
    ) -> list[Respondent]:
        """Each respondent's latest response in the period, with its answers to ``items``."""
        r, a = CsiResponseRow, CsiAnswerRow
        latest = (
            select(r.id, r.respondent_ref, r.member_id)
            .where(self._responses(tenant_id, model_code, period, store))
            .distinct(r.respondent_ref)
            .order_by(r.respondent_ref, r.answered_at.desc(), r.id.desc())
        ).subquery("latest")
        rows = await self.session.execute(
            select(latest.c.respondent_ref, latest.c.member_id, a.item_code, a.score)
            .select_from(latest)
            .outerjoin(
                a,
                and_(
                    a.response_id == latest.c.id,
                    a.item_code.in_(items),
                ),
            )
            .order_by(latest.c.respondent_ref)
        )
        out: dict[str, Respondent] = {}
        for ref, member, item, score in rows:
            found = out.setdefault(ref, Respondent(ref, str(member) if member else None, {}))
            if item is not None:
                found.answers[item] = score
        return list(out.values())
