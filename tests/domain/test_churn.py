"""Churn (docs/domain §7.1): the windows of a report and the two rates."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.churn import churn, churn_windows, rate, year_before
from app.domain.errors import Invalid

TODAY = date(2026, 11, 23)


def test_a_year_with_365_inactive_days():
    w = churn_windows(date(2025, 1, 1), date(2025, 12, 31), 365, TODAY)
    assert w.active_start == (date(2024, 1, 2), date(2024, 12, 31))
    assert w.active_end == (date(2025, 1, 1), date(2025, 12, 31))
    assert w.value == (date(2024, 1, 1), date(2024, 12, 31))


def test_a_month_with_90_inactive_days():
    w = churn_windows(date(2026, 3, 1), date(2026, 3, 31), 90, TODAY)
    assert w.active_start == (date(2025, 12, 1), date(2026, 2, 28))
    assert w.active_end == (date(2026, 1, 1), date(2026, 3, 31))
    assert w.value == (date(2025, 3, 1), date(2026, 2, 28))


def test_leap_day():
    assert year_before(date(2024, 2, 29)) == date(2023, 2, 28)


def test_rates():
    """100 customers at the start worth 50,000; 10 lost worth 2,000: absolute 10 %, relative
    4 % — the losses were the less valuable customers."""
    c = churn(100, 10, Decimal("50000.00"), Decimal("2000.00"))
    assert (c.absolute_rate, c.relative_rate, c.retained) == (
        Decimal("0.1000"),
        Decimal("0.0400"),
        90,
    )
    assert rate(1, 3) == Decimal("0.3333") and rate(2, 3) == Decimal("0.6667")
    assert rate(1, 8) == Decimal("0.1250") and rate(1, 0) is None
    assert churn(0, 0, Decimal(0), Decimal(0)).absolute_rate is None


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_rates_lie_between_0_and_1(a, b):
    lost, active = min(a, b), max(a, b)
    r = rate(lost, active)
    assert r is None if active == 0 else Decimal(0) <= r <= Decimal(1)


@pytest.mark.parametrize(
    ("start", "end", "days", "fields"),
    [
        (date(2026, 2, 1), date(2026, 1, 1), 365, ["to"]),
        (date(2026, 1, 1), date(2026, 12, 31), 365, ["to"]),  # after today
        (date(2026, 1, 1), date(2026, 1, 31), 0, ["inactive_days"]),
        (date(1899, 1, 1), date(2026, 1, 31), 4000, ["inactive_days", "from"]),
    ],
)
def test_invalid_periods(start, end, days, fields):
    with pytest.raises(Invalid) as caught:
        churn_windows(start, end, days, TODAY)
    assert caught.value.code == "invalid_period"
    assert [e.field for e in caught.value.errors] == fields
