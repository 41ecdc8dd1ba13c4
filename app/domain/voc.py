"""What the voice-of-the-customer rules share (NPS §8, CSI §9, complaints §11): report
periods in the tenant's time zone, the fingerprint that tells a replayed survey answer from a
conflicting one, and decimal rounding of shares and scores."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from app.domain.errors import Invalid

TWO = Decimal("0.01")
FOUR = Decimal("0.0001")

# Codes of CSI models, nodes and complaint categories: what fits a URL path segment.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC-comparable instants; None = open."""

    start: datetime | None
    end: datetime | None


EARLIEST = date(1970, 1, 1)
LATEST = date(9998, 12, 31)


def period(start: date | None, end: date | None, tz: ZoneInfo) -> Period:
    """Whole local days ``start``..``end`` (both inclusive) in the tenant's zone."""
    for name, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise Invalid(
                "invalid_period",
                "must be within {earliest} and {latest}",
                field=name,
                earliest=EARLIEST,
                latest=LATEST,
            )
    if start is not None and end is not None and end < start:
        raise Invalid("invalid_period", "`to` must not be before `from`.", field="to")
    return Period(
        datetime.combine(start, time(0), tzinfo=tz) if start else None,
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz) if end else None,
    )


def fingerprint(content: dict) -> str:
    """A stable hash of a JSON-able dict (key order and whitespace do not matter)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def to_decimal(value: Fraction | Decimal | int, places: Decimal) -> Decimal:
    """Exact value rounded half up to ``places`` (Fractions are divided exactly first)."""
    if isinstance(value, Fraction):
        sign = -1 if value < 0 else 1
        scaled = abs(value) / Fraction(places)
        whole, rest = divmod(scaled.numerator, scaled.denominator)
        if 2 * rest >= scaled.denominator:
            whole += 1
        return (Decimal(sign * whole) * places).quantize(places)
    return Decimal(value).quantize(places, ROUND_HALF_UP)
