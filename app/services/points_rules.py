"""Multiplier events (B) and warm rules (C) of docs/domain §3.2, and what a sale or a quote earns
with them. Points rules by level are rule documents of kind ``points``
(``app.services.discount_rules``).

Every change to an event or a warm rule bumps the tenant's pricing version in the same
transaction: sales and quotes read them from the per-process pricing snapshot.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from app.crypto import Vault
from app.domain.access import Principal
from app.domain.discount_rules import RuleKind
from app.domain.errors import NotFound
from app.domain.ids import parse_id
from app.domain.pagination import Page, id_cursor, id_page
from app.domain.points_ledger import PointsSettings
from app.domain.points_rules import (
    EVENT_FIELDS,
    WARM_FIELDS,
    EventTerms,
    MultiplierEvent,
    PointsRules,
    WarmRule,
    WarmTerms,
    check_event,
    check_warm_rule,
    needs_birthday,
    needs_member_groups,
)
from app.domain.pricing import RuleIndex
from app.uow import UnitOfWork

# --- what a receipt earns with, read for a sale or a quote ------------------------------------


async def load_points_rules(uow: UnitOfWork, tenant_id: str) -> PointsRules:
    return PointsRules(
        index=RuleIndex.build(await uow.pricing.rule_entries(tenant_id, RuleKind.POINTS)),
        events=tuple(await uow.points_rules.all_events(tenant_id)),
        warm=tuple(await uow.points_rules.all_warm(tenant_id)),
    )


async def member_birthday(
    uow: UnitOfWork,
    vault: Vault,
    tenant_id: str,
    member_id: str,
    rules: PointsRules,
    settings: PointsSettings,
    at: datetime,
) -> date | None:
    """The member's birthday, read (and decrypted) only when something in effect uses it."""
    if not needs_birthday(rules.warm, settings.birthday_multiplier, at):
        return None
    member = await uow.members.get(tenant_id, member_id, vault)
    return member.birthday if member else None


async def member_groups(
    uow: UnitOfWork, tenant_id: str, member_id: str, rules: PointsRules, at: datetime
) -> frozenset[str]:
    """The member's groups, read only when an event in effect targets groups."""
    if not needs_member_groups(rules.events, at):
        return frozenset()
    return frozenset(await uow.member_groups.groups_of(tenant_id, member_id))


# --- multiplier events -----------------------------------------------------------------------


def _no_event(event_id: str) -> NotFound:
    return NotFound(
        "multiplier_event_not_found", "No multiplier event with id {event_id}.", event_id=event_id
    )


def _no_warm(rule_id: str) -> NotFound:
    return NotFound("warm_rule_not_found", "No warm rule with id {rule_id}.", rule_id=rule_id)


async def create_event(uow: UnitOfWork, who: Principal, terms: EventTerms) -> MultiplierEvent:
    check_event(terms)
    async with uow:
        created = await uow.points_rules.add_event(who.tenant_id, terms)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return created


async def get_event(uow: UnitOfWork, who: Principal, event_id: str) -> MultiplierEvent:
    found = None
    async with uow:
        if (key := parse_id(event_id)) is not None:
            found = await uow.points_rules.get_event(who.tenant_id, key)
    if found is None:
        raise _no_event(event_id)
    return found


async def list_events(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[MultiplierEvent]:
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.points_rules.list_events(who.tenant_id, before, limit)
    return id_page(rows, limit)


def _event_terms(event: MultiplierEvent) -> EventTerms:
    return EventTerms(**{name: getattr(event, name) for name in EVENT_FIELDS})


async def update_event(
    uow: UnitOfWork, who: Principal, event_id: str, changes: dict
) -> MultiplierEvent:
    async with uow:
        key = parse_id(event_id)
        current = None if key is None else await uow.points_rules.get_event(who.tenant_id, key)
        if key is None or current is None:
            raise _no_event(event_id)
        merged = replace(_event_terms(current), **changes)
        check_event(merged)
        updated = await uow.points_rules.update_event(who.tenant_id, key, merged)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return updated


async def delete_event(uow: UnitOfWork, who: Principal, event_id: str) -> None:
    """Sales already recorded keep the k they were given (stored per sale)."""
    async with uow:
        key = parse_id(event_id)
        if key is None or not await uow.points_rules.delete_event(who.tenant_id, key):
            raise _no_event(event_id)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()


# --- warm rules ------------------------------------------------------------------------------


async def create_warm(uow: UnitOfWork, who: Principal, terms: WarmTerms) -> WarmRule:
    check_warm_rule(terms)
    async with uow:
        created = await uow.points_rules.add_warm(who.tenant_id, terms)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return created


async def get_warm(uow: UnitOfWork, who: Principal, rule_id: str) -> WarmRule:
    found = None
    async with uow:
        if (key := parse_id(rule_id)) is not None:
            found = await uow.points_rules.get_warm(who.tenant_id, key)
    if found is None:
        raise _no_warm(rule_id)
    return found


async def list_warm(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[WarmRule]:
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.points_rules.list_warm(who.tenant_id, before, limit)
    return id_page(rows, limit)


def _warm_terms(rule: WarmRule) -> WarmTerms:
    return WarmTerms(**{name: getattr(rule, name) for name in WARM_FIELDS})


async def update_warm(uow: UnitOfWork, who: Principal, rule_id: str, changes: dict) -> WarmRule:
    async with uow:
        key = parse_id(rule_id)
        current = None if key is None else await uow.points_rules.get_warm(who.tenant_id, key)
        if key is None or current is None:
            raise _no_warm(rule_id)
        merged = replace(_warm_terms(current), **changes)
        check_warm_rule(merged)
        updated = await uow.points_rules.update_warm(who.tenant_id, key, merged)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return updated


async def delete_warm(uow: UnitOfWork, who: Principal, rule_id: str) -> None:
    """Sales already recorded keep the warm points they were given (stored per sale)."""
    async with uow:
        key = parse_id(rule_id)
        if key is None or not await uow.points_rules.delete_warm(who.tenant_id, key):
            raise _no_warm(rule_id)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
