"""Points ledger arithmetic (docs/domain §3) and the change account (§4): earning, returns, refunds
of points paid, shortfall, FIFO lots, expiry, the balance fold, cash-off value."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.domain.errors import Conflict, Invalid
from app.domain.points import (
    EARNED_ON_SALE,
    NOT_EARNING,
    Category,
    Entry,
    ExpiryKind,
    ExpiryPolicy,
    Lot,
    Payment,
    PaymentMethod,
    ReturnLine,
    Sale,
    SaleLine,
    allocate_pro_rata,
    balance,
    cash_off_value,
    clawback,
    deposit,
    earn,
    expired,
    expires_at,
    refund_of_points_paid,
    returned_after,
    returned_fraction,
    shortfall,
    spend,
    spend_fifo,
    worth_after_returns,
)

D = Decimal
A, B, C, E = Category.A, Category.B, Category.C, Category.E
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CASH, POINTS, COUPON = PaymentMethod.CASH, PaymentMethod.POINTS, PaymentMethod.COUPON


def ln(no: int, amount: str, qty: str = "1") -> SaleLine:
    return SaleLine(no, D(qty), D(amount))


def pay(method: PaymentMethod, amount: str) -> Payment:
    return Payment(method, D(amount))


def at(days: float) -> datetime:
    return NOW + timedelta(days=days)


# --- earning (§3.2) --------------------------------------------------------------------------


def test_category_values():
    assert [c.value for c in Category] == ["A", "B", "C", "D", "E", "F", "R", "X"]


def test_earn_worked_example():
    # Lines 100.00 and 50.00 at rate 0.1, tobacco 30.00 at rate 0. T = 180.00, 30.00 in points.
    # Cumulative shares: round2(30 × 100/180 = 16.666…) = 16.67 → line 1: 16.67
    #                    round2(30 × 150/180 = 25)       = 25.00 → line 2: 25.00 − 16.67 = 8.33
    #                    30.00 (all of it)                       → line 3: 30.00 − 25.00 = 5.00
    # Eligible 83.33, 41.67, 25.00. A = floor(8.333 + 4.167 + 0) = floor(12.5) = 12.
    # k = 2: B = floor(12 × 1) = 12; gold identity 1: E = 12; warm 5 + 3: C = 8.
    got = earn(
        [ln(1, "100.00"), ln(2, "50.00"), ln(3, "30.00")],
        [pay(CASH, "150.00"), pay(POINTS, "30.00")],
        {1: D("0.1"), 2: D("0.1"), 3: D("0")},
        k=D("2"),
        warm_points={"birthday-water": 5, "big-basket": 3},
        identity_multiple=D("1"),
    )
    assert got.eligible == {1: D("83.33"), 2: D("41.67"), 3: D("25.00")}
    assert got.points == {A: 12, B: 12, C: 8, E: 12}
    assert got.total == 44


def test_earn_fractional_multipliers_floor():
    # A = floor(123.45 × 0.1) = floor(12.345) = 12; k = 1.5: B = floor(12 × 0.5) = 6;
    # identity 2 (diamond): E = 24; identity 0.25: E = floor(3) = 3; k = 1: B = 0.
    lines, rates = [ln(1, "123.45")], {1: D("0.1")}
    assert earn(lines, [], rates, D("1.5"), None, D("2")).points == {A: 12, B: 6, C: 0, E: 24}
    assert earn(lines, [], rates, D("1"), None, D("0.25")).points == {A: 12, B: 0, C: 0, E: 3}


def test_earn_coupon_and_change_account_do_not_earn_but_cards_do():
    # 100.00 paid 60 cash + 20 bank card + 10 coupon + 10 change account: eligible 80.00.
    got = earn(
        [ln(1, "100.00")],
        [
            pay(CASH, "60"),
            pay(PaymentMethod.BANK_CARD, "20"),
            pay(COUPON, "10"),
            pay(PaymentMethod.CHANGE_ACCOUNT, "10"),
        ],
        {1: D("1")},
    )
    assert got.eligible == {1: D("80.00")}
    assert got.points[A] == 80


def test_earn_non_earning_payment_above_total_is_capped():
    # A 50.00 coupon on a 30.00 receipt: everything is paid, nothing is eligible, never < 0.
    got = earn([ln(1, "10.00"), ln(2, "20.00")], [pay(COUPON, "50.00")], {1: D(1), 2: D(1)})
    assert got.eligible == {1: D("0.00"), 2: D("0.00")}
    assert got.points[A] == 0


def test_allocation_cumulative_never_gives_a_line_more_than_it_costs():
    # Independent half-up shares of 0.02 over 0.01, 0.01, 0.01, 0.00 would be 0.01 each
    # (0.00667 → 0.01), 0.03 in all, leaving −0.01 for the last line. Cumulatively:
    # round2(0.02 × 1/3) = 0.01, round2(0.02 × 2/3) = 0.01, 0.02, 0.02 → 0.01, 0, 0.01, 0.
    got = allocate_pro_rata(D("0.02"), [D("0.01"), D("0.01"), D("0.01"), D("0.00")])
    assert got == [D("0.01"), D("0.00"), D("0.01"), D("0.00")]
    assert allocate_pro_rata(D("5.00"), [D("0"), D("0")]) == [D("0"), D("0")]


@pytest.mark.parametrize(
    ("lines", "payments", "code", "field"),
    [
        ([], [], "empty_sale", "lines"),
        ([ln(1, "1"), ln(1, "2")], [], "duplicate_line_no", "lines[1].line_no"),
        ([ln(1, "1.001")], [], "invalid_amount", "lines[0].final_amount"),
        ([ln(1, "-1")], [], "invalid_amount", "lines[0].final_amount"),
        ([ln(1, "1", qty="0")], [], "invalid_qty", "lines[0].qty"),
        ([ln(1, "1", qty="0.0001")], [], "invalid_qty", "lines[0].qty"),
        ([ln(1, "1")], [pay(POINTS, "-1")], "invalid_amount", "payments[0].amount"),
    ],
)
def test_earn_refuses_bad_sales(lines, payments, code, field):
    with pytest.raises(Invalid) as caught:
        earn(lines, payments, {1: D(1)})
    assert caught.value.code == code
    assert caught.value.errors[0].field == field


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(rates={}),
        dict(rates={1: D("-0.1")}),
        dict(k=D("0.9")),
        dict(identity_multiple=D("-1")),
        dict(warm_points={"w": -1}),
    ],
)
def test_earn_refuses_bad_configuration(kwargs):
    args = dict(rates={1: D(1)}) | kwargs
    with pytest.raises(ValueError):
        earn([ln(1, "10")], [], **args)


money = st.decimals(min_value=0, max_value=10_000, places=2)
rates_st = st.sampled_from([D("0"), D("0.1"), D("0.05"), D("1"), D("2"), D("0.333")])


@given(st.lists(money, min_size=1, max_size=12), st.data())
def test_allocation_is_exact_and_within_each_line(weights, data):
    amount = data.draw(st.decimals(min_value=0, max_value=sum(weights), places=2))
    shares = allocate_pro_rata(amount, weights)
    assert sum(shares) == amount
    assert all(D(0) <= s <= w for s, w in zip(shares, weights, strict=True))


@given(
    st.lists(st.tuples(money, rates_st), min_size=1, max_size=8),
    st.lists(st.tuples(st.sampled_from(PaymentMethod), money), max_size=4),
    st.decimals(min_value=1, max_value=5, places=2),
    st.decimals(min_value=0, max_value=3, places=2),
)
def test_earn_properties(line_specs, payment_specs, k, multiple):
    lines = [SaleLine(i, D(1), amount) for i, (amount, _) in enumerate(line_specs)]
    rates = {i: rate for i, (_, rate) in enumerate(line_specs)}
    payments = [Payment(m, a) for m, a in payment_specs]
    got = earn(lines, payments, rates, k, None, multiple)
    total = sum(line.final_amount for line in lines)
    not_earning = sum(p.amount for p in payments if p.method in NOT_EARNING)
    # No fen lost or created, and each line's eligible amount within [0, final amount].
    assert sum(got.eligible.values()) == total - min(total, not_earning)
    assert all(D(0) <= got.eligible[line.line_no] <= line.final_amount for line in lines)
    # Floors: never above the exact product, less than one point below it.
    exact_a = sum(Fraction(got.eligible[i]) * Fraction(rates[i]) for i in rates)
    assert got.points[A] <= exact_a < got.points[A] + 1
    assert got.points[B] <= got.points[A] * (Fraction(k) - 1) < got.points[B] + 1
    assert got.points[E] <= got.points[A] * Fraction(multiple) < got.points[E] + 1


# --- returns (§3.3) --------------------------------------------------------------------------

# 3 × 100.00 and 1 × 50.00, rate 1, k = 2, identity 1, a warm gift of 10.
# Earned: A = 150, B = 150, C = 10, E = 150.
SALE = Sale(
    lines=(ln(1, "100.00", qty="3"), ln(2, "50.00")),
    payments=(pay(CASH, "150.00"),),
    rates={1: D(1), 2: D(1)},
    k=D(2),
    warm_points={"w": 10},
    identity_multiple=D(1),
)


def test_clawback_worked_example_in_three_steps():
    assert SALE.earning().points == {A: 150, B: 150, C: 10, E: 150}
    # One unit of line 1: remaining eligible round2(100 × 2/3) = 66.67 + 50 → A = 116.
    first = clawback(SALE, {}, [ReturnLine(1, D(1))])
    assert first == {A: 34, B: 34, C: 0, E: 34}
    # Another: round2(100 × 1/3) = 33.33 + 50 → A = 83; 116 − 83 = 33.
    second = clawback(SALE, {1: D(1)}, [ReturnLine(1, D(1))])
    assert second == {A: 33, B: 33, C: 0, E: 33}
    # The rest: A = 0 and the warm gift goes with the last item: 83 back, C 10.
    last = clawback(SALE, {1: D(2)}, [ReturnLine(1, D(1)), ReturnLine(2, D(1))])
    assert last == {A: 83, B: 83, C: 10, E: 83}
    assert sum(s[A] for s in (first, second, last)) == 150


def test_full_return_at_once_gives_back_exactly_what_was_earned():
    got = clawback(SALE, {}, [ReturnLine(2, D(1)), ReturnLine(1, D(3))])
    assert got == SALE.earning().points


def test_clawback_with_points_paid_recomputes_on_the_stored_eligible_amounts():
    # 100.00 + 100.00, 50.00 paid in points: eligible 75.00 + 75.00, rate 0.1 → A = 15.
    # Returning line 2 removes its eligible 75.00 (its share of the points payment went with
    # it): A remaining = floor(7.5) = 7, clawback 8.
    sale = Sale(
        (ln(1, "100.00"), ln(2, "100.00")),
        (pay(CASH, "150.00"), pay(POINTS, "50.00")),
        {1: D("0.1"), 2: D("0.1")},
    )
    assert sale.earning().points[A] == 15
    assert clawback(sale, {}, [ReturnLine(2, D(1))])[A] == 8


def test_warm_kept_claws_back_a_gift_whose_condition_no_longer_holds():
    # The warm gift was for buying line 2 (water on a birthday): returning it takes C back.
    def kept(qty_left):
        return {"w"} if qty_left[2] > 0 else set()

    assert clawback(SALE, {}, [ReturnLine(2, D(1))], kept)[C] == 10
    assert clawback(SALE, {}, [ReturnLine(1, D(1))], kept)[C] == 0


def test_non_monotone_warm_kept_is_a_programming_error():
    with pytest.raises(ValueError):
        clawback(SALE, {}, [ReturnLine(1, D(1))], lambda left: {"w"} if left[1] < 3 else set())


@pytest.mark.parametrize(
    ("before", "returning", "code", "field"),
    [
        ({}, [ReturnLine(1, D(4))], "return_exceeds_sale", "lines[0].qty"),
        (
            {1: D(2)},
            [ReturnLine(2, D(1)), ReturnLine(1, D(2))],
            "return_exceeds_sale",
            "lines[1].qty",
        ),
        ({}, [ReturnLine(9, D(1))], "unknown_line", "lines[0].line_no"),
        ({}, [ReturnLine(1, D(1)), ReturnLine(1, D(1))], "duplicate_line_no", "lines[1].line_no"),
        ({}, [ReturnLine(1, D(0))], "invalid_qty", "lines[0].qty"),
        ({}, [], "empty_return", "lines"),
    ],
)
def test_return_refusals(before, returning, code, field):
    with pytest.raises(Invalid) as caught:
        clawback(SALE, before, returning)
    assert caught.value.code == code
    assert caught.value.errors[0].field == field


def test_returned_after_accumulates():
    assert returned_after(SALE, {1: D(1)}, [ReturnLine(1, D("1.5"))]) == {1: D("2.5"), 2: D(0)}
    with pytest.raises(ValueError):
        returned_after(SALE, {1: D(4)}, [ReturnLine(2, D(1))])  # stored state beyond the sale


def test_refund_of_points_paid_worked_example():
    # 7 points paid; a third returned each time: floor(7/3) = 2, floor(14/3) − 2 = 2, 7 − 4 = 3.
    thirds = [Fraction(0), Fraction(1, 3), Fraction(2, 3), Fraction(1)]
    steps = [refund_of_points_paid(7, a, b) for a, b in pairwise(thirds)]
    assert steps == [2, 2, 3]
    with pytest.raises(ValueError):
        refund_of_points_paid(7, Fraction(1, 2), Fraction(1, 3))


def test_returned_fraction_by_final_amount():
    # One of 3 × 100.00: remaining 66.67 + 50.00 = 116.67 of 150.00 → 33.33 / 150.
    assert returned_fraction(SALE, {1: D(1)}) == Fraction(3333, 15000)
    assert returned_fraction(SALE, {1: D(3), 2: D(1)}) == 1
    free = Sale((ln(1, "0.00"),), (), {1: D(1)})
    assert returned_fraction(free, {}) == 0
    assert returned_fraction(free, {1: D(1)}) == 1


@st.composite
def sales_and_return_steps(draw):
    """A random sale and a random split of all its quantity into ordered returns."""
    n = draw(st.integers(1, 4))
    lines, pieces = [], []
    for no in range(1, n + 1):
        units = draw(st.integers(1, 6))
        unit = draw(st.sampled_from([D(1), D("0.5"), D("0.125")]))
        lines.append(SaleLine(no, units * unit, draw(money)))
        pieces += [(no, unit)] * units
    pieces = draw(st.permutations(pieces))
    cuts = sorted(draw(st.sets(st.integers(1, len(pieces)), max_size=len(pieces))) | {len(pieces)})
    steps, start = [], 0
    for cut in cuts:
        step: dict[int, Decimal] = {}
        for no, q in pieces[start:cut]:
            step[no] = step.get(no, D(0)) + q
        steps.append([ReturnLine(no, q) for no, q in step.items()])
        start = cut
    total = sum(line.final_amount for line in lines)
    paid_in_points = draw(st.decimals(min_value=0, max_value=total, places=2))
    sale = Sale(
        tuple(lines),
        (pay(CASH, "1"), Payment(POINTS, paid_in_points)),
        {line.line_no: draw(rates_st) for line in lines},
        draw(st.decimals(min_value=1, max_value=3, places=1)),
        {"w": draw(st.integers(0, 20))},
        draw(st.decimals(min_value=0, max_value=2, places=1)),
    )
    return sale, steps, draw(st.integers(0, 10_000))


@settings(max_examples=150, deadline=None)
@given(sales_and_return_steps(), st.integers(0, 5))
def test_partial_returns_never_claw_back_more_and_a_full_return_exactly(case, stop):
    sale, steps, points_paid = case
    earned = sale.earning().points
    returned: dict[int, Decimal] = {}
    clawed = dict.fromkeys(EARNED_ON_SALE, 0)
    refunded = 0
    for i, step in enumerate(steps):
        back = clawback(sale, returned, step)
        after = returned_after(sale, returned, step)
        refunded += refund_of_points_paid(
            points_paid, returned_fraction(sale, returned), returned_fraction(sale, after)
        )
        returned = after
        for c in EARNED_ON_SALE:
            assert back[c] >= 0
            clawed[c] += back[c]
            assert clawed[c] <= earned[c]
        assert refunded <= points_paid
        # What was clawed is exactly what the remainder is no longer worth.
        left = worth_after_returns(sale, returned)
        assert all(clawed[c] == earned[c] - left[c] for c in EARNED_ON_SALE)
        if i == stop and i < len(steps) - 1:
            return  # a partial sequence: the bounds above are all that must hold
    assert clawed == earned
    assert refunded == points_paid


def test_twenty_partial_returns_of_one_line():
    # 20 × 9.99 at rate 0.3 → A = floor(199.80 × 0.3) = floor(59.94) = 59, returned one by one.
    sale = Sale((ln(1, "199.80", qty="20"),), (), {1: D("0.3")}, k=D(3))
    steps = [clawback(sale, {1: D(i)}, [ReturnLine(1, D(1))]) for i in range(20)]
    assert sum(s[A] for s in steps) == 59
    assert sum(s[B] for s in steps) == 118  # floor(59 × 2)
    # Unit 1 leaves round2(199.80 × 19/20) = 189.81 → floor(56.943) = 56: 3 back.
    assert steps[0][A] == 3


def test_shortfall_worked_examples():
    assert shortfall(30, 100, D("0.01")) == (70, D("0.70"))  # 70 × 0.01
    assert shortfall(30, 100, D("0.015")) == (70, D("1.05"))  # 70 × 0.015
    assert shortfall(97, 100, D("0.015")) == (3, D("0.05"))  # 0.045 half up
    assert shortfall(100, 100, D("0.01")) == (0, D("0.00"))
    assert shortfall(500, 100, D("0.01")) == (0, D("0.00"))
    with pytest.raises(ValueError):
        shortfall(-1, 100, D("0.01"))


# --- lots, FIFO, expiry ----------------------------------------------------------------------


def lot(
    id: str,
    points: int,
    earned: float,
    available: float | None = None,
    expires: float | None = None,
    cat: Category = A,
) -> Lot:
    return Lot(
        id,
        cat,
        points,
        at(earned),
        at(earned if available is None else available),
        None if expires is None else at(expires),
    )


def test_spend_fifo_worked_example():
    lots = [
        lot("new", 50, -1),
        lot("old", 30, -10, expires=100),
        lot("pending", 100, -2, available=5),  # still in its return window
        lot("gone", 100, -20, expires=-1),  # expired, job not yet run
        lot("empty", 0, -30),
        lot("old-noexp", 40, -10),  # same age as "old": the expiring one goes first
    ]
    # Oldest first: old 30, old-noexp 40, then 10 of new.
    assert spend_fifo(lots, 80, NOW) == [("old", 30), ("old-noexp", 40), ("new", 10)]
    with pytest.raises(Conflict) as caught:
        spend_fifo(lots, 121, NOW)  # spendable 30 + 40 + 50 = 120
    assert caught.value.code == "insufficient_points"
    assert caught.value.extra == {"requested": 121, "available": 120, "shortfall": 1}
    # A clawback may take pending points too (never expired ones).
    assert spend_fifo(lots, 220, NOW, include_pending=True)[-1] == ("new", 50)
    with pytest.raises(Invalid):
        spend_fifo(lots, 0, NOW)


def test_spend_fifo_at_the_boundaries():
    lots = [lot("x", 10, -5, available=0, expires=1)]
    assert spend_fifo(lots, 10, at(0)) == [("x", 10)]  # available_at == now: available
    with pytest.raises(Conflict):
        spend_fifo(lots, 1, at(1))  # expires_at == now: expired (exclusive)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 50),
            st.integers(-10, 0),
            st.integers(0, 5),
            st.one_of(st.none(), st.integers(-5, 10)),
        ),
        max_size=10,
    ),
    st.integers(1, 200),
)
def test_spend_fifo_properties(specs, points):
    lots = [
        lot(f"L{i}", p, earned, earned + delay, None if exp is None else earned + 5 + exp)
        for i, (p, earned, delay, exp) in enumerate(specs)
    ]
    spendable = [
        x
        for x in lots
        if x.points_left and x.available_at <= NOW and (x.expires_at is None or x.expires_at > NOW)
    ]
    have = sum(x.points_left for x in spendable)
    if have < points:
        with pytest.raises(Conflict) as caught:
            spend_fifo(lots, points, NOW)
        assert caught.value.extra["shortfall"] == points - have
        return
    taken = spend_fifo(lots, points, NOW)
    by_id = {x.id: x for x in lots}
    assert sum(p for _, p in taken) == points
    assert all(by_id[i] in spendable and 0 < p <= by_id[i].points_left for i, p in taken)
    # Oldest first: every lot strictly older than the last one touched is used up.
    last = by_id[taken[-1][0]]
    used = dict(taken)
    for x in spendable:
        if x.earned_at < last.earned_at:
            assert used.get(x.id) == x.points_left


def test_expires_at_year_end_in_the_tenant_time_zone():
    # Earned 2026-03-05 10:00 Shanghai, year_end 1: spendable through 2027-12-31 23:59:59.999999
    # local, expired from 2028-01-01 00:00 local = 2027-12-31 16:00 UTC.
    earned = datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)
    got = expires_at(earned, ExpiryPolicy(ExpiryKind.YEAR_END, 1), SHANGHAI)
    assert got == datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    # 2026-12-31 20:00 UTC is already 2027-01-01 04:00 in Shanghai: year_end 0 → end of 2027.
    late = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert expires_at(late, ExpiryPolicy(ExpiryKind.YEAR_END, 0), SHANGHAI) == got


def test_expires_at_rolling_months_and_none():
    earned = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    assert expires_at(earned, ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 12), SHANGHAI) == datetime(
        2027, 3, 5, 2, 0, tzinfo=UTC
    )
    # Jan 31 local + 1 month clamps to Feb 28 (local), 10:00 Shanghai = 02:00 UTC.
    jan31 = datetime(2027, 1, 31, 10, 0, tzinfo=SHANGHAI)
    assert expires_at(jan31, ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 1), SHANGHAI) == datetime(
        2027, 2, 28, 2, 0, tzinfo=UTC
    )
    assert expires_at(earned, ExpiryPolicy(), SHANGHAI) is None
    with pytest.raises(ValueError):
        expires_at(datetime(2026, 1, 1), ExpiryPolicy(), SHANGHAI)


@pytest.mark.parametrize(
    ("kind", "n"),
    [(ExpiryKind.NONE, 1), (ExpiryKind.ROLLING_MONTHS, 0), (ExpiryKind.YEAR_END, -1)],
)
def test_expiry_policy_refuses_bad_n(kind, n):
    with pytest.raises(ValueError):
        ExpiryPolicy(kind, n)


def test_expired_lists_what_the_job_writes():
    lots = [
        lot("b", 10, -30, expires=-1),
        lot("a", 5, -30, expires=-2),
        lot("now", 7, -30, expires=0),  # expires_at == now: due
        lot("later", 9, -30, expires=1),
        lot("never", 9, -30),
        lot("spent", 0, -30, expires=-3),
    ]
    assert expired(lots, NOW) == [("a", 5), ("b", 10), ("now", 7)]


# --- balance (§3.1) --------------------------------------------------------------------------


def test_balance_worked_example():
    entries = [
        Entry(A, 100, at(-10)),
        Entry(E, 100, at(-10)),
        Entry(B, 50, at(3)),  # pending: return window until in 3 days
        Entry(Category.D, -20, at(-5)),  # complaint adjustment taken back
        Entry(Category.R, -60, at(-10)),  # cash off from the A lot
        Entry(Category.R, 60, at(-10)),  # that redemption cancelled
        Entry(Category.R, -30, at(-10)),
        Entry(Category.X, -10, at(-10)),
        Entry(Category.F, 5, at(-1)),
    ]
    got = balance(entries, NOW)
    # 100 + 50 + 0 − 20 + 100 + 5 − 30 − 10 = 195; pending 50; available 145.
    assert got.balance == 195
    assert got.pending == 50
    assert got.available == 145
    assert got.by_category == {A: 100, B: 50, C: 0, Category.D: -20, E: 100, Category.F: 5,
                               Category.R: -30, Category.X: -10}  # fmt: skip
    assert balance([], NOW).balance == 0


# --- redemption value (§3.4) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "rate", "value"),
    [(100, 100, "1.00"), (150, 100, "1.50"), (1, 100, "0.01"), (25, D("12.5"), "2.00"),
     (3, 1, "3.00"), (20, 1000, "0.02")],
)  # fmt: skip
def test_cash_off_value(points, rate, value):
    assert cash_off_value(points, rate) == D(value)


def test_cash_off_refuses_points_that_are_not_whole_fen():
    with pytest.raises(Invalid) as caught:
        cash_off_value(155, 1000)  # 0.155 CNY
    assert caught.value.code == "points_not_whole_fen"
    with pytest.raises(Invalid):
        cash_off_value(0, 100)
    with pytest.raises(ValueError):
        cash_off_value(100, 0)


# --- change account (§4) ---------------------------------------------------------------------


def test_change_account_worked_examples():
    assert deposit(D("10.00"), D("0.50"), D("50.00")) == D("10.50")
    assert deposit(D("49.50"), D("0.50"), D("50.00")) == D("50.00")  # up to the limit exactly
    with pytest.raises(Conflict) as caught:
        deposit(D("49.50"), D("0.51"), D("50.00"))
    assert caught.value.code == "change_account_limit"
    assert caught.value.extra["max_deposit"] == "0.50"
    assert spend(D("10.50"), D("10.50")) == D("0.00")
    with pytest.raises(Conflict) as caught:
        spend(D("10.50"), D("10.51"))
    assert caught.value.code == "insufficient_change_balance"
    assert caught.value.extra["shortfall"] == "0.01"


@pytest.mark.parametrize("amount", ["0", "-1", "0.001", "NaN", "Infinity"])
def test_change_account_refuses_bad_amounts(amount):
    for call in (lambda: deposit(D(0), D(amount), D(100)), lambda: spend(D(100), D(amount))):
        with pytest.raises(Invalid) as caught:
            call()
        assert caught.value.code == "invalid_amount"


@given(st.lists(st.tuples(st.booleans(), st.decimals(min_value=0, max_value=80, places=2))))
def test_change_account_stays_within_zero_and_the_limit(ops):
    held, limit = D("0.00"), D("50.00")
    for is_deposit, amount in ops:
        with contextlib.suppress(Invalid, Conflict):
            held = deposit(held, amount, limit) if is_deposit else spend(held, amount)
        assert D(0) <= held <= limit


# --- the ledger as a whole: a bounded state machine ------------------------------------------


class Ledger(RuleBasedStateMachine):
    """Earn (possibly pending), redeem FIFO, cancel, adjust ±, expire and let time pass, all
    through this module; lots and entries kept as the service would keep them."""

    def __init__(self):
        super().__init__()
        self.now = NOW
        self.lots: dict[str, Lot] = {}
        self.entries: list[Entry] = []
        self.redemptions: list[list[tuple[str, int]]] = []
        self.policy = ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 1)

    def _add_lot(self, category: Category, points: int, pending_days: int) -> None:
        lot_id = f"L{len(self.lots)}"
        available = self.now + timedelta(days=pending_days)
        self.lots[lot_id] = Lot(
            lot_id, category, points, self.now, available, expires_at(self.now, self.policy, UTC)
        )
        self.entries.append(Entry(category, points, available))

    def _take(self, category: Category, taken: list[tuple[str, int]]) -> None:
        for lot_id, points in taken:
            old = self.lots[lot_id]
            self.lots[lot_id] = Lot(
                old.id, old.category, old.points_left - points, old.earned_at,
                old.available_at, old.expires_at,
            )  # fmt: skip
            self.entries.append(Entry(category, -points, old.available_at))

    @rule(amount=money, pending_days=st.integers(0, 7))
    def earn_on_sale(self, amount, pending_days):
        got = earn([ln(1, str(amount))], [], {1: D("0.1")}, D(2), None, D(1)).points
        for category, points in got.items():
            if points:
                self._add_lot(category, points, pending_days)

    @rule(points=st.integers(1, 300))
    def redeem(self, points):
        try:
            taken = spend_fifo(self.lots.values(), points, self.now)
        except Conflict:
            return
        self._take(Category.R, taken)
        self.redemptions.append(taken)

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def cancel_redemption(self, data):
        taken = self.redemptions.pop(data.draw(st.integers(0, len(self.redemptions) - 1)))
        for _, points in taken:  # a positive R entry; the points come back as a fresh lot
            self._add_lot(Category.R, points, 0)

    @rule(points=st.integers(-100, 100).filter(bool))
    def adjust(self, points):
        if points > 0:
            self._add_lot(Category.D, points, 0)
            return
        with contextlib.suppress(Conflict):  # refused: more than the member has
            self._take(Category.D, spend_fifo(self.lots.values(), -points, self.now))

    @rule(points=st.integers(1, 100))
    def claw_back(self, points):
        """A return: may take pending points (the return window) but never more than held."""
        with contextlib.suppress(Conflict):
            self._take(Category.A, spend_fifo(self.lots.values(), points, self.now, True))

    @rule(days=st.integers(1, 20))
    def time_passes(self, days):
        self.now += timedelta(days=days)

    @rule()
    def expire(self):
        due = expired(self.lots.values(), self.now)
        for lot_id, _ in due:
            assert self.lots[lot_id].expires_at <= self.now
        self._take(Category.X, due)

    @invariant()
    def ledger_matches_lots(self):
        got = balance(self.entries, self.now)
        assert got.balance == sum(x.points_left for x in self.lots.values())
        assert got.balance == sum(e.points for e in self.entries)
        assert got.available + got.pending == got.balance
        assert got.balance >= 0 and got.available >= 0 and got.pending >= 0
        assert got.pending == sum(
            x.points_left for x in self.lots.values() if x.available_at > self.now
        )
        assert all(x.points_left >= 0 for x in self.lots.values())
        assert got.by_category[Category.X] <= 0


Ledger.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestLedger = Ledger.TestCase
