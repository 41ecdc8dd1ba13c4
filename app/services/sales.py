"""Sales and returns from the till (docs/domain §3.2, §3.3): read → decide → apply.

``record_sale`` is the one way a sale is recorded. The till's lane (app/routers/lanes.py) calls
it on a pooled connection; the documented endpoint calls it inside its unit of work, so that an
Idempotency-Key is committed with the sale. The rules are app/domain/sales.py; the read and the
write app/repositories/ledger.py. Both functions are inner: the caller opened ``uow``.

The card at a sale must exist and be active; no verification code is asked: the till verified
the card when it priced the basket (``POST /v1/checkout/quote``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.domain.access import Principal, Scope, hash_api_key
from app.domain.audit import changed_fields
from app.domain.card_lifecycle import add_months
from app.domain.ledger import Recorded
from app.domain.points import PaymentMethod
from app.domain.points_rules import needs_birthday
from app.domain.sales import (
    ReturnContext,
    ReturnRequest,
    SaleContext,
    SaleLimits,
    SaleRequest,
    SaleTerms,
    decide_return,
    decide_sale,
    sale_limits,
)
from app.repositories.ledger import LedgerStore
from app.repositories.members import decrypt_birthday
from app.services.access import known, presented_key
from app.services.cards import CardKit, check_digits
from app.services.ledger import decide_and_apply
from app.services.pricing import PricingCache
from app.uow import UnitOfWork


async def record_sale(
    uow: UnitOfWork,
    kit: CardKit,
    cache: PricingCache,
    authorization: str | None,
    allowed: frozenset[Scope],
    request: SaleRequest,
    now: datetime,
) -> Recorded:
    """Record a sale, or answer the receipt's first response again. The caller's key is
    checked in the sale's own read (``allowed``: the scopes that may sell)."""
    key_hash = hash_api_key(presented_key(authorization))
    async with uow.ledger() as store:
        return await decide_and_apply(
            store,
            lambda: read_sale(uow, store, kit, cache, key_hash, allowed, request, now),
            lambda found: decide_sale(found[0], request, found[1], now),
        )


async def read_sale(
    uow: UnitOfWork,
    store: LedgerStore,
    kit: CardKit,
    cache: PricingCache,
    key_hash: str,
    allowed: frozenset[Scope],
    request: SaleRequest,
    now: datetime,
) -> tuple[SaleContext, SaleTerms]:
    """Everything the sale's decision needs, as of one read."""
    methods = {p.method for p in request.payments}
    codes = [p.voucher_code for p in request.payments if p.voucher_code is not None]
    found = await store.sale(
        key_hash,
        request.store_code,
        request.receipt_no,
        request.card_number,
        now,
        add_months(now, -12),
        with_lots=PaymentMethod.POINTS in methods,
        with_change=PaymentMethod.CHANGE_ACCOUNT in methods,
        vouchers=codes,
    )
    who = known(found.principal)
    assert found.time_zone is not None  # the key's tenant's, read with the key
    who.require(allowed)
    await check_digits(uow, kit, who, request.card_number)
    terms = (await cache.snapshot(uow, who.tenant_id, found.pricing_version)).sale_terms
    birthday = None
    card = found.card
    if card is not None and needs_birthday(
        terms.rules.warm, terms.settings.birthday_multiplier, request.occurred_at
    ):
        birthday = decrypt_birthday(
            kit.vault, who.tenant_id, card.member_id, found.birthday_ciphertext
        )
    vouchers = dict(found.own_vouchers)
    if card is not None and (others := [c for c in codes if c not in vouchers]):
        vouchers |= await store.vouchers(who.tenant_id, others)  # bearer vouchers of others
    context = SaleContext(
        tenant_id=who.tenant_id,
        actor=who.key_name,
        time_zone=ZoneInfo(found.time_zone),
        store_exists=found.store_exists,
        recorded=found.recorded,
        card=card,
        birthday=birthday,
        groups=found.groups,
        holdings=found.holdings,
        change_balance=found.change_balance,
        spend_12m=found.spend_12m,
        member_cards=found.member_cards,
        sale_id=found.sale_id,
        lot_ids=found.lot_ids,
        change_entry_id=found.change_entry_id,
        vouchers=vouchers,
    )
    return context, terms


async def record_return(
    uow: UnitOfWork, who: Principal, request: ReturnRequest, now: datetime
) -> Recorded:
    """Return goods of a recorded sale, or answer the return's first response again."""
    async with uow.ledger() as store:

        async def read():
            found = await store.sale_return(
                who.tenant_id, request.store_code, request.receipt_no, request.return_no, now
            )
            context = ReturnContext(
                tenant_id=who.tenant_id,
                time_zone=ZoneInfo(found.time_zone),
                sale=found.sale,
                recorded=found.recorded,
                holdings=found.holdings,
                change_balance=found.change_balance,
                return_id=found.return_id,
                lot_ids=found.lot_ids,
                on_return=found.on_return,
                earned=found.earned,
            )
            return context, found.settings

        return await decide_and_apply(
            store, read, lambda found: decide_return(found[0], request, found[1], now)
        )


# --- the tenant's limits ------------------------------------------------------------------


async def get_limits(uow: UnitOfWork, who: Principal) -> SaleLimits:
    async with uow:
        return await uow.sales.limits(who.tenant_id)


async def put_limits(uow: UnitOfWork, who: Principal, **values) -> SaleLimits:
    """Replace the limits (audited); sales use them from the next request on."""
    new = sale_limits(**values)
    async with uow:
        old = await uow.sales.limits(who.tenant_id)
        await uow.sales.put_limits(who.tenant_id, new)
        changes = changed_fields(old, new, ("max_line_amount", "max_receipt_amount"))
        await uow.audit.write(
            who.tenant_id, "sale_settings", who.tenant_id, "update", who.key_name, changes
        )
        await uow.pricing.bump_pricing_version(who.tenant_id)  # sales read them from it
        await uow.commit()
    return new
