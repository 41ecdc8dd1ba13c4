"""Member groups (docs/domain §10): saved criteria, generated into dated member lists.

Generating replaces the list in one transaction with one set-based ``INSERT ... SELECT``
(app/repositories/member_groups.py), under the group's row lock, so two generations of one
group queue up and a reader sees either the old list or the new one.
"""

from __future__ import annotations

import json
from datetime import datetime

from app.domain.access import Principal
from app.domain.audit import FieldChange
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.member_groups import Criteria, GroupStatus, check_code, criteria_of
from app.domain.pagination import Page, decode_cursor, member_cursor, page_of
from app.domain.periods import day_end, day_start, local_date
from app.repositories.member_groups import GroupMember, MemberGroup
from app.services.analytics import zone_of
from app.uow import UnitOfWork

SUBJECT = "member_group"


def _not_found(code: str) -> NotFound:
    return NotFound("member_group_not_found", "No member group {code_name}.", code_name=code)


async def _get(uow: UnitOfWork, who: Principal, code: str, *, lock: bool = False) -> MemberGroup:
    group = await uow.member_groups.get(who.tenant_id, code, lock=lock)
    if group is None:
        raise _not_found(code)
    return group


def _json(criteria: Criteria) -> str:
    return json.dumps(criteria.as_json(), ensure_ascii=False, separators=(",", ":"))


async def create_group(
    uow: UnitOfWork, who: Principal, code: str, name: str, criteria: dict
) -> MemberGroup:
    check_code(code)
    parsed = criteria_of(criteria)
    async with uow:
        if not await uow.member_groups.add(who.tenant_id, code, name, parsed):
            raise Conflict(
                "member_group_exists",
                "A member group {code_name} exists already.",
                field="code",
                code_name=code,
            )
        await uow.audit.write(
            who.tenant_id,
            SUBJECT,
            code,
            "create",
            who.key_name,
            [FieldChange("name", None, name), FieldChange("criteria", None, _json(parsed))],
        )
        group = await _get(uow, who, code)
        await uow.commit()
    return group


async def update_group(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    *,
    new_code: str | None = None,
    name: str | None = None,
    criteria: dict | None = None,
) -> MemberGroup:
    """Rename and/or change the criteria; new criteria make a generated list stale."""
    if new_code is not None and new_code != code:
        raise Invalid("code_immutable", "A member group's code cannot be changed.", field="code")
    parsed = criteria_of(criteria) if criteria is not None else None
    async with uow:
        group = await _get(uow, who, code, lock=True)
        values: dict = {}
        changes: list[FieldChange] = []
        if name is not None and name != group.name:
            values["name"] = name
            changes.append(FieldChange("name", group.name, name))
        if parsed is not None and parsed != group.criteria:
            values["criteria"] = parsed
            changes.append(FieldChange("criteria", _json(group.criteria), _json(parsed)))
            if group.status is GroupStatus.GENERATED:
                values["status"] = GroupStatus.STALE
        if values:
            await uow.member_groups.update(who.tenant_id, code, **values)
            await uow.audit.write(who.tenant_id, SUBJECT, code, "update", who.key_name, changes)
        group = await _get(uow, who, code)
        await uow.commit()
    return group


async def generate(uow: UnitOfWork, who: Principal, code: str, now: datetime) -> MemberGroup:
    async with uow:
        group = await _get(uow, who, code, lock=True)
        tz = await zone_of(uow, who.tenant_id)
        as_of = local_date(now, tz)
        criteria = group.criteria
        latest_run = None
        if criteria.attributes is not None and criteria.attributes.rfm_segments:
            latest_run = await uow.analytics.latest_rfm_run_id(who.tenant_id)
            if latest_run is None:
                raise Conflict(
                    "rfm_not_run",
                    "The criteria name RFM segments but RFM has not been run yet: run it first "
                    "(POST /v1/analytics/rfm/runs).",
                )
        bounds = None
        if criteria.consumption is not None:
            bounds = (
                day_start(criteria.consumption.start, tz),
                day_end(criteria.consumption.end, tz),
            )
        count = await uow.member_groups.generate(
            who.tenant_id, code, criteria, as_of, bounds, latest_run
        )
        await uow.member_groups.update(
            who.tenant_id,
            code,
            status=GroupStatus.GENERATED,
            member_count=count,
            generated_at=now,
            generated_as_of=as_of,
        )
        group = await _get(uow, who, code)
        await uow.commit()
    return group


async def get_group(uow: UnitOfWork, who: Principal, code: str) -> MemberGroup:
    async with uow:
        return await _get(uow, who, code)


async def list_groups(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[MemberGroup]:
    after = decode_cursor(cursor, 1, (str,))
    async with uow:
        rows = await uow.member_groups.list(who.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda g: [g.code])


async def list_members(
    uow: UnitOfWork, who: Principal, code: str, cursor: str | None, limit: int
) -> Page[GroupMember]:
    after_id = member_cursor(cursor)
    async with uow:
        await _get(uow, who, code)
        rows = await uow.member_groups.members(who.tenant_id, code, after_id, limit)
    return page_of(rows, limit, lambda m: [m.member_id])
