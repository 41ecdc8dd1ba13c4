"""The change account (零钞转存, docs/domain §4): change the till could not give, stored on the
card's member up to the class's limit and spent later.

Writes are *inner*: they run in the unit of work ``run_once`` opened (so an Idempotency-Key is
committed with the effect) and never commit. Each is read → decide → apply: the card, its class
and the balance in one read, the rules of app/domain/change_moves.py, and one write of the entry
and the balance, applied only while the balance is still the one read (the CHECK balance ≥ 0
only backs that up). A sale's change-account payment and its refund on a return are decided
with the sale and the return (app/domain/sales.py).

Decisions where the business rules are silent:

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
from app.domain.card_lifecycle import Card
from app.domain.change_account import ChangeKind
from app.domain.change_moves import ChangeContext, Movement, decide_change
from app.domain.errors import NotFound
from app.domain.money import ZERO
from app.domain.pagination import Page, time_id_cursor, time_id_page
from app.repositories.change_account import ChangeEntry
from app.services.ledger import decide_and_apply
from app.uow import UnitOfWork

LATEST = 50  # entries shown with the account


@dataclass(frozen=True)
class ChangeAccount:
    card_number: str
    member_id: str
    balance: Decimal
    limit: Decimal
    enabled: bool
    entries: list[ChangeEntry]


# --- writes (inner: the caller's unit of work is open; nothing here commits) --------------


async def _move(
    uow: UnitOfWork,
    who: Principal,
    kind: ChangeKind,
    number: str,
    amount: Decimal,
    reference: str | None,
    now: datetime,
) -> Movement:
    source_id = uuid.uuid4().hex
    async with uow.ledger() as store:

        async def read() -> ChangeContext:
            found = await store.change(who.tenant_id, number)
            return ChangeContext(
                tenant_id=who.tenant_id,
                card=found.card,
                class_code=found.card.card_class if found.card else None,
                enabled=found.enabled,
                limit=found.limit,
                balance=found.balance,
                entry_id=found.entry_id,
            )

        return await decide_and_apply(
            store,
            read,
            lambda context: decide_change(
                context,
                kind,
                number=number,
                amount=amount,
                reference=reference,
                source_id=source_id,
                now=now,
            ),
        )


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
    return await _move(uow, who, ChangeKind.DEPOSIT, number, amount, reference, now)


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
    return await _move(uow, who, ChangeKind.SPEND, number, amount, reference, now)


# --- reads (own unit of work) -------------------------------------------------------------


async def _card(uow: UnitOfWork, who: Principal, number: str) -> tuple[Card, CardClass]:
    card = await uow.cards.get(who.tenant_id, number)
    if card is None:
        raise NotFound("card_not_found", "No card {number}.", number=number)
    return card, await uow.card_classes.get(who.tenant_id, card.card_class)


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
    before = time_id_cursor(cursor)
    async with uow:
        card, _ = await _card(uow, who, number)
        rows = await uow.change_account.entries(who.tenant_id, card.member_id, before, limit)
    return time_id_page(rows, limit, lambda entry: entry.created_at)
