"""Customer analytics: RFM settings, runs and scores; churn; lifecycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.schemas.common import Day, DecimalString, IntId, JsonInt, Rate4, Strict
from app.schemas.enums import LifecycleStage, RfmMethod, RfmRunTrigger, RfmSegment

_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_CONFIG: JsonDict = {
    "method": "thresholds",
    "window_days": 730,
    "r_days": [30, 90, 180, 365],
    "f_counts": [2, 6, 11, 24],
    "m_amounts": ["500", "1000", "3000", "5000"],
    "high_score": 3,
}
_SEGMENTS: JsonDict = {
    "important_value": 1204,
    "important_develop": 310,
    "important_keep": 822,
    "important_win_back": 415,
    "general_value": 2980,
    "general_develop": 5120,
    "general_keep": 3002,
    "general_win_back": 8770,
}
_SCORE: JsonDict = {
    "member_id": _MEMBER,
    "member_ref": "C000123",
    "recency_days": 12,
    "frequency": 14,
    "monetary": "3208.50",
    "r": 5,
    "f": 4,
    "m": 4,
    "segment": "important_value",
}

CutPoints = Field(min_length=4, max_length=4)


class RfmConfigUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_CONFIG, {"method": "quantile"}]})

    method: RfmMethod = Field(
        default="thresholds",
        description="`thresholds`: the cut points below; `quantile`: quintiles of the tenant's "
        "own scored members (the cut points are then ignored).",
    )
    window_days: JsonInt = Field(default=730, description="Days of purchases counted, 1-3650.")
    r_days: list[JsonInt] = Field(
        default=[30, 90, 180, 365],
        min_length=4,
        max_length=4,
        description="R is 5 if the last purchase is ≤ r_days[0] days ago, 4 if ≤ r_days[1], "
        "3 if ≤ r_days[2], 2 if ≤ r_days[3], else 1. Positive, strictly ascending.",
    )
    f_counts: list[JsonInt] = Field(
        default=[2, 6, 11, 24],
        min_length=4,
        max_length=4,
        description="F is 1 if purchases < f_counts[0], 2 if < f_counts[1], 3 if < f_counts[2], "
        "4 if < f_counts[3], else 5. Positive, strictly ascending.",
    )
    m_amounts: list[DecimalString] = Field(
        default=[Decimal("500"), Decimal("1000"), Decimal("3000"), Decimal("5000")],
        min_length=4,
        max_length=4,
        description="M is 1 if the average amount ≤ m_amounts[0], … 5 if > m_amounts[3]. CNY, "
        "positive, strictly ascending, at most 2 decimals.",
    )
    high_score: JsonInt = Field(
        default=3, description="A score ≥ this is high (R↑, F↑, M↑) for the segments; 1-5."
    )


class RfmConfigRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_CONFIG, "updated_at": "2026-11-23T08:00:00Z"}]}
    )

    method: RfmMethod
    window_days: int
    r_days: list[int]
    f_counts: list[int]
    m_amounts: list[DecimalString]
    high_score: int
    updated_at: dt.datetime | None = Field(description="Null: never set, these are the defaults.")


class RfmRunCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"as_of": "2026-10-31"}]})

    as_of: Day = Field(
        description="The snapshot's date (tenant time zone), today or earlier: purchases up to "
        "the end of that day count, recency is counted to it."
    )


class SegmentCounts(BaseModel):
    important_value: int
    important_develop: int
    important_keep: int
    important_win_back: int
    general_value: int
    general_develop: int
    general_keep: int
    general_win_back: int


class RfmRunRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "as_of": "2026-10-31",
                    "trigger": "schedule",
                    "members_scored": 22623,
                    "segments": _SEGMENTS,
                    "config": _CONFIG,
                    "duration_ms": 1830,
                    "created_at": "2026-11-01T02:00:03+08:00",
                }
            ]
        },
    )

    id: IntId
    as_of: dt.date
    trigger: RfmRunTrigger = Field(
        description="`schedule`: the monthly run (1st, 02:00 tenant time)."
    )
    members_scored: int = Field(description="Members with a purchase in the window.")
    segments: SegmentCounts
    config: RfmConfigUpdate = Field(description="The settings the run used.")
    duration_ms: int
    created_at: dt.datetime


class RfmMemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_SCORE]})

    member_id: str
    member_ref: str | None = Field(description="The member's `external_ref`.")
    recency_days: int = Field(description="Days from the last purchase to `as_of`.")
    frequency: int = Field(description="Purchases (receipts) in the window.")
    monetary: DecimalString = Field(description="Their average net amount, CNY.")
    r: int = Field(ge=1, le=5)
    f: int = Field(ge=1, le=5)
    m: int = Field(ge=1, le=5)
    segment: RfmSegment


class MemberRfmRead(RfmMemberRead):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_SCORE, "run_id": "42", "as_of": "2026-10-31"}]}
    )

    run_id: IntId = Field(description="The tenant's latest RFM run.")
    as_of: dt.date


# --- churn ------------------------------------------------------------------------------------


class DateWindow(BaseModel):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date


class ChurnWindowsRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "active_at_start": {"from": "2024-01-02", "to": "2024-12-31"},
                    "active_at_end": {"from": "2025-01-01", "to": "2025-12-31"},
                    "value": {"from": "2024-01-01", "to": "2024-12-31"},
                }
            ]
        }
    )

    active_at_start: DateWindow = Field(
        description="Bought in it: active at the start (the `inactive_days` before `from`)."
    )
    active_at_end: DateWindow = Field(
        description="No purchase in it: no longer active at the end, lost."
    )
    value: DateWindow = Field(description="Spend in it is a customer's value (12 months).")


class ChurnRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2025-01-01",
                    "to": "2025-12-31",
                    "inactive_days": 365,
                    "active_at_start": 1200,
                    "lost": 300,
                    "retained": 900,
                    "absolute_churn_rate": "0.2500",
                    "value_at_start": "2400000.00",
                    "value_lost": "240000.00",
                    "relative_churn_rate": "0.1000",
                    "windows": {
                        "active_at_start": {"from": "2024-01-02", "to": "2024-12-31"},
                        "active_at_end": {"from": "2025-01-01", "to": "2025-12-31"},
                        "value": {"from": "2024-01-01", "to": "2024-12-31"},
                    },
                }
            ]
        }
    )

    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    inactive_days: int
    active_at_start: int = Field(description="Customers active at the start of the period.")
    lost: int = Field(description="Of them, those no longer active at its end.")
    retained: int
    absolute_churn_rate: DecimalString | None = Field(
        description="lost / active_at_start, a fraction (4 decimals, half up); null if none "
        "were active."
    )
    value_at_start: DecimalString = Field(
        description="The value of the customers active at the start: their spend over the 12 "
        "months before `from`, CNY."
    )
    value_lost: DecimalString = Field(description="The value of the lost ones.")
    relative_churn_rate: DecimalString | None = Field(
        description="value_lost / value_at_start: losses weighed by worth; null if no value."
    )
    windows: ChurnWindowsRead


# --- lifecycle ----------------------------------------------------------------------------------

_LIFECYCLE: JsonDict = {
    "lost_after_days": 365,
    "exploration_max_purchases": 1,
    "decline_after_days": 180,
    "trend_days": 180,
    "decline_ratio": "0.5000",
    "stability_min_days": 365,
    "stability_min_purchases": 6,
}


class LifecycleConfigUpdate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_LIFECYCLE]})

    lost_after_days: JsonInt = Field(
        default=365, description="No purchase for more than this many days: lost."
    )
    exploration_max_purchases: JsonInt = Field(
        default=1, description="At most this many purchases: exploration (考察期)."
    )
    decline_after_days: JsonInt = Field(
        default=180,
        description="No purchase for more than this many days: decline (退化期); below "
        "lost_after_days.",
    )
    trend_days: JsonInt = Field(
        default=180, description="Length of the two windows whose spend is compared."
    )
    decline_ratio: Rate4 = Field(
        default=Decimal("0.5000"),  # as responses write it: one schema for both directions
        description="Spend of the last trend_days below this × the trend_days before: decline. "
        "Above 0, at most 1.",
    )
    stability_min_days: JsonInt = Field(
        default=365,
        description="A first purchase less than this many days ago: formation (形成期).",
    )
    stability_min_purchases: JsonInt = Field(
        default=6, description="Fewer purchases: formation; more than exploration_max_purchases."
    )


class LifecycleConfigRead(LifecycleConfigUpdate):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_serialization_defaults_required=True,  # always sent: required, for clients
        json_schema_extra={"examples": [{**_LIFECYCLE, "updated_at": None}]},
    )

    updated_at: dt.datetime | None = Field(description="Null: never set, these are the defaults.")


class StageCounts(BaseModel):
    exploration: int
    formation: int
    stability: int
    decline: int
    lost: int


class LifecycleRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-11-23",
                    "members": 25000,
                    "no_purchases": 3100,
                    "stages": {
                        "exploration": 6200,
                        "formation": 4100,
                        "stability": 5300,
                        "decline": 2100,
                        "lost": 4200,
                    },
                    "config": _LIFECYCLE,
                }
            ]
        }
    )

    as_of: dt.date
    members: int = Field(description="Members (erased ones excepted).")
    no_purchases: int = Field(description="Members without any purchase up to `as_of`.")
    stages: StageCounts
    config: LifecycleConfigUpdate = Field(description="The rules applied.")


class MemberLifecycleRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": _MEMBER,
                    "as_of": "2026-11-23",
                    "stage": "stability",
                    "purchases": 31,
                    "first_purchase": "2023-04-02",
                    "last_purchase": "2026-11-18",
                    "recency_days": 5,
                    "tenure_days": 1331,
                    "recent_spend": "4820.00",
                    "previous_spend": "5100.50",
                }
            ]
        }
    )

    member_id: str
    as_of: dt.date
    stage: LifecycleStage | None = Field(description="Null: no purchase up to `as_of`.")
    purchases: int
    first_purchase: dt.date | None
    last_purchase: dt.date | None
    recency_days: int | None = Field(description="Days since the last purchase.")
    tenure_days: int | None = Field(description="Days since the first purchase.")
    recent_spend: DecimalString = Field(description="Net spend in the last `trend_days` days.")
    previous_spend: DecimalString = Field(description="In the `trend_days` days before.")
