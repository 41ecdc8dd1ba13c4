"""Voucher templates with their change log (docs/domain §12). Every change bumps the pricing
version in its own transaction: the checkout caches templates keyed by that version."""

from __future__ import annotations

from app.domain.access import Principal
from app.domain.audit import Change
from app.domain.card_classes import ChangeAction
from app.domain.errors import NotFound
from app.domain.pagination import Page, decode_cursor, page_of
from app.domain.voucher_templates import (
    TemplateRecord,
    changed_fields,
    check_change,
    patched,
    refuse_delete,
    template_terms,
)
from app.domain.vouchers import Template
from app.services.change_logs import logged_changes
from app.uow import UnitOfWork

SUBJECT = "voucher_template"


def missing(code: str) -> NotFound:
    return NotFound(
        "voucher_template_not_found", "No voucher template {code_name}.", code_name=code
    )


async def create_template(uow: UnitOfWork, who: Principal, template: Template) -> TemplateRecord:
    async with uow:
        known = await uow.vouchers.references(who.tenant_id, template)
        template_terms(template, known)
        created = await uow.vouchers.add_template(who.tenant_id, template)
        await uow.audit.write(
            who.tenant_id,
            SUBJECT,
            template.code,
            ChangeAction.CREATE,
            who.key_name,
            changed_fields(None, created),
        )
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return created


async def get_template(uow: UnitOfWork, who: Principal, code: str) -> TemplateRecord:
    async with uow:
        found = await uow.vouchers.template(who.tenant_id, code)
    if found is None:
        raise missing(code)
    return found


async def list_templates(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[TemplateRecord]:
    after = decode_cursor(cursor, 1)
    async with uow:
        rows = await uow.vouchers.list_templates(who.tenant_id, after[0] if after else None, limit)
    return page_of(rows, limit, lambda t: [t.code])


async def update_template(
    uow: UnitOfWork, who: Principal, code: str, changes: dict
) -> TemplateRecord:
    """``changes``: the fields a PATCH sent (app.domain.voucher_templates.patched); the
    result is judged whole."""
    async with uow:
        # Locked: no voucher is issued between the in-use check and the commit.
        current = await uow.vouchers.template(who.tenant_id, code, lock="update")
        if current is None:
            raise missing(code)
        merged = patched(current, changes)
        known = await uow.vouchers.references(who.tenant_id, merged)
        template_terms(merged, known)
        check_change(current, merged, await uow.vouchers.template_in_use(who.tenant_id, code))
        updated = await uow.vouchers.update_template(who.tenant_id, merged)
        await uow.audit.write(
            who.tenant_id,
            SUBJECT,
            code,
            ChangeAction.UPDATE,
            who.key_name,
            changed_fields(current, updated),
        )
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()
    return updated


async def delete_template(uow: UnitOfWork, who: Principal, code: str) -> None:
    async with uow:
        current = await uow.vouchers.template(who.tenant_id, code, lock="update")
        if current is None:
            raise missing(code)
        refuse_delete(code, await uow.vouchers.template_in_use(who.tenant_id, code))
        await uow.vouchers.delete_template(who.tenant_id, code)
        await uow.audit.write(
            who.tenant_id,
            SUBJECT,
            code,
            ChangeAction.DELETE,
            who.key_name,
            changed_fields(current, None),
        )
        await uow.pricing.bump_pricing_version(who.tenant_id)
        await uow.commit()


async def list_template_changes(
    uow: UnitOfWork, who: Principal, code: str, cursor: str | None, limit: int
) -> Page[Change]:
    return await logged_changes(uow, who, SUBJECT, code, cursor, limit, missing(code))
