"""Members: create, read, change, erase and find them, showing personal data only to
the scopes allowed to see it (``app.domain.members``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.crypto import Vault
from app.domain import members as rules
from app.domain.access import Principal
from app.domain.errors import Invalid, NotFound
from app.domain.members import Member
from app.domain.pagination import Page, decode_cursor, page_of
from app.repositories.members import decrypt_birthday
from app.uow import UnitOfWork


def _missing(member_id: str) -> NotFound:
    return NotFound("member_not_found", "No member with id {member_id}.", member_id=member_id)


def _view(principal: Principal, member: Member) -> Member:
    return member if rules.sees_full_profile(principal.scopes) else rules.masked(member)


async def _today(uow: UnitOfWork, principal: Principal, fields: dict) -> date | None:
    """The tenant's local date, needed only to check a birthday ("not in the future")."""
    if fields.get("birthday") is None:
        return None
    tenant = await uow.tenants.existing(principal.tenant_id)
    return datetime.now(ZoneInfo(tenant.time_zone)).date()


async def create_member(
    uow: UnitOfWork, vault: Vault, principal: Principal, fields: dict, member_id: str | None = None
) -> Member:
    """``member_id`` fixes the new member's id (the demo seed's; the API always draws one)."""
    async with uow:
        today = await _today(uow, principal, fields)
        profile = rules.new_profile(fields, today, datetime.now(UTC))
        member = await uow.members.add(principal.tenant_id, profile, vault, member_id)
        await uow.commit()
    return _view(principal, member)


async def get_member(uow: UnitOfWork, vault: Vault, principal: Principal, member_id: str) -> Member:
    async with uow:
        member = await uow.members.get(principal.tenant_id, member_id, vault)
    if member is None:
        raise _missing(member_id)
    return _view(principal, member)


async def update_member(
    uow: UnitOfWork, vault: Vault, principal: Principal, member_id: str, fields: dict
) -> Member:
    async with uow:
        member = await uow.members.get(principal.tenant_id, member_id, vault, lock=True)
        if member is None:
            raise _missing(member_id)
        today = await _today(uow, principal, fields)
        changes = rules.revision(member, fields, today, datetime.now(UTC))
        member = await uow.members.update(member, changes, vault)
        await uow.commit()
    return _view(principal, member)


async def erase_member(uow: UnitOfWork, vault: Vault, principal: Principal, member_id: str) -> None:
    """Blank the member's personal data; erasing an erased member changes nothing."""
    async with uow:
        member = await uow.members.get(principal.tenant_id, member_id, vault, lock=True)
        if member is None:
            raise _missing(member_id)
        if member.erased_at is None:
            await uow.members.update(member, rules.erasure(member, datetime.now(UTC)), vault)
            await uow.commit()


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    bad = Invalid("invalid_cursor", "The cursor is not one this API issued.", field="cursor")
    try:
        created_at, member_id = datetime.fromisoformat(key[0]), uuid.UUID(key[1])
    except (TypeError, ValueError, AttributeError):
        raise bad from None
    if created_at.tzinfo is None:
        raise bad
    return created_at, member_id


async def list_members(
    uow: UnitOfWork,
    vault: Vault,
    principal: Principal,
    *,
    phone: str | None,
    external_ref: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Member]:
    """Oldest first; every list masks the phone and omits the birthday, whatever the scope."""
    normalized = rules.normalize_phone(phone) if phone is not None else None
    after = _after(cursor)
    async with uow:
        found = await uow.members.list(
            principal.tenant_id,
            vault,
            phone=normalized,
            external_ref=external_ref,
            after=after,
            limit=limit,
        )
    page = page_of(found, limit, lambda m: [m.created_at.isoformat(), m.id])
    return Page([rules.masked(m) for m in page.items], page.next_cursor)


async def backfill_birth_years(uow: UnitOfWork, vault: Vault, batch: int = 1000) -> int:
    """Keep the birth year in clear for members whose birthday was stored before it was
    (member groups select by age); one transaction per batch. How many were filled."""
    done = 0
    while True:
        async with uow:
            found = await uow.members.birthdays_without_year(batch)
            if not found:
                return done
            await uow.members.set_birth_years(
                {
                    member: decrypt_birthday(vault, tenant, member, ciphertext).year
                    for tenant, member, ciphertext in found
                }
            )
            await uow.commit()
        done += len(found)
