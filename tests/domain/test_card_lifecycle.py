from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.card_lifecycle import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    NO_FAILURES,
    TRANSITIONS,
    Card,
    CardAction,
    CardStatus,
    add_months,
    after_failure,
    effective_status,
    is_locked,
    next_status,
)
from app.domain.errors import Conflict

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def card(**overrides) -> Card:
    values = dict(
        tenant_id="t",
        number="S0100000018",
        card_class="GOLD",
        store_code="S01",
        serial=1,
        member_id="m",
        status=CardStatus.ACTIVE,
        issued_at=NOW,
        expires_at=None,
        replaced_by=None,
        verification_hash=None,
        failed_attempts=0,
        first_failed_at=None,
        locked_until=None,
    )
    return Card(**{**values, **overrides})


ALLOWED = {
    (CardStatus.ACTIVE, CardAction.FREEZE): CardStatus.FROZEN,
    (CardStatus.FROZEN, CardAction.UNFREEZE): CardStatus.ACTIVE,
    (CardStatus.ACTIVE, CardAction.REPORT_LOST): CardStatus.LOST,
    (CardStatus.FROZEN, CardAction.REPORT_LOST): CardStatus.LOST,
    (CardStatus.LOST, CardAction.REPLACE): CardStatus.REPLACED,
    (CardStatus.ACTIVE, CardAction.CANCEL): CardStatus.CANCELLED,
    (CardStatus.FROZEN, CardAction.CANCEL): CardStatus.CANCELLED,
    (CardStatus.LOST, CardAction.CANCEL): CardStatus.CANCELLED,
    (CardStatus.EXPIRED, CardAction.CANCEL): CardStatus.CANCELLED,
}


@pytest.mark.parametrize("status", list(CardStatus))
@pytest.mark.parametrize("action", list(CardAction))
def test_transition_table_is_exactly_the_domain_lifecycle(status, action):
    expected = ALLOWED.get((status, action))
    if expected is None:
        with pytest.raises(Conflict) as err:
            next_status(status, action)
        assert err.value.code == "invalid_card_transition"
        assert err.value.extra == {"card_status": status.value}
    else:
        assert next_status(status, action) is expected
    assert set(TRANSITIONS) == set(CardAction)


def test_terminal_statuses_allow_nothing():
    for status in (CardStatus.REPLACED, CardStatus.CANCELLED):
        for action in CardAction:
            with pytest.raises(Conflict):
                next_status(status, action)


def test_expiry_is_derived():
    expiring = card(expires_at=NOW + timedelta(seconds=1))
    assert effective_status(expiring, NOW) is CardStatus.ACTIVE
    assert effective_status(expiring, NOW + timedelta(seconds=1)) is CardStatus.EXPIRED
    assert effective_status(card(status=CardStatus.FROZEN, expires_at=NOW), NOW) is (
        CardStatus.EXPIRED
    )
    # A lost or cancelled card stays what it is after its validity ends.
    assert effective_status(card(status=CardStatus.LOST, expires_at=NOW), NOW) is CardStatus.LOST


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2027, 12, 31, tzinfo=UTC), 2, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 11, 23, 8, tzinfo=UTC), 24, datetime(2028, 11, 23, 8, tzinfo=UTC)),
        (datetime(2026, 5, 15, tzinfo=UTC), 12, datetime(2027, 5, 15, tzinfo=UTC)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=1, max_value=240),
)
def test_add_months_moves_by_whole_months(start, months):
    end = add_months(start, months)
    assert (end.year - start.year) * 12 + end.month - start.month == months
    assert end.day <= start.day and end.time() == start.time()


def test_fifth_failure_in_window_locks():
    current = card()
    now = NOW
    for attempt in range(1, MAX_FAILURES):
        state = after_failure(current, now)
        assert state.failed_attempts == attempt and state.locked_until is None
        current = card(failed_attempts=state.failed_attempts, first_failed_at=state.first_failed_at)
        now += timedelta(minutes=1)
    locked = after_failure(current, now)
    assert locked.locked_until == now + timedelta(minutes=15)
    assert is_locked(card(locked_until=locked.locked_until), now)
    assert not is_locked(card(locked_until=locked.locked_until), now + timedelta(minutes=15))


def test_failures_outside_the_window_start_over():
    old = card(failed_attempts=4, first_failed_at=NOW - FAILURE_WINDOW)
    state = after_failure(old, NOW)
    assert state.failed_attempts == 1 and state.first_failed_at == NOW
    assert state.locked_until is None
    assert NO_FAILURES.failed_attempts == 0
