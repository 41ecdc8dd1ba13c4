"""Deposits into and spends from the change account (零钞转存, docs/domain §4), decided once. Pure.

Decisions where the rules are silent (see app/services/change_account.py for the whole list): the
account is the member's, the limit is that of the class of the card presented; deposits need
an active card of a class offering the account; what is stored stays spendable when the class
no longer offers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.card_lifecycle import Card, require_active
from app.domain.change_account import ChangeKind, signed
from app.domain.errors import Conflict, NotFound
from app.domain.ledger import ChangeMovement, Decided, LedgerPlan
from app.domain.money import ZERO
from app.domain.points import deposit as deposit_rule
from app.domain.points import spend as spend_rule


@dataclass(frozen=True)
class ChangeContext:
    tenant_id: str
    card: Card | None
    class_code: str | None
    enabled: bool  # the card's class offers the account
    limit: Decimal
    balance: Decimal | None  # None: the member has no account yet
    entry_id: int | None  # allocated by the read


@dataclass(frozen=True)
class Movement:
    entry_id: int
    member_id: str
    card_number: str
    kind: ChangeKind
    amount: Decimal  # signed
    balance: Decimal
    created_at: datetime


def _active(context: ChangeContext, number: str, now: datetime) -> Card:
    card = context.card
    if card is None:
        raise NotFound("card_not_found", "No card {number}.", number=number)
    return require_active(card, now)


def disabled(class_code: str | None) -> Conflict:
    return Conflict(
        "change_account_disabled",
        "Card class {class_code} does not offer a change account.",
        extra={"card_class": class_code},
        class_code=class_code,
    )


def decide_change(
    context: ChangeContext,
    kind: ChangeKind,
    *,
    number: str,
    amount: Decimal,
    reference: str | None,
    source_id: str,
    now: datetime,
) -> Decided[Movement]:
    """A deposit (up to the class's limit of balance) or a spend (never below zero)."""
    card = _active(context, number, now)
    balance = context.balance if context.balance is not None else ZERO
    if kind is ChangeKind.DEPOSIT:
        if not context.enabled:
            raise disabled(context.class_code)
        deposit_rule(balance, amount, context.limit)  # 422 invalid_amount, 409 limit
    else:
        if not context.enabled and balance <= ZERO:
            raise disabled(context.class_code)
        spend_rule(balance, amount)  # 422 invalid_amount, 409 insufficient_change_balance
    movement = ChangeMovement(
        balance=balance,
        entry_id=context.entry_id,
        card_number=card.number,
        amount=signed(kind, amount),
        kind=kind,
        source_type=kind.value,
        source_id=source_id,
        reference=reference,
        created_at=now,
    )
    return Decided(
        LedgerPlan(context.tenant_id, card.member_id, now, change=movement),
        Movement(
            context.entry_id,
            card.member_id,
            card.number,
            kind,
            movement.amount,
            movement.balance_after,
            now,
        ),
    )
