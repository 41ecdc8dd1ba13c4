"""The change account's pure rules beyond deposit/spend: kinds, signs and pro-rata refunds."""

from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.change_account import ChangeKind, change_paid, refund_of_change_paid, signed
from app.domain.points import Payment, PaymentMethod


def test_signs_and_change_paid():
    assert signed(ChangeKind.DEPOSIT, Decimal("1.00")) == Decimal("1.00")
    assert signed(ChangeKind.SALE_REFUND, Decimal("1.00")) == Decimal("1.00")
    assert signed(ChangeKind.SPEND, Decimal("1.00")) == Decimal("-1.00")
    assert signed(ChangeKind.SALE_PAYMENT, Decimal("1.00")) == Decimal("-1.00")
    payments = [
        Payment(PaymentMethod.CASH, Decimal("5")),
        Payment(PaymentMethod.CHANGE_ACCOUNT, Decimal("1.5")),
        Payment(PaymentMethod.CHANGE_ACCOUNT, Decimal("0.25")),
    ]
    assert change_paid(payments) == Decimal("1.75")
    assert change_paid([]) == Decimal("0.00")


def test_refund_worked_examples():
    paid = Decimal("38.00")
    first = refund_of_change_paid(paid, Fraction(0), Fraction(100, 188))
    assert first == Decimal("20.21")  # floor_fen(20.2127…)
    assert refund_of_change_paid(paid, Fraction(100, 188), Fraction(1)) == Decimal("17.79")
    assert refund_of_change_paid(paid, Fraction(0), Fraction(1)) == paid
    assert refund_of_change_paid(Decimal("0"), Fraction(0), Fraction(1)) == Decimal("0.00")
    with pytest.raises(ValueError):
        refund_of_change_paid(paid, Fraction(1, 2), Fraction(1, 3))


@given(
    cents=st.integers(min_value=0, max_value=10**9),
    cuts=st.lists(st.fractions(min_value=0, max_value=1, max_denominator=10**4), max_size=8),
)
def test_refunds_never_exceed_what_was_paid_and_a_full_return_refunds_all(cents, cuts):
    paid = Decimal(cents) / 100
    shares = [Fraction(0), *sorted(cuts), Fraction(1)]
    refunds = [refund_of_change_paid(paid, a, b) for a, b in pairwise(shares)]
    assert all(r >= 0 and r == r.quantize(Decimal("0.01")) for r in refunds)
    running = Decimal(0)
    for r in refunds[:-1]:
        running += r
        assert running <= paid
    assert sum(refunds, Decimal(0)) == paid
