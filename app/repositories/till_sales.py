"""The common sale, straight through asyncpg: one read and one call.

Most sales from a till are paid in money and earn points; recording one through the ORM costs
~20 statements at ~0.5 ms of a worker's time each. Here the service reads everything it needs,
the caller's API key included, in one statement (``context``) and writes with one call of
``record_till_sale()`` (migrations 202611231950, 202611232100, 202611232300), both on one
pooled connection (``TillSales.session``). The call runs in autocommit, so all or nothing: it
locks and credits the member's account, checks under that lock whether the general path must
do the sale instead (lots falling due, a possible tier upgrade), adds one lot and ledger entry
per category and the member_spend row, and claims the receipt with the sale's detail and
response (a receipt recorded meanwhile is handed over too). services/sales.py
``record_sale_fast`` decides when this path applies and falls back to the general one
otherwise. The rows and invariants are those of the ORM path, checked by the same tests.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg
from pydantic_core import to_json

from app.db import ReaderPool
from app.domain.access import Principal
from app.domain.card_lifecycle import Card
from app.domain.errors import Invalid, Unavailable
from app.repositories.reads import CARD_COLUMNS, PRINCIPAL_COLUMNS, card_of, principal_of

CONTEXT = f"""
SELECT {PRINCIPAL_COLUMNS},
       coalesce((SELECT version FROM pricing_versions WHERE tenant_id = k.tenant_id), 0)
         AS version,
       (SELECT time_zone FROM tenants WHERE id = k.tenant_id) AS time_zone,
       EXISTS (SELECT 1 FROM stores WHERE tenant_id = k.tenant_id AND code = $2)
         AS store_exists,
       s.fingerprint AS sale_fingerprint, s.response AS sale_response, s.id AS sale_id,
       {CARD_COLUMNS}, m.birthday_ciphertext,
       (SELECT array_agg(g.group_code) FROM member_group_members AS g
        WHERE g.tenant_id = k.tenant_id AND g.member_id = c.member_id) AS member_groups
FROM (SELECT 1) AS one
LEFT JOIN api_keys AS k ON k.key_hash = $1 AND k.revoked_at IS NULL
LEFT JOIN sales AS s ON s.tenant_id = k.tenant_id AND s.store_code = $2 AND s.receipt_no = $3
LEFT JOIN cards AS c ON c.tenant_id = k.tenant_id AND c.number = $4
LEFT JOIN members AS m ON m.id = c.member_id  -- the card's member (same tenant by its key)
"""  # noqa: S608 (constant column lists, no input)

RECORD = """
SELECT sale_id, balance, pending
FROM record_till_sale($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                      $17::jsonb, $18::jsonb)
"""
# record_till_sale() raises this when the general path must record the sale.
GENERAL_PATH = "LY001"


@dataclass(frozen=True)
class SaleContext:
    principal: Principal | None  # None: the key is unknown or revoked (nothing else is read)
    pricing_version: int
    time_zone: str
    store_exists: bool
    sale_id: int | None  # the receipt's sale when it is recorded already
    sale_fingerprint: str | None
    sale_response: dict | None
    card: Card | None
    birthday_ciphertext: bytes | None
    member_groups: frozenset[str]  # the card's member's groups


@dataclass(frozen=True)
class TillSale:
    """What the service decided: everything ``record_till_sale()`` writes."""

    tenant_id: str
    store_code: str
    receipt_no: str
    member_id: str
    card_number: str
    occurred_at: datetime
    fingerprint: str
    earned: dict[str, int]  # A, B, C, E (0 allowed)
    available_at: datetime
    expires_at: datetime | None
    amount: Decimal
    now: datetime
    upgrade_since: datetime | None  # None: no class of the tenant upgrades
    upgrade_thresholds: dict[str, Decimal]  # class → 12-month spend that upgrades it


@dataclass(frozen=True)
class Held:
    sale_id: int
    balance: int
    pending: int  # after the sale's own lots


class Fallback(Exception):
    """The general path must record this sale (nothing was written here)."""


class TillSales:
    def __init__(self, pool: ReaderPool | None) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[TillSession]:
        """One pooled connection for a sale's read and its write (one acquire, not two)."""
        try:
            async with self.pool.acquire() as connection:
                yield TillSession(connection)
        except _UNREACHABLE as exc:
            raise _unavailable() from exc


class TillSession:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def context(
        self, key_hash: str, store_code: str, receipt_no: str, card_number: str
    ) -> SaleContext:
        """Everything a sale reads before writing, the caller's API key included, in one round
        trip outside a transaction (so a revoked key is refused at once, as everywhere)."""
        try:
            row = await self.connection.fetchrow(
                CONTEXT, key_hash, store_code, receipt_no, card_number
            )
        except _UNREACHABLE as exc:
            raise _unavailable() from exc
        except asyncpg.DataError as exc:
            raise Invalid("unstorable_value", "A value cannot be used as given.") from exc
        principal = principal_of(row)
        tenant_id = principal.tenant_id if principal else ""
        response = row["sale_response"]
        return SaleContext(
            principal=principal,
            pricing_version=row["version"],
            time_zone=row["time_zone"],
            store_exists=row["store_exists"],
            sale_id=row["sale_id"],
            sale_fingerprint=row["sale_fingerprint"],
            sale_response=json.loads(response) if response is not None else None,
            card=card_of(tenant_id, row),
            birthday_ciphertext=row["birthday_ciphertext"],
            member_groups=frozenset(row["member_groups"] or ()),
        )

    async def write(self, sale: TillSale, detail: dict, response: dict) -> Held:
        """Record the sale; ``detail`` is stored with the new lots' ids added (``lots``) and
        ``response`` with ``sale_id``, ``balance``, ``available`` and ``pending``. Raises
        Fallback, having written nothing, when the general path must record the sale."""
        categories = [c for c, n in sale.earned.items() if n > 0]
        upgrades = sale.upgrade_thresholds
        try:
            row = await self.connection.fetchrow(
                RECORD,
                uuid.UUID(sale.tenant_id),
                sale.store_code,
                sale.receipt_no,
                uuid.UUID(sale.member_id),
                sale.card_number,
                sale.occurred_at,
                sale.fingerprint,
                categories,
                [sale.earned[c] for c in categories],
                sale.available_at,
                sale.expires_at,
                sale.now,
                sale.amount,
                sale.upgrade_since,
                list(upgrades),
                list(upgrades.values()),
                _json(detail),
                _json(response),
            )
        except _UNREACHABLE as exc:
            raise _unavailable() from exc
        except asyncpg.PostgresError as exc:
            if exc.sqlstate in (GENERAL_PATH, "40001", "40P01"):  # the general path retries
                raise Fallback from exc
            raise
        return Held(row["sale_id"], row["balance"], row["pending"])


_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError)


def _unavailable() -> Unavailable:
    return Unavailable("database_unavailable", "The database cannot be reached.")


def _json(value: dict) -> str:
    return to_json(value).decode()  # compact UTF-8, ~5x faster than json.dumps
