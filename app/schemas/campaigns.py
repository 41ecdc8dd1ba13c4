"""Campaigns (docs/domain §12): the campaign, its issue, its results."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.config import JsonDict

from app.domain.campaigns import Campaign, Redemptions, Results
from app.schemas.common import (
    DECIMAL_PATTERN,
    Instant,
    JsonInt,
    Money,
    Patch,
    Rate4,
    SignedMoney,
    Strict,
    fixed,
)
from app.schemas.enums import CampaignArm, VoucherStatus

Ratio2: Any = Annotated[
    Decimal,
    PlainSerializer(fixed(2), return_type=str),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["10.95"]}),
]

_CREATE: JsonDict = {
    "code": "WINBACK-2026",
    "name": "老客户维护: 18 CNY back",
    "template": "CNY18",
    "member_group": "ALL-MEMBERS",
    "control_share": "0.10",
    "starts_at": "2026-12-01T00:00:00+08:00",
    "ends_at": "2027-12-01T00:00:00+08:00",
    "budget": 15000,
}
_CAMPAIGN: JsonDict = {
    **_CREATE,
    "control_share": "0.1000",
    "starts_at": "2026-11-30T16:00:00Z",
    "ends_at": "2027-11-30T16:00:00Z",
    "issued": True,
    "last_issued_at": "2026-12-01T02:00:00Z",
    "created_at": "2026-11-28T08:00:00Z",
    "updated_at": "2026-11-28T08:00:00Z",
}

CODE = Field(
    min_length=1,
    max_length=32,
    description="Immutable: letters, digits, '_' and '-', starting with a letter or digit.",
)
NAME = Field(min_length=1, max_length=100)
TEMPLATE = Field(min_length=1, max_length=32, description="A voucher template's code.")
GROUP = Field(
    min_length=1,
    max_length=32,
    description="A member group's code; the group must be generated (409 "
    "`member_group_not_generated`). The issue uses its last generated list.",
)
CONTROL = Field(
    description="The fraction of the group held out at random (0 to 0.5, 2 decimals): they "
    "get nothing but are tracked, to measure what the campaign caused."
)
BUDGET = Field(
    description="At most this many vouchers (1-100000000); none: one per treated member."
)


class CampaignCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE]})

    code: str = CODE
    name: str = NAME
    template: str = TEMPLATE
    member_group: str = GROUP
    control_share: Rate4 = Field(default=Decimal(0), description=CONTROL.description)
    starts_at: Instant = Field(
        description="The campaign's window starts (spend is compared in it)."
    )
    ends_at: Instant = Field(description="The window ends (excluded); no issue afterwards.")
    budget: JsonInt | None = Field(default=None, description=BUDGET.description)


class CampaignUpdate(Patch):
    """Absent fields stay. After the first issue only name, ends_at and budget may change."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Winback", "budget": 20000}]}
    )
    nullable: ClassVar[frozenset[str]] = frozenset({"budget"})

    code: str | None = Field(default=None, description="Immutable (422 `code_immutable`).")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    template: str | None = Field(default=None, min_length=1, max_length=32)
    member_group: str | None = Field(default=None, min_length=1, max_length=32)
    control_share: Rate4 | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    budget: JsonInt | None = Field(default=None, description="null removes the budget.")


class CampaignRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CAMPAIGN]})

    code: str
    name: str
    template: str
    member_group: str
    control_share: Rate4
    starts_at: dt.datetime
    ends_at: dt.datetime
    budget: int | None
    issued: bool = Field(
        description="Issued at least once: template, member_group, control_share and "
        "starts_at are fixed from then on."
    )
    last_issued_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignMemberRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10",
                    "arm": "treated",
                    "voucher_code": "X7HF7N6SF9HPRS",
                    "voucher_status": "issued",
                    "valid_to": "2026-12-31T16:00:00Z",
                }
            ]
        }
    )

    member_id: str
    arm: CampaignArm = Field(description="treated (a voucher is issued) or control (held out).")
    voucher_code: str | None = Field(description="The treated member's voucher (null: none yet).")
    voucher_status: VoucherStatus | None = Field(
        description="As GET /v1/vouchers/{code} shows it (an issued one past valid_to: expired)."
    )
    valid_to: dt.datetime | None


class IssueRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"issued": 13578, "control": 1509, "skipped": 0}]}
    )

    issued: int = Field(description="Vouchers issued by this call.")
    control: int = Field(description="Members of the group in the control group (none issued).")
    skipped: int = Field(
        description="Treated members not issued by this call: served before, or beyond the "
        "budget. issued + control + skipped = the group's members."
    )


_SLICE: JsonDict = {
    "redeemed": 861,
    "transactions": 861,
    "revenue": "169743.00",
    "cost": "15498.00",
    "cost_store": "15498.00",
    "cost_supplier": "0.00",
}


class BreakdownRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SLICE]})

    redeemed: int = Field(description="Vouchers of the campaign redeemed.")
    transactions: int = Field(description="Receipts that redeemed them.")
    revenue: Money = Field(description="Those receipts' amounts net of returns (CNY).")
    cost: Money = Field(description="The voucher value redeemed (CNY).")
    cost_store: Money
    cost_supplier: Money


class StoreBreakdownRead(BreakdownRead):
    model_config = ConfigDict(json_schema_extra={"examples": [{"store": "S01", **_SLICE}]})

    store: str | None = Field(description="The redeeming store.")


class DayBreakdownRead(BreakdownRead):
    model_config = ConfigDict(json_schema_extra={"examples": [{"day": "2026-12-02", **_SLICE}]})

    day: dt.date = Field(description="The day of the redemption in the tenant's time zone.")


_RESULTS: JsonDict = {
    "campaign": "WINBACK-2026",
    "issued": 13578,
    "control": 1509,
    "redeemed": 861,
    "redemption_rate": "0.0634",
    "redeeming_members": 861,
    "transactions": 861,
    "revenue": "169743.00",
    "cost": "15498.00",
    "cost_store": "15498.00",
    "cost_supplier": "0.00",
    "revenue_per_cost": "10.95",
    "measured_from": "2026-11-30T16:00:00Z",
    "measured_until": "2026-12-31T16:00:00Z",
    "treated_members": 13578,
    "treated_spend_per_member": "31.20",
    "control_spend_per_member": "24.10",
    "uplift": "7.10",
    "uplift_low": "2.35",
    "uplift_high": "11.85",
    "incremental_revenue": "96403.80",
    "incremental_return": "1.1567",
    "by_store": [
        {
            "store": "S01",
            "redeemed": 861,
            "transactions": 861,
            "revenue": "169743.00",
            "cost": "15498.00",
            "cost_store": "15498.00",
            "cost_supplier": "0.00",
        }
    ],
    "by_day": [
        {
            "day": "2026-12-02",
            "redeemed": 861,
            "transactions": 861,
            "revenue": "169743.00",
            "cost": "15498.00",
            "cost_store": "15498.00",
            "cost_supplier": "0.00",
        }
    ],
}


class ResultsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_RESULTS]})

    campaign: str
    issued: int = Field(description="Vouchers issued.")
    control: int = Field(description="Members held out (control group).")
    redeemed: int
    redemption_rate: Rate4 | None = Field(description="redeemed / issued (null: none issued).")
    redeeming_members: int
    transactions: int = Field(description="Receipts that redeemed a voucher of the campaign.")
    revenue: Money = Field(description="Those receipts' amounts net of returns (CNY).")
    cost: Money = Field(
        description="The voucher value redeemed (CNY) = cost_store + cost_supplier."
    )
    cost_store: Money
    cost_supplier: Money
    revenue_per_cost: Ratio2 | None = Field(description="revenue / cost (null: no cost yet).")
    measured_from: dt.datetime = Field(description="Spend is compared from starts_at ...")
    measured_until: dt.datetime = Field(description="... to min(ends_at, now), excluded.")
    treated_members: int | None = Field(
        default=None, description="Members issued a voucher (null without a control group)."
    )
    treated_spend_per_member: Money | None = None
    control_spend_per_member: Money | None = None
    uplift: SignedMoney | None = Field(
        default=None, description="Spend per treated member − spend per control member."
    )
    uplift_low: SignedMoney | None = Field(
        default=None, description="95 % Welch interval of the uplift (null: < 2 in an arm)."
    )
    uplift_high: SignedMoney | None = None
    incremental_revenue: SignedMoney | None = Field(
        default=None, description="uplift × treated members."
    )
    incremental_return: Rate4 | None = Field(
        default=None,
        description="(incremental_revenue × gross_margin − cost) / cost; null without a "
        "gross margin (PUT /v1/settings/vouchers) or without cost.",
    )
    by_store: list[StoreBreakdownRead]
    by_day: list[DayBreakdownRead]


CSV_COLUMNS = (
    "section",
    "key",
    "issued",
    "redeemed",
    "redemption_rate",
    "transactions",
    "revenue",
    "cost",
    "cost_store",
    "cost_supplier",
    "revenue_per_cost",
)
CSV_EXAMPLE = (
    ",".join(CSV_COLUMNS) + "\r\n"
    "campaign,WINBACK-2026,13578,861,0.0634,861,169743.00,15498.00,15498.00,0.00,10.95\r\n"
    "store,S01,,861,,861,169743.00,15498.00,15498.00,0.00,10.95\r\n"
    "day,2026-12-02,,861,,861,169743.00,15498.00,15498.00,0.00,10.95\r\n"
)


def _per_cost(revenue: Decimal, cost: Decimal) -> str:
    return fixed(2)(revenue / cost) if cost > 0 else ""


def results_csv(results: ResultsRead) -> str:
    """The results as one table (RFC 4180): the campaign's row, then one per store and per
    day. The control group's comparison is in the JSON only."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    money = fixed(2)
    r = results
    writer.writerow(
        [
            "campaign",
            r.campaign,
            r.issued,
            r.redeemed,
            "" if r.redemption_rate is None else fixed(4)(r.redemption_rate),
            r.transactions,
            money(r.revenue),
            money(r.cost),
            money(r.cost_store),
            money(r.cost_supplier),
            _per_cost(r.revenue, r.cost),
        ]
    )
    slices: list[tuple[str, str, BreakdownRead]] = [
        ("store", s.store or "", s) for s in r.by_store
    ] + [("day", d.day.isoformat(), d) for d in r.by_day]
    for section, key, b in slices:
        writer.writerow(
            [
                section,
                key,
                "",
                b.redeemed,
                "",
                b.transactions,
                money(b.revenue),
                money(b.cost),
                money(b.cost_store),
                money(b.cost_supplier),
                _per_cost(b.revenue, b.cost),
            ]
        )
    return out.getvalue()


def _breakdown(r: Redemptions) -> dict:
    return {
        "redeemed": r.redeemed,
        "transactions": r.transactions,
        "revenue": r.revenue,
        "cost": r.cost,
        "cost_store": r.cost_store,
        "cost_supplier": r.cost_supplier,
    }


def results_read(results: Results) -> ResultsRead:
    t, c = results.totals, results.comparison
    return ResultsRead(
        campaign=results.campaign,
        issued=results.issued,
        control=results.control,
        redeemed=t.redeemed,
        redemption_rate=results.redemption_rate,
        redeeming_members=t.redeeming_members,
        transactions=t.transactions,
        revenue=t.revenue,
        cost=t.cost,
        cost_store=t.cost_store,
        cost_supplier=t.cost_supplier,
        revenue_per_cost=results.revenue_per_cost,
        measured_from=results.window[0],
        measured_until=results.window[1],
        treated_members=None if c is None else c.treated_members,
        treated_spend_per_member=None if c is None else c.treated_spend_per_member,
        control_spend_per_member=None if c is None else c.control_spend_per_member,
        uplift=None if c is None else c.uplift,
        uplift_low=None if c is None else c.uplift_low,
        uplift_high=None if c is None else c.uplift_high,
        incremental_revenue=None if c is None else c.incremental_revenue,
        incremental_return=None if c is None else c.incremental_return,
        by_store=[StoreBreakdownRead(store=s, **_breakdown(r)) for s, r in results.by_store],
        by_day=[DayBreakdownRead(day=d, **_breakdown(r)) for d, r in results.by_day],
    )


def campaign_read(c: Campaign) -> CampaignRead:
    assert c.created_at is not None and c.updated_at is not None  # read from its row
    return CampaignRead(
        code=c.code,
        name=c.name,
        template=c.template,
        member_group=c.member_group,
        control_share=c.control_share,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        budget=c.budget,
        issued=c.issued_once,
        last_issued_at=c.last_issued_at,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )
