"""The reads that ledger writes decide from, and the one write that applies their plans.

Each write reads everything its decision needs in one statement (the sale's read also
authenticates the caller's key), and applies the decided plan with one call of
``apply_ledger_plan()`` (app/models/functions.py). Both run on one asyncpg connection
(``LedgerStore``): the unit of work's own, inside its transaction (a request with an
Idempotency-Key, a complaint's compensation), or a pooled one in autocommit (the till's lane).
The ids of the rows a write adds are allocated by its read, so the plan, the stored detail and
the answer are complete before anything is written.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg
from pydantic_core import to_json

from app.domain.access import Principal
from app.domain.card_lifecycle import Card, CardStatus
from app.domain.ledger import Holdings, LedgerPlan, PlannedEntry
from app.domain.points import Category, Lot
from app.domain.points_ledger import PointsSettings
from app.domain.sales import SALE_LOTS, MemberCard, Stored, StoredSale
from app.domain.vouchers import OnReturn, Voucher
from app.domain.vouchers import Status as VoucherStatus
from app.models.functions import APPLIED, CLAIMED
from app.repositories import card_numbers
from app.repositories.card_numbers import CARD_MEMBERS, KeptMembers
from app.repositories.points import settings_of
from app.repositories.reads import (
    CARD_COLUMNS,
    PRINCIPAL_COLUMNS,
    card_of,
    principal_of,
    routed_by_card,
)
from app.repositories.tenancy import as_uuid

CATEGORIES = tuple(Category)


def _holdings_columns(tenant: str, member: str) -> str:
    """The member's account (``a``, joined by the caller), pending points and due lots."""
    return f"""
    a.version AS account_version,
    {", ".join(f"a.{c.value.lower()} AS total_{c.value.lower()}" for c in CATEGORIES)},
    (SELECT coalesce(sum(l.points_left), 0) FROM points_lots AS l
     WHERE l.tenant_id = {tenant} AND l.member_id = {member} AND l.points_left > 0
       AND l.available_at > $now) AS pending,
    (SELECT array_agg(ROW({LOT_FIELDS})::lot_row ORDER BY l.id) FROM points_lots AS l
     WHERE l.tenant_id = {tenant} AND l.member_id = {member} AND l.points_left > 0
       AND l.expires_at <= $now) AS due_lots"""  # noqa: S608 (column names, no input)


def _lots_column(tenant: str, member: str, when: str = "true") -> str:
    """Every lot of the member holding points, read only ``when`` (a SubPlan runs on use)."""
    return f"""
    CASE WHEN {when} THEN (SELECT array_agg(ROW({LOT_FIELDS})::lot_row ORDER BY l.earned_at, l.id)
      FROM points_lots AS l
      WHERE l.tenant_id = {tenant} AND l.member_id = {member} AND l.points_left > 0)
    END AS lots"""  # noqa: S608 (column names, no input)


LOT_FIELDS = "l.id, l.category, l.points_left, l.earned_at, l.available_at, l.expires_at"
VOUCHER_FIELDS = """'code', v.code, 'template', v.template_code, 'status', v.status,
  'holder', v.member_id, 'valid_from', v.valid_from, 'valid_to', v.valid_to,
  'campaign', v.campaign_code, 'redeemed_amount', v.redeemed_amount"""
# The vouchers a sale is paid with: where each code is, then each on its holder's key.
HOLDERS_OF_CODES = """
SELECT code, member_id FROM voucher_codes WHERE tenant_id = $1 AND code = ANY($2::text[])
"""
VOUCHERS = f"""
SELECT json_agg(json_build_object({VOUCHER_FIELDS}))::text FROM vouchers AS v
JOIN unnest($2::uuid[], $3::text[]) AS x(member_id, code)
  ON v.member_id = x.member_id AND v.code = x.code
WHERE v.tenant_id = $1
"""  # noqa: S608 (constant column list, no input)


VOUCHER_HOLDERS = KeptMembers()  # (tenant, code) → holder, as card numbers → member


def vouchers_of(text: str | None) -> dict[str, Voucher]:
    """Vouchers as VOUCHER_FIELDS aggregated them, by code."""
    return {
        x["code"]: Voucher(
            code=x["code"],
            template=x["template"],
            status=VoucherStatus(x["status"]),
            holder=str(x["holder"]),
            valid_from=datetime.fromisoformat(x["valid_from"]),
            valid_to=datetime.fromisoformat(x["valid_to"]),
            campaign=x["campaign"],
            redeemed_amount=None
            if x["redeemed_amount"] is None
            else Decimal(str(x["redeemed_amount"])),
        )
        for x in json.loads(text or "[]")
    }


SETTINGS_COLUMNS = """
ps.expiry_kind, ps.expiry_n, ps.pending_days, ps.point_price, ps.points_per_yuan,
ps.birthday_k, ps.birthday_scope"""


def _numbered(sql: str, names: list[str]) -> str:
    """Named placeholders ($now) as asyncpg's numbered ones, in the order of ``names``."""
    for i, name in enumerate(names, 1):
        sql = sql.replace(f"${name}", f"${i}")
    return sql


SALE = _numbered(
    f"""
SELECT {PRINCIPAL_COLUMNS}, t.time_zone, coalesce(v.version, 0) AS pricing_version,
       EXISTS (SELECT 1 FROM stores AS st WHERE st.tenant_id = k.tenant_id AND st.code = $store)
         AS store_exists,
       s.id AS recorded_id, s.fingerprint AS recorded_fingerprint,
       s.response::text AS recorded_response,
       {CARD_COLUMNS}, m.birthday_ciphertext,
       (SELECT array_agg(g.group_code) FROM member_group_members AS g
        WHERE g.tenant_id = c.tenant_id AND g.member_id = $member) AS member_groups,
       {_holdings_columns("c.tenant_id", "$member")},
       {_lots_column("c.tenant_id", "$member", "$with_lots")},
       CASE WHEN $with_change THEN (
         SELECT ca.balance FROM change_accounts AS ca
         WHERE ca.tenant_id = c.tenant_id AND ca.member_id = $member) END AS change_balance,
       CASE WHEN cardinality($vouchers::text[]) > 0 THEN (  -- the card's member's own
         SELECT json_agg(json_build_object({VOUCHER_FIELDS}))::text FROM vouchers AS v
         WHERE v.tenant_id = c.tenant_id AND v.member_id = $member
           AND v.code = ANY($vouchers::text[])) END AS own_vouchers,
       up.cards AS member_cards,
       CASE WHEN up.cards IS NOT NULL THEN (
         SELECT coalesce(sum(ms.amount), 0) FROM member_spend AS ms
         WHERE ms.tenant_id = c.tenant_id AND ms.member_id = $member
           AND ms.occurred_at > $since) END AS spend_12m,
       CASE WHEN s.id IS NULL AND c.number IS NOT NULL THEN (SELECT nextval('sales_id_seq')) END
         AS new_sale_id,
       CASE WHEN s.id IS NULL AND c.number IS NOT NULL THEN
         ARRAY(SELECT nextval('points_lots_id_seq') FROM generate_series(1, {SALE_LOTS})) END
         AS new_lot_ids,
       CASE WHEN s.id IS NULL AND c.number IS NOT NULL AND $with_change THEN
         (SELECT nextval('change_entries_id_seq')) END AS new_change_entry_id
FROM (SELECT 1) AS one
LEFT JOIN api_keys AS k ON k.key_hash = $key_hash AND k.revoked_at IS NULL
LEFT JOIN tenants AS t ON t.id = k.tenant_id
LEFT JOIN pricing_versions AS v ON v.tenant_id = k.tenant_id
LEFT JOIN sales AS s ON s.tenant_id = k.tenant_id AND s.member_id = $member
  AND s.store_code = $store AND s.receipt_no = $receipt
LEFT JOIN cards AS c ON c.tenant_id = k.tenant_id AND c.member_id = $member AND c.number = $card
LEFT JOIN members AS m ON m.tenant_id = c.tenant_id AND m.id = $member
LEFT JOIN points_accounts AS a ON a.tenant_id = c.tenant_id AND a.member_id = $member
LEFT JOIN LATERAL (
  SELECT array_agg(ROW(mc.number, mc.class_code, mc.status, mc.expires_at)::card_row) AS cards
  FROM cards AS mc
  JOIN card_classes AS cc ON cc.tenant_id = mc.tenant_id AND cc.code = mc.class_code
  WHERE mc.tenant_id = c.tenant_id AND mc.member_id = $member
    AND cc.upgrade_to IS NOT NULL
    AND EXISTS (  -- checked once, first: most tenants have no class that upgrades
      SELECT 1 FROM card_classes AS u WHERE u.tenant_id = c.tenant_id AND u.upgrade_to IS NOT NULL)
) AS up ON true
""",  # noqa: S608 (constant column lists, no input)
    [
        "key_hash",
        "store",
        "receipt",
        "card",
        "now",
        "since",
        "with_lots",
        "with_change",
        "member",
        "vouchers",
    ],
)

SALE_RETURN = _numbered(
    f"""
SELECT t.time_zone, {SETTINGS_COLUMNS},
       s.id AS sale_id, s.store_code, s.receipt_no, s.member_id, s.card_number,
       s.detail::text AS detail, s.returned::text AS returned,
       r.id AS recorded_id, r.fingerprint AS recorded_fingerprint,
       r.response::text AS recorded_response,
       {_holdings_columns("s.tenant_id", "$member")},
       {_lots_column("s.tenant_id", "$member")},
       (SELECT ca.balance FROM change_accounts AS ca
        WHERE ca.tenant_id = s.tenant_id AND ca.member_id = $member) AS change_balance,
       (SELECT vs.voucher_on_return FROM voucher_settings AS vs WHERE vs.tenant_id = t.id)
         AS voucher_on_return,
       CASE WHEN s.detail ? 'vouchers_earned' THEN (
         SELECT json_agg(json_build_object({VOUCHER_FIELDS}))::text FROM vouchers AS v
         WHERE v.tenant_id = s.tenant_id AND v.member_id = $member AND v.source = 'sale'
           AND v.source_ref = s.id::text) END AS earned_vouchers,
       CASE WHEN s.id IS NOT NULL AND r.id IS NULL THEN (SELECT nextval('sale_returns_id_seq')) END
         AS new_return_id,
       CASE WHEN s.id IS NOT NULL AND r.id IS NULL THEN
         ARRAY(SELECT nextval('points_lots_id_seq') FROM generate_series(1, 2)) END
         AS new_lot_ids
FROM tenants AS t
LEFT JOIN points_settings AS ps ON ps.tenant_id = t.id
LEFT JOIN sales AS s ON s.tenant_id = t.id AND s.member_id = $member
  AND s.store_code = $store AND s.receipt_no = $receipt
LEFT JOIN sale_returns AS r ON r.tenant_id = s.tenant_id AND r.member_id = $member
  AND r.sale_id = s.id AND r.return_no = $return_no
LEFT JOIN points_accounts AS a ON a.tenant_id = s.tenant_id AND a.member_id = $member
WHERE t.id = $tenant
""",  # noqa: S608 (constant column lists, no input)
    ["tenant", "store", "receipt", "return_no", "now", "member"],
)

# Where a receipt's sale is (its member's shard on Citus), and that sale's answer.
RECEIPT = """
SELECT member_id, sale_id FROM sale_receipts
WHERE tenant_id = $1 AND store_code = $2 AND receipt_no = $3
"""
RECORDED_SALE = """
SELECT s.id AS recorded_id, s.fingerprint AS recorded_fingerprint,
       s.response::text AS recorded_response
FROM sales AS s WHERE s.tenant_id = $1 AND s.member_id = $2 AND s.id = $3
"""

MEMBER = _numbered(
    f"""
SELECT t.time_zone, {SETTINGS_COLUMNS}, {CARD_COLUMNS}, m.id AS found_member_id,
       {_holdings_columns("m.tenant_id", "$member")},
       {_lots_column("m.tenant_id", "$member", "$with_lots")},
       CASE WHEN m.id IS NOT NULL THEN (SELECT nextval('points_lots_id_seq')) END AS new_lot_id,
       CASE WHEN m.id IS NOT NULL AND $with_redemption THEN
         (SELECT nextval('points_redemptions_id_seq')) END AS new_redemption_id
FROM tenants AS t
LEFT JOIN points_settings AS ps ON ps.tenant_id = t.id
LEFT JOIN cards AS c ON c.tenant_id = t.id AND c.member_id = $member AND c.number = $card
LEFT JOIN members AS m ON m.tenant_id = t.id AND m.id = $member
LEFT JOIN points_accounts AS a ON a.tenant_id = m.tenant_id AND a.member_id = $member
WHERE t.id = $tenant
""",  # noqa: S608 (constant column lists, no input)
    ["tenant", "member", "card", "now", "with_lots", "with_redemption"],
)

REDEMPTION = _numbered(
    f"""
SELECT t.time_zone, r.id, r.member_id, r.card_number, r.points, r.purpose, r.reference,
       r.money, r.status, r.created_at, r.cancelled_at,
       (SELECT array_agg(ROW(e.lot_id, e.points)::spent_row ORDER BY e.id) FROM points_entries AS e
        WHERE e.tenant_id = r.tenant_id AND e.member_id = r.member_id
          AND e.source_type = 'redemption' AND e.source_id = r.id::text) AS spent,
       (SELECT array_agg(ROW({LOT_FIELDS})::lot_row ORDER BY l.id) FROM points_lots AS l
        WHERE l.tenant_id = r.tenant_id AND l.member_id = r.member_id AND l.id IN (
          SELECT e.lot_id FROM points_entries AS e
          WHERE e.tenant_id = r.tenant_id AND e.member_id = r.member_id
            AND e.source_type = 'redemption' AND e.source_id = r.id::text)) AS spent_lots,
       {_holdings_columns("r.tenant_id", "r.member_id")}
FROM tenants AS t
LEFT JOIN points_redemptions AS r ON r.tenant_id = t.id AND r.id = $redemption
LEFT JOIN points_accounts AS a ON a.tenant_id = r.tenant_id AND a.member_id = r.member_id
WHERE t.id = $tenant
""",  # noqa: S608 (constant column lists, no input)
    ["tenant", "redemption", "now"],
)

CHANGE = f"""
SELECT {CARD_COLUMNS}, cc.change_account_enabled, cc.change_account_limit,
       ca.balance AS change_balance,
       CASE WHEN c.number IS NOT NULL THEN (SELECT nextval('change_entries_id_seq')) END
         AS new_entry_id
FROM (SELECT 1) AS one
LEFT JOIN cards AS c ON c.tenant_id = $1 AND c.member_id = $3 AND c.number = $2
LEFT JOIN card_classes AS cc ON cc.tenant_id = c.tenant_id AND cc.code = c.class_code
LEFT JOIN change_accounts AS ca ON ca.tenant_id = c.tenant_id AND ca.member_id = $3
"""  # noqa: S608 (constant column lists, no input)

APPLY = "SELECT apply_ledger_plan($1, $2, $3::text::jsonb)"


# --- what the reads answer ----------------------------------------------------------------


@dataclass(frozen=True)
class SaleRead:
    principal: Principal | None  # None: the key is unknown or revoked
    time_zone: str | None
    pricing_version: int
    store_exists: bool
    recorded: Stored | None
    card: Card | None
    birthday_ciphertext: bytes | None
    groups: frozenset[str]
    holdings: Holdings
    change_balance: Decimal | None
    member_cards: tuple[MemberCard, ...]
    spend_12m: Decimal
    sale_id: int
    lot_ids: tuple[int, ...]
    change_entry_id: int | None
    own_vouchers: dict[str, Voucher]  # of the codes asked, those the card's member holds


@dataclass(frozen=True)
class ReturnRead:
    time_zone: str
    settings: PointsSettings
    sale: StoredSale | None
    recorded: Stored | None
    holdings: Holdings
    change_balance: Decimal | None
    return_id: int
    lot_ids: tuple[int, ...]
    on_return: OnReturn
    earned: dict[str, Voucher]


@dataclass(frozen=True)
class MemberRead:
    time_zone: str
    settings: PointsSettings
    card: Card | None  # when a card number was given and found
    member_id: str | None  # the member named (or the card's): None when there is none
    holdings: Holdings
    lot_id: int | None
    redemption_id: int | None


@dataclass(frozen=True)
class RedemptionRead:
    time_zone: str
    found: dict | None  # the redemption's columns
    spent: tuple[tuple[int, int], ...]  # (lot id, points) of its entries
    spent_lots: tuple[Lot, ...]
    holdings: Holdings


@dataclass(frozen=True)
class ChangeRead:
    card: Card | None
    enabled: bool
    limit: Decimal
    balance: Decimal | None
    entry_id: int | None


def _lot(row) -> Lot:
    lot_id, category, left, earned_at, available_at, expires_at = row
    return Lot(str(lot_id), Category(category), left, earned_at, available_at, expires_at)


def _holdings(row: asyncpg.Record, lots_read: bool = False) -> Holdings:
    version = row["account_version"]
    totals = {c: row[f"total_{c.value.lower()}"] or 0 for c in CATEGORIES}
    lots = None
    if lots_read:
        lots = tuple(_lot(x) for x in row["lots"] or ())
    return Holdings(
        version=version or 0,
        totals=totals,
        pending=row["pending"] or 0,
        due=tuple(_lot(x) for x in row["due_lots"] or ()),
        lots=lots,
    )


def _stored(row: asyncpg.Record) -> Stored | None:
    if row["recorded_id"] is None:
        return None
    return Stored(
        row["recorded_id"],
        row["recorded_fingerprint"],
        json.loads(row["recorded_response"]),
    )


def _settings(row: asyncpg.Record) -> PointsSettings:
    return settings_of(
        row["expiry_kind"],
        row["expiry_n"],
        row["pending_days"],
        row["point_price"],
        row["points_per_yuan"],
        row["birthday_k"],
        row["birthday_scope"],
    )


class LedgerStore:
    def __init__(self, connection: asyncpg.Connection, *, joined: bool) -> None:
        self.connection = connection
        self.joined = joined  # inside the unit of work's transaction
        self._transaction: asyncpg.transaction.Transaction | None = None
        self.claimed = False  # a plan found its receipt or return number recorded meanwhile

    # --- reads ---------------------------------------------------------------------------

    async def sale(
        self,
        key_hash: str,
        store_code: str,
        receipt_no: str,
        card_number: str,
        now: datetime,
        since: datetime,
        *,
        with_lots: bool,
        with_change: bool,
        vouchers: list[str],
    ) -> SaleRead:
        """``vouchers``: the codes the sale pays with, read here when the card's member holds
        them (a bearer voucher of another holder is read by ``vouchers()``)."""
        row = await routed_by_card(
            key_hash,
            card_number,
            lambda member: self.connection.fetchrow(
                SALE,
                key_hash,
                store_code,
                receipt_no,
                card_number,
                now,
                since,
                with_lots,
                with_change,
                member,
                vouchers,
            ),
            self.connection.fetchval,
        )
        principal = principal_of(row)
        tenant_id = principal.tenant_id if principal else ""
        recorded = _stored(row)
        if recorded is None and self.claimed and principal is not None:
            recorded = await self._recorded_sale(tenant_id, store_code, receipt_no)
        return SaleRead(
            principal=principal,
            time_zone=row["time_zone"],
            pricing_version=row["pricing_version"],
            store_exists=row["store_exists"],
            recorded=recorded,
            card=card_of(tenant_id, row),
            birthday_ciphertext=row["birthday_ciphertext"],
            groups=frozenset(row["member_groups"] or ()),
            holdings=_holdings(row, with_lots),
            change_balance=row["change_balance"],
            member_cards=tuple(
                MemberCard(number, klass, CardStatus(status), expires)
                for number, klass, status, expires in row["member_cards"] or ()
            ),
            spend_12m=row["spend_12m"] or Decimal(0),
            sale_id=row["new_sale_id"] or 0,
            lot_ids=tuple(row["new_lot_ids"] or ()),
            change_entry_id=row["new_change_entry_id"],
            own_vouchers=vouchers_of(row["own_vouchers"]),
        )

    async def _card_member(self, tenant: uuid.UUID, number: str) -> uuid.UUID | None:
        return await CARD_MEMBERS.lookup(
            (tenant, number),
            lambda: self.connection.fetchval(card_numbers.BY_TENANT, tenant, number),
        )

    async def _recorded_sale(self, tenant_id: str, store_code: str, receipt_no: str):
        """The sale that claimed a receipt, found through the receipt (a sale's own read
        looks on its card's member only: the receipt may be another member's)."""
        tenant = uuid.UUID(tenant_id)
        receipt = await self.connection.fetchrow(RECEIPT, tenant, store_code, receipt_no)
        if receipt is None:
            return None
        row = await self.connection.fetchrow(
            RECORDED_SALE, tenant, receipt["member_id"], receipt["sale_id"]
        )
        return _stored(row) if row is not None else None

    async def sale_return(
        self, tenant_id: str, store_code: str, receipt_no: str, return_no: str, now: datetime
    ) -> ReturnRead:
        tenant = uuid.UUID(tenant_id)
        receipt = await self.connection.fetchrow(RECEIPT, tenant, store_code, receipt_no)
        member = receipt["member_id"] if receipt is not None else None
        row = await self.connection.fetchrow(
            SALE_RETURN, tenant, store_code, receipt_no, return_no, now, member
        )
        sale = None
        if row["sale_id"] is not None:
            sale = StoredSale(
                row["sale_id"],
                row["store_code"],
                row["receipt_no"],
                str(row["member_id"]),
                row["card_number"],
                json.loads(row["detail"]),
                json.loads(row["returned"]),
            )
        return ReturnRead(
            time_zone=row["time_zone"],
            settings=_settings(row),
            sale=sale,
            recorded=_stored(row),
            holdings=_holdings(row, lots_read=True),
            change_balance=row["change_balance"],
            return_id=row["new_return_id"] or 0,
            lot_ids=tuple(row["new_lot_ids"] or (0, 0)),
            on_return=OnReturn(row["voucher_on_return"] or OnReturn.KEEP),
            earned=vouchers_of(row["earned_vouchers"]),
        )

    async def vouchers(self, tenant_id: str, codes: list[str]) -> dict[str, Voucher]:
        """The vouchers of ``codes`` in the tenant (a code it does not know is left out)."""
        if not codes:
            return {}
        tenant = uuid.UUID(tenant_id)
        # A code's holder never changes: the quote that priced the basket looked it up.
        holders = {c: m for c in codes if (m := VOUCHER_HOLDERS.get((tenant, c))) is not None}
        if unknown := [c for c in codes if c not in holders]:
            for row in await self.connection.fetch(HOLDERS_OF_CODES, tenant, unknown):
                holders[row["code"]] = row["member_id"]
                VOUCHER_HOLDERS.put((tenant, row["code"]), row["member_id"])
        if not holders:
            return {}
        text = await self.connection.fetchval(
            VOUCHERS, tenant, list(holders.values()), list(holders)
        )
        return vouchers_of(text)

    async def member(
        self,
        tenant_id: str,
        member_id: str | None,
        card_number: str | None,
        now: datetime,
        *,
        with_lots: bool,
        with_redemption: bool = False,
    ) -> MemberRead:
        """The member named by ``card_number`` (when given) or ``member_id``."""
        tenant = uuid.UUID(tenant_id)
        if card_number is not None:
            member = await self._card_member(tenant, card_number)
        else:
            member = as_uuid(member_id) if member_id is not None else None
        row = await self.connection.fetchrow(
            MEMBER, tenant, member, card_number, now, with_lots, with_redemption
        )
        found = row["found_member_id"]
        return MemberRead(
            time_zone=row["time_zone"],
            settings=_settings(row),
            card=card_of(tenant_id, row),
            member_id=str(found) if found is not None else None,
            holdings=_holdings(row, with_lots),
            lot_id=row["new_lot_id"],
            redemption_id=row["new_redemption_id"],
        )

    async def redemption(self, tenant_id: str, redemption_id: int, now: datetime) -> RedemptionRead:
        row = await self.connection.fetchrow(REDEMPTION, uuid.UUID(tenant_id), redemption_id, now)
        found = None
        if row["id"] is not None:
            names = ("id", "member_id", "card_number", "points", "purpose", "reference")
            found = {name: row[name] for name in names} | {
                name: row[name] for name in ("money", "status", "created_at", "cancelled_at")
            }
            found["member_id"] = str(found["member_id"])
        return RedemptionRead(
            time_zone=row["time_zone"],
            found=found,
            spent=tuple((lot, points) for lot, points in row["spent"] or ()),
            spent_lots=tuple(_lot(x) for x in row["spent_lots"] or ()),
            holdings=_holdings(row),
        )

    async def change(self, tenant_id: str, card_number: str) -> ChangeRead:
        tenant = uuid.UUID(tenant_id)
        member = await self._card_member(tenant, card_number)
        row = await self.connection.fetchrow(CHANGE, tenant, card_number, member)
        return ChangeRead(
            card=card_of(tenant_id, row),
            enabled=bool(row["change_account_enabled"]),
            limit=row["change_account_limit"] or Decimal(0),
            balance=row["change_balance"],
            entry_id=row["new_entry_id"],
        )

    async def use_generic_plans(self) -> None:
        """For the rest of this transaction (app/db.py GENERIC_PLANS)."""
        await self.connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")

    # --- the write -----------------------------------------------------------------------

    async def apply(self, plan: LedgerPlan) -> bool:
        """Whether the plan was applied; False when a guard did not hold (the plan relied on
        rows that changed since, or its receipt or return number was recorded meanwhile):
        then nothing was written."""
        outcome = await self.connection.fetchval(
            APPLY, uuid.UUID(plan.tenant_id), uuid.UUID(plan.member_id), plan_json(plan)
        )
        self.claimed = self.claimed or outcome == CLAIMED
        return outcome == APPLIED

    async def hold_locks(self) -> None:
        """After a stale plan: on a pooled connection, run the rest in a transaction, so the
        rows the next write locks stay as it read them until it is applied."""
        if not self.joined and self._transaction is None:
            self._transaction = self.connection.transaction()
            await self._transaction.start()

    async def finish(self, failed: bool) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            if failed:
                await transaction.rollback()
            else:
                await transaction.commit()


def _entry(e: PlannedEntry) -> dict:
    return {
        "category": e.category.value,
        "points": e.points,
        "available_at": e.available_at,
        "lot_id": e.lot_id,
        "source_type": e.source_type,
        "source_id": e.source_id,
        "card_number": e.card_number,
    }


def plan_json(plan: LedgerPlan) -> str:
    """The plan in apply_ledger_plan()'s shape."""
    out: dict = {"now": plan.now}
    if (points := plan.points) is not None:
        out["points"] = {
            "version": points.version,
            "delta": {c.value.lower(): points.delta.get(c, 0) for c in CATEGORIES},
            "added": sum(points.delta.get(c, 0) for c in CATEGORIES),  # to the balance
            "lots": [
                {
                    "id": lot.id,
                    "category": lot.category.value,
                    "points": lot.points,
                    "points_left": lot.points_left,
                    "earned_at": lot.earned_at,
                    "available_at": lot.available_at,
                    "expires_at": lot.expires_at,
                    "source_type": lot.source_type,
                    "source_id": lot.source_id,
                }
                for lot in points.lots
            ],
            "moves": [{"id": lot, "points": n} for lot, n in points.moves.items()],
            "entries": [_entry(e) for e in points.entries],
        }
    if (change := plan.change) is not None:
        out["change"] = {
            "balance": change.balance,
            "id": change.entry_id,
            "card_number": change.card_number,
            "amount": change.amount,
            "kind": change.kind.value,
            "source_type": change.source_type,
            "source_id": change.source_id,
            "reference": change.reference,
            "created_at": change.created_at,
        }
    if (sale := plan.sale) is not None:
        out["sale"] = {
            "id": sale.id,
            "store_code": sale.store_code,
            "receipt_no": sale.receipt_no,
            "card_number": sale.card_number,
            "occurred_at": sale.occurred_at,
            "fingerprint": sale.fingerprint,
            "detail": sale.detail,
            "response": sale.response,
        }
    if (back := plan.sale_return) is not None:
        out["sale_return"] = {
            "id": back.id,
            "sale_id": back.sale_id,
            "return_no": back.return_no,
            "fingerprint": back.fingerprint,
            "detail": back.detail,
            "response": back.response,
            "returned": back.returned,
        }
    if (redemption := plan.redemption) is not None:
        out["redemption"] = {
            "id": redemption.id,
            "card_number": redemption.card_number,
            "points": redemption.points,
            "purpose": redemption.purpose,
            "reference": redemption.reference,
            "money": redemption.money,
            "created_at": redemption.created_at,
        }
    if plan.cancelled_redemption is not None:
        out["cancelled_redemption"] = plan.cancelled_redemption
    if plan.spend:
        out["spend"] = [
            {
                "occurred_at": s.occurred_at,
                "amount": s.amount,
                "source": s.source,
                "source_ref": s.source_ref,
            }
            for s in plan.spend
        ]
    if plan.tiers:
        out["tiers"] = [
            {"number": m.number, "from_class": m.from_class, "to_class": m.to_class}
            for m in plan.tiers
        ]
        out["card_events"] = [
            {
                "number": m.number,
                "from_value": step[0],
                "to_value": step[1],
                "reason": reason,
                "actor": m.actor,
            }
            for m in plan.tiers
            for step, reason in zip(m.steps, m.reasons, strict=True)
        ]
    if plan.audit:
        out["audit"] = [
            {
                "subject": a.subject,
                "subject_id": a.subject_id,
                "action": a.action,
                "field": a.field,
                "old": a.old,
                "new": a.new,
                "actor": a.actor,
            }
            for a in plan.audit
        ]
    if plan.vouchers_redeemed:
        out["vouchers_redeemed"] = [
            {
                "code": v.code,
                "holder": v.holder,
                "sale_id": v.sale_id,
                "store_code": v.store_code,
                "receipt_no": v.receipt_no,
                "amount": v.amount,
                "store_borne": v.store_borne,
                "supplier_borne": v.supplier_borne,
            }
            for v in plan.vouchers_redeemed
        ]
    if plan.vouchers_issued:
        out["vouchers_issued"] = [
            {
                "code": v.code,
                "template": v.template,
                "valid_from": v.valid_from,
                "valid_to": v.valid_to,
                "source": v.source.value,
                "source_ref": v.source_ref,
                "campaign": v.campaign,
            }
            for v in plan.vouchers_issued
        ]
    for key, changes in (
        ("vouchers_voided", plan.vouchers_voided),
        ("vouchers_restored", plan.vouchers_restored),
    ):
        if changes:
            out[key] = [
                {"code": v.code, "holder": v.holder, "reason": v.reason, "sale_id": v.sale_id}
                for v in changes
            ]
    return to_json(out).decode()
