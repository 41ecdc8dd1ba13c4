"""When a scheduled job is due, in a tenant's time zone (pure; app/scheduler.py runs them).

A schedule maps an instant and a zone to a ``Slot``: the current period's key (the local
date "2026-11-23" for a daily job, the month "2026-11" for a monthly one) and whether its
run time has passed. The run time is the local wall-clock time read as Python does
(PEP 495, fold=0): a time repeated when DST ends means its first occurrence; a time skipped
when DST starts is read with the offset before the change, so 02:30 that day is 03:30.
Once due, a slot stays due until its period ends, so a service that was down at the run
time catches up later in the same period; the scheduler runs each period at most once. What
a run covers must therefore follow from its period, never from the day it happens to run
(``month_end_before``).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo


class Slot(NamedTuple):
    period: str
    due: bool


Schedule = Callable[[datetime, ZoneInfo], Slot]


def _at(hour: int, minute: int) -> time:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"not a time of day: {hour:02d}:{minute:02d}")
    return time(hour, minute)


def _passed(now: datetime, day: date, at: time, tz: ZoneInfo) -> bool:
    return now >= datetime.combine(day, at, tzinfo=tz)


def daily_at(hour: int, minute: int = 0) -> Schedule:
    """Every day at hh:mm local time; the period is the local date."""
    at = _at(hour, minute)

    def slot(now: datetime, tz: ZoneInfo) -> Slot:
        today = now.astimezone(tz).date()
        return Slot(today.isoformat(), _passed(now, today, at, tz))

    return slot


def monthly_at(day: int, hour: int = 0, minute: int = 0) -> Schedule:
    """Every month on ``day`` at hh:mm local time (a day past the month's end means its
    last day); the period is the local month."""
    if not 1 <= day <= 31:
        raise ValueError(f"not a day of the month: {day}")
    at = _at(hour, minute)

    def slot(now: datetime, tz: ZoneInfo) -> Slot:
        today = now.astimezone(tz).date()
        run_day = today.replace(day=min(day, calendar.monthrange(today.year, today.month)[1]))
        return Slot(f"{today.year:04d}-{today.month:02d}", _passed(now, run_day, at, tz))

    return slot


def month_end_before(day: date) -> date:
    """The last day of the month before ``day``'s: what a monthly run of ``day``'s month
    covers, whether it runs on the 1st or catches up on the 15th."""
    return day.replace(day=1) - timedelta(days=1)
