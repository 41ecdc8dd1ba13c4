"""Issuing cards, their lifecycle, and identifying a customer at the till."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.crypto import Vault
from app.domain.access import Principal
from app.domain.card_classes import CardClass
from app.domain.card_lifecycle import (
    NO_FAILURES,
    Card,
    CardAction,
    add_months,
    after_failure,
    as_of,
    effective_status,
    is_locked,
    next_status,
    require_active,
)
from app.domain.cards import (
    has_valid_check_digits,
    hash_verification_code,
    make_track,
    new_verification_code,
    parse_track,
    verify_verification_code,
)
from app.domain.errors import Conflict, Forbidden, Invalid, NotFound, TooManyAttempts
from app.domain.members import Member, masked, sees_full_profile
from app.domain.pagination import Page, decode_cursor, page_of, time_id_cursor, time_id_page
from app.repositories.cards import CardEvent
from app.uow import UnitOfWork


class NumberFormats:
    """Per-process cache of each tenant's card-number formats, so a mistyped number is refused
    from its check digits without touching the card table. Class formats never change once a
    class has issued cards; a number that matches no cached format refreshes the cache (at
    most once a second per tenant) in case a class was created since."""

    REFRESH_INTERVAL = 1.0

    def __init__(self) -> None:
        # Per tenant, the distinct (suffix, check-digit length) pairs: all a check needs.
        self._checks: dict[str, set[tuple[str, int]]] = {}
        self._loaded_at: dict[str, float] = {}

    async def matches(self, uow: UnitOfWork, tenant_id: str, number: str) -> bool:
        if self._valid(tenant_id, number):
            return True
        if time.monotonic() - self._loaded_at.get(tenant_id, 0.0) < self.REFRESH_INTERVAL:
            return False
        self._checks[tenant_id] = await uow.cards.number_checks(tenant_id)
        self._loaded_at[tenant_id] = time.monotonic()
        return self._valid(tenant_id, number)

    def _valid(self, tenant_id: str, number: str) -> bool:
        return any(
            number.endswith(suffix)
            and has_valid_check_digits(number[: len(number) - len(suffix)], length)
            for suffix, length in self._checks.get(tenant_id, ())
        )


@dataclass
class CardKit:
    """What the card use cases need from the running app."""

    vault: Vault
    formats: NumberFormats = field(default_factory=NumberFormats)

    @property
    def mac_key(self) -> bytes:
        return self.vault.card_mac_key


@dataclass(frozen=True)
class IssuedCard:
    card: Card
    track: str
    verification_code: str | None  # shown once, never stored in clear


@dataclass(frozen=True)
class Resolved:
    card: Card
    member: Member  # masked unless the caller may see the full profile
    card_class: CardClass


def _now() -> datetime:
    return datetime.now(UTC)


async def _issue(
    uow: UnitOfWork, kit: CardKit, who: Principal, class_code: str, store_code: str, member_id: str
) -> IssuedCard:
    """Issue inside an open unit of work (used by issue and replace)."""
    tenant = who.tenant_id
    if await uow.stores.get(tenant, store_code) is None:
        raise Invalid(
            "store_not_found",
            "No store with code {store_code}.",
            field="store_code",
            store_code=store_code,
        )
    member = await uow.members.get(tenant, member_id, kit.vault)
    if member is None:
        raise Invalid(
            "member_not_found",
            "No member with id {member_id}.",
            field="member_id",
            member_id=member_id,
        )
    if member.erased_at is not None:
        raise Conflict("member_erased", "The member's personal data was erased.")
    allocated = await uow.cards.allocate_serial(tenant, class_code)
    if allocated is None:
        if await uow.card_classes.get(tenant, class_code) is None:
            raise Invalid(
                "card_class_not_found",
                "No card class {class_code}.",
                field="card_class",
                class_code=class_code,
            )
        raise Conflict(
            "serial_range_exhausted",
            "Card class {class_code} has issued every serial in its range.",
            field="card_class",
            class_code=class_code,
        )
    number = allocated.format.compose(store_code, allocated.serial)
    code = new_verification_code() if allocated.verification == "code" else None
    issued_at = _now()
    expires = (
        add_months(issued_at, allocated.validity_months) if allocated.validity_months else None
    )
    card = await uow.cards.add(
        tenant,
        number,
        class_code,
        store_code,
        allocated.serial,
        member_id,
        hash_verification_code(code) if code else None,
        issued_at,
        expires,
    )
    await uow.cards.add_event(
        tenant, member_id, number, "issued", None, class_code, "issued", who.key_name
    )
    return IssuedCard(card, make_track(kit.mac_key, number), code)


async def issue_card(
    uow: UnitOfWork, kit: CardKit, who: Principal, class_code: str, store_code: str, member_id: str
) -> IssuedCard:
    async with uow:
        issued = await _issue(uow, kit, who, class_code, store_code, member_id)
        await uow.commit()
    return issued


async def _existing(uow: UnitOfWork, who: Principal, number: str, *, lock: bool = False) -> Card:
    card = await uow.cards.get(who.tenant_id, number, for_update=lock)
    if card is None:
        raise NotFound("card_not_found", "No card {number}.", number=number)
    return card


async def get_card(uow: UnitOfWork, who: Principal, number: str) -> Card:
    async with uow:
        return as_of(await _existing(uow, who, number), _now())


async def list_cards(
    uow: UnitOfWork, who: Principal, member_id: str | None, cursor: str | None, limit: int
) -> Page[Card]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.cards.list(who.tenant_id, member_id, after[0] if after else None, limit)
    now = _now()
    return page_of([as_of(c, now) for c in rows], limit, lambda c: [c.number])


async def change_status(
    uow: UnitOfWork, who: Principal, number: str, action: CardAction, reason: str | None
) -> Card:
    """freeze, unfreeze, report-lost or cancel; anything docs/domain §1.3 doesn't allow is a 409."""
    async with uow:
        card = await _existing(uow, who, number, lock=True)
        current = effective_status(card, _now())
        target = next_status(current, action)
        updated = await uow.cards.update(who.tenant_id, number, status=target.value)
        await uow.cards.add_event(
            who.tenant_id,
            card.member_id,
            number,
            "status",
            current.value,
            target.value,
            reason or action.value,
            who.key_name,
        )
        await uow.commit()
    return as_of(updated, _now())


async def replace_card(
    uow: UnitOfWork,
    kit: CardKit,
    who: Principal,
    number: str,
    store_code: str | None,
    reason: str | None,
) -> IssuedCard:
    """A lost card is replaced by a new one of the same class for the same member. Points and
    the change balance belong to the member, so they carry over by construction."""
    async with uow:
        old = await _existing(uow, who, number, lock=True)
        target = next_status(effective_status(old, _now()), CardAction.REPLACE)
        new = await _issue(
            uow, kit, who, old.card_class, store_code or old.store_code, old.member_id
        )
        await uow.cards.update(
            who.tenant_id, number, status=target.value, replaced_by=new.card.number
        )
        await uow.cards.add_event(
            who.tenant_id,
            old.member_id,
            number,
            "status",
            old.status.value,
            target.value,
            reason or f"replaced by {new.card.number}",
            who.key_name,
        )
        await uow.cards.add_event(
            who.tenant_id,
            old.member_id,
            new.card.number,
            "issued",
            None,
            old.card_class,
            f"replacement for {number}",
            who.key_name,
        )
        await uow.commit()
    return new


async def card_events(
    uow: UnitOfWork, who: Principal, number: str, cursor: str | None, limit: int
) -> Page[CardEvent]:
    before = time_id_cursor(cursor)
    async with uow:
        await _existing(uow, who, number)
        rows = await uow.cards.events(who.tenant_id, number, before, limit)
    return time_id_page(rows, limit, lambda event: event.at)


def presented_number(kit: CardKit, card_number: str | None, track: str | None) -> str:
    """The number of the card presented by number or by track (its MAC checked)."""
    if track is not None:
        number = parse_track(kit.mac_key, track)
        if card_number is not None and card_number != number:
            raise Invalid("track_mismatch", "card_number and track disagree.", field="track")
        return number
    if card_number is not None:
        return card_number
    raise Invalid("card_required", "Give card_number or track.", field="card_number")


async def checked_number(
    uow: UnitOfWork, kit: CardKit, who: Principal, card_number: str | None, track: str | None
) -> str:
    """The presented card's number; a bad MAC or check digits is refused before any lookup."""
    number = presented_number(kit, card_number, track)
    await check_digits(uow, kit, who, number)
    return number


async def check_digits(uow: UnitOfWork, kit: CardKit, who: Principal, number: str) -> None:
    """Refuse a number whose check digits fit none of the tenant's formats (a typing error)."""
    if not await kit.formats.matches(uow, who.tenant_id, number):
        raise Invalid(
            "invalid_card_number",
            "The card number's check digits are wrong: probably a typing error.",
            field="card_number",
        )


async def admit(uow: UnitOfWork, who: Principal, card: Card, verification_code: str | None) -> Card:
    """Inside an open unit of work: the card if it may be used now. Then the lockout and the
    verification code (failures counted and committed even though the call fails), and
    finally the status — only an active card is usable. Only cards with a code are re-read
    with a row lock (to count failures exactly); the others cost nothing more."""
    now = _now()
    if card.verification_hash is not None:
        card = await _existing(uow, who, card.number, lock=True)
        if is_locked(card, now):
            raise TooManyAttempts(
                "card_locked",
                "Too many wrong verification codes: the card is locked for a while.",
                extra={"locked_until": card.locked_until.isoformat()},
            )
        if not verification_code or not verify_verification_code(
            verification_code, card.verification_hash
        ):
            await uow.cards.set_attempts(who.tenant_id, card.number, after_failure(card, now))
            await uow.commit()
            raise Forbidden(
                "verification_failed",
                "This card needs its verification code, and the one given is missing or wrong.",
                field="verification_code",
            )
        if card.failed_attempts:
            await uow.cards.set_attempts(who.tenant_id, card.number, NO_FAILURES)
    require_active(card, now)
    return as_of(card, now)


async def resolve_card(
    uow: UnitOfWork,
    kit: CardKit,
    who: Principal,
    card_number: str | None,
    track: str | None,
    verification_code: str | None,
) -> Resolved:
    """The card, its holder and its class, for a till identifying a customer."""
    async with uow:
        number = await checked_number(uow, kit, who, card_number, track)
        card = await admit(uow, who, await _existing(uow, who, number), verification_code)
        member = await uow.members.get(who.tenant_id, card.member_id, kit.vault)
        card_class = await uow.card_classes.get(who.tenant_id, card.card_class)
        await uow.commit()
    view = member if sees_full_profile(who.scopes) else masked(member)
    return Resolved(card, view, card_class)
