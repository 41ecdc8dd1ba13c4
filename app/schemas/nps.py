"""NPS (净推荐值): the calculator, survey answers and summaries. Figures travel as decimal
strings: NPS and standard errors with two decimals, shares (fractions of n) with four."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.nps import Nps
from app.schemas.common import DecimalString, Instant, IntId, JsonInt, Strict
from app.schemas.enums import NpsGroup, NpsGroupBy

_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_FIGURES: JsonDict = {
    "nps": "0.00",
    "n": 100,
    "promoters": 30,
    "passives": 40,
    "detractors": 30,
    "promoter_share": "0.3000",
    "detractor_share": "0.3000",
    "standard_error": "7.75",
    "margin_of_error_95": "15.18",
}


class NpsCalculate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"scores": [10, 9, 8, 7, 6, 10, 3, 9]},
                {"promoters": 30, "passives": 40, "detractors": 30},
            ]
        }
    )

    scores: list[JsonInt] | None = Field(
        default=None,
        max_length=100_000,
        description="Answers, whole numbers 0–10. Either this or the three counts.",
    )
    promoters: JsonInt | None = Field(default=None, description="Answers of 9–10.")
    passives: JsonInt | None = Field(default=None, description="Answers of 7–8.")
    detractors: JsonInt | None = Field(default=None, description="Answers of 0–6.")


class NpsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_FIGURES]})

    nps: DecimalString | None = Field(
        description="%promoters − %detractors, −100…100, two decimals; null with no answers."
    )
    n: int = Field(description="Number of answers.")
    promoters: int
    passives: int
    detractors: int
    promoter_share: DecimalString | None = Field(description="promoters / n, four decimals.")
    detractor_share: DecimalString | None = Field(description="detractors / n, four decimals.")
    standard_error: DecimalString | None = Field(
        description="sqrt((p + q − (p − q)²)/n)·100 with p, q the shares: on the NPS scale."
    )
    margin_of_error_95: DecimalString | None = Field(
        description="1.96 standard errors: NPS ± this is the 95 % confidence interval."
    )

    @classmethod
    def of(cls, figures: Nps) -> NpsRead:
        return cls(
            nps=figures.nps,
            n=figures.n,
            promoters=figures.promoters,
            passives=figures.passives,
            detractors=figures.detractors,
            promoter_share=figures.promoter_share,
            detractor_share=figures.detractor_share,
            standard_error=figures.standard_error,
            margin_of_error_95=figures.margin_of_error_95,
        )


class NpsResponseCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": _MEMBER,
                    "store_code": "S01",
                    "score": 9,
                    "answered_at": "2026-11-23T10:15:00+08:00",
                    "comment": "Friendly staff",
                    "response_ref": "wx-survey-88121",
                },
                {"score": 4, "answered_at": "2026-11-23T10:20:00Z"},
            ]
        }
    )

    member_id: str | None = Field(default=None, min_length=1, max_length=64)
    store_code: str | None = Field(default=None, min_length=1, max_length=12)
    score: JsonInt = Field(description="0–10: how likely to recommend us to a friend.")
    answered_at: Instant = Field(description="When answered, with an offset.")
    comment: str | None = Field(default=None, max_length=2000)
    response_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Your id of the answer: sending it again is safe (the first is kept).",
    )


class NpsResponseRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "1201",
                    "member_id": _MEMBER,
                    "store_code": "S01",
                    "score": 9,
                    "group": "promoter",
                    "answered_at": "2026-11-23T02:15:00Z",
                    "comment": "Friendly staff",
                    "response_ref": "wx-survey-88121",
                    "created_at": "2026-11-23T02:15:03Z",
                }
            ]
        }
    )

    id: IntId
    member_id: str | None
    store_code: str | None
    score: int
    group: NpsGroup = Field(description="promoter (9–10), passive (7–8) or detractor (0–6).")
    answered_at: datetime
    comment: str | None
    response_ref: str | None
    created_at: datetime


class NpsGroupRead(NpsRead):
    model_config = ConfigDict(json_schema_extra={"examples": [{"key": "2026-11", **_FIGURES}]})

    key: str | None = Field(
        description="The store code (null: answers without a store) or the month YYYY-MM in "
        "the tenant's time zone."
    )


class NpsSummaryRead(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-09-01",
                    "to": "2026-11-30",
                    "store_code": None,
                    "group_by": "month",
                    "overall": _FIGURES,
                    "groups": [{"key": "2026-11", **_FIGURES}],
                }
            ]
        },
    )

    from_: dt.date | None = Field(alias="from", serialization_alias="from")
    to: dt.date | None
    store_code: str | None
    group_by: NpsGroupBy | None
    overall: NpsRead
    groups: list[NpsGroupRead] = Field(
        description="One per store or month that has answers, in key order; empty without "
        "`group_by`."
    )
