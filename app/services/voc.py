"""What the voice-of-the-customer use cases share: the references a survey answer or a
complaint may carry (a member, a store) and the report period in the tenant's zone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from app.domain.errors import Invalid
from app.domain.voc import Period, period
from app.services.points import tenant_zone
from app.uow import UnitOfWork

CLOCK_SKEW = timedelta(minutes=5)


async def check_refs(
    uow: UnitOfWork, tenant_id: str, member_id: str | None, store_code: str | None
) -> str | None:
    """422 unless the member and the store (when given) are the tenant's; the member's id in
    its canonical form."""
    if store_code is not None and await uow.stores.get(tenant_id, store_code) is None:
        raise Invalid(
            "store_not_found",
            "No store with code {store_code}.",
            field="store_code",
            store_code=store_code,
        )
    if member_id is None:
        return None
    if not await uow.points.member_exists(tenant_id, member_id):
        raise Invalid(
            "member_not_found",
            "No member with id {member_id}.",
            field="member_id",
            member_id=member_id,
        )
    return str(uuid.UUID(member_id))


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def check_answered_at(answered_at: datetime, now: datetime, field: str = "answered_at") -> None:
    if answered_at > now + CLOCK_SKEW:
        raise Invalid("answered_in_future", "must not be in the future", field=field)
    if answered_at < EARLIEST:
        raise Invalid("answered_too_early", "must be from 1970 on", field=field)


async def report_period(
    uow: UnitOfWork, tenant_id: str, start: date | None, end: date | None
) -> tuple[Period, str]:
    """The period [start, end] as local days of the tenant's zone, and the zone's name."""
    tz = await tenant_zone(uow, tenant_id)
    return period(start, end, tz), tz.key
