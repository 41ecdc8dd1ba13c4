"""An in-memory member ledger for the decisions' tests: it answers reads (``holdings``) and
applies plans as apply_ledger_plan() does (app/models/functions.py), so a test can decide,
apply and check the ledger's invariant without a database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.card_lifecycle import Card, CardStatus
from app.domain.ledger import Holdings, LedgerPlan
from app.domain.points import Category, Lot
from app.domain.points_ledger import LotEntry, ledger_problems

TENANT = "00000000-0000-0000-0000-00000000000a"
MEMBER = "00000000-0000-0000-0000-00000000000b"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def card(number="S01G0000019", klass="GOLD", status=CardStatus.ACTIVE, **extra) -> Card:
    values = {
        "tenant_id": TENANT,
        "number": number,
        "card_class": klass,
        "store_code": "S01",
        "serial": 1,
        "member_id": MEMBER,
        "status": status,
        "issued_at": datetime(2025, 1, 1),
        "expires_at": None,
        "replaced_by": None,
        "verification_hash": None,
        "failed_attempts": 0,
        "first_failed_at": None,
        "locked_until": None,
        **extra,
    }
    return Card(**values)


@dataclass
class MemberBook:
    """One member's account, lots and entries, as the database would hold them."""

    version: int = 0
    totals: dict[Category, int] = field(default_factory=lambda: dict.fromkeys(Category, 0))
    lots: dict[str, Lot] = field(default_factory=dict)
    entries: list[LotEntry] = field(default_factory=list)
    change: Decimal = Decimal("0.00")
    spend: list[tuple[datetime, Decimal]] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def allocate(self, n: int) -> tuple[int, ...]:
        return tuple(next(self.ids) for _ in range(n))

    def holdings(self, now: datetime, *, with_lots: bool = True) -> Holdings:
        live = [lot for lot in self.lots.values() if lot.points_left > 0]
        return Holdings(
            version=self.version,
            totals=dict(self.totals),
            pending=sum(lot.points_left for lot in live if lot.available_at > now),
            due=tuple(x for x in live if x.expires_at is not None and x.expires_at <= now),
            lots=tuple(sorted(live, key=lambda x: (x.earned_at, int(x.id)))) if with_lots else None,
        )

    def apply(self, plan: LedgerPlan) -> bool:
        """As apply_ledger_plan(): only while the version is the one read."""
        points = plan.points
        if points is not None:
            if points.version != self.version:
                return False
            for new in points.lots:
                lot = Lot(
                    str(new.id),
                    new.category,
                    new.points_left,
                    new.earned_at,
                    new.available_at,
                    new.expires_at,
                )
                self.lots[lot.id] = lot
            for lot_id, n in points.moves.items():
                lot = self.lots[str(lot_id)]
                self.lots[lot.id] = replace(lot, points_left=lot.points_left + n)
            for e in points.entries:
                self.entries.append(LotEntry(e.category, e.points, e.available_at, str(e.lot_id)))
            for category, n in points.delta.items():
                self.totals[category] += n
            self.version += 1
        if plan.change is not None:
            assert plan.change.balance == self.change, "stale change balance"
            self.change += plan.change.amount
        self.spend.extend((s.occurred_at, s.amount) for s in plan.spend)
        return True

    def problems(self, now: datetime) -> list[str]:
        negative_lots = [lot.id for lot in self.lots.values() if lot.points_left < 0]
        return [
            *ledger_problems(
                self.totals, sum(self.totals.values()), self.entries, self.lots.values(), now
            ),
            *(f"lot {lot} is negative" for lot in negative_lots),
        ]

    @property
    def balance(self) -> int:
        return sum(self.totals.values())
