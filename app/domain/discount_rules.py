"""Discount rule documents (折扣规则单): validation, the draft → approved → voided
transitions and the change log's diff (docs/domain §2.1).

A document sets, for targets at one level, a rate and a "may stack" flag per card class. It is
edited as a draft, approved (审核) — from then on it is frozen and in effect from
``effective_from``, never earlier than the approval, until ``effective_to`` — and can be
voided, which ends it at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from app.domain import audit
from app.domain.audit import FieldChange
from app.domain.card_classes import rate_problem
from app.domain.errors import Conflict, FieldError, Invalid, Message, Summary
from app.domain.ids import parse_id
from app.domain.money import decimal_places
from app.domain.pricing import Level

MAX_ENTRIES = 5000
MAX_TARGET_LENGTH = 64
MAX_NOTE_LENGTH = 1000
MAX_CLASS_CODE_LENGTH = 12


class RuleStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    VOIDED = "voided"


class RuleKind(StrEnum):
    """What a document's entries set: a discount rate (折扣规则单, docs/domain §2.1) or a points
    rate (积分规则, docs/domain §3.2). Both share the life cycle, storage and change log."""

    DISCOUNT = "discount"
    POINTS = "points"

    @property
    def noun(self) -> Message:
        return Message("Discount rule") if self is RuleKind.DISCOUNT else Message("Points rule")


MAX_POINTS_RATE = Decimal(100)
RATE_PLACES = 4


def points_rate_problem(rate: Decimal) -> str | Message | None:
    """Points per CNY: 0 (excludes the target) up to but not including 100, ≤ 4 decimals."""
    if not rate.is_finite() or not Decimal(0) <= rate < MAX_POINTS_RATE:
        return Message("must be in [0, {max_points_rate})", max_points_rate=MAX_POINTS_RATE)
    if decimal_places(rate) > RATE_PLACES:
        return Message("must have at most {rate_places} decimal places", rate_places=RATE_PLACES)
    return None


class RuleAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    APPROVE = "approve"
    VOID = "void"


@dataclass(frozen=True)
class RuleLine:
    """One entry of a document: ``card_class`` members pay ``rate`` for ``target``."""

    target: str
    card_class: str
    rate: Decimal
    stackable: bool


@dataclass(frozen=True, kw_only=True)
class RuleTerms:
    """What an admin sets on a draft."""

    level: Level
    effective_from: datetime | None = None
    effective_to: datetime | None = None
    note: str | None = None
    entries: tuple[RuleLine, ...]


TERM_FIELDS = ("level", "effective_from", "effective_to", "note", "entries")


@dataclass(frozen=True, kw_only=True)
class RuleSummary:
    """A document without its entries, as lists show it."""

    id: int
    tenant_id: str
    status: RuleStatus
    level: Level
    effective_from: datetime | None
    effective_to: datetime | None
    note: str | None
    approved_at: datetime | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    entry_count: int
    kind: RuleKind = RuleKind.DISCOUNT


@dataclass(frozen=True, kw_only=True)
class DiscountRule(RuleSummary):
    entries: tuple[RuleLine, ...]


def terms_of(rule: DiscountRule) -> RuleTerms:
    return RuleTerms(**{name: getattr(rule, name) for name in TERM_FIELDS})


def parse_rule_id(text: str) -> int | None:
    """Ids are opaque strings to clients; anything that is not one of ours matches nothing."""
    return parse_id(text)


# --- validation ----------------------------------------------------------------------------


def check_terms(terms: RuleTerms, kind: RuleKind = RuleKind.DISCOUNT) -> None:
    """Raise ``Invalid`` listing every field (named as in the API) that breaks a rule. The
    rate's range depends on ``kind``: a discount is a fraction paid in (0, 1], a points rate
    is points per CNY in [0, 100)."""
    problems: list[FieldError] = []

    def check(ok: bool, field: str, message: str | Message) -> None:
        if not ok:
            problems.append(FieldError(field, message))

    check(
        terms.level in set(Level),
        "level",
        Message("must be one of {value}", value=", ".join(Level)),
    )
    start, end = terms.effective_from, terms.effective_to
    aware = True
    for name, moment in (("effective_from", start), ("effective_to", end)):
        if moment is not None and moment.utcoffset() is None:
            aware = False
            problems.append(FieldError(name, "must carry a UTC offset"))
    if aware and start is not None and end is not None:
        check(end > start, "effective_to", "must be later than effective_from")
    if terms.note is not None:
        check(
            len(terms.note) <= MAX_NOTE_LENGTH,
            "note",
            Message(
                "must be at most {max_note_length} characters", max_note_length=MAX_NOTE_LENGTH
            ),
        )
    check(
        1 <= len(terms.entries) <= MAX_ENTRIES,
        "entries",
        Message("must hold 1-{max_entries} entries", max_entries=MAX_ENTRIES),
    )
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(terms.entries):
        where = f"entries[{i}]"
        check(
            entry.target.strip() != "" and len(entry.target) <= MAX_TARGET_LENGTH,
            f"{where}.target",
            Message(
                "must be 1-{max_target_length} characters, not blank",
                max_target_length=MAX_TARGET_LENGTH,
            ),
        )
        check(
            0 < len(entry.card_class) <= MAX_CLASS_CODE_LENGTH,
            f"{where}.card_class",
            Message(
                "must be a card class code of 1-{max_class_code_length} characters",
                max_class_code_length=MAX_CLASS_CODE_LENGTH,
            ),
        )
        problem = rate_problem if kind is RuleKind.DISCOUNT else points_rate_problem
        if message := problem(entry.rate):
            problems.append(FieldError(f"{where}.rate", message))
        key = (entry.target, entry.card_class)
        check(
            key not in seen,
            where,
            Message(
                "duplicate target {target} for {card_class}",
                target=entry.target,
                card_class=entry.card_class,
            ),
        )
        seen.add(key)
    if problems:
        summary = Summary(problems, 5)
        raise Invalid(
            f"invalid_{kind.value}_rule",
            Message("Invalid discount rule. {summary}")
            if kind is RuleKind.DISCOUNT
            else Message("Invalid points rule. {summary}"),
            errors=problems,
            summary=summary,
        )


# --- transitions ---------------------------------------------------------------------------


def check_editable(rule: RuleSummary) -> None:
    """Only drafts change: an approved document may already have priced receipts."""
    if rule.status is not RuleStatus.DRAFT:
        raise Conflict(
            "rule_not_draft",
            "{noun} {id} is {status}; only drafts can be changed or approved.",
            noun=rule.kind.noun,
            id=rule.id,
            status=rule.status,
        )


def approve(rule: DiscountRule, now: datetime) -> DiscountRule:
    """Approve a draft at ``now``. It takes effect from ``effective_from``, which defaults to
    and is never earlier than the approval: prices can't be back-dated."""
    check_editable(rule)
    start = max(rule.effective_from or now, now)
    if rule.effective_to is not None and rule.effective_to <= start:
        raise Invalid(
            "invalid_window",
            "effective_to ({effective_to}) must be later than the start ({start}); a document"
            " can't take effect before its approval.",
            field="effective_to",
            effective_to=rule.effective_to.isoformat(),
            start=start.isoformat(),
        )
    return replace(rule, status=RuleStatus.APPROVED, approved_at=now, effective_from=start)


def void(rule: DiscountRule, now: datetime) -> DiscountRule:
    """Void a draft or an approved document; an approved one stops applying at ``now``."""
    if rule.status is RuleStatus.VOIDED:
        raise Conflict(
            "rule_already_voided", "{noun} {id} is already voided.", noun=rule.kind.noun, id=rule.id
        )
    return replace(rule, status=RuleStatus.VOIDED, voided_at=now)


# --- change log ----------------------------------------------------------------------------

LOGGED_FIELDS = ("status", *TERM_FIELDS, "approved_at", "voided_at")


def entries_text(entries: tuple[RuleLine, ...]) -> str:
    """The entries as compact JSON in the API's spelling (rates as decimal strings)."""
    return json.dumps(
        [
            {
                "target": e.target,
                "card_class": e.card_class,
                "rate": format(e.rate, "f"),
                "stackable": e.stackable,
            }
            for e in entries
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _text(value: object) -> str | None:
    return entries_text(value) if isinstance(value, tuple) else audit.as_text(value)


def changed_fields(before: DiscountRule | None, after: DiscountRule) -> list[FieldChange]:
    """One log entry per logged field that differs; ``before`` None stands for creation."""
    return audit.changed_fields(before, after, LOGGED_FIELDS, _text)
