"""The points service's pure helpers: settings validation, the next expiry, the invariant."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.errors import Invalid
from app.domain.points import Category, ExpiryKind, ExpiryPolicy, Lot
from app.domain.points_ledger import (
    LotEntry,
    NextExpiry,
    PointsSettings,
    ledger_problems,
    next_expiry,
    points_settings,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
D, R, X = Category.D, Category.R, Category.X


def lot(id, left, *, available=NOW, expires=None, earned=NOW):
    return Lot(str(id), D, left, earned, available, expires)


def test_settings_defaults_and_validation():
    assert PointsSettings() == points_settings(ExpiryKind.NONE, None, 0, Decimal("0.01"), 100)
    ok = points_settings(ExpiryKind.YEAR_END, 0, 7, Decimal("0.0125"), 50)
    assert ok.expiry == ExpiryPolicy(ExpiryKind.YEAR_END, 0) and ok.pending_days == 7
    bad = [
        ((ExpiryKind.ROLLING_MONTHS, 0, 0, Decimal("0.01"), 100), "invalid_expiry"),
        ((ExpiryKind.NONE, 2, 0, Decimal("0.01"), 100), "invalid_expiry"),
        ((ExpiryKind.NONE, None, -1, Decimal("0.01"), 100), "invalid_pending_days"),
        ((ExpiryKind.NONE, None, 0, Decimal("-0.01"), 100), "invalid_point_price"),
        ((ExpiryKind.NONE, None, 0, Decimal("0.00001"), 100), "invalid_point_price"),
        ((ExpiryKind.NONE, None, 0, Decimal("NaN"), 100), "invalid_point_price"),
        ((ExpiryKind.NONE, None, 0, Decimal("0.01"), 0), "invalid_points_per_yuan"),
    ]
    for args, code in bad:
        with pytest.raises(Invalid) as refused:
            points_settings(*args)
        assert refused.value.code == code, args


def test_next_expiry_groups_the_earliest_local_day():
    # 2026-12-31T16:00Z and 2026-12-31T20:00Z are both 1 January 2027 in Shanghai.
    first = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    lots = [
        lot(1, 10, expires=first + timedelta(hours=4)),
        lot(2, 20, expires=first),
        lot(3, 40, expires=first + timedelta(days=1)),
        lot(4, 80),  # never expires
        lot(5, 0, expires=first - timedelta(days=1)),  # spent
        lot(6, 5, expires=NOW),  # already due: not "next"
    ]
    assert next_expiry(lots, NOW, SHANGHAI) == NextExpiry(
        first.date().replace(day=1, month=1, year=2027), first, 30
    )
    assert next_expiry(lots, NOW, UTC).points == 20 + 10
    assert next_expiry([lot(1, 5)], NOW, SHANGHAI) is None


def test_ledger_problems_accepts_a_consistent_ledger():
    later = NOW + timedelta(days=3)
    lots = [lot(1, 30), lot(2, 50, available=later)]
    entries = [
        LotEntry(D, 100, NOW, "1"),
        LotEntry(R, -70, NOW, "1"),
        LotEntry(D, 50, later, "2"),
    ]
    totals = {D: 150, R: -70}
    assert ledger_problems(totals, 80, entries, lots, NOW) == []


def test_ledger_problems_finds_each_kind_of_drift():
    lots = [lot(1, 30)]
    entries = [LotEntry(D, 100, NOW, "1"), LotEntry(R, -70, NOW, "1")]
    assert any("R: account" in p for p in ledger_problems({D: 100, R: -60}, 40, entries, lots, NOW))
    assert any("balance 31" in p for p in ledger_problems({D: 100, R: -70}, 31, entries, lots, NOW))
    assert any(
        "lots hold" in p for p in ledger_problems({D: 100, R: -70}, 30, entries, [lot(1, 31)], NOW)
    )
    moved = [lot(1, 20), lot(2, 10)]
    assert any("lot 2" in p for p in ledger_problems({D: 100, R: -70}, 30, entries, moved, NOW))
    pending = [lot(1, 30, available=NOW + timedelta(days=1))]
    assert any("pending" in p for p in ledger_problems({D: 100, R: -70}, 30, entries, pending, NOW))
    # A spend that took pending points without carrying their available_at.
    early = NOW + timedelta(days=1)
    bad = [LotEntry(D, 100, early, "1"), LotEntry(R, -70, NOW, "1")]
    found = ledger_problems({D: 100, R: -70}, 30, bad, [lot(1, 30, available=early)], NOW)
    assert any("available" in p for p in found)
