"""Checkout quote: the member price of every line of a basket (docs/domain §2).

The hot path. A tenant's rule entries, card classes, sharing groups and stacking mode are
held per process in a snapshot keyed by the tenant's pricing version; approving or voiding
a rule, changing the settings or a class bumps that version in the same transaction, and
every quote reads the version (with the caller's key, the card and the store, in one round
trip), so every
worker on every host prices with the new rules from the next request on — no restart, no
stale cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.access import Scope, hash_api_key
from app.domain.card_classes import Usage
from app.domain.card_lifecycle import Card
from app.domain.errors import Invalid, NotFound
from app.domain.money import ZERO
from app.domain.points import EARNED_ON_SALE, Earning
from app.domain.points_rules import applied, needs_birthday, preview
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
from app.domain.sales import SaleTerms
from app.domain.voucher_codes import canonical_or_none, is_valid
from app.domain.voucher_till import (
    BasketLine,
    Outcome,
    Reason,
    Redeemer,
    apply_vouchers,
    voucher_shares,
)
from app.repositories.members import decrypt_birthday
from app.services.access import known, presented_key
from app.services.cards import CardKit, admit, check_digits, presented_number
from app.services.points_rules import load_points_rules
from app.uow import UnitOfWork


@dataclass(frozen=True)
class PricingSnapshot:
    version: int
    mode: StackingMode
    index: RuleIndex
    classes: dict[str, ClassPricing]
    open_thresholds: dict[str, Decimal | None]
    # What sales earn with and are bound by (docs/domain §3.2): points rules by level, multiplier
    # events, warm rules, the points settings, the card classes, the tenant's sale limits.
    sale_terms: SaleTerms


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
        sale_terms=SaleTerms(
            rules=await load_points_rules(uow, tenant_id),
            settings=await uow.points.settings(tenant_id),
            classes={c.code: c for c in classes},
            limits=await uow.sales.limits(tenant_id),
            templates={t.code: t for t in await uow.vouchers.templates(tenant_id)},
            voucher_rules=tuple(await uow.vouchers.rules(tenant_id)),
            sharing_groups=groups,
        ),
    )


@dataclass(frozen=True)
class Quote:
    card: Card | None
    basket: PricedBasket
    openable_card_classes: list[str]
    points_preview: Earning | None = None  # with a card: what the basket would earn
    vouchers: tuple[Outcome, ...] = ()  # the basket's vouchers, in the order sent


async def quote(
    uow: UnitOfWork,
    kit: CardKit,
    cache: PricingCache,
    authorization: str | None,
    allowed: frozenset[Scope],
    *,
    store_code: str,
    card_number: str | None,
    track: str | None,
    verification_code: str | None,
    at: datetime | None,
    lines: list[Line],
    vouchers: list[str] | None = None,
) -> Quote:
    """Price a basket for a card (or none) as of ``at`` (default now, past or future). The
    caller's key is checked in the checkout context's own read (``allowed``: its scopes)."""
    key_hash = hash_api_key(presented_key(authorization))
    check_basket(lines)
    at = at or datetime.now(UTC)
    number = None
    if card_number is not None or track is not None:
        number = presented_number(kit, card_number, track)
    async with uow:
        context = await uow.reads.checkout_context(key_hash, store_code, number)
        who = known(context.principal)
        assert context.time_zone is not None  # the key's tenant's, read with the key
        who.require(allowed)
        if number is not None:
            await check_digits(uow, kit, who, number)
        if not context.store_exists:
            raise Invalid(
                "store_not_found",
                "No store with code {store_code}.",
                field="store_code",
                store_code=store_code,
            )
        card = None
        if number is not None:
            if context.card is None:
                raise NotFound("card_not_found", "No card {number}.", number=number)
            card = await admit(uow, who, context.card, verification_code)
        snapshot = await cache.snapshot(uow, who.tenant_id, context.pricing_version)
        await uow.commit()  # admit may have cleared a verification-failure count
    terms = snapshot.sale_terms
    coupon = card is not None and terms.classes[card.card_class].usage is Usage.COUPON
    if card is None or coupon:  # 普通顾客返券卡: no member price
        basket = price_basket(lines, None, snapshot.index, snapshot.mode, at)
    else:
        basket = price_basket(
            lines, snapshot.classes[card.card_class], snapshot.index, snapshot.mode, at
        )
    outcomes = await _vouchers(
        uow, who.tenant_id, vouchers or [], lines, basket, card, store_code, terms, at
    )
    if card is None:
        openable = openable_classes(basket.totals.final_amount, snapshot.open_thresholds)
        return Quote(None, basket, openable, vouchers=outcomes)
    if coupon:
        return Quote(card, basket, [], Earning(dict.fromkeys(EARNED_ON_SALE, 0), {}), outcomes)
    birthday = None
    if needs_birthday(terms.rules.warm, terms.settings.birthday_multiplier, at):
        birthday = decrypt_birthday(
            kit.vault, who.tenant_id, card.member_id, context.birthday_ciphertext
        )
    klass = terms.classes[card.card_class]
    what = applied(
        terms.rules,
        terms.settings,
        card_class=card.card_class,
        default_rate=klass.default_points_rate,
        store_code=store_code,
        lines=lines,
        receipt_total=basket.totals.final_amount,
        at=at,
        birthday=birthday,
        tz=ZoneInfo(context.time_zone),
        groups=context.member_groups,
    )
    paid = voucher_shares(outcomes)  # earns no points (§3.2)
    amounts = {
        line.line_no: (line.qty, priced.final_amount - paid.get(line.line_no, ZERO))
        for line, priced in zip(lines, basket.lines, strict=True)
    }
    earning = preview(amounts, what, klass.identity_points_multiple)
    return Quote(card, basket, [], earning, outcomes)


async def _vouchers(
    uow: UnitOfWork,
    tenant_id: str,
    texts: list[str],
    lines: list[Line],
    basket: PricedBasket,
    card: Card | None,
    store_code: str,
    terms: SaleTerms,
    at: datetime,
) -> tuple[Outcome, ...]:
    """Each voucher sent: applied to the priced basket, or why not (a mistyped code
    included: a quote reports, it does not refuse)."""
    if not texts:
        return ()
    codes = [text if (code := canonical_or_none(text)) is None else code for text in texts]
    async with uow.ledger() as store:
        found = await store.vouchers(tenant_id, [c for c in codes if is_valid(c)])
    outcomes = apply_vouchers(
        codes,
        found,
        terms.templates,
        [BasketLine(x, p.final_amount) for x, p in zip(lines, basket.lines, strict=True)],
        Redeemer(store_code, card.card_class if card else None, card.member_id if card else None),
        terms.sharing_groups,
        at,
    )
    return tuple(
        replace(o, reason=Reason.INVALID_CODE) if not is_valid(o.code) else o for o in outcomes
    )
