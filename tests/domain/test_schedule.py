"""When scheduled jobs are due: daily and monthly slots in a tenant's time zone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.schedule import Slot, daily_at, month_end_before, monthly_at

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
ZONES = st.sampled_from([SHANGHAI, BERLIN, ZoneInfo("America/New_York"), UTC])
INSTANTS = st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=st.just(UTC))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_in_shanghai():
    at3 = daily_at(3, 0)
    # 03:00 in Shanghai (UTC+8, no DST) is 19:00 UTC the day before.
    assert at3(utc(2026, 11, 22, 18, 59), SHANGHAI) == Slot("2026-11-23", False)
    assert at3(utc(2026, 11, 22, 19, 0), SHANGHAI) == Slot("2026-11-23", True)
    assert at3(utc(2026, 11, 23, 15, 59), SHANGHAI) == Slot("2026-11-23", True)  # 23:59
    assert at3(utc(2026, 11, 23, 16, 0), SHANGHAI) == Slot("2026-11-24", False)  # midnight


def test_daily_across_berlin_dst():
    at3 = daily_at(3, 0)
    # Winter (UTC+1) and summer (UTC+2): 03:00 local is 02:00 and 01:00 UTC.
    assert at3(utc(2026, 1, 10, 1, 59), BERLIN) == Slot("2026-01-10", False)
    assert at3(utc(2026, 1, 10, 2, 0), BERLIN) == Slot("2026-01-10", True)
    assert at3(utc(2026, 7, 10, 0, 59), BERLIN) == Slot("2026-07-10", False)
    assert at3(utc(2026, 7, 10, 1, 0), BERLIN) == Slot("2026-07-10", True)
    # 2026-03-29 02:00 → 03:00 never happens: 02:30 is read as 02:30+01:00, i.e. 03:30.
    at230 = daily_at(2, 30)
    assert at230(utc(2026, 3, 29, 1, 29), BERLIN) == Slot("2026-03-29", False)
    assert at230(utc(2026, 3, 29, 1, 30), BERLIN) == Slot("2026-03-29", True)
    # 2026-10-25 02:00–03:00 happens twice: due from the first 02:30 (00:30 UTC) and still
    # due when the clock goes back to 02:00 (01:00 UTC) in the same period.
    assert at230(utc(2026, 10, 25, 0, 29), BERLIN) == Slot("2026-10-25", False)
    assert at230(utc(2026, 10, 25, 0, 30), BERLIN) == Slot("2026-10-25", True)
    assert at230(utc(2026, 10, 25, 1, 0), BERLIN) == Slot("2026-10-25", True)
    assert at230(utc(2026, 10, 25, 1, 29), BERLIN) == Slot("2026-10-25", True)


def test_monthly():
    rfm = monthly_at(1, 2, 0)
    # The 1st at 02:00 Shanghai is 18:00 UTC on the last day of the month before.
    assert rfm(utc(2026, 11, 30, 17, 59), SHANGHAI) == Slot("2026-12", False)
    assert rfm(utc(2026, 11, 30, 18, 0), SHANGHAI) == Slot("2026-12", True)
    assert rfm(utc(2026, 12, 20), SHANGHAI) == Slot("2026-12", True)
    assert rfm(utc(2026, 11, 30, 12), SHANGHAI) == Slot("2026-11", True)
    # Berlin on the 1st of November (winter time): 02:00 local = 01:00 UTC.
    assert rfm(utc(2026, 11, 1, 0, 59), BERLIN) == Slot("2026-11", False)
    assert rfm(utc(2026, 11, 1, 1, 0), BERLIN) == Slot("2026-11", True)
    # A day past the month's end runs on its last day.
    last = monthly_at(31, 0, 0)
    assert last(utc(2026, 2, 27, 12), BERLIN) == Slot("2026-02", False)
    assert last(utc(2026, 2, 28, 12), BERLIN) == Slot("2026-02", True)
    assert last(utc(2028, 2, 28, 12), BERLIN) == Slot("2028-02", False)  # leap year
    assert last(utc(2028, 2, 29, 12), BERLIN) == Slot("2028-02", True)


@pytest.mark.parametrize(
    ("today", "as_of"),
    [
        (date(2026, 11, 1), date(2026, 10, 31)),  # on time
        (date(2026, 11, 2), date(2026, 10, 31)),  # caught up: started on the 2nd
        (date(2026, 11, 15), date(2026, 10, 31)),  # caught up: down for two weeks
        (date(2026, 11, 30), date(2026, 10, 31)),
        (date(2027, 1, 2), date(2026, 12, 31)),  # across the year
        (date(2028, 3, 15), date(2028, 2, 29)),  # leap year
        (date(2026, 3, 2), date(2026, 2, 28)),
    ],
)
def test_a_monthly_run_covers_the_month_before_its_period(today, as_of):
    assert month_end_before(today) == as_of


@given(INSTANTS, ZONES)
def test_the_month_covered_follows_from_the_period(now, tz):
    """Whenever in its period a monthly slot runs, the day it covers is the same: the last
    day of the month before the period's month."""
    period = monthly_at(1, 2, 0)(now, tz).period
    covered = month_end_before(now.astimezone(tz).date())
    assert (covered + timedelta(days=1)).isoformat()[:7] == period
    assert (covered + timedelta(days=1)).day == 1


@pytest.mark.parametrize(
    "make",
    [
        lambda: daily_at(24, 0),
        lambda: daily_at(3, 60),
        lambda: monthly_at(0),
        lambda: monthly_at(32),
    ],
)
def test_invalid_schedules(make):
    with pytest.raises(ValueError):
        make()


@given(INSTANTS, st.sampled_from([SHANGHAI, UTC]), st.integers(0, 23), st.integers(0, 59))
def test_without_dst_due_is_the_wall_clock(now, tz, hour, minute):
    local = now.astimezone(tz)
    slot = daily_at(hour, minute)(now, tz)
    assert slot.period == local.date().isoformat()
    assert slot.due == ((local.hour, local.minute) >= (hour, minute))


@given(INSTANTS, ZONES, st.integers(0, 23), st.integers(0, 59))
def test_every_day_is_due_before_it_ends(now, tz, hour, minute):
    """Also on DST days: the last second of the local day is due, the first is not (unless
    the run is at midnight)."""
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time(), tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time(), tzinfo=tz) - timedelta(seconds=1)
    schedule = daily_at(hour, minute)
    assert schedule(end, tz) == Slot(today.isoformat(), True)
    assert schedule(start, tz) == Slot(today.isoformat(), (hour, minute) == (0, 0))


@given(
    INSTANTS,
    st.timedeltas(timedelta(0), timedelta(days=40)),
    ZONES,
    st.sampled_from([daily_at(3), daily_at(0), daily_at(23, 59), monthly_at(1, 2), monthly_at(31)]),
)
def test_slots_only_move_forward(now, step, tz, schedule):
    """Later instants never go back to an earlier period, nor from due to not due within a
    period: so each period is due over one stretch of time and runs once."""
    first, then = schedule(now, tz), schedule(now + step, tz)
    assert then.period >= first.period
    if then.period == first.period:
        assert then.due >= first.due


@given(INSTANTS, ZONES, st.integers(1, 28), st.integers(0, 23))
def test_monthly_is_due_on_its_day_whatever_the_hour(now, tz, day, hour):
    local = now.astimezone(tz)
    slot = monthly_at(day, hour)(now, tz)
    assert slot.period == local.strftime("%Y-%m")
    if local.day != day:
        assert slot.due == (local.day > day)
