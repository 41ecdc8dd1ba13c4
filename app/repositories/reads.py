"""Reads on the hottest paths, straight through asyncpg.

Through the ORM a lookup costs ~0.65 ms of a worker's time; a prepared statement on a bare
pool ~0.2 ms (bench/README.md). Authentication runs on every request and the checkout
context on every quote, so both live here; everything else goes through the unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.db import ReaderPool
from app.domain.access import Principal, Scope, hash_api_key
from app.domain.card_lifecycle import Card, CardStatus
from app.domain.errors import Invalid, Unavailable
from app.repositories import card_numbers
from app.repositories.card_numbers import CARD_MEMBERS

# The card columns both contexts (a quote's, a sale's) select.
CARD_COLUMNS = """
c.number, c.class_code, c.store_code, c.serial, c.member_id, c.status, c.issued_at,
c.expires_at, c.replaced_by, c.verification_hash, c.failed_attempts, c.first_failed_at,
c.locked_until
"""


# The key columns of a principal (``k`` an api_keys row, all null when none matched).
PRINCIPAL_COLUMNS = """
k.tenant_id AS key_tenant_id, k.id AS key_id, k.name AS key_name, k.scopes AS key_scopes
"""

PRINCIPAL = f"""
SELECT {PRINCIPAL_COLUMNS} FROM api_keys AS k WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""  # noqa: S608 (a constant column list, no input)

CHECKOUT_CONTEXT = f"""
SELECT {PRINCIPAL_COLUMNS}, t.time_zone, coalesce(v.version, 0) AS version,
       EXISTS (SELECT 1 FROM stores AS s WHERE s.tenant_id = k.tenant_id AND s.code = $2)
         AS store_exists,
       {CARD_COLUMNS}, m.birthday_ciphertext,
       (SELECT array_agg(g.group_code) FROM member_group_members AS g
        WHERE g.tenant_id = c.tenant_id AND g.member_id = $4) AS member_groups
FROM (SELECT 1) AS one
LEFT JOIN api_keys AS k ON k.key_hash = $1 AND k.revoked_at IS NULL
LEFT JOIN tenants AS t ON t.id = k.tenant_id
LEFT JOIN pricing_versions AS v ON v.tenant_id = k.tenant_id
LEFT JOIN cards AS c ON c.tenant_id = k.tenant_id AND c.member_id = $4 AND c.number = $3
LEFT JOIN members AS m ON m.tenant_id = c.tenant_id AND m.id = $4
"""  # noqa: S608 (constant column lists, no input)


async def routed_by_card(
    key_hash: str,
    number: str | None,
    read: Callable[[uuid.UUID | None], Awaitable[asyncpg.Record]],
    fetchval: Callable[..., Awaitable[Any]],
) -> asyncpg.Record:
    """``read(member)``, given the member of card ``number`` in the key's tenant (None: no
    such card). A member this worker kept for the key and number that no longer finds the
    card (the key now names another tenant) is looked up again."""
    if number is None:
        return await read(None)
    key = (key_hash, number)
    cached = CARD_MEMBERS.get(key)
    if cached is not None:
        row = await read(cached)
        if row["number"] is not None:
            return row
        CARD_MEMBERS.forget(key)
    return await read(
        await CARD_MEMBERS.lookup(key, lambda: fetchval(card_numbers.BY_KEY, key_hash, number))
    )


def principal_of(row: asyncpg.Record | None) -> Principal | None:
    """The principal of a row holding PRINCIPAL_COLUMNS (None when no active key matched)."""
    if row is None or row["key_id"] is None:
        return None
    scopes = frozenset(Scope(s) for s in row["key_scopes"])
    return Principal(str(row["key_tenant_id"]), str(row["key_id"]), row["key_name"], scopes)


def card_of(tenant_id: str, row: asyncpg.Record) -> Card | None:
    """The card of a row holding CARD_COLUMNS (None when the join found none)."""
    if row["number"] is None:
        return None
    return Card(
        tenant_id=tenant_id,
        number=row["number"],
        card_class=row["class_code"],
        store_code=row["store_code"],
        serial=row["serial"],
        member_id=str(row["member_id"]),
        status=CardStatus(row["status"]),
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        replaced_by=row["replaced_by"],
        verification_hash=row["verification_hash"],
        failed_attempts=row["failed_attempts"],
        first_failed_at=row["first_failed_at"],
        locked_until=row["locked_until"],
    )


@dataclass(frozen=True)
class CheckoutContext:
    principal: Principal | None  # None: the key is unknown or revoked
    time_zone: str | None
    pricing_version: int
    store_exists: bool
    card: Card | None
    birthday_ciphertext: bytes | None  # the card's member's
    member_groups: frozenset[str]  # the card's member's


class HotReads:
    def __init__(self, pool: ReaderPool | None) -> None:
        self.pool = pool

    async def _fetchrow(self, query: str, *args) -> asyncpg.Record | None:
        if self.pool is None:
            raise RuntimeError("this unit of work was built without a reader pool")
        try:
            return await self.pool.fetchrow(query, *args)
        except (OSError, TimeoutError, asyncpg.PostgresConnectionError) as exc:
            raise Unavailable("database_unavailable", "The database cannot be reached.") from exc
        except asyncpg.DataError as exc:  # e.g. a NUL character in a code
            raise Invalid("unstorable_value", "A value cannot be used as given.") from exc

    async def _fetchval(self, query: str, *args):
        row = await self._fetchrow(query, *args)
        return row[0] if row is not None else None

    async def principal(self, secret: str) -> Principal | None:
        """The active key's principal for a presented secret, or None."""
        return principal_of(await self._fetchrow(PRINCIPAL, hash_api_key(secret)))

    async def checkout_context(
        self, key_hash: str, store_code: str, card_number: str | None
    ) -> CheckoutContext:
        """The caller's key and, in its tenant, the pricing version, whether the store exists,
        the card and what its member earns with: one round trip once the card's member is
        known (app/repositories/card_numbers.py)."""
        row = await routed_by_card(
            key_hash,
            card_number,
            lambda member: self._fetchrow(
                CHECKOUT_CONTEXT, key_hash, store_code, card_number, member
            ),
            self._fetchval,
        )
        principal = principal_of(row)
        tenant_id = principal.tenant_id if principal else ""
        return CheckoutContext(
            principal,
            row["time_zone"],
            row["version"],
            row["store_exists"],
            card_of(tenant_id, row),
            row["birthday_ciphertext"],
            frozenset(row["member_groups"] or ()),
        )
