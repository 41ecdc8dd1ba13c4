"""Member groups (docs/domain §10): criteria, the group, its members."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.members import Gender
from app.schemas.common import Day, DecimalString, JsonInt, Patch, Strict
from app.schemas.enums import GroupRankingBy, MemberGroupStatus, RfmSegment

_CRITERIA: JsonDict = {
    "attributes": {
        "genders": ["female"],
        "age": {"min": 25, "max": 40},
        "regions": ["上海"],
        "card_classes": ["GOLD"],
        "tags": ["beauty"],
        "rfm_segments": ["important_value", "important_keep"],
    },
    "consumption": {
        "from": "2026-01-01",
        "to": "2026-06-30",
        "amount": {"min": "1000.00", "max": None},
        "count": {"min": 2, "max": None},
        "brands": ["OLAY"],
    },
    "ranking": {"by": "amount", "top": 500},
}
_GROUP: JsonDict = {
    "code": "VIP-BEAUTY",
    "name": "Beauty VIPs in Shanghai",
    "criteria": _CRITERIA,
    "status": "generated",
    "member_count": 500,
    "generated_at": "2026-11-23T08:00:00Z",
    "generated_as_of": "2026-11-23",
    "created_at": "2026-11-20T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
}
Values = Field(default=None, max_length=100)


class GroupIntRange(Strict):
    min: JsonInt | None = None
    max: JsonInt | None = None


class GroupAmountRange(Strict):
    min: DecimalString | None = None
    max: DecimalString | None = None


class GroupAttributes(Strict):
    genders: list[Gender] | None = Values
    age: GroupIntRange | None = Field(
        default=None,
        description="Years reached in the generation year (only the birth year is kept in "
        "clear); members without a birthday don't match.",
    )
    regions: list[str] | None = Values
    card_classes: list[str] | None = Field(
        default=None, max_length=100, description="Holds an active card of one of them."
    )
    tags: list[str] | None = Field(default=None, max_length=100, description="Has any of them.")
    rfm_segments: list[RfmSegment] | None = Field(
        default=None, max_length=8, description="In the tenant's latest RFM run."
    )


class GroupConsumption(Strict):
    model_config = ConfigDict(populate_by_name=True)

    from_: Day = Field(alias="from", description="First day (tenant time zone).")
    to: Day = Field(description="Last day, inclusive.")
    amount: GroupAmountRange | None = Field(
        default=None, description="Net spend in the range, CNY."
    )
    count: GroupIntRange | None = Field(
        default=None,
        description="Purchases in the range; `min` defaults to 1 (bought in the range); "
        "`{max: 0}` selects members who did not buy.",
    )
    categories: list[str] | None = Field(
        default=None,
        max_length=100,
        description="Bought a line of one of these category codes (any level).",
    )
    brands: list[str] | None = Field(
        default=None, max_length=100, description="Bought a line of one of these brands."
    )


class GroupRanking(Strict):
    by: GroupRankingBy
    top: JsonInt = Field(description="Keep the top N buyers (1-1,000,000); ties by member id.")


class GroupCriteria(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_CRITERIA]})

    attributes: GroupAttributes | None = None
    consumption: GroupConsumption | None = None
    ranking: GroupRanking | None = None


class MemberGroupCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": "VIP-BEAUTY", "name": "Beauty VIPs", "criteria": _CRITERIA}]
        }
    )

    code: str = Field(
        min_length=1,
        max_length=32,
        description="Immutable: letters, digits, '_' and '-', starting with a letter or digit.",
    )
    name: str = Field(min_length=1, max_length=100)
    criteria: GroupCriteria = Field(description="Empty: every member (erased ones never).")


class MemberGroupUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"criteria": {"ranking": {"by": "count", "top": 100}}}]}
    )
    nullable: ClassVar[frozenset[str]] = frozenset()

    code: str | None = Field(
        default=None, description="Immutable: sending another code is 422 `code_immutable`."
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    criteria: GroupCriteria | None = Field(
        default=None, description="Replaces the criteria; a generated group becomes `stale`."
    )


class MemberGroupRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_GROUP]})

    code: str
    name: str
    criteria: GroupCriteria
    status: MemberGroupStatus = Field(
        description="`new`: never generated; `stale`: criteria changed since the list was made "
        "(the list stays until generated again)."
    )
    member_count: int | None = Field(description="Members in the list.")
    generated_at: dt.datetime | None
    generated_as_of: dt.date | None = Field(description="The local date the list was made.")
    created_at: dt.datetime
    updated_at: dt.datetime


class GroupMemberRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10", "member_ref": "C1"}]
        }
    )

    member_id: str
    member_ref: str | None = Field(description="The member's `external_ref`.")
