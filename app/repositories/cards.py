from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.card_lifecycle import Attempts, Card, CardStatus
from app.domain.cards import CardNumberFormat
from app.models import CardClassRow, CardEventRow, CardNumberRow, CardRow
from app.repositories.card_numbers import CARD_MEMBERS
from app.repositories.paging import newest_first_in_time
from app.repositories.tenancy import as_uuid


@dataclass(frozen=True)
class AllocatedSerial:
    serial: int
    format: CardNumberFormat
    validity_months: int | None
    verification: str


@dataclass(frozen=True)
class CardEvent:
    id: int
    kind: str
    from_value: str | None
    to_value: str
    reason: str
    actor: str
    at: datetime


def _card(row: CardRow) -> Card:
    return Card(
        tenant_id=str(row.tenant_id),
        number=row.number,
        card_class=row.class_code,
        store_code=row.store_code,
        serial=row.serial,
        member_id=str(row.member_id),
        status=CardStatus(row.status),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        replaced_by=row.replaced_by,
        verification_hash=row.verification_hash,
        failed_attempts=row.failed_attempts,
        first_failed_at=row.first_failed_at,
        locked_until=row.locked_until,
    )


def _format(prefix: str, serial_length: int, check: int, suffix: str) -> CardNumberFormat:
    return CardNumberFormat(
        prefix=prefix, serial_length=serial_length, check_digit_length=check, suffix=suffix
    )


class CardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def allocate_serial(self, tenant_id: str, class_code: str) -> AllocatedSerial | None:
        """Take the class's next serial. The row lock this UPDATE holds until commit makes
        concurrent issues queue up, and a rolled-back issue gives its serial back: no gaps,
        no reuse. None when the range is exhausted (or the class is unknown)."""
        c = CardClassRow
        row = (
            await self.session.execute(
                update(c)
                .where(
                    c.tenant_id == uuid.UUID(tenant_id),
                    c.code == class_code,
                    c.next_serial <= c.serial_end,
                )
                .values(next_serial=c.next_serial + 1)
                .returning(
                    c.next_serial - 1,
                    c.prefix,
                    c.serial_length,
                    c.check_digit_length,
                    c.suffix,
                    c.validity_months,
                    c.verification,
                )
            )
        ).one_or_none()
        if row is None:
            return None
        serial, prefix, length, check, suffix, validity, verification = row
        return AllocatedSerial(
            serial, _format(prefix, length, check, suffix), validity, verification
        )

    async def number_checks(self, tenant_id: str) -> set[tuple[str, int]]:
        """The distinct (suffix, check-digit length) pairs of the tenant's classes: enough to
        tell a mistyped number before looking it up."""
        c = CardClassRow
        rows = await self.session.execute(
            select(c.suffix, c.check_digit_length).where(c.tenant_id == uuid.UUID(tenant_id))
        )
        return {(suffix, length) for suffix, length in rows}

    async def add(
        self,
        tenant_id: str,
        number: str,
        class_code: str,
        store_code: str,
        serial: int,
        member_id: str,
        verification_hash: str | None,
        issued_at: datetime,
        expires_at: datetime | None,
    ) -> Card:
        # The number's claim first: a number taken fails here (card_number_taken).
        self.session.add(
            CardNumberRow(
                tenant_id=uuid.UUID(tenant_id), number=number, member_id=uuid.UUID(member_id)
            )
        )
        await self.session.flush()
        row = CardRow(
            tenant_id=uuid.UUID(tenant_id),
            number=number,
            class_code=class_code,
            store_code=store_code,
            serial=serial,
            member_id=uuid.UUID(member_id),
            status=CardStatus.ACTIVE.value,
            verification_hash=verification_hash,
            issued_at=issued_at,
            expires_at=expires_at,
            failed_attempts=0,
        )
        self.session.add(row)
        await self.session.flush()
        return _card(row)

    async def _member(self, tenant_id: str, number: str) -> uuid.UUID | None:
        """The card's member (app/repositories/card_numbers.py): every statement on the card
        names it."""
        tenant = uuid.UUID(tenant_id)
        return await CARD_MEMBERS.lookup(
            (tenant, number),
            lambda: self.session.scalar(
                select(CardNumberRow.member_id).where(
                    CardNumberRow.tenant_id == tenant, CardNumberRow.number == number
                )
            ),
        )

    async def _the_card(self, tenant_id: str, number: str):
        """The card's rows by their whole key (a card that does not exist: none)."""
        member = await self._member(tenant_id, number)
        return (
            CardRow.tenant_id == uuid.UUID(tenant_id),
            CardRow.member_id == member,
            CardRow.number == number,
        )

    async def get(self, tenant_id: str, number: str, *, for_update: bool = False) -> Card | None:
        query = select(CardRow).where(*await self._the_card(tenant_id, number))
        if for_update:
            query = query.with_for_update()
        row = await self.session.scalar(query)
        return _card(row) if row else None

    async def list(
        self, tenant_id: str, member_id: str | None, after: str | None, limit: int
    ) -> list[Card]:
        query = select(CardRow).where(CardRow.tenant_id == uuid.UUID(tenant_id))
        if member_id is not None:
            member = as_uuid(member_id)
            if member is None:
                return []
            query = query.where(CardRow.member_id == member)
        if after is not None:
            query = query.where(CardRow.number > after)
        rows = await self.session.scalars(query.order_by(CardRow.number).limit(limit + 1))
        return [_card(r) for r in rows]

    async def update(self, tenant_id: str, number: str, **values) -> Card:
        updated = await self.session.execute(
            update(CardRow)
            .where(*await self._the_card(tenant_id, number))
            .values(**values)
            .returning(CardRow)
        )
        return _card(updated.scalar_one())  # the caller locked the card

    async def set_attempts(self, tenant_id: str, number: str, attempts: Attempts) -> None:
        await self.update(
            tenant_id,
            number,
            failed_attempts=attempts.failed_attempts,
            first_failed_at=attempts.first_failed_at,
            locked_until=attempts.locked_until,
        )

    async def add_event(
        self,
        tenant_id: str,
        member_id: str,
        number: str,
        kind: str,
        from_value: str | None,
        to_value: str,
        reason: str,
        actor: str,
    ) -> None:
        self.session.add(
            CardEventRow(
                tenant_id=uuid.UUID(tenant_id),
                member_id=uuid.UUID(member_id),
                card_number=number,
                kind=kind,
                from_value=from_value,
                to_value=to_value,
                reason=reason,
                actor=actor,
            )
        )
        await self.session.flush()

    async def events(
        self, tenant_id: str, number: str, before: tuple[datetime, int] | None, limit: int
    ) -> builtins.list[CardEvent]:
        query = select(CardEventRow).where(
            CardEventRow.tenant_id == uuid.UUID(tenant_id),
            CardEventRow.member_id == await self._member(tenant_id, number),
            CardEventRow.card_number == number,
        )
        rows = await self.session.scalars(
            newest_first_in_time(query, CardEventRow.at, CardEventRow.id, before, limit)
        )
        return [
            CardEvent(r.id, r.kind, r.from_value, r.to_value, r.reason, r.actor, r.at) for r in rows
        ]
