"""Checkout quote: the member price of every line of a basket (DOMAIN §2).

The hot path. A tenant's rule entries, card classes, sharing groups and stacking mode are
held per process in a snapshot keyed by the tenant's pricing version; approving or voiding
a rule, changing the settings or a class bumps that version in the same transaction, and
every quote reads the version (with the card and the store, in one round trip), so every
worker on every host prices with the new rules from the next request on — no restart, no
stale cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.access import Principal
from app.domain.card_lifecycle import Card
from app.domain.errors import Invalid, NotFound
from app.domain.points import Earning
from app.domain.points_ledger import PointsSettings
from app.domain.pricing import (
    ClassPricing,
    Line,
    PricedBasket,
    RuleIndex,
    StackingMode,
    check_basket,
    openable_classes,
    price_basket,
)
from app.services.cards import CardKit, admit, checked_number
from app.services.points import tenant_zone
from app.services.points_rules import (
    PointsRules,
    applied,
    load_points_rules,
    member_birthday,
    member_groups,
    preview,
)
from app.uow import UnitOfWork


@dataclass(frozen=True)
class PricingSnapshot:
    version: int
    mode: StackingMode
    index: RuleIndex
    classes: dict[str, ClassPricing]
    open_thresholds: dict[str, Decimal | None]
    # Earning (DOMAIN §3.2): points rules by level, multiplier events, warm rules, and per
    # class (default_points_rate, identity_points_multiple).
    points: PointsRules
    earning: dict[str, tuple[Decimal, Decimal]]
    points_settings: PointsSettings
    # Tier upgrades: class → the 12-month spend that moves its cards up (classes that upgrade).
    upgrades: dict[str, Decimal]


class PricingCache:
    """Per-process snapshots, rebuilt when a tenant's pricing version moves."""

    def __init__(self) -> None:
        self._snapshots: dict[str, PricingSnapshot] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def snapshot(self, uow: UnitOfWork, tenant_id: str, version: int) -> PricingSnapshot:
        """The tenant's snapshot at ``version``, read by the caller in this request."""
        current = self._snapshots.get(tenant_id)
        if current is not None and current.version == version:
            return current
        async with self._locks.setdefault(tenant_id, asyncio.Lock()):
            current = self._snapshots.get(tenant_id)
            if current is None or current.version != version:
                # Read after the version: the entries are at least that new. A snapshot a
                # little newer than its label is rebuilt on the next request, never stale.
                current = await _build(uow, tenant_id, version)
                self._snapshots[tenant_id] = current
        return current


async def _build(uow: UnitOfWork, tenant_id: str, version: int) -> PricingSnapshot:
    groups = {g.code: g for g in await uow.sharing_groups.all(tenant_id)}
    classes = await uow.card_classes.all(tenant_id)
    return PricingSnapshot(
        version=version,
        mode=await uow.pricing.settings(tenant_id),
        index=RuleIndex.build(await uow.pricing.rule_entries(tenant_id)),
        classes={
            c.code: ClassPricing(
                code=c.code,
                default_discount_rate=c.default_discount_rate,
                stack_threshold_rate=c.stack_threshold_rate,
                stack_rate=c.stack_rate,
                sharing=groups.get(c.sharing_group) if c.sharing_group else None,
            )
            for c in classes
        },
        open_thresholds={c.code: c.receipt_open_threshold for c in classes},
        points=await load_points_rules(uow, tenant_id),
        earning={c.code: (c.default_points_rate, c.identity_points_multiple) for c in classes},
        points_settings=await uow.points.settings(tenant_id),
        upgrades={c.code: c.upgrade_spend_12m for c in classes if c.upgrade_to is not None},
    )


@dataclass(frozen=True)
class Quote:
    card: Card | None
    basket: PricedBasket
    openable_card_classes: list[str]
    points_preview: Earning | None = None  # with a card: what the basket would earn


async def quote(
    uow: UnitOfWork,
    kit: CardKit,
    cache: PricingCache,
    who: Principal,
    *,
    store_code: str,
    card_number: str | None,
    track: str | None,
    verification_code: str | None,
    at: datetime | None,
    lines: list[Line],
) -> Quote:
    """Price a basket for a card (or none) as of ``at`` (default now, past or future)."""
    check_basket(lines)
    at = at or datetime.now(UTC)
    async with uow:
        number = None
        if card_number is not None or track is not None:
            number = await checked_number(uow, kit, who, card_number, track)
        context = await uow.reads.checkout_context(who.tenant_id, store_code, number)
        if not context.store_exists:
            raise Invalid(
                "store_not_found", f"No store with code {store_code}.", field="store_code"
            )
        card = None
        if number is not None:
            if context.card is None:
                raise NotFound("card_not_found", f"No card {number}.")
            card = await admit(uow, who, context.card, verification_code)
        snapshot = await cache.snapshot(uow, who.tenant_id, context.pricing_version)
        if card is not None:
            settings = snapshot.points_settings
            birthday = await member_birthday(
                uow, kit.vault, who.tenant_id, card.member_id, snapshot.points, settings, at
            )
            zone = await tenant_zone(uow, who.tenant_id) if birthday else UTC
            groups = await member_groups(uow, who.tenant_id, card.member_id, snapshot.points, at)
        await uow.commit()  # admit may have cleared a verification-failure count
    if card is None:
        basket = price_basket(lines, None, snapshot.index, snapshot.mode, at)
        openable = openable_classes(basket.totals.final_amount, snapshot.open_thresholds)
        return Quote(None, basket, openable)
    klass = snapshot.classes[card.card_class]
    basket = price_basket(lines, klass, snapshot.index, snapshot.mode, at)
    default_rate, identity_multiple = snapshot.earning[card.card_class]
    what = applied(
        snapshot.points,
        settings,
        card_class=card.card_class,
        default_rate=default_rate,
        store_code=store_code,
        lines=lines,
        receipt_total=basket.totals.final_amount,
        at=at,
        birthday=birthday,
        tz=zone,
        groups=groups,
    )
    amounts = {
        line.line_no: (line.qty, priced.final_amount)
        for line, priced in zip(lines, basket.lines, strict=True)
    }
    return Quote(card, basket, [], preview(amounts, what, identity_multiple))
