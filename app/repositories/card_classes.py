from __future__ import annotations

import builtins
import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.card_classes import (
    TERM_FIELDS,
    CardClass,
    ClassTerms,
    OverrideLevel,
    ShareOverride,
    SharingGroup,
    Usage,
    Verification,
)
from app.models import CardClassRow, SharingGroupRow


def _plain(value: Decimal) -> Decimal:
    """Drop the column's trailing zeros: a rate set as "0.1" reads back as "0.1", not "0.1000"."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent  # a letter for NaN, which is kept as it is
    return (
        normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal
    )  # 1E+1: 10


RATE_COLUMNS = (
    "default_points_rate",
    "identity_points_multiple",
    "default_discount_rate",
    "stack_threshold_rate",
    "stack_rate",
)


def _class(row: CardClassRow) -> CardClass:
    values = {name: getattr(row, name) for name in TERM_FIELDS}
    values.update({name: _plain(values[name]) for name in RATE_COLUMNS})
    values.update(usage=Usage(row.usage), verification=Verification(row.verification))
    return CardClass(
        **values,
        tenant_id=str(row.tenant_id),
        code=row.code,
        next_serial=row.next_serial,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _group(row: SharingGroupRow) -> SharingGroup:
    return SharingGroup(
        tenant_id=str(row.tenant_id),
        code=row.code,
        name=row.name,
        store_share=_plain(row.store_share),
        overrides=tuple(
            ShareOverride(OverrideLevel(o["level"]), o["code"], _plain(Decimal(o["store_share"])))
            for o in row.overrides
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _overrides_json(overrides: tuple[ShareOverride, ...]) -> list[dict]:
    return [
        {"level": o.level.value, "code": o.code, "store_share": format(o.store_share, "f")}
        for o in overrides
    ]


def _columns(terms: dict) -> dict:
    """Domain values as column values (enums as their text)."""
    return {k: v.value if isinstance(v, (Usage, Verification)) else v for k, v in terms.items()}


class CardClassRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, tenant_id: str, code: str, terms: ClassTerms) -> CardClass:
        values = _columns({name: getattr(terms, name) for name in TERM_FIELDS})
        row = CardClassRow(
            tenant_id=uuid.UUID(tenant_id), code=code, next_serial=terms.serial_start, **values
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _class(row)

    async def _row(self, tenant_id: str, code: str, lock: bool = False) -> CardClassRow | None:
        # populate_existing: a locked read must see the row as it is now, not as cached.
        return await self.session.get(
            CardClassRow,
            (uuid.UUID(tenant_id), code),
            with_for_update=lock or None,
            populate_existing=lock,
        )

    async def get(self, tenant_id: str, code: str, *, lock: bool = False) -> CardClass | None:
        """``lock``: hold the row until commit, so no card is issued from it meanwhile."""
        row = await self._row(tenant_id, code, lock)
        return _class(row) if row else None

    async def list(self, tenant_id: str, after: str | None, limit: int) -> list[CardClass]:
        query = select(CardClassRow).where(CardClassRow.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            query = query.where(CardClassRow.code > after)
        rows = await self.session.scalars(query.order_by(CardClassRow.code).limit(limit + 1))
        return [_class(r) for r in rows]

    async def all(self, tenant_id: str) -> builtins.list[CardClass]:
        rows = await self.session.scalars(
            select(CardClassRow).where(CardClassRow.tenant_id == uuid.UUID(tenant_id))
        )
        return [_class(r) for r in rows]

    async def update(self, tenant_id: str, code: str, changes: dict) -> CardClass:
        """Change a class the caller read in this unit of work."""
        row = await self._row(tenant_id, code)
        assert row is not None  # from the identity map
        for field, value in _columns(changes).items():
            setattr(row, field, value)
        await self.session.flush()
        await self.session.refresh(row)
        return _class(row)

    async def delete(self, tenant_id: str, code: str) -> None:
        row = await self._row(tenant_id, code)
        if row is not None:
            await self.session.delete(row)
            await self.session.flush()

    async def upgrading_to(self, tenant_id: str, code: str) -> builtins.list[str]:
        """Codes of the classes whose ``upgrade_to`` names ``code``."""
        rows = await self.session.scalars(
            select(CardClassRow.code)
            .where(CardClassRow.tenant_id == uuid.UUID(tenant_id), CardClassRow.upgrade_to == code)
            .order_by(CardClassRow.code)
        )
        return list(rows)


class SharingGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        tenant_id: str,
        code: str,
        name: str,
        store_share: Decimal,
        overrides: tuple[ShareOverride, ...],
    ) -> SharingGroup:
        row = SharingGroupRow(
            tenant_id=uuid.UUID(tenant_id),
            code=code,
            name=name,
            store_share=store_share,
            overrides=_overrides_json(overrides),
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _group(row)

    async def _row(self, tenant_id: str, code: str) -> SharingGroupRow | None:
        return await self.session.get(SharingGroupRow, (uuid.UUID(tenant_id), code))

    async def get(self, tenant_id: str, code: str) -> SharingGroup | None:
        row = await self._row(tenant_id, code)
        return _group(row) if row else None

    async def list(self, tenant_id: str, after: str | None, limit: int) -> list[SharingGroup]:
        query = select(SharingGroupRow).where(SharingGroupRow.tenant_id == uuid.UUID(tenant_id))
        if after is not None:
            query = query.where(SharingGroupRow.code > after)
        rows = await self.session.scalars(query.order_by(SharingGroupRow.code).limit(limit + 1))
        return [_group(r) for r in rows]

    async def all(self, tenant_id: str) -> builtins.list[SharingGroup]:
        rows = await self.session.scalars(
            select(SharingGroupRow).where(SharingGroupRow.tenant_id == uuid.UUID(tenant_id))
        )
        return [_group(r) for r in rows]

    async def update(self, tenant_id: str, code: str, changes: dict) -> SharingGroup:
        """Change a group the caller read in this unit of work."""
        row = await self._row(tenant_id, code)
        assert row is not None  # from the identity map
        if "overrides" in changes:
            changes = {**changes, "overrides": _overrides_json(changes["overrides"])}
        for field, value in changes.items():
            setattr(row, field, value)
        await self.session.flush()
        await self.session.refresh(row)
        return _group(row)
