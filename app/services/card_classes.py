"""Card classes with their change log, and the sharing groups they point to."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from app.domain.access import Principal
from app.domain.audit import Change
from app.domain.card_classes import (
    CardClass,
    ChangeAction,
    ClassTerms,
    ShareOverride,
    SharingGroup,
    changed_fields,
    check_change,
    check_class,
    check_sharing_group,
    terms_of,
)
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.pagination import Page, decode_cursor, page_of
from app.services.change_logs import logged_changes
from app.uow import UnitOfWork


def _missing(code: str) -> NotFound:
    return NotFound("card_class_not_found", "No card class with code {code_name}.", code_name=code)


def _missing_group(code: str) -> NotFound:
    return NotFound(
        "sharing_group_not_found", "No sharing group with code {code_name}.", code_name=code
    )


async def _check_references(uow: UnitOfWork, tenant_id: str, code: str, terms: ClassTerms) -> None:
    """The sharing group and upgrade class must be the tenant's own, and following
    ``upgrade_to`` from this class must never lead back to it (members would bounce)."""
    if terms.sharing_group and await uow.sharing_groups.get(tenant_id, terms.sharing_group) is None:
        raise Invalid(
            "unknown_sharing_group",
            "No sharing group with code {sharing_group}.",
            field="sharing_group",
            sharing_group=terms.sharing_group,
        )
    seen, step = {code}, terms.upgrade_to
    while step is not None and step not in seen:
        target = await uow.card_classes.get(tenant_id, step)
        if target is None:
            raise Invalid(
                "unknown_card_class",
                "No card class with code {step}.",
                field="upgrade_to",
                step=step,
            )
        seen.add(step)
        step = target.upgrade_to
    if step == code:
        raise Invalid(
            "upgrade_cycle",
            "Upgrading to {upgrade_to} would lead back to {code_name}.",
            field="upgrade_to",
            upgrade_to=terms.upgrade_to,
            code_name=code,
        )


async def create_card_class(
    uow: UnitOfWork, principal: Principal, code: str, terms: ClassTerms
) -> CardClass:
    check_class(code, terms)
    async with uow:
        await _check_references(uow, principal.tenant_id, code, terms)
        created = await uow.card_classes.add(principal.tenant_id, code, terms)
        await uow.audit.write(
            principal.tenant_id,
            "card_class",
            code,
            ChangeAction.CREATE,
            principal.key_name,
            changed_fields(None, created),
        )
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return created


async def get_card_class(uow: UnitOfWork, principal: Principal, code: str) -> CardClass:
    async with uow:
        found = await uow.card_classes.get(principal.tenant_id, code)
    if found is None:
        raise _missing(code)
    return found


async def list_card_classes(
    uow: UnitOfWork, principal: Principal, cursor: str | None, limit: int
) -> Page[CardClass]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.card_classes.list(principal.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda c: [c.code])


async def update_card_class(
    uow: UnitOfWork, principal: Principal, code: str, changes: dict
) -> CardClass:
    async with uow:
        # Locked so that no card is issued between the checks below and the commit.
        current = await uow.card_classes.get(principal.tenant_id, code, lock=True)
        if current is None:
            raise _missing(code)
        merged = replace(terms_of(current), **changes)
        check_class(code, merged)
        check_change(current, merged)
        await _check_references(uow, principal.tenant_id, code, merged)
        updated = await uow.card_classes.update(principal.tenant_id, code, changes)
        await uow.audit.write(
            principal.tenant_id,
            "card_class",
            code,
            ChangeAction.UPDATE,
            principal.key_name,
            changed_fields(current, updated),
        )
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return updated


async def delete_card_class(uow: UnitOfWork, principal: Principal, code: str) -> None:
    async with uow:
        current = await uow.card_classes.get(principal.tenant_id, code, lock=True)
        if current is None:
            raise _missing(code)
        if current.cards_issued:
            raise Conflict(
                "card_class_in_use",
                "Class {code_name} has issued {cards_issued} card(s) and cannot be deleted.",
                code_name=code,
                cards_issued=current.cards_issued,
            )
        referrers = await uow.card_classes.upgrading_to(principal.tenant_id, code)
        if referrers:
            raise Conflict(
                "card_class_referenced",
                "Classes {value} upgrade to {code_name}; change them first.",
                value=", ".join(referrers),
                code_name=code,
            )
        await uow.card_classes.delete(principal.tenant_id, code)
        await uow.audit.write(
            principal.tenant_id,
            "card_class",
            code,
            ChangeAction.DELETE,
            principal.key_name,
            changed_fields(current, None),
        )
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()


async def list_card_class_changes(
    uow: UnitOfWork, principal: Principal, code: str, cursor: str | None, limit: int
) -> Page[Change]:
    return await logged_changes(uow, principal, "card_class", code, cursor, limit, _missing(code))


async def create_sharing_group(
    uow: UnitOfWork,
    principal: Principal,
    code: str,
    name: str,
    store_share: Decimal,
    overrides: tuple[ShareOverride, ...],
) -> SharingGroup:
    check_sharing_group(code, name, store_share, overrides)
    async with uow:
        group = await uow.sharing_groups.add(
            principal.tenant_id, code, name, store_share, overrides
        )
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return group


async def get_sharing_group(uow: UnitOfWork, principal: Principal, code: str) -> SharingGroup:
    async with uow:
        group = await uow.sharing_groups.get(principal.tenant_id, code)
    if group is None:
        raise _missing_group(code)
    return group


async def list_sharing_groups(
    uow: UnitOfWork, principal: Principal, cursor: str | None, limit: int
) -> Page[SharingGroup]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.sharing_groups.list(
            principal.tenant_id, after[0] if after else None, limit
        )
    return page_of(rows, limit, lambda g: [g.code])


async def update_sharing_group(
    uow: UnitOfWork, principal: Principal, code: str, changes: dict
) -> SharingGroup:
    async with uow:
        current = await uow.sharing_groups.get(principal.tenant_id, code)
        if current is None:
            raise _missing_group(code)
        merged = replace(current, **changes)
        check_sharing_group(code, merged.name, merged.store_share, merged.overrides)
        group = await uow.sharing_groups.update(principal.tenant_id, code, changes)
        await uow.pricing.bump_pricing_version(principal.tenant_id)
        await uow.commit()
    return group
