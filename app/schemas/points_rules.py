"""Points rules by level (documents of kind ``points``), multiplier events and warm rules
(docs/domain §3.2). Ranges and windows are checked by the domain, which names the field."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.discount_rules import MAX_ENTRIES, RuleLine
from app.domain.points_rules import (
    MAX_CODE_LENGTH,
    MAX_CODES,
    MAX_NAME_LENGTH,
    MAX_WARM_POINTS,
    BirthdayScope,
    ConditionKind,
    EventTerms,
    MultiplierEvent,
    WarmCondition,
    WarmRule,
    WarmTerms,
    condition_json,
)
from app.domain.pricing import Level
from app.schemas.common import DecimalString, Instant, JsonBool, JsonInt, Patch, Rate4, Strict
from app.schemas.discount_rules import (
    ENTRIES,
    DiscountRuleCreate,
    DiscountRuleRead,
    DiscountRuleSummaryRead,
    DiscountRuleUpdate,
    EntryBody,
)

# --- points rules ----------------------------------------------------------------------------

_ENTRY: JsonDict = {"target": "TOBACCO", "card_class": "GOLD", "rate": "0.0000"}
_RULE: JsonDict = {
    "level": "minor_category",
    "effective_from": "2026-12-01T00:00:00+08:00",
    "note": "No points on tobacco",
    "entries": [_ENTRY, {**_ENTRY, "card_class": "DIAMOND"}],
}
_READ: JsonDict = {
    "id": "43",
    "status": "draft",
    "approved_at": None,
    "voided_at": None,
    "created_at": "2026-11-23T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
    **_RULE,
    "effective_from": "2026-11-30T16:00:00Z",
    "effective_to": None,
    "entries": [
        {**_ENTRY, "stackable": False},
        {**_ENTRY, "card_class": "DIAMOND", "stackable": False},
    ],
}
_SUMMARY: JsonDict = {**{k: v for k, v in _READ.items() if k != "entries"}, "entry_count": 2}
POINTS_RATE = (
    "Points per CNY of eligible amount, in [0, 100), at most 4 decimals; 0 excludes the target "
    "(e.g. tobacco). Replaces the class's default_points_rate."
)


class PointsEntryBody(EntryBody):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})

    rate: Rate4 = Field(description=POINTS_RATE)
    stackable: JsonBool = Field(default=False, description="Ignored for points (stored as false).")

    def domain(self) -> RuleLine:
        return RuleLine(self.target, self.card_class, self.rate, False)


class PointsRuleCreate(DiscountRuleCreate):
    model_config = ConfigDict(json_schema_extra={"examples": [_RULE]})

    # Narrows the base's field: pydantic validates a subclass's own field (list invariance
    # guards writes through the base type, which no caller does).
    entries: list[PointsEntryBody] = Field(  # type: ignore[assignment]
        min_length=1, max_length=MAX_ENTRIES, description=ENTRIES
    )


class PointsRuleUpdate(DiscountRuleUpdate):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Tobacco and lottery"}, {"entries": [_ENTRY]}]}
    )

    entries: list[PointsEntryBody] | None = Field(  # type: ignore[assignment]  # as above
        default=None,
        min_length=1,
        max_length=MAX_ENTRIES,
        description=ENTRIES + " Replaces the whole list.",
    )


class PointsRuleRead(DiscountRuleRead):
    model_config = ConfigDict(json_schema_extra={"examples": [_READ]})


class PointsRuleSummaryRead(DiscountRuleSummaryRead):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY]})


# --- multiplier events -----------------------------------------------------------------------

_EVENT: JsonDict = {
    "name": "Double points weekend",
    "k": "2.0000",
    "starts_at": "2026-12-05T00:00:00+08:00",
    "ends_at": "2026-12-07T00:00:00+08:00",
    "store_codes": ["S01"],
    "card_classes": [],
    "member_groups": [],
}
_EVENT_READ: JsonDict = {
    "id": "7",
    **_EVENT,
    "starts_at": "2026-12-04T16:00:00Z",
    "ends_at": "2026-12-06T16:00:00Z",
    "created_at": "2026-11-23T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
}
K = "Multiplier k in [1, 100), up to 4 decimals: B = floor(A × (k − 1))."
Code = Annotated[str, Field(min_length=1, max_length=MAX_CODE_LENGTH)]
STORES = "Store codes where it applies; empty: every store."
CLASSES = "Card class codes it applies to; empty: every class."
GROUPS = (
    "Member group codes (`/v1/member-groups`) it applies to: members in any of them, as last "
    "generated; empty: every member."
)


class EventCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT]})

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    k: Rate4 = Field(description=K)
    starts_at: Instant = Field(description="Start (inclusive), with an offset.")
    ends_at: Instant = Field(description="End (exclusive), after starts_at.")
    store_codes: list[Code] = Field(default=[], max_length=MAX_CODES, description=STORES)
    card_classes: list[Code] = Field(default=[], max_length=MAX_CODES, description=CLASSES)
    member_groups: list[Code] = Field(default=[], max_length=MAX_CODES, description=GROUPS)

    def terms(self) -> EventTerms:
        return EventTerms(
            name=self.name,
            k=self.k,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            store_codes=tuple(self.store_codes),
            card_classes=tuple(self.card_classes),
            member_groups=tuple(self.member_groups),
        )


class EventUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"k": "3"}]})

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)
    k: Rate4 | None = Field(default=None, description=K)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    store_codes: list[Code] | None = Field(default=None, max_length=MAX_CODES, description=STORES)
    card_classes: list[Code] | None = Field(default=None, max_length=MAX_CODES, description=CLASSES)
    member_groups: list[Code] | None = Field(default=None, max_length=MAX_CODES, description=GROUPS)

    def changes(self) -> dict:
        out = super().changes()
        for name in ("store_codes", "card_classes", "member_groups"):
            if name in out:
                out[name] = tuple(out[name])
        return out


class EventRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_READ]})

    id: str
    name: str
    k: Rate4
    starts_at: datetime
    ends_at: datetime
    store_codes: list[str]
    card_classes: list[str]
    member_groups: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, event: MultiplierEvent) -> EventRead:
        return cls.model_validate({**asdict(event), "id": str(event.id)})


# --- warm rules ------------------------------------------------------------------------------

_WARM: JsonDict = {
    "name": "Birthday gift",
    "points": 200,
    "condition": {"kind": "birthday", "scope": "day"},
    "starts_at": None,
    "ends_at": None,
    "active": True,
}
_WARM_READ: JsonDict = {
    "id": "9",
    **_WARM,
    "created_at": "2026-11-23T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
}


class BirthdayCondition(Strict):
    kind: Literal[ConditionKind.BIRTHDAY]
    scope: BirthdayScope = Field(
        default=BirthdayScope.DAY,
        description="`day` (default): on the member's birthday; `month`: in its month; in the "
        "tenant's time zone.",
    )


class BoughtCondition(Strict):
    kind: Literal[ConditionKind.BOUGHT]
    level: Level = Field(description="The level of `target`.")
    target: str = Field(
        min_length=1, max_length=MAX_CODE_LENGTH, description="A code at that level (sku)."
    )


class ReceiptCondition(Strict):
    kind: Literal[ConditionKind.RECEIPT_AT_LEAST]
    amount: DecimalString = Field(description="The receipt's final total is at least this, CNY.")


Condition = Annotated[
    BirthdayCondition | BoughtCondition | ReceiptCondition, Field(discriminator="kind")
]


def _condition(body: BirthdayCondition | BoughtCondition | ReceiptCondition) -> WarmCondition:
    if isinstance(body, BirthdayCondition):
        return WarmCondition(kind=ConditionKind.BIRTHDAY, scope=body.scope)
    if isinstance(body, BoughtCondition):
        return WarmCondition(kind=ConditionKind.BOUGHT, level=body.level, target=body.target)
    return WarmCondition(kind=ConditionKind.RECEIPT_AT_LEAST, amount=body.amount)


WARM_POINTS = f"Points given (C), 1-{MAX_WARM_POINTS}, at most once per receipt."
WARM_CONDITION = (
    "`{kind: birthday, scope?: day|month}`, `{kind: bought, level, target}` (a line with that "
    "code) or `{kind: receipt_at_least, amount}`."
)


class WarmCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_WARM]})

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    points: JsonInt = Field(description=WARM_POINTS)
    condition: Condition = Field(description=WARM_CONDITION)
    starts_at: Instant | None = Field(default=None, description="Inclusive; null: always.")
    ends_at: Instant | None = Field(default=None, description="Exclusive; null: open.")
    active: JsonBool = True

    def terms(self) -> WarmTerms:
        return WarmTerms(
            name=self.name,
            points=self.points,
            condition=_condition(self.condition),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            active=self.active,
        )


class WarmUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    nullable = frozenset({"starts_at", "ends_at"})

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH)
    points: JsonInt | None = Field(default=None, description=WARM_POINTS)
    condition: Condition | None = Field(default=None, description=WARM_CONDITION)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    active: JsonBool | None = None

    def changes(self) -> dict:
        out = super().changes()
        if "condition" in out:
            out["condition"] = _condition(out["condition"])
        return out


class WarmRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WARM_READ]})

    id: str
    name: str
    points: int
    condition: dict = Field(description=WARM_CONDITION)
    starts_at: datetime | None
    ends_at: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: WarmRule) -> WarmRead:
        return cls.model_validate(
            {**asdict(rule), "id": str(rule.id), "condition": condition_json(rule.condition)}
        )
