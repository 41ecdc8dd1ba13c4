"""Campaigns: their rows, the batches of a bulk issue, and the aggregates of their results.

An issue reads a batch of the group's members in member id order (the group list's key) with
their stored arm and their draw computed in SQL, and writes what the plan says with one COPY
per table: the new arms (with their voucher), the codes' lookup rows, the vouchers. The results
are read set-based: a few aggregate queries, whatever the campaign's size.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.campaigns import (
    CENT,
    Arm,
    BatchPlan,
    Campaign,
    GroupMember,
    Redemptions,
    SpendStats,
    control_threshold,
)
from app.domain.vouchers import Template
from app.models import CampaignMemberRow, CampaignRow, VoucherRow, VoucherTemplateRow
from app.repositories.bulk import driver_connection
from app.repositories.tenancy import as_uuid
from app.repositories.vouchers import template_of


def _campaign(row: CampaignRow) -> Campaign:
    return Campaign(
        code=row.code,
        name=row.name,
        template=row.template_code,
        member_group=row.member_group,
        control_share=row.control_share,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        budget=row.budget,
        seed=row.seed,
        last_issued_at=row.last_issued_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(c: Campaign) -> dict:
    return {
        "name": c.name,
        "template_code": c.template,
        "member_group": c.member_group,
        "control_share": c.control_share,
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "budget": c.budget,
    }


# A batch of the group's members after ``$3`` (the nil UUID: from the first), with their
# stored arm in the campaign, whether they hold its voucher, and their draw: the first 60 bits
# of md5(seed ‖ member id). Each arm is looked up by its member's key: the lateral subquery is
# kept apart (OFFSET 0) and compares the campaign as an expression, which no index serves, so
# that no plan (generic, or made on the stale statistics that follow a bulk insert) scans the
# whole campaign for every member.
_BATCH = """
SELECT g.member_id, a.arm, a.voucher_code IS NOT NULL AS served,
       ('x' || substr(md5($5 || g.member_id::text), 1, 15))::bit(60)::bigint < $6 AS control
FROM member_group_members AS g
LEFT JOIN LATERAL (
    SELECT a.arm, a.voucher_code FROM campaign_members AS a
    WHERE a.tenant_id = $1 AND a.member_id = g.member_id AND a.campaign_code || '' = $7
    OFFSET 0
) AS a ON true
WHERE g.tenant_id = $1 AND g.group_code = $2 AND g.member_id > $3 AND g.member_id <= $8
ORDER BY g.member_id
LIMIT $4
"""
_FILL = """
UPDATE campaign_members AS a SET voucher_code = x.c
FROM unnest($3::uuid[], $4::text[]) AS x(m, c)
WHERE a.tenant_id = $1 AND a.campaign_code = $2 AND a.member_id = x.m
  AND a.voucher_code IS NULL
"""
_ARM_COLUMNS = ["tenant_id", "member_id", "campaign_code", "arm", "voucher_code"]
_VOUCHER_COLUMNS = [
    "tenant_id",
    "member_id",
    "code",
    "template_code",
    "status",
    "valid_from",
    "valid_to",
    "source",
    "source_ref",
    "campaign_code",
    "issued_at",
]

# Per receipt that redeemed the campaign's vouchers: how many, their cost, and the receipt's
# amount net of returns (member_transactions; a receipt returned in full brings nothing).
_RECEIPTS = """
WITH r AS (
    SELECT v.redeemed_member_id AS member_id, v.redeemed_sale_id AS sale_id,
           min(v.redeemed_store) AS store, min(v.redeemed_at) AS at, count(*) AS redeemed,
           coalesce(sum(v.redeemed_amount), 0) AS cost,
           coalesce(sum(v.store_borne), 0) AS cost_store,
           coalesce(sum(v.supplier_borne), 0) AS cost_supplier
    FROM vouchers AS v
    WHERE v.tenant_id = :tenant AND v.campaign_code = :code AND v.redeemed_at IS NOT NULL
    GROUP BY v.redeemed_member_id, v.redeemed_sale_id
), s AS (
    SELECT r.*, coalesce(t.amount, 0) AS revenue,
           (r.at AT TIME ZONE :zone)::date AS day
    FROM r
    LEFT JOIN member_transactions AS t
      ON t.tenant_id = :tenant AND t.member_id = r.member_id AND t.sale_id = r.sale_id
)
SELECT GROUPING(s.store) AS by_store, GROUPING(s.day) AS by_day, s.store, s.day,
       coalesce(sum(s.redeemed), 0) AS redeemed, count(*) AS transactions,
       count(DISTINCT s.member_id) AS members, coalesce(sum(s.revenue), 0) AS revenue,
       coalesce(sum(s.cost), 0) AS cost, coalesce(sum(s.cost_store), 0) AS cost_store,
       coalesce(sum(s.cost_supplier), 0) AS cost_supplier
FROM s
GROUP BY GROUPING SETS ((), (s.store), (s.day))
"""

# Spend per member in [start, end) over the control arm and the treated members who got a
# voucher (n, Σ spend, Σ spend²; a member who bought nothing counts 0).
_SPEND = """
SELECT a.arm, count(*) AS n, coalesce(sum(x.amount), 0) AS total,
       coalesce(sum(x.amount * x.amount), 0) AS squares
FROM campaign_members AS a
LEFT JOIN (
    SELECT t.member_id, sum(t.amount) AS amount
    FROM member_transactions AS t
    WHERE t.tenant_id = :tenant AND t.occurred_at >= :start AND t.occurred_at < :end
    GROUP BY t.member_id
) AS x ON x.member_id = a.member_id
WHERE a.tenant_id = :tenant AND a.campaign_code = :code
  AND (a.arm = 'control' OR a.voucher_code IS NOT NULL)
GROUP BY a.arm
"""


@dataclass(frozen=True)
class CampaignMember:
    member_id: str
    arm: str
    voucher_code: str | None
    voucher_status: str | None  # as stored (an issued one past valid_to is shown expired)
    valid_to: datetime | None


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tenant_id: str, campaign: Campaign) -> bool:
        """False when the code is taken."""
        result = await self.session.execute(
            insert(CampaignRow)
            .values(
                tenant_id=as_uuid(tenant_id),
                code=campaign.code,
                seed=campaign.seed,
                **_values(campaign),
            )
            .on_conflict_do_nothing()
            .returning(CampaignRow.code)
        )
        return result.first() is not None

    async def get(
        self, tenant_id: str, code: str, *, lock: bool = False, share: bool = False
    ) -> Campaign | None:
        query = select(CampaignRow).where(
            CampaignRow.tenant_id == as_uuid(tenant_id), CampaignRow.code == code
        )
        if lock or share:
            query = query.with_for_update(read=share)
        row = (await self.session.scalars(query)).first()
        return None if row is None else _campaign(row)

    async def list(self, tenant_id: str, after: str | None, limit: int) -> list[Campaign]:
        c = CampaignRow
        query = select(c).where(c.tenant_id == as_uuid(tenant_id))
        if after is not None:
            query = query.where(c.code > after)
        rows = await self.session.scalars(query.order_by(c.code).limit(limit + 1))
        return [_campaign(r) for r in rows]

    async def members(
        self, tenant_id: str, code: str, arm: str | None, after: str | None, limit: int
    ) -> builtins.list[CampaignMember]:
        """The campaign's drawn members (of ``arm``, if given) by member id, with their
        voucher's code and status."""
        m, v = CampaignMemberRow, VoucherRow
        tenant = as_uuid(tenant_id)
        query = (
            select(m.member_id, m.arm, m.voucher_code, v.status, v.valid_to)
            .outerjoin(
                v,
                (v.tenant_id == m.tenant_id)
                & (v.member_id == m.member_id)
                & (v.code == m.voucher_code),
            )
            .where(m.tenant_id == tenant, m.campaign_code == code)
        )
        if arm is not None:
            query = query.where(m.arm == arm)
        if after is not None:
            query = query.where(m.member_id > uuid.UUID(after))
        rows = await self.session.execute(query.order_by(m.member_id).limit(limit + 1))
        return [
            CampaignMember(str(r.member_id), r.arm, r.voucher_code, r.status, r.valid_to)
            for r in rows
        ]

    async def update(self, tenant_id: str, campaign: Campaign) -> None:
        await self.session.execute(
            update(CampaignRow)
            .where(CampaignRow.tenant_id == as_uuid(tenant_id), CampaignRow.code == campaign.code)
            .values(**_values(campaign))
        )

    async def delete(self, tenant_id: str, code: str) -> None:
        await self.session.execute(
            delete(CampaignRow).where(
                CampaignRow.tenant_id == as_uuid(tenant_id), CampaignRow.code == code
            )
        )

    async def mark_issued(self, tenant_id: str, code: str, at: datetime) -> None:
        await self.session.execute(
            update(CampaignRow)
            .where(CampaignRow.tenant_id == as_uuid(tenant_id), CampaignRow.code == code)
            .values(last_issued_at=at)
        )

    async def template(self, tenant_id: str, code: str) -> Template | None:
        row = (
            await self.session.scalars(
                select(VoucherTemplateRow).where(
                    VoucherTemplateRow.tenant_id == as_uuid(tenant_id),
                    VoucherTemplateRow.code == code,
                )
            )
        ).first()
        return None if row is None else template_of(row)

    # --- issuing ------------------------------------------------------------------------------

    async def issued_count(self, tenant_id: str, code: str) -> int:
        return (
            await self.session.execute(
                text(
                    "SELECT count(*) FROM vouchers WHERE tenant_id = :tenant"
                    " AND campaign_code = :code"
                ),
                {"tenant": as_uuid(tenant_id), "code": code},
            )
        ).scalar_one()

    async def lock_issue(self, tenant_id: str, code: str, part: int) -> None:
        """Until commit: this part of the campaign's issue is this transaction's (-1: the
        budget's count), whichever call runs it."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key), :part)"),
            {"key": f"campaign:{tenant_id}:{code}", "part": part},
        )

    async def batch(
        self, tenant_id: str, campaign: Campaign, after: uuid.UUID, last: uuid.UUID, limit: int
    ) -> builtins.list[GroupMember]:
        """Up to ``limit`` of the group's members with ids in (after, last], in id order."""
        conn = await driver_connection(self.session)
        rows = await conn.fetch(
            _BATCH,
            as_uuid(tenant_id),
            campaign.member_group,
            after,
            limit,
            campaign.seed,
            control_threshold(campaign.control_share),
            campaign.code,
            last,
        )
        return [
            GroupMember(
                str(r["member_id"]),
                None if r["arm"] is None else Arm(r["arm"]),
                r["served"],
                r["control"],
            )
            for r in rows
        ]

    async def apply_batch(
        self,
        tenant_id: str,
        campaign: Campaign,
        plan: BatchPlan,
        window: tuple[datetime, datetime],
        now: datetime,
    ) -> None:
        """Write ``plan``'s arms and vouchers (a code drawn twice fails the batch by its key)."""
        conn = await driver_connection(self.session)
        tenant = as_uuid(tenant_id)
        code = campaign.code
        if plan.new_arms:
            await conn.copy_records_to_table(
                "campaign_members",
                columns=_ARM_COLUMNS,
                records=[(tenant, m, code, arm.value, c) for m, arm, c in plan.new_arms],
            )
        if plan.filled:
            members, codes = zip(*plan.filled, strict=True)
            await conn.execute(_FILL, tenant, code, list(members), list(codes))
        vouchers = plan.vouchers
        if vouchers:
            await conn.copy_records_to_table(
                "voucher_codes",
                columns=["tenant_id", "code", "member_id"],
                records=[(tenant, c, m) for m, c in vouchers],
            )
            start, end = window
            template = campaign.template
            await conn.copy_records_to_table(
                "vouchers",
                columns=_VOUCHER_COLUMNS,
                records=[
                    (tenant, m, c, template, "issued", start, end, "campaign", code, code, now)
                    for m, c in vouchers
                ],
            )

    # --- results ------------------------------------------------------------------------------

    async def counts(self, tenant_id: str, code: str) -> tuple[int, int]:
        """(vouchers issued, control members)."""
        row = (
            await self.session.execute(
                text(
                    "SELECT (SELECT count(*) FROM vouchers WHERE tenant_id = :tenant"
                    "        AND campaign_code = :code),"
                    "       (SELECT count(*) FROM campaign_members WHERE tenant_id = :tenant"
                    "        AND campaign_code = :code AND arm = 'control')"
                ),
                {"tenant": as_uuid(tenant_id), "code": code},
            )
        ).one()
        return row[0], row[1]

    async def redemptions(
        self, tenant_id: str, code: str, zone: str
    ) -> tuple[
        Redemptions, builtins.list[tuple[str, Redemptions]], builtins.list[tuple[date, Redemptions]]
    ]:
        """The totals, by store and by day (in ``zone``) of the campaign's redemptions."""
        rows = await self.session.execute(
            text(_RECEIPTS), {"tenant": as_uuid(tenant_id), "code": code, "zone": zone}
        )
        totals = Redemptions()
        by_store: builtins.list[tuple[str, Redemptions]] = []
        by_day: builtins.list[tuple[date, Redemptions]] = []
        for r in rows:
            slice_ = Redemptions(
                redeemed=int(r.redeemed),
                transactions=r.transactions,
                redeeming_members=r.members,
                revenue=Decimal(r.revenue).quantize(CENT),
                cost=Decimal(r.cost).quantize(CENT),
                cost_store=Decimal(r.cost_store).quantize(CENT),
                cost_supplier=Decimal(r.cost_supplier).quantize(CENT),
            )
            if r.by_store and r.by_day:
                totals = slice_
            elif not r.by_store:
                by_store.append((r.store, slice_))
            else:
                by_day.append((r.day, slice_))
        by_store.sort(key=lambda x: x[0] or "")
        by_day.sort(key=lambda x: x[0])
        return totals, by_store, by_day

    async def spend(
        self, tenant_id: str, code: str, start: datetime, end: datetime
    ) -> dict[Arm, SpendStats]:
        rows = await self.session.execute(
            text(_SPEND), {"tenant": as_uuid(tenant_id), "code": code, "start": start, "end": end}
        )
        return {Arm(r.arm): SpendStats(r.n, Decimal(r.total), Decimal(r.squares)) for r in rows}
