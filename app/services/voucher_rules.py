"""返券 rules (docs/domain §12): a tenant's rules that make a sale earn vouchers.

Every change bumps the tenant's pricing version in its own transaction: the sale reads the
active rules (``uow.vouchers.rules``) into the pricing snapshot it caches by that
version, so every worker applies a change from its next sale on.
"""

from __future__ import annotations

from dataclasses import fields, replace

from app.domain.access import Principal
from app.domain.audit import Change
from app.domain.errors import Conflict, NotFound
from app.domain.pagination import Page, decode_cursor, page_of
from app.domain.voucher_rules import StoredVoucherRule, VoucherRuleTerms, check_voucher_rule
from app.domain.voucher_terms import changed_terms
from app.services.change_logs import logged_changes
from app.uow import UnitOfWork

SUBJECT = "voucher_rule"
TERMS = tuple(f.name for f in fields(VoucherRuleTerms))


def _not_found(code: str) -> NotFound:
    return NotFound("voucher_rule_not_found", "No voucher rule {rule}.", rule=code)


async def _get(
    uow: UnitOfWork, who: Principal, code: str, *, lock: bool = False
) -> StoredVoucherRule:
    found = await uow.voucher_rules.get(who.tenant_id, code, lock=lock)
    if found is None:
        raise _not_found(code)
    return found


async def _check(uow: UnitOfWork, who: Principal, terms: VoucherRuleTerms) -> None:
    known = await uow.voucher_rules.references(
        who.tenant_id,
        templates=[terms.template],
        card_classes=terms.card_classes,
        stores=terms.stores,
    )
    check_voucher_rule(terms, known)


async def _log(
    uow: UnitOfWork,
    who: Principal,
    action: str,
    code: str,
    before: StoredVoucherRule | None,
    after: StoredVoucherRule | None,
) -> None:
    changes = changed_terms(before, after, VoucherRuleTerms)
    await uow.audit.write(who.tenant_id, SUBJECT, code, action, who.key_name, changes)


async def create_voucher_rule(
    uow: UnitOfWork, who: Principal, terms: VoucherRuleTerms
) -> StoredVoucherRule:
    async with uow:
        await _check(uow, who, terms)
        created = await uow.voucher_rules.add(who.tenant_id, terms)
        if created is None:
            raise Conflict(
                "voucher_rule_exists",
                "A voucher rule {rule} exists already.",
                field="code",
                rule=terms.code,
            )
        await _log(uow, who, "create", terms.code, None, created)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return created


async def get_voucher_rule(uow: UnitOfWork, who: Principal, code: str) -> StoredVoucherRule:
    async with uow:
        return await _get(uow, who, code)


async def list_voucher_rules(
    uow: UnitOfWork, who: Principal, active: bool | None, cursor: str | None, limit: int
) -> Page[StoredVoucherRule]:
    after = decode_cursor(cursor, 1, (str,))
    async with uow:
        rows = await uow.voucher_rules.list(
            who.tenant_id, after[0] if after else None, limit, active
        )
    return page_of(rows, limit, lambda r: [r.code])


async def update_voucher_rule(
    uow: UnitOfWork, who: Principal, code: str, changes: dict
) -> StoredVoucherRule:
    """Change any terms but the code (``active: false`` pauses the rule); checked whole. A
    change that changes nothing writes nothing (and leaves the pricing version)."""
    async with uow:
        current = await _get(uow, who, code, lock=True)
        merged = replace(
            VoucherRuleTerms(**{name: getattr(current, name) for name in TERMS}), **changes
        )
        await _check(uow, who, merged)
        if not changed_terms(current, merged, VoucherRuleTerms):
            return current
        updated = await uow.voucher_rules.save(who.tenant_id, merged)
        await _log(uow, who, "update", code, current, updated)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return updated


async def delete_voucher_rule(uow: UnitOfWork, who: Principal, code: str) -> None:
    """Vouchers the rule already earned stay as they are."""
    async with uow:
        current = await _get(uow, who, code, lock=True)
        await uow.voucher_rules.delete(who.tenant_id, code)
        await _log(uow, who, "delete", code, current, None)
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()


async def list_voucher_rule_changes(
    uow: UnitOfWork, who: Principal, code: str, cursor: str | None, limit: int
) -> Page[Change]:
    return await logged_changes(uow, who, SUBJECT, code, cursor, limit, _not_found(code))
