"""Local days of a tenant (docs/domain conventions: stored in UTC, read in the tenant's zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) at which ``day`` begins in ``tz``."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) at which ``day`` ends in ``tz`` (the next day's start, exclusive)."""
    return day_start(day + timedelta(days=1), tz)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()
