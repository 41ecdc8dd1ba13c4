"""Rule documents: discount rules (折扣规则单) and points rules (积分规则), one life cycle —
drafts, approval, voiding and their change log. Every function takes the document ``kind``
(default ``discount``); a document is only ever found under its own kind.

Approving or voiding bumps the tenant's pricing version in the same transaction, so every
worker prices (and previews points) with the change from its next quote on.
"""

from __future__ import annotations

from dataclasses import replace

from app.domain.access import Principal
from app.domain.audit import Change
from app.domain.discount_rules import (
    DiscountRule,
    RuleAction,
    RuleKind,
    RuleLine,
    RuleStatus,
    RuleSummary,
    RuleTerms,
    approve,
    changed_fields,
    check_editable,
    check_terms,
    parse_rule_id,
    terms_of,
    void,
)
from app.domain.errors import FieldError, Invalid, NotFound
from app.domain.pagination import Page, id_cursor, id_page
from app.domain.pricing import Level
from app.uow import UnitOfWork

DISCOUNT = RuleKind.DISCOUNT


def _missing(rule_id: str, kind: RuleKind) -> NotFound:
    return NotFound(
        "rule_not_found", "No {kind} rule with id {rule_id}.", kind=kind.value, rule_id=rule_id
    )


def _entity(kind: RuleKind) -> str:
    """The change log's entity type: ``discount_rule`` or ``points_rule``."""
    return f"{kind.value}_rule"


async def _check_classes(uow: UnitOfWork, tenant_id: str, entries: tuple[RuleLine, ...]) -> None:
    """Every entry names a class of the tenant (checked here: a foreign key would stop
    classes named by old documents from being deleted)."""
    known = await uow.discount_rules.existing_classes(tenant_id, {e.card_class for e in entries})
    unknown = [
        FieldError(
            f"entries[{i}].card_class",
            "no card class with code {card_class}",
            card_class=e.card_class,
        )
        for i, e in enumerate(entries)
        if e.card_class not in known
    ]
    if unknown:
        codes = sorted({e.card_class for e in entries} - known)
        raise Invalid(
            "unknown_card_class",
            "No card class with code {value}.",
            errors=unknown,
            value=", ".join(codes),
        )


async def _locked(
    uow: UnitOfWork, principal: Principal, rule_id: str, kind: RuleKind
) -> DiscountRule:
    """The document, locked until commit so concurrent changes to it queue."""
    found = None
    if (key := parse_rule_id(rule_id)) is not None:
        found = await uow.discount_rules.get(principal.tenant_id, key, lock=True, kind=kind)
    if found is None:
        raise _missing(rule_id, kind)
    return found


async def _log(
    uow: UnitOfWork,
    principal: Principal,
    action: RuleAction,
    before: DiscountRule,
    after: DiscountRule,
) -> None:
    await uow.audit.write(
        principal.tenant_id,
        _entity(after.kind),
        str(after.id),
        action,
        principal.key_name,
        changed_fields(before, after),
    )


async def create_discount_rule(
    uow: UnitOfWork, principal: Principal, terms: RuleTerms, kind: RuleKind = DISCOUNT
) -> DiscountRule:
    check_terms(terms, kind)
    async with uow:
        await _check_classes(uow, principal.tenant_id, terms.entries)
        created = await uow.discount_rules.add(principal.tenant_id, terms, kind)
        await uow.audit.write(
            principal.tenant_id,
            _entity(kind),
            str(created.id),
            RuleAction.CREATE,
            principal.key_name,
            changed_fields(None, created),
        )
        await uow.commit()
    return created


async def get_discount_rule(
    uow: UnitOfWork, principal: Principal, rule_id: str, kind: RuleKind = DISCOUNT
) -> DiscountRule:
    found = None
    async with uow:
        if (key := parse_rule_id(rule_id)) is not None:
            found = await uow.discount_rules.get(principal.tenant_id, key, kind=kind)
    if found is None:
        raise _missing(rule_id, kind)
    return found


async def list_discount_rules(
    uow: UnitOfWork,
    principal: Principal,
    *,
    status: RuleStatus | None,
    level: Level | None,
    card_class: str | None,
    target: str | None,
    cursor: str | None,
    limit: int,
    kind: RuleKind = DISCOUNT,
) -> Page[RuleSummary]:
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.discount_rules.list(
            principal.tenant_id,
            status=status,
            level=level,
            card_class=card_class,
            target=target,
            before=before,
            limit=limit,
            kind=kind,
        )
    return id_page(rows, limit)


async def update_discount_rule(
    uow: UnitOfWork, principal: Principal, rule_id: str, changes: dict, kind: RuleKind = DISCOUNT
) -> DiscountRule:
    async with uow:
        current = await _locked(uow, principal, rule_id, kind)
        check_editable(current)
        merged = replace(terms_of(current), **changes)
        check_terms(merged, kind)
        if "entries" in changes:
            await _check_classes(uow, principal.tenant_id, merged.entries)
        updated = await uow.discount_rules.save(
            replace(current, **changes), entries="entries" in changes
        )
        await _log(uow, principal, RuleAction.UPDATE, current, updated)
        await uow.commit()
    return updated


async def approve_discount_rule(
    uow: UnitOfWork, principal: Principal, rule_id: str, kind: RuleKind = DISCOUNT
) -> DiscountRule:
    async with uow:
        current = await _locked(uow, principal, rule_id, kind)
        approved = await uow.discount_rules.save(approve(current, await uow.discount_rules.now()))
        await _log(uow, principal, RuleAction.APPROVE, current, approved)
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return approved


async def void_discount_rule(
    uow: UnitOfWork, principal: Principal, rule_id: str, kind: RuleKind = DISCOUNT
) -> DiscountRule:
    async with uow:
        current = await _locked(uow, principal, rule_id, kind)
        voided = await uow.discount_rules.save(void(current, await uow.discount_rules.now()))
        await _log(uow, principal, RuleAction.VOID, current, voided)
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return voided


async def list_discount_rule_changes(
    uow: UnitOfWork,
    principal: Principal,
    rule_id: str,
    cursor: str | None,
    limit: int,
    kind: RuleKind = DISCOUNT,
) -> Page[Change]:
    """Newest first."""
    before = id_cursor(cursor)
    async with uow:
        key = parse_rule_id(rule_id)
        if key is None or not await uow.discount_rules.exists(principal.tenant_id, key, kind):
            raise _missing(rule_id, kind)
        rows = await uow.audit.read(principal.tenant_id, _entity(kind), str(key), before, limit)
    return id_page(rows, limit)
