"""The change account (零钞转存, DOMAIN §4): change the till could not give, stored on the
card's member up to the class's limit and spent later.

Writes are *inner*: they run in the unit of work ``run_once`` opened (so an Idempotency-Key is
committed with the effect) and never commit. Each locks the member's account row, checks with
the pure rules of app.domain.points (``deposit``/``spend``), appends one entry and moves the
cached balance in the same transaction; the CHECK balance ≥ 0 only backs that up.

Decisions where DOMAIN is silent:

* The account is the member's (a replacement card carries it); the limit is the class of the
  card presented.
* Deposits need an active card of a class with ``change_account_enabled`` (else 409
  ``change_account_disabled``). Spending what is already stored stays possible when the class
  no longer offers the account (e.g. after a tier change): the money is the member's. Only
  with nothing stored is a spend refused as ``change_account_disabled``.
* A refund on a return is not a deposit: it gives back money that was on the card and may take
  the balance above a limit lowered meanwhile.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.access import Principal
from app.domain.card_classes import CardClass
from app.domain.card_lifecycle import Card, CardStatus, effective_status
from app.domain.change_account import ChangeKind, signed
from app.domain.errors import Conflict, NotFound
from app.domain.money import ZERO
from app.domain.pagination import Page, id_cursor, id_page
from app.domain.points import deposit as deposit_rule
from app.domain.points import spend as spend_rule
from app.repositories.change_account import ChangeEntry
from app.uow import UnitOfWork

LATEST = 50  # entries shown with the account


@dataclass(frozen=True)
class Movement:
    entry_id: int
    member_id: str
    card_number: str
    kind: ChangeKind
    amount: Decimal  # signed
    balance: Decimal
    created_at: datetime


@dataclass(frozen=True)
class ChangeAccount:
    card_number: str
    member_id: str
    balance: Decimal
    limit: Decimal
    enabled: bool
    entries: list[ChangeEntry]


# --- building blocks (inside an open unit of work) ---------------------------------------


async def _card(uow: UnitOfWork, who: Principal, number: str) -> tuple[Card, CardClass]:
    card = await uow.cards.get(who.tenant_id, number)
    if card is None:
        raise NotFound("card_not_found", f"No card {number}.")
    return card, await uow.card_classes.get(who.tenant_id, card.card_class)


def _require_active(card: Card, now: datetime) -> None:
    status = effective_status(card, now)
    if status is not CardStatus.ACTIVE:
        raise Conflict(
            f"card_{status.value}",
            f"The card is {status.value}.",
            extra={"card_status": status.value},
        )


def _disabled(card_class: CardClass) -> Conflict:
    return Conflict(
        "change_account_disabled",
        f"Card class {card_class.code} does not offer a change account.",
        extra={"card_class": card_class.code},
    )


async def _lock(uow: UnitOfWork, tenant: str, member: str) -> Decimal:
    balance = await uow.change_account.lock_account(tenant, member)
    if balance is None:  # a card always has a member: only a broken reference gets here
        raise NotFound("member_not_found", f"No member with id {member}.")
    return balance


async def _spend(
    uow: UnitOfWork,
    tenant: str,
    member: str,
    card_number: str,
    card_class: CardClass,
    amount: Decimal,
    kind: ChangeKind,
    source_type: str,
    source_id: str,
    reference: str | None,
    now: datetime,
) -> Movement:
    balance = await _lock(uow, tenant, member)
    if not card_class.change_account_enabled and balance <= ZERO:
        raise _disabled(card_class)
    spend_rule(balance, amount)  # 422 invalid_amount, 409 insufficient_change_balance
    return await _book(
        uow, tenant, member, card_number, amount, kind, source_type, source_id, reference, now
    )


async def _book(
    uow: UnitOfWork,
    tenant: str,
    member: str,
    card_number: str,
    amount: Decimal,
    kind: ChangeKind,
    source_type: str,
    source_id: str,
    reference: str | None,
    now: datetime,
) -> Movement:
    delta = signed(kind, amount)
    entry_id, balance = await uow.change_account.book(
        tenant, member, card_number, delta, kind, source_type, source_id, reference, now
    )
    return Movement(entry_id, member, card_number, kind, delta, balance, now)


# --- writes (inner: the caller's unit of work is open; nothing here commits) --------------


async def deposit(
    uow: UnitOfWork,
    who: Principal,
    *,
    number: str,
    amount: Decimal,
    reference: str | None,
    now: datetime,
) -> Movement:
    """Store change on the card's member, up to the class's limit of balance."""
    card, card_class = await _card(uow, who, number)
    _require_active(card, now)
    if not card_class.change_account_enabled:
        raise _disabled(card_class)
    balance = await _lock(uow, who.tenant_id, card.member_id)
    deposit_rule(balance, amount, card_class.change_account_limit)  # 422 / 409 limit
    return await _book(
        uow,
        who.tenant_id,
        card.member_id,
        card.number,
        amount,
        ChangeKind.DEPOSIT,
        ChangeKind.DEPOSIT.value,
        uuid.uuid4().hex,
        reference,
        now,
    )


async def spend(
    uow: UnitOfWork,
    who: Principal,
    *,
    number: str,
    amount: Decimal,
    reference: str | None,
    now: datetime,
) -> Movement:
    """Pay out of the account; never below zero."""
    card, card_class = await _card(uow, who, number)
    _require_active(card, now)
    return await _spend(
        uow,
        who.tenant_id,
        card.member_id,
        card.number,
        card_class,
        amount,
        ChangeKind.SPEND,
        ChangeKind.SPEND.value,
        uuid.uuid4().hex,
        reference,
        now,
    )


async def pay_for_sale(
    uow: UnitOfWork,
    tenant: str,
    member: str,
    card_number: str,
    card_class: CardClass,
    amount: Decimal,
    source_type: str,
    source_id: str,
    now: datetime,
) -> Movement:
    """A sale's ``change_account`` payment (the caller checked the card)."""
    return await _spend(
        uow,
        tenant,
        member,
        card_number,
        card_class,
        amount,
        ChangeKind.SALE_PAYMENT,
        source_type,
        source_id,
        None,
        now,
    )


async def refund_for_return(
    uow: UnitOfWork,
    tenant: str,
    member: str,
    card_number: str,
    amount: Decimal,
    source_type: str,
    source_id: str,
    now: datetime,
) -> Movement:
    """Give back the change-account part of a returned sale (no limit: it was the member's)."""
    await _lock(uow, tenant, member)
    return await _book(
        uow,
        tenant,
        member,
        card_number,
        amount,
        ChangeKind.SALE_REFUND,
        source_type,
        source_id,
        None,
        now,
    )


# --- reads (own unit of work) -------------------------------------------------------------


async def get_account(uow: UnitOfWork, who: Principal, number: str) -> ChangeAccount:
    """The balance, the limit of the card's class and the latest entries, as of one instant.
    Any card status: a lost or expired card's holder may still ask what is stored."""
    async with uow:
        await uow.points.read_snapshot()
        card, card_class = await _card(uow, who, number)
        balance = await uow.change_account.balance(who.tenant_id, card.member_id)
        entries = await uow.change_account.entries(who.tenant_id, card.member_id, None, LATEST)
    return ChangeAccount(
        card.number,
        card.member_id,
        balance if balance is not None else ZERO,
        card_class.change_account_limit,
        card_class.change_account_enabled,
        entries[:LATEST],
    )


async def list_entries(
    uow: UnitOfWork, who: Principal, number: str, cursor: str | None, limit: int
) -> Page[ChangeEntry]:
    before = id_cursor(cursor)
    async with uow:
        card, _ = await _card(uow, who, number)
        rows = await uow.change_account.entries(who.tenant_id, card.member_id, before, limit)
    return id_page(rows, limit)
