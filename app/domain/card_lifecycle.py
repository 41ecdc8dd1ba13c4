"""Card lifecycle (docs/domain §1.3): statuses, transitions, expiry and the verification lockout."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.errors import Conflict, Message


class CardStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    LOST = "lost"
    REPLACED = "replaced"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # never stored: derived from expires_at


class CardAction(StrEnum):
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    REPORT_LOST = "report-lost"
    CANCEL = "cancel"
    REPLACE = "replace"


S = CardStatus
# action -> (statuses it may start from, the status it leads to)
TRANSITIONS: dict[CardAction, tuple[frozenset[CardStatus], CardStatus]] = {
    CardAction.FREEZE: (frozenset({S.ACTIVE}), S.FROZEN),
    CardAction.UNFREEZE: (frozenset({S.FROZEN}), S.ACTIVE),
    CardAction.REPORT_LOST: (frozenset({S.ACTIVE, S.FROZEN}), S.LOST),
    CardAction.CANCEL: (frozenset({S.ACTIVE, S.FROZEN, S.LOST, S.EXPIRED}), S.CANCELLED),
    CardAction.REPLACE: (frozenset({S.LOST}), S.REPLACED),
}

_PAST = {
    CardAction.FREEZE: Message("frozen"),
    CardAction.UNFREEZE: Message("unfrozen"),
    CardAction.REPORT_LOST: Message("reported lost"),
    CardAction.CANCEL: Message("cancelled"),
    CardAction.REPLACE: Message("replaced"),
}

# Verification-code lockout: this many failures within the window lock the card for LOCK_FOR.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Card:
    tenant_id: str
    number: str
    card_class: str
    store_code: str
    serial: int
    member_id: str
    status: CardStatus  # as stored; see effective_status
    issued_at: datetime
    expires_at: datetime | None
    replaced_by: str | None
    verification_hash: str | None
    failed_attempts: int
    first_failed_at: datetime | None
    locked_until: datetime | None


def effective_status(card: Card, now: datetime) -> CardStatus:
    """An active or frozen card whose validity has ended is expired."""
    if card.status in (S.ACTIVE, S.FROZEN) and card.expires_at and card.expires_at <= now:
        return S.EXPIRED
    return card.status


def require_active(card: Card, now: datetime) -> Card:
    """The card, if it may be used now: only an active card prices, earns or redeems
    (else 409 ``card_<status>``)."""
    status = effective_status(card, now)
    if status is not S.ACTIVE:
        raise Conflict(
            f"card_{status.value}",
            "The card is {status}.",
            extra={"card_status": status.value},
            status=status.value,
        )
    return card


def as_of(card: Card, now: datetime) -> Card:
    """The card as a client sees it at ``now`` (with its effective status)."""
    return replace(card, status=effective_status(card, now))


def next_status(current: CardStatus, action: CardAction) -> CardStatus:
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise Conflict(
            "invalid_card_transition",
            "A {current} card cannot be {past}.",
            extra={"card_status": current.value},
            current=current.value,
            past=_PAST[action],
        )
    return target


def add_months(moment: datetime, months: int) -> datetime:
    """Same day-of-month ``months`` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Attempts:
    failed_attempts: int
    first_failed_at: datetime | None
    locked_until: datetime | None


NO_FAILURES = Attempts(0, None, None)


def is_locked(card: Card, now: datetime) -> bool:
    return card.locked_until is not None and card.locked_until > now


def after_failure(card: Card, now: datetime) -> Attempts:
    """Count a wrong verification code; the MAX_FAILURES-th within the window locks the card."""
    in_window = card.first_failed_at is not None and now - card.first_failed_at < FAILURE_WINDOW
    attempts = card.failed_attempts + 1 if in_window else 1
    first = card.first_failed_at if in_window else now
    if attempts >= MAX_FAILURES:
        return Attempts(0, None, now + LOCK_FOR)
    return Attempts(attempts, first, card.locked_until)
