"""Campaigns (docs/domain §12): define one, issue its vouchers in bulk, read its results.

The issue walks the group's list in member id order, a batch per transaction: each batch
locks the campaign row (two issues of one campaign take turns, batch by batch), reads its
members' stored arms and draws, lets the domain plan arms and vouchers, and writes them all
before it commits. A crash loses at most the batch in flight, and a re-run finds every member
served before it: exactly one voucher per treated member, however often it is run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import secrets
import uuid
from datetime import datetime
from decimal import Decimal

from app.domain.access import Principal
from app.domain.audit import FieldChange, as_text
from app.domain.campaigns import Aggregates as CampaignAggregates
from app.domain.campaigns import (
    Arm,
    Campaign,
    IssueResult,
    Results,
    check_change,
    check_code,
    check_terms,
    plan_batch,
)
from app.domain.campaigns import results as campaign_results
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.member_groups import GroupStatus
from app.domain.pagination import Page, decode_cursor, page_of
from app.domain.voucher_codes import new_codes
from app.domain.vouchers import Template, validity
from app.repositories.campaigns import CampaignMember
from app.services.analytics import zone_of
from app.uow import UnitOfWork

SUBJECT = "campaign"
BATCH = 10_000
PARTS = 2  # parts of an issue run side by side (database connections)
SHARE = Decimal("0.0001")
FIELDS = ("name", "template", "member_group", "control_share", "starts_at", "ends_at", "budget")


def _not_found(code: str) -> NotFound:
    return NotFound("campaign_not_found", "No campaign {code_name}.", code_name=code)


async def _get(
    uow: UnitOfWork, who: Principal, code: str, *, lock: bool = False, share: bool = False
) -> Campaign:
    campaign = await uow.campaigns.get(who.tenant_id, code, lock=lock, share=share)
    if campaign is None:
        raise _not_found(code)
    return campaign


async def _template(uow: UnitOfWork, who: Principal, code: str) -> Template:
    template = await uow.campaigns.template(who.tenant_id, code)
    if template is None:
        raise Invalid(
            "voucher_template_not_found",
            "No voucher template {code_name}.",
            field="template",
            code_name=code,
        )
    return template


async def _check_group(uow: UnitOfWork, who: Principal, code: str) -> None:
    group = await uow.member_groups.get(who.tenant_id, code)
    if group is None:
        raise Invalid(
            "member_group_not_found",
            "No member group {code_name}.",
            field="member_group",
            code_name=code,
        )
    if group.status is not GroupStatus.GENERATED:
        raise Conflict(
            "member_group_not_generated",
            "Member group {code_name} is {status}: generate it first "
            "(POST /v1/member-groups/{code_name}/generate).",
            field="member_group",
            code_name=code,
            status=group.status.value,
        )


def _text(value: object) -> str | None:
    """As the API spells it (control_share with 4 decimals)."""
    return as_text(value.quantize(SHARE) if isinstance(value, Decimal) else value)


def _changes(before: Campaign | None, after: Campaign | None) -> list[FieldChange]:
    out = []
    for name in FIELDS:
        old = _text(getattr(before, name)) if before is not None else None
        new = _text(getattr(after, name)) if after is not None else None
        if old != new:
            out.append(FieldChange(name, old, new))
    return out


async def create_campaign(uow: UnitOfWork, who: Principal, **fields) -> Campaign:
    """A campaign of a template for a generated member group; its control draw's seed is
    random (``secrets``), so nobody can choose who lands in the control group."""
    check_code(fields["code"])
    campaign = check_terms(Campaign(seed=secrets.token_hex(16), **fields))
    async with uow:
        await _template(uow, who, campaign.template)
        await _check_group(uow, who, campaign.member_group)
        if not await uow.campaigns.add(who.tenant_id, campaign):
            raise Conflict(
                "campaign_exists",
                "A campaign {code_name} exists already.",
                field="code",
                code_name=campaign.code,
            )
        await uow.audit.write(
            who.tenant_id, SUBJECT, campaign.code, "create", who.key_name, _changes(None, campaign)
        )
        campaign = await _get(uow, who, campaign.code)
        await uow.commit()
    return campaign


async def update_campaign(
    uow: UnitOfWork, who: Principal, code: str, new_code: str | None = None, **fields
) -> Campaign:
    """Change some fields (audited). After the first issue only ``name``, ``ends_at`` and
    ``budget`` may change (409 ``campaign_issued``)."""
    if new_code not in (None, code):
        raise Invalid("code_immutable", "A campaign's code cannot be changed.", field="code")
    async with uow:
        before = await _get(uow, who, code, lock=True)
        after = check_terms(dataclasses.replace(before, **fields))
        check_change(before, after)
        if after.template != before.template:
            await _template(uow, who, after.template)
        if after.member_group != before.member_group:
            await _check_group(uow, who, after.member_group)
        changes = _changes(before, after)
        if changes:
            await uow.campaigns.update(who.tenant_id, after)
            await uow.audit.write(who.tenant_id, SUBJECT, code, "update", who.key_name, changes)
        campaign = await _get(uow, who, code)
        await uow.commit()
    return campaign


async def delete_campaign(uow: UnitOfWork, who: Principal, code: str) -> None:
    """Only a campaign never issued can be deleted (409 ``campaign_issued``)."""
    async with uow:
        campaign = await _get(uow, who, code, lock=True)
        if campaign.issued_once:
            raise Conflict(
                "campaign_issued",
                "Campaign {code_name} has issued vouchers: it cannot be deleted.",
                code_name=code,
            )
        await uow.campaigns.delete(who.tenant_id, code)
        await uow.audit.write(
            who.tenant_id, SUBJECT, code, "delete", who.key_name, _changes(campaign, None)
        )
        await uow.commit()


async def get_campaign(uow: UnitOfWork, who: Principal, code: str) -> Campaign:
    async with uow:
        return await _get(uow, who, code)


async def list_campaigns(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[Campaign]:
    after = decode_cursor(cursor, 1, (str,))
    async with uow:
        rows = await uow.campaigns.list(who.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda c: [c.code])


async def list_members(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    arm: str | None,
    cursor: str | None,
    limit: int,
) -> Page[CampaignMember]:
    """Who was drawn into the campaign and, for the treated, the voucher each got: the list
    the codes are sent out from."""
    after = decode_cursor(cursor, 1, (str,))
    async with uow:
        await _get(uow, who, code)
        rows = await uow.campaigns.members(
            who.tenant_id, code, arm, after[0] if after else None, limit
        )
    return page_of(rows, limit, lambda m: [m.member_id])


async def _issuable(
    uow: UnitOfWork, who: Principal, campaign: Campaign, now: datetime
) -> tuple[datetime, datetime]:
    """The vouchers' validity, once the campaign may issue: not ended, its group generated,
    its template still giving vouchers that are valid after now."""
    if now >= campaign.ends_at:
        raise Conflict(
            "campaign_ended",
            "Campaign {code_name} ended at {ends_at}.",
            code_name=campaign.code,
            ends_at=campaign.ends_at.isoformat(),
        )
    await _check_group(uow, who, campaign.member_group)
    window = validity(await _template(uow, who, campaign.template), now)
    if window[1] <= now:
        raise Conflict(
            "voucher_template_expired",
            "Voucher template {template}'s validity ended: its vouchers could not be used.",
            field="template",
            template=campaign.template,
        )
    return window


def _parts(n: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The member id space cut into ``n`` ranges (after, last]: the parts of an issue."""
    top = 1 << 128
    cuts = [uuid.UUID(int=top * k // n) for k in range(n)] + [uuid.UUID(int=top - 1)]
    return list(itertools.pairwise(cuts))


async def _issue_part(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    part: int,
    bounds: tuple[uuid.UUID, uuid.UUID],
    window: tuple[datetime, datetime],
    now: datetime,
    batch_size: int,
) -> IssueResult:
    """One part of the group's list, batch by batch, each batch one transaction."""
    total = IssueResult()
    after, last = bounds
    while True:
        async with uow:
            # The campaign's terms can't change under a batch; the part is this call's until
            # commit (another call's batch of it waits, then finds these members served).
            campaign = await _get(uow, who, code, share=True)
            await uow.campaigns.lock_issue(who.tenant_id, code, part)
            remaining = None
            if campaign.budget is not None:
                await uow.campaigns.lock_issue(who.tenant_id, code, -1)  # one count at a time
                issued = await uow.campaigns.issued_count(who.tenant_id, code)
                remaining = max(campaign.budget - issued, 0)
            members = await uow.campaigns.batch(who.tenant_id, campaign, after, last, batch_size)
            plan = plan_batch(members, remaining, iter(new_codes(len(members))).__next__)
            await uow.campaigns.apply_batch(who.tenant_id, campaign, plan, window, now)
            await uow.commit()
        total = total.plus(plan)
        if len(members) < batch_size:
            return total
        after = uuid.UUID(members[-1].member_id)


async def issue(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    now: datetime,
    batch_size: int = BATCH,
    parts: int = PARTS,
) -> IssueResult:
    """One voucher to each treated member of the group without one, within the budget. The
    group's list is cut into ``parts`` ranges of member ids issued side by side, each on a
    connection of its own."""
    async with uow:
        campaign = await _get(uow, who, code, lock=True)
        window = await _issuable(uow, who, campaign, now)
        await uow.campaigns.mark_issued(who.tenant_id, code, now)
        await uow.commit()
    done = await asyncio.gather(
        *(
            _issue_part(uow.fork(), who, code, k, bounds, window, now, batch_size)
            for k, bounds in enumerate(_parts(parts))
        )
    )
    total = IssueResult()
    for part in done:
        total = IssueResult(
            total.issued + part.issued, total.control + part.control, total.skipped + part.skipped
        )
    return total


async def results(uow: UnitOfWork, who: Principal, code: str, now: datetime) -> Results:
    """The campaign's figures so far: spend is compared over [starts_at, min(ends_at, now))."""
    async with uow:
        campaign = await _get(uow, who, code)
        zone = await zone_of(uow, who.tenant_id)
        gross_margin: Decimal | None = (await uow.voucher_settings.get(who.tenant_id)).gross_margin
        issued, control = await uow.campaigns.counts(who.tenant_id, code)
        totals, by_store, by_day = await uow.campaigns.redemptions(who.tenant_id, code, zone.key)
        window = (campaign.starts_at, min(campaign.ends_at, max(now, campaign.starts_at)))
        spend = {}
        if control:
            spend = await uow.campaigns.spend(who.tenant_id, code, *window)
    return campaign_results(
        CampaignAggregates(
            campaign=code,
            window=window,
            issued=issued,
            control=control,
            totals=totals,
            by_store=by_store,
            by_day=by_day,
            treated_spend=spend.get(Arm.TREATED),
            control_spend=spend.get(Arm.CONTROL),
        ),
        gross_margin,
    )
