"""NPS (docs/domain §8): the stateless calculator, survey answers and their summary per store or
month. Answers are idempotent on an optional ``response_ref``: the same answer sent again is
the first one; other content under the same reference is a conflict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.domain import nps
from app.domain.access import Principal
from app.domain.errors import Conflict
from app.domain.nps import Nps
from app.domain.voc import fingerprint
from app.repositories.nps import NpsResponse
from app.services.voc import check_answered_at, check_refs, report_period
from app.uow import UnitOfWork

GROUPINGS = ("store", "month")


@dataclass(frozen=True)
class Recorded:
    response: NpsResponse
    created: bool


@dataclass(frozen=True)
class Summary:
    start: date | None
    end: date | None
    store_code: str | None
    group_by: str | None
    overall: Nps
    groups: list[tuple[str | None, Nps]]


def calculate(
    scores: Sequence[int] | None,
    promoters: int | None,
    passives: int | None,
    detractors: int | None,
) -> Nps:
    return nps.calculate(scores, promoters, passives, detractors)


async def record_response(
    uow: UnitOfWork,
    who: Principal,
    *,
    member_id: str | None,
    store_code: str | None,
    score: int,
    answered_at: datetime,
    comment: str | None,
    response_ref: str | None,
    now: datetime,
) -> Recorded:
    nps.check_score(score)
    check_answered_at(answered_at, now)
    async with uow:
        member_id = await check_refs(uow, who.tenant_id, member_id, store_code)
        content = {
            "member_id": member_id,
            "store_code": store_code,
            "score": score,
            "answered_at": answered_at.astimezone(UTC).isoformat(),
            "comment": comment,
        }
        response, created = await uow.nps.add(
            who.tenant_id,
            member_id=member_id,
            store_code=store_code,
            score=score,
            answered_at=answered_at,
            comment=comment,
            response_ref=response_ref,
            fingerprint=fingerprint(content),
        )
        if not created and response.fingerprint != fingerprint(content):
            raise Conflict(
                "response_ref_conflict",
                "Answer {response_ref} was recorded with other content.",
                field="response_ref",
                extra={"response_id": str(response.id)},
                response_ref=response_ref,
            )
        await uow.commit()
    return Recorded(response, created)


async def summary(
    uow: UnitOfWork,
    who: Principal,
    *,
    start: date | None,
    end: date | None,
    store_code: str | None,
    group_by: str | None,
) -> Summary:
    async with uow:
        window, tz = await report_period(uow, who.tenant_id, start, end)
        overall = await uow.nps.counts(who.tenant_id, window, store_code, None, tz)
        groups = (
            await uow.nps.counts(who.tenant_id, window, store_code, group_by, tz)
            if group_by
            else []
        )
    return Summary(
        start,
        end,
        store_code,
        group_by,
        nps.from_counts(overall[0].promoters, overall[0].passives, overall[0].detractors),
        [(g.key, nps.from_counts(g.promoters, g.passives, g.detractors)) for g in groups],
    )
