"""Vouchers one at a time (docs/domain §12): issue one to a member, read one by its code, a
member's list, void one; and the daily expiry, set-based.

A code is canonicalised (app/domain/voucher_codes.py) by the caller before any of these runs,
so a mistyped code never reaches the database."""

from __future__ import annotations

from datetime import datetime

from app.domain.access import Principal
from app.domain.audit import Change, FieldChange
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.pagination import Page, id_cursor, id_page, page_of, time_code_cursor
from app.domain.voucher_codes import new_code
from app.domain.voucher_states import VoucherRecord, check_issue, holder_of, not_found, refuse_void
from app.domain.vouchers import NewVoucher, Source, Status, validity
from app.uow import UnitOfWork

SUBJECT = "voucher"


async def _holder(
    uow: UnitOfWork, who: Principal, member_id: str | None, card_number: str | None
) -> str:
    card_holder = (
        await uow.vouchers.card_holder(who.tenant_id, card_number)
        if card_number is not None
        else None
    )
    return holder_of(member_id, card_number, card_holder)


def _no_member(member_id: str, by_card: bool) -> Invalid:
    """The member named (or the card's holder) does not exist."""
    return Invalid(
        "member_not_found",
        "No member with id {member_id}.",
        field="card_number" if by_card else "member_id",
        member_id=member_id,
    )


async def issue_voucher(
    uow: UnitOfWork,
    who: Principal,
    *,
    template: str,
    member_id: str | None,
    card_number: str | None,
    reason: str | None,
    reference: str | None,
    now: datetime,
) -> VoucherRecord:
    """Inner (run_once holds the transaction): one voucher of ``template`` to the member."""
    tenant = who.tenant_id
    holder = await _holder(uow, who, member_id, card_number)
    # Shared lock: a template delete waits for this issue, then sees its voucher.
    found = await uow.vouchers.template(tenant, template, lock="share")
    if found is None:
        raise Invalid(
            "voucher_template_not_found",
            "No voucher template {code_name}.",
            field="template",
            code_name=template,
        )
    erased = await uow.vouchers.member_erased(tenant, holder, lock=True)
    if erased is None:
        raise _no_member(holder, card_number is not None)
    if erased:
        raise Conflict("member_erased", "This member's personal data has been erased.")
    held = await uow.vouchers.held(tenant, holder, found.code) if found.per_member_limit else 0
    valid_from, valid_to = validity(found, now)
    check_issue(found, held, valid_to, now)
    code = new_code()
    await uow.vouchers.issue(
        tenant,
        [
            NewVoucher(
                code=code,
                template=found.code,
                holder=holder,
                valid_from=valid_from,
                valid_to=valid_to,
                source=Source.MANUAL,
                source_ref=reference,
            )
        ],
    )
    # Who issued it and why (a complaint's compensation, a welcome gift).
    logged = [FieldChange("status", None, Status.ISSUED.value)]
    if reason is not None:
        logged.append(FieldChange("reason", None, reason))
    await uow.audit.write(tenant, SUBJECT, code, "issue", who.key_name, logged)
    issued = await uow.vouchers.get(tenant, code)
    assert issued is not None  # written just now
    return issued


async def get_voucher(uow: UnitOfWork, who: Principal, code: str) -> VoucherRecord:
    async with uow:
        found = await uow.vouchers.get(who.tenant_id, code)
    if found is None:
        raise not_found(code)
    return found


async def list_vouchers(
    uow: UnitOfWork,
    who: Principal,
    *,
    member_id: str | None,
    card_number: str | None,
    status: Status | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> Page[VoucherRecord]:
    before = time_code_cursor(cursor)
    async with uow:
        holder = await _holder(uow, who, member_id, card_number)
        if await uow.vouchers.member_erased(who.tenant_id, holder) is None:
            raise NotFound("member_not_found", "No member with id {member_id}.", member_id=holder)
        rows = await uow.vouchers.list_for_member(who.tenant_id, holder, status, now, before, limit)
    return page_of(rows, limit, lambda v: [v.issued_at.isoformat(), v.code])


async def void_voucher(
    uow: UnitOfWork, who: Principal, code: str, reason: str, now: datetime
) -> VoucherRecord:
    """Inner (run_once holds the transaction): issued → voided, or why not."""
    voided = await uow.vouchers.void(who.tenant_id, code, reason, now)
    if voided is None:
        found = await uow.vouchers.get(who.tenant_id, code)
        if found is None:
            raise not_found(code)
        raise refuse_void(found, now)
    await uow.audit.write(
        who.tenant_id,
        SUBJECT,
        code,
        "void",
        who.key_name,
        [
            FieldChange("status", Status.ISSUED.value, Status.VOIDED.value),
            FieldChange("reason", None, reason),
        ],
    )
    return voided


async def list_voucher_changes(
    uow: UnitOfWork, who: Principal, code: str, cursor: str | None, limit: int
) -> Page[Change]:
    """Who issued or voided the voucher, when and why; newest first. A voucher issued by a
    campaign, a sale or a reward has no entries (its source says where it came from)."""
    before = id_cursor(cursor)
    async with uow:
        if await uow.vouchers.get(who.tenant_id, code) is None:
            raise not_found(code)
        rows = await uow.audit.read(who.tenant_id, SUBJECT, code, before, limit)
    return id_page(rows, limit)


async def expire_vouchers(uow: UnitOfWork, who: Principal, now: datetime) -> dict:
    """Inner (the scheduler, or the endpoint, commits): issued vouchers past their validity
    become expired, in one statement."""
    return {"vouchers": await uow.vouchers.expire_due(who.tenant_id, now)}
