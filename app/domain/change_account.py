"""The change account (零钞转存, docs/domain §4) beyond ``deposit``/``spend`` of app.domain.points:
the kinds of its ledger entries and the refund of a sale's change-account payment on a
return. Pure, exact, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from app.domain.money import CENT, ZERO
from app.domain.points import Payment, PaymentMethod


class ChangeKind(StrEnum):
    DEPOSIT = "deposit"  # change the till could not give, stored on the card (+)
    SPEND = "spend"  # paid out of the account at the till or in the app (−)
    SALE_PAYMENT = "sale_payment"  # a sale's `change_account` payment (−)
    SALE_REFUND = "sale_refund"  # its pro-rata refund on a return (+)


CREDITS = frozenset({ChangeKind.DEPOSIT, ChangeKind.SALE_REFUND})


def signed(kind: ChangeKind, amount: Decimal) -> Decimal:
    """The entry's signed amount: credits positive, debits negative."""
    return amount if kind in CREDITS else -amount


def change_paid(payments: Iterable[Payment]) -> Decimal:
    """What a sale's ``change_account`` payments take from the account."""
    return sum(
        (p.amount for p in payments if p.method is PaymentMethod.CHANGE_ACCOUNT), ZERO
    ).quantize(CENT)


def _floor_fen(value: Fraction) -> Decimal:
    return Decimal(math.floor(value * 100)) / 100


def refund_of_change_paid(paid: Decimal, before: Fraction, after: Fraction) -> Decimal:
    """The change-account money to give back for a return taking the returned share of the
    receipt from ``before`` to ``after``: floor_fen(C × after) − floor_fen(C × before), like the
    points refund. Cumulative, so the refunds of any sequence of returns never add up to more
    than C, and a full return (after = 1) has refunded exactly C."""
    if paid < 0 or not 0 <= before <= after <= 1:
        raise ValueError(f"need paid ≥ 0 and 0 ≤ before ≤ after ≤ 1: {before}, {after}")
    c = Fraction(paid)
    return (_floor_fen(c * after) - _floor_fen(c * before)).quantize(CENT)
