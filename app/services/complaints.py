"""Complaints (客户投诉, docs/domain §11): recorded, then taken through the seven further steps in
order; each step records who (the API key's name) and when. A compensation in points is
proposed with the solution, approved by an ``admin`` key, and written as a D adjustment (via
app.services.points.adjust, the one ledger path) when the solution is implemented.

Step writes are *inner*: they run in the unit of work ``run_once`` opened (so an
Idempotency-Key is committed with the effect) and never commit. The complaint's row is
locked first, so a step sent twice — a retry without a key, or two clerks at once — passes
the order check once: the second gets 409 ``step_out_of_order`` and no second adjustment is
written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain import complaints as rules
from app.domain.access import Principal
from app.domain.complaints import Channel, Complaint, Severity, Status, Step
from app.domain.errors import NotFound
from app.domain.ids import parse_id
from app.domain.pagination import Page, id_cursor, id_page
from app.services import points
from app.services.voc import check_refs, report_period
from app.uow import UnitOfWork


@dataclass(frozen=True)
class Analytics:
    start: date | None
    end: date | None
    store_code: str | None
    total: int
    by_status: dict[Status, int]
    by_category: dict[str, int]
    closed: int
    median_hours_to_close: Decimal | None
    members_served: int
    complaints_per_1000_members: Decimal | None
    evaluated: int
    satisfied: int
    satisfied_share: Decimal | None


def _missing(complaint_id: str) -> NotFound:
    return NotFound(
        "complaint_not_found", "No complaint {complaint_id}.", complaint_id=complaint_id
    )


async def create(
    uow: UnitOfWork,
    who: Principal,
    *,
    member_id: str | None,
    store_code: str | None,
    channel: Channel,
    category: str,
    content: str,
    now: datetime,
) -> Complaint:
    async with uow:
        member_id = await check_refs(uow, who.tenant_id, member_id, store_code)
        complaint = await uow.complaints.add(
            who.tenant_id,
            member_id=member_id,
            store_code=store_code,
            channel=channel,
            category=category,
            content=content,
            actor=who.key_name,
            now=now,
        )
        await uow.commit()
    return complaint


async def get(uow: UnitOfWork, who: Principal, complaint_id: str) -> Complaint:
    key = parse_id(complaint_id)
    async with uow:
        found = None if key is None else await uow.complaints.get(who.tenant_id, key)
    if found is None:
        raise _missing(complaint_id)
    return found


async def list_complaints(
    uow: UnitOfWork,
    who: Principal,
    *,
    status: Status | None,
    store_code: str | None,
    member_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Complaint]:
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.complaints.list(
            who.tenant_id,
            status=status,
            store_code=store_code,
            member_id=member_id,
            before=before,
            limit=limit,
        )
    return id_page(rows, limit)


async def take_step(
    uow: UnitOfWork,
    who: Principal,
    complaint_id: str,
    step: Step,
    data: dict,
    now: datetime,
) -> Complaint:
    """Apply ``step`` with its data (inner: the caller's unit of work is open)."""
    tenant = who.tenant_id
    key = parse_id(complaint_id)
    complaint = None if key is None else await uow.complaints.get(tenant, key, lock=True)
    if complaint is None:
        raise _missing(complaint_id)
    approved = bool(data.get("approved", True))
    status = rules.advance(complaint.id, complaint.status, step, approved=approved)
    fields: dict = {"status": status.value}
    log = {k: v for k, v in data.items() if v is not None}
    if step is Step.NATURE:
        fields |= {"justified": data["justified"], "severity": Severity(data["severity"]).value}
    elif step is Step.DEPARTMENT:
        fields["department"] = data["department"]
    elif step is Step.CAUSE:
        fields["cause"] = data["cause"]
    elif step is Step.SOLUTION:
        compensation = rules.check_compensation(
            data.get("compensation_points"), complaint.member_id
        )
        fields |= {"solution": data["solution"], "compensation_points": compensation}
        log["compensation_points"] = compensation
    elif step is Step.APPROVAL and not approved:
        # Rejected: back to cause_analysed; the next solution replaces this one.
        fields |= {"solution": None, "compensation_points": None}
    elif step is Step.IMPLEMENTATION and complaint.compensation_points:
        adjustment = await points.adjust(
            uow,
            who,
            member_id=complaint.member_id or "",
            points=complaint.compensation_points,
            reason=f"Complaint {complaint.id} compensation",
            now=now,
        )
        fields["adjustment_id"] = adjustment.id
        log |= {
            "adjustment_id": adjustment.id,
            "points": adjustment.points,
            "balance": adjustment.balance,
        }
    elif step is Step.EVALUATION:
        fields |= {"satisfaction": rules.check_satisfaction(data["satisfaction"]), "closed_at": now}
    await uow.complaints.update(tenant, complaint.id, fields)
    await uow.complaints.add_step(tenant, complaint.id, step.value, log, who.key_name, now)
    updated = await uow.complaints.get(tenant, complaint.id)
    assert updated is not None
    return updated


async def analytics(
    uow: UnitOfWork,
    who: Principal,
    *,
    start: date | None,
    end: date | None,
    store_code: str | None,
) -> Analytics:
    async with uow:
        await uow.points.read_snapshot()
        window, _ = await report_period(uow, who.tenant_id, start, end)
        f = await uow.complaints.figures(who.tenant_id, window, store_code)
    return Analytics(
        start,
        end,
        store_code,
        f.total,
        f.by_status,
        f.by_category,
        f.closed,
        rules.hours(f.median_seconds_to_close),
        f.members_served,
        rules.per_thousand(f.total, f.members_served),
        f.evaluated,
        f.satisfied,
        rules.satisfied_share(f.satisfied, f.evaluated),
    )
