"""Discount rule documents (折扣规则单) and their change log. Range, duplicate and window
rules live in ``app.domain.discount_rules``; these models check shapes and document the
contract."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.discount_rules import (
    MAX_CLASS_CODE_LENGTH,
    MAX_ENTRIES,
    MAX_NOTE_LENGTH,
    MAX_TARGET_LENGTH,
    DiscountRule,
    RuleLine,
    RuleStatus,
    RuleSummary,
    RuleTerms,
)
from app.domain.pricing import Level
from app.schemas.common import Instant, JsonBool, Patch, Rate4, Strict

_ENTRY: JsonDict = {"target": "OLAY", "card_class": "GOLD", "rate": "0.8000", "stackable": True}
_RULE: JsonDict = {
    "level": "brand",
    "effective_from": "2026-12-01T00:00:00+08:00",
    "effective_to": "2027-01-01T00:00:00+08:00",
    "note": "Winter skin care",
    "entries": [_ENTRY, {**_ENTRY, "target": "LOREAL"}],
}
_STATE: JsonDict = {
    "id": "42",
    "status": "draft",
    "approved_at": None,
    "voided_at": None,
    "created_at": "2026-11-23T08:00:00Z",
    "updated_at": "2026-11-23T08:00:00Z",
}
# Times read back in UTC.
_READ: JsonDict = {
    **_STATE,
    **_RULE,
    "effective_from": "2026-11-30T16:00:00Z",
    "effective_to": "2026-12-31T16:00:00Z",
}
_SUMMARY: JsonDict = {**{k: v for k, v in _READ.items() if k != "entries"}, "entry_count": 2}

LEVEL = (
    "Level of every target: `major_category` (大类) < `mid_category` (中类) < `minor_category` "
    "(小类) < `counter` (柜组) < `brand` (品牌) < `product` (单品); at checkout the most specific "
    "matching level wins."
)
EFFECTIVE_FROM = (
    "Start (inclusive), with an offset. Default and minimum: the approval time — an earlier "
    "value becomes the approval time when approved."
)
EFFECTIVE_TO = "End (exclusive), with an offset; after effective_from. Null: open-ended."
ENTRIES = (
    f"1-{MAX_ENTRIES} entries; no (target, card_class) twice; card_class must be a class of "
    "the tenant."
)


class EntryBody(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY]})

    target: str = Field(
        min_length=1,
        max_length=MAX_TARGET_LENGTH,
        description="The code at the document's level (the sku for `product`).",
    )
    card_class: str = Field(
        min_length=1, max_length=MAX_CLASS_CODE_LENGTH, description="A card class code."
    )
    rate: Rate4 = Field(
        description="Fraction paid, in (0, 1], at most 4 decimals; replaces the class default."
    )
    stackable: JsonBool = Field(description="May stack on a running promotion (是否参加折上折).")

    def domain(self) -> RuleLine:
        return RuleLine(self.target, self.card_class, self.rate, self.stackable)


class DiscountRuleCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_RULE]})

    level: Level = Field(description=LEVEL)
    effective_from: Instant | None = Field(default=None, description=EFFECTIVE_FROM)
    effective_to: Instant | None = Field(default=None, description=EFFECTIVE_TO)
    note: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)
    entries: list[EntryBody] = Field(min_length=1, max_length=MAX_ENTRIES, description=ENTRIES)

    def terms(self) -> RuleTerms:
        return RuleTerms(
            level=self.level,
            effective_from=self.effective_from,
            effective_to=self.effective_to,
            note=self.note,
            entries=tuple(e.domain() for e in self.entries),
        )


class DiscountRuleUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"effective_to": "2027-02-01T00:00:00+08:00"}, {"entries": [_ENTRY]}]
        }
    )
    nullable = frozenset({"effective_from", "effective_to", "note"})

    level: Level | None = Field(default=None, description=LEVEL)
    effective_from: Instant | None = Field(default=None, description=EFFECTIVE_FROM)
    effective_to: Instant | None = Field(default=None, description=EFFECTIVE_TO)
    note: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)
    entries: list[EntryBody] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ENTRIES,
        description=ENTRIES + " Replaces the whole list.",
    )

    def changes(self) -> dict:
        out = super().changes()
        if "entries" in out:
            out["entries"] = tuple(e.domain() for e in out["entries"])
        return out


class DiscountRuleEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_ENTRY]})

    target: str
    card_class: str
    rate: Rate4
    stackable: bool


_STATUS = (
    "`draft` (editable), `approved` (frozen, in effect in its window) or `voided` (ended at "
    "voided_at)."
)


class _RuleHeader(BaseModel):
    id: str = Field(description="Opaque; later documents have greater ids.")
    status: RuleStatus = Field(description=_STATUS)
    level: Level
    effective_from: datetime | None = Field(
        description="Start (inclusive); set at the latest when approved."
    )
    effective_to: datetime | None = Field(description="End (exclusive); null: open-ended.")
    note: str | None
    approved_at: datetime | None
    voided_at: datetime | None = Field(
        description="An approved document stops applying at this time."
    )
    created_at: datetime
    updated_at: datetime


class DiscountRuleSummaryRead(_RuleHeader):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY]})

    entry_count: int = Field(description="Entries of the document (get it for the entries).")

    @classmethod
    def of(cls, rule: RuleSummary) -> Self:
        return cls.model_validate({**asdict(rule), "id": str(rule.id)})


class DiscountRuleRead(_RuleHeader):
    model_config = ConfigDict(json_schema_extra={"examples": [_READ]})

    entries: list[DiscountRuleEntryRead]

    @classmethod
    def of(cls, rule: DiscountRule) -> Self:
        return cls.model_validate({**asdict(rule), "id": str(rule.id)})
