"""A member's points as one write plans them (ARCHITECTURE: read → decide → apply). Pure.

A write reads the member's ``Holdings`` (the account's totals and version, and the lots the
write may touch), then builds its ``PointsPlan`` on a ``MemberLedger``: the lots it adds, the
points it moves in or out of existing lots, one ledger entry per lot touched and the
account's new totals. The database writes the plan exactly as given, guarded by the version
(app/models/functions.py); a plan whose version is stale is decided again on a fresh read.

Every entry carries the ``available_at`` of the lot it moves, so the plan knows the pending
points after it without reading them again: pending moves by the entries of pending lots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from app.domain.change_account import ChangeKind
from app.domain.points import Category, Lot, spend_fifo
from app.domain.vouchers import NewVoucher

T = TypeVar("T")

EXPIRY = "expiry"


@dataclass(frozen=True)
class Holdings:
    """A member's points as one read saw them at ``now``."""

    version: int  # of the member's account (0: it has none yet); the write's guard
    totals: Mapping[Category, int]  # per category, from the account
    pending: int  # points of lots not yet available at ``now``
    due: tuple[Lot, ...] = ()  # lots expired at ``now`` and not written off yet
    lots: tuple[Lot, ...] | None = None  # every lot holding points: read when a write spends

    @property
    def balance(self) -> int:
        return sum(self.totals.values())


@dataclass(frozen=True)
class NewLot:
    id: int  # allocated by the read
    category: Category
    points: int  # earned
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    source_type: str
    source_id: str
    left: int | None = None  # what it still holds once written (None: all of it)

    @property
    def points_left(self) -> int:
        return self.points if self.left is None else self.left


@dataclass(frozen=True)
class PlannedEntry:
    category: Category
    points: int  # signed
    available_at: datetime  # the lot's
    lot_id: int
    source_type: str
    source_id: str
    card_number: str | None


@dataclass(frozen=True)
class PointsPlan:
    version: int  # the account's, as read: the write applies only while it is unchanged
    lots: tuple[NewLot, ...]
    moves: Mapping[int, int]  # existing lot id → points added (negative: taken)
    entries: tuple[PlannedEntry, ...]
    delta: Mapping[Category, int]  # what the account's totals move by
    balance: int  # after the write
    pending: int  # after the write

    @property
    def available(self) -> int:
        return self.balance - self.pending


class MemberLedger:
    """Builds one write's ``PointsPlan`` on a member's holdings at ``now``."""

    def __init__(self, holdings: Holdings, now: datetime) -> None:
        self.holdings = holdings
        self.now = now
        known = [*holdings.due, *(holdings.lots or ())]
        self._lots: dict[str, Lot] = {lot.id: lot for lot in known}  # as they stand now
        self._new: list[NewLot] = []
        self._moves: dict[int, int] = defaultdict(int)
        self._entries: list[PlannedEntry] = []

    def lots(self) -> list[Lot]:
        """Every lot this write knows, with the points it holds after the write so far."""
        return list(self._lots.values())

    def held(self) -> int:
        """Points held in lots after the write so far: the balance, when all lots were read."""
        if self.holdings.lots is None:
            raise ValueError("the holdings were read without their lots")
        return sum(lot.points_left for lot in self._lots.values())

    def earn(self, lot: NewLot, card_number: str | None) -> None:
        """A new lot and its entry."""
        self._new.append(lot)
        self._lots[str(lot.id)] = Lot(
            str(lot.id),
            lot.category,
            lot.points,
            lot.earned_at,
            lot.available_at,
            lot.expires_at,
        )
        self._entries.append(
            PlannedEntry(
                lot.category,
                lot.points,
                lot.available_at,
                lot.id,
                lot.source_type,
                lot.source_id,
                card_number,
            )
        )

    def move(
        self,
        lot: Lot,
        category: Category,
        points: int,
        source_type: str,
        source_id: str,
        card_number: str | None,
    ) -> None:
        """``points`` (signed) into or out of ``lot``, as a ``category`` entry."""
        current = self._lots.get(lot.id, lot)
        self._lots[lot.id] = replace(current, points_left=current.points_left + points)
        self._moves[int(lot.id)] += points
        self._entries.append(
            PlannedEntry(
                category,
                points,
                current.available_at,
                int(lot.id),
                source_type,
                source_id,
                card_number,
            )
        )

    def expire(self) -> int:
        """X entries for every known lot expired at ``now``; the points they held."""
        due = [
            lot
            for lot in self._lots.values()
            if lot.points_left > 0 and lot.expires_at is not None and lot.expires_at <= self.now
        ]
        due.sort(key=lambda lot: (lot.expires_at, int(lot.id)))
        for lot in due:
            self.move(lot, Category.X, -lot.points_left, EXPIRY, lot.id, None)
        return sum(lot.points_left for lot in due)

    def spend(
        self,
        points: int,
        category: Category,
        source_type: str,
        source_id: str,
        card_number: str | None,
        *,
        include_pending: bool = False,
        lots: Iterable[Lot] | None = None,
    ) -> None:
        """Take ``points`` oldest-earned first (from ``lots``, default every known lot) as
        negative ``category`` entries; 409 ``insufficient_points`` when they don't hold them."""
        if self.holdings.lots is None and lots is None:
            raise ValueError("the holdings were read without their lots")
        pool = self._lots.values() if lots is None else [self._lots.get(x.id, x) for x in lots]
        for lot_id, taken in spend_fifo(pool, points, self.now, include_pending):
            self.move(self._lots[lot_id], category, -taken, source_type, source_id, card_number)

    def plan(self) -> PointsPlan:
        delta: dict[Category, int] = defaultdict(int)
        pending = self.holdings.pending
        for entry in self._entries:
            delta[entry.category] += entry.points
            if entry.available_at > self.now:
                pending += entry.points
        moves = dict(self._moves)
        # A lot of this very write is written with what is left in it, not moved.
        lots = tuple(replace(new, left=new.points + moves.pop(new.id, 0)) for new in self._new)
        return PointsPlan(
            version=self.holdings.version,
            lots=lots,
            moves={lot: n for lot, n in moves.items() if n},
            entries=tuple(self._entries),
            delta={c: n for c, n in delta.items() if n},
            balance=self.holdings.balance + sum(delta.values()),
            pending=pending,
        )


# --- the plan of one write: every row it adds or changes ------------------------------------


@dataclass(frozen=True)
class SaleRow:
    id: int  # allocated by the read
    store_code: str
    receipt_no: str
    member_id: str
    card_number: str
    occurred_at: datetime
    fingerprint: str
    detail: dict
    response: dict


@dataclass(frozen=True)
class ReturnRow:
    id: int  # allocated by the read
    sale_id: int
    return_no: str
    fingerprint: str
    detail: dict
    response: dict
    returned: dict  # the sale's cumulative returned quantities after this return


@dataclass(frozen=True)
class SpendRow:
    """A signed member_spend row (+ sale, − return): the input of tier upgrades."""

    occurred_at: datetime
    amount: Decimal
    source: str
    source_ref: str


@dataclass(frozen=True)
class TierMove:
    number: str
    from_class: str  # as read: the move applies only while the card is still of it
    to_class: str
    reasons: tuple[str, ...]  # one card event per step
    steps: tuple[tuple[str, str], ...]  # (from, to) per step
    actor: str


@dataclass(frozen=True)
class ChangeMovement:
    balance: Decimal  # the change account's, as read: the write applies only while unchanged
    entry_id: int | None  # allocated by the read when the answer shows it
    card_number: str | None
    amount: Decimal  # signed
    kind: ChangeKind
    source_type: str
    source_id: str
    reference: str | None
    created_at: datetime

    @property
    def balance_after(self) -> Decimal:
        return self.balance + self.amount


@dataclass(frozen=True)
class RedemptionRow:
    id: int  # allocated by the read
    card_number: str | None
    points: int
    purpose: str
    reference: str | None
    money: Decimal | None
    created_at: datetime


@dataclass(frozen=True)
class AuditRow:
    subject: str
    subject_id: str
    action: str
    field: str
    old: str | None
    new: str | None
    actor: str


@dataclass(frozen=True)
class VoucherRedemption:
    """A voucher a sale is paid with: applies only while the voucher is still issued."""

    code: str
    holder: str  # member id: where the voucher is
    sale_id: int
    store_code: str
    receipt_no: str
    amount: Decimal
    store_borne: Decimal
    supplier_borne: Decimal


@dataclass(frozen=True)
class VoucherChange:
    """A voucher a return voids (while issued) or restores (while redeemed by ``sale_id``)."""

    code: str
    holder: str
    reason: str | None = None
    sale_id: int | None = None


@dataclass(frozen=True)
class LedgerPlan:
    """Everything one write adds or changes for one member, and what it relied on."""

    tenant_id: str
    member_id: str
    now: datetime
    points: PointsPlan | None = None
    change: ChangeMovement | None = None
    sale: SaleRow | None = None  # claims its receipt
    sale_return: ReturnRow | None = None  # claims its return number
    redemption: RedemptionRow | None = None
    cancelled_redemption: int | None = None  # applies only while it is not cancelled
    spend: tuple[SpendRow, ...] = ()
    tiers: tuple[TierMove, ...] = ()
    audit: tuple[AuditRow, ...] = ()
    vouchers_redeemed: tuple[VoucherRedemption, ...] = ()
    vouchers_issued: tuple[NewVoucher, ...] = ()  # the member's: earned by a sale (返券)
    vouchers_voided: tuple[VoucherChange, ...] = ()
    vouchers_restored: tuple[VoucherChange, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """A sale's or return's answer; ``replayed`` when it is the stored first one."""

    status_code: int
    body: dict
    replayed: bool


@dataclass(frozen=True)
class Decided(Generic[T]):
    """A decision to write: the plan, and what to answer once it is applied."""

    plan: LedgerPlan
    result: T
