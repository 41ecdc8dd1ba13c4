"""Churn (docs/domain §7.1, 客户流失率): absolute and relative churn over a period.

Rules where docs/domain §7.1 leaves a choice (``inactive_days`` default 365; days are the tenant's):

* A customer is **active** on a day if they bought in the ``inactive_days`` days up to it.
* **Active at the start** of the period [from, to]: bought in [from − inactive_days, from − 1].
* **Lost** in the period: active at the start and no longer active at its end — no purchase in
  [to − inactive_days + 1, to]. A customer who lapsed and came back within the period is
  retained.
* A customer's **value**: their net spend over the 12 months before the period
  ([from − 1 year, from − 1]).
* Absolute churn rate = lost / active at the start; relative churn rate = value of the lost /
  value of all active at the start. Rates are fractions rounded half up to 4 decimals (0.1250
  = 12.5 %); null when the denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.domain.errors import N_, FieldError, refuse_any

RATE = Decimal("0.0001")
MAX_INACTIVE_DAYS = 3650
EARLIEST = date(1900, 1, 1)


@dataclass(frozen=True)
class ChurnWindows:
    """Local-date ranges, both ends inclusive."""

    active_start: tuple[date, date]
    active_end: tuple[date, date]
    value: tuple[date, date]


@dataclass(frozen=True)
class Churn:
    active_at_start: int
    lost: int
    retained: int
    value_at_start: Decimal
    value_lost: Decimal
    absolute_rate: Decimal | None
    relative_rate: Decimal | None


def year_before(day: date) -> date:
    """The same day a year earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def churn_windows(start: date, end: date, inactive_days: int, today: date) -> ChurnWindows:
    """The windows of a churn report; 422 ``invalid_period`` naming the offending parameter."""
    errors = []
    if not 1 <= inactive_days <= MAX_INACTIVE_DAYS:
        errors.append(
            FieldError(
                "inactive_days",
                "inactive_days is 1 to {max_inactive_days}.",
                max_inactive_days=MAX_INACTIVE_DAYS,
            )
        )
    if start > end:
        errors.append(FieldError("to", "to is on or after from."))
    if end > today:
        errors.append(
            FieldError("to", "to is today ({today}) or earlier.", today=today.isoformat())
        )
    if start < EARLIEST:
        errors.append(FieldError("from", "from is 1900-01-01 or later."))
    refuse_any(errors, "invalid_period", N_("The churn period"))
    before = start - timedelta(days=1)
    return ChurnWindows(
        active_start=(start - timedelta(days=inactive_days), before),
        active_end=(end - timedelta(days=inactive_days - 1), end),
        value=(year_before(start), before),
    )


def rate(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def churn(active: int, lost: int, value_active: Decimal, value_lost: Decimal) -> Churn:
    return Churn(
        active_at_start=active,
        lost=lost,
        retained=active - lost,
        value_at_start=value_active,
        value_lost=value_lost,
        absolute_rate=rate(lost, active),
        relative_rate=rate(value_lost, value_active),
    )
