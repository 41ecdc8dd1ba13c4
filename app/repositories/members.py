"""Members: the one place that encrypts and decrypts their personal fields.

Methods take the Vault so that plaintext exists only in domain objects and ciphertext only
in rows. Each ciphertext is bound to its tenant, member and field.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import date, datetime
from typing import overload

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.crypto import Vault
from app.domain.members import Consent, Gender, Member
from app.models import MemberRefRow, MemberRow
from app.repositories.tenancy import as_uuid


def _context(row: MemberRow, field: str) -> str:
    return f"{row.tenant_id}/{row.id}/{field}"


@overload
def decrypt_birthday(vault: Vault, tenant_id: str, member_id: str, ciphertext: bytes) -> date: ...
@overload
def decrypt_birthday(
    vault: Vault, tenant_id: str, member_id: str, ciphertext: bytes | None
) -> date | None: ...
def decrypt_birthday(
    vault: Vault, tenant_id: str, member_id: str, ciphertext: bytes | None
) -> date | None:
    """A member's birthday from its ciphertext (read by a query of its own)."""
    if ciphertext is None:
        return None
    return date.fromisoformat(vault.decrypt(ciphertext, f"{tenant_id}/{member_id}/birthday"))


def _member(row: MemberRow, vault: Vault) -> Member:
    phone = None
    if row.phone_ciphertext is not None:
        phone = vault.decrypt(row.phone_ciphertext, _context(row, "phone"))
    birthday = decrypt_birthday(vault, str(row.tenant_id), str(row.id), row.birthday_ciphertext)
    return Member(
        id=str(row.id),
        tenant_id=str(row.tenant_id),
        external_ref=row.external_ref,
        name=row.name,
        phone=phone,
        birthday=birthday,
        gender=Gender(row.gender),
        region=row.region,
        occupation=row.occupation,
        source_channel=row.source_channel,
        tags=tuple(row.tags),
        consent=Consent(row.consent_marketing, row.consent_updated_at),
        created_at=row.created_at,
        updated_at=row.updated_at,
        erased_at=row.erased_at,
    )


def _write(row: MemberRow, fields: dict, vault: Vault) -> None:
    """Set domain-named fields on the row, sealing the personal ones."""
    for name, value in fields.items():
        if name == "phone":
            row.phone_ciphertext = vault.encrypt(value, _context(row, "phone")) if value else None
            row.phone_hash = vault.phone_hash(str(row.tenant_id), value) if value else None
        elif name == "birthday":
            row.birthday_ciphertext = (
                vault.encrypt(value.isoformat(), _context(row, "birthday")) if value else None
            )
            row.birth_year = value.year if value else None  # age criteria of member groups
        elif name == "consent":
            row.consent_marketing, row.consent_updated_at = value.marketing, value.updated_at
        elif name == "tags":
            row.tags = list(value)
        else:
            setattr(row, name, value)


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, tenant_id: str, fields: dict, vault: Vault, member_id: str | None = None
    ) -> Member:
        row = MemberRow(
            id=uuid.UUID(member_id) if member_id else uuid.uuid4(), tenant_id=uuid.UUID(tenant_id)
        )
        _write(row, fields, vault)
        self.session.add(row)
        await self.session.flush()
        await self._claim_ref(row, None)
        await self.session.refresh(row)
        return _member(row, vault)

    async def _claim_ref(self, row: MemberRow, before: str | None) -> None:
        """Keep member_refs, which holds the external references' uniqueness, in step with
        the member's (a reference taken: member_exists)."""
        if row.external_ref == before:
            return
        if before is not None:
            await self.session.execute(
                delete(MemberRefRow).where(
                    MemberRefRow.tenant_id == row.tenant_id, MemberRefRow.external_ref == before
                )
            )
        if row.external_ref is not None:
            self.session.add(
                MemberRefRow(
                    tenant_id=row.tenant_id, external_ref=row.external_ref, member_id=row.id
                )
            )
        await self.session.flush()

    async def _row(self, tenant_id: str, member_id: str, lock: bool) -> MemberRow | None:
        mid = as_uuid(member_id)
        if mid is None:
            return None
        query = select(MemberRow).where(
            MemberRow.tenant_id == uuid.UUID(tenant_id), MemberRow.id == mid
        )
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def get(
        self, tenant_id: str, member_id: str, vault: Vault, *, lock: bool = False
    ) -> Member | None:
        """``lock``: hold the row until commit, so a change is decided on its current state."""
        row = await self._row(tenant_id, member_id, lock)
        return _member(row, vault) if row else None

    async def update(self, member: Member, fields: dict, vault: Vault) -> Member:
        """Change a member loaded with ``lock=True`` in this unit of work."""
        row = await self.session.get_one(MemberRow, uuid.UUID(member.id))  # the identity map's
        before = row.external_ref
        _write(row, fields, vault)
        await self.session.flush()
        await self._claim_ref(row, before)
        await self.session.refresh(row)
        return _member(row, vault)

    async def list(
        self,
        tenant_id: str,
        vault: Vault,
        *,
        phone: str | None,
        external_ref: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Member]:
        """Oldest first, by (created_at, id)."""
        query = select(MemberRow).where(MemberRow.tenant_id == uuid.UUID(tenant_id))
        if phone is not None:
            query = query.where(MemberRow.phone_hash == vault.phone_hash(tenant_id, phone))
        if external_ref is not None:
            query = query.where(
                MemberRow.id.in_(
                    select(MemberRefRow.member_id).where(
                        MemberRefRow.tenant_id == uuid.UUID(tenant_id),
                        MemberRefRow.external_ref == external_ref,
                    )
                )
            )
        if after is not None:
            query = query.where(tuple_(MemberRow.created_at, MemberRow.id) > after)
        query = query.order_by(MemberRow.created_at, MemberRow.id).limit(limit + 1)
        return [_member(r, vault) for r in await self.session.scalars(query)]

    async def birthdays_without_year(self, limit: int) -> builtins.list[tuple[str, str, bytes]]:
        """(tenant id, member id, birthday ciphertext) of members stored before birth years
        were kept in clear (migration 202611232010)."""
        m = MemberRow
        rows = await self.session.execute(
            select(m.tenant_id, m.id, m.birthday_ciphertext)
            .where(m.birthday_ciphertext.is_not(None), m.birth_year.is_(None))
            .limit(limit)
        )
        return [(str(t), str(i), c) for t, i, c in rows]

    async def set_birth_years(self, years: dict[str, int]) -> None:
        for member_id, year in years.items():
            await self.session.execute(
                update(MemberRow)
                .where(MemberRow.id == uuid.UUID(member_id))
                .values(birth_year=year)
                .execution_options(synchronize_session=False)
            )
