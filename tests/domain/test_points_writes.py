"""The ledger's other writes, decided without a database (app/domain/points_writes.py and
change_moves.py): adjustments, redemptions and their cancellation, purchases, a balance shown
with lazy expiry, and change-account movements. Each plan is applied to an in-memory ledger
that must add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.card_lifecycle import CardStatus
from app.domain.change_account import ChangeKind
from app.domain.change_moves import ChangeContext, decide_change
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.ledger import Decided
from app.domain.points import Category, ExpiryKind, ExpiryPolicy, Lot
from app.domain.points_ledger import LotEntry, PointsSettings
from app.domain.points_writes import (
    MemberPoints,
    Points,
    RedemptionPoints,
    decide_adjustment,
    decide_cancellation,
    decide_points,
    decide_purchase,
    decide_redemption,
)
from tests.domain.conftest import MEMBER, NOW, SHANGHAI, TENANT, MemberBook, card

YEARLY = PointsSettings(expiry=ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 12))


def read(book: MemberBook, now=NOW, settings=YEARLY, **extra) -> MemberPoints:
    values = {
        "tenant_id": TENANT,
        "time_zone": SHANGHAI,
        "settings": settings,
        "member_id": MEMBER,
        "card": None,
        "holdings": book.holdings(now),
        "lot_id": book.allocate(1)[0],
        "redemption_id": book.allocate(1)[0],
        **extra,
    }
    return MemberPoints(**values)


def apply(book: MemberBook, decided: Decided, now=NOW):
    assert book.apply(decided.plan)
    assert book.problems(now) == []
    return decided.result


def adjust(book, points, now=NOW, reason="goodwill"):
    return apply(
        book,
        decide_adjustment(
            read(book, now),
            member_id=MEMBER,
            points=points,
            reason=reason,
            actor="admin",
            adjustment_id="adj-1",
            now=now,
        ),
        now,
    )


def redeem(book, points, now=NOW, **extra):
    values = {"card_number": None, "member_id": MEMBER, "purpose": "gift", "reference": None}
    return decide_redemption(read(book, now), points=points, now=now, **(values | extra))


def test_adjustments_give_and_take_d_points_and_are_audited():
    book = MemberBook()
    given = adjust(book, 100)
    assert (given.points, given.balance) == (100, 100)
    (lot,) = book.lots.values()
    assert lot.expires_at == datetime(2027, 11, 23, 8, 0, tzinfo=UTC)  # 12 months, local time
    taken = adjust(book, -30)
    assert (taken.balance, book.totals[Category.D]) == (70, 70)
    decided = decide_adjustment(
        read(book),
        member_id=MEMBER,
        points=5,
        reason=" x ",
        actor="admin",
        adjustment_id="adj-2",
        now=NOW,
    )
    assert [(a.field, a.new, a.actor) for a in decided.plan.audit] == [
        ("member_id", MEMBER, "admin"),
        ("points", "5", "admin"),
        ("reason", "x", "admin"),
    ]
    for points, reason, code in [(0, "x", "invalid_points"), (True, "x", "invalid_points")]:
        with pytest.raises(Invalid) as refused:
            adjust(book, points, reason=reason)
        assert refused.value.code == code
    with pytest.raises(Invalid) as refused:
        adjust(book, 1, reason="  ")
    assert refused.value.code == "reason_required"
    with pytest.raises(Conflict) as refused:
        adjust(book, -71)
    assert refused.value.extra["shortfall"] == 1
    with pytest.raises(Invalid) as refused:
        decide_adjustment(
            read(book, member_id=None),
            member_id="nobody",
            points=1,
            reason="x",
            actor="a",
            adjustment_id="a",
            now=NOW,
        )
    assert (refused.value.code, refused.value.errors[0].field) == ("member_not_found", "member_id")


def test_a_redemption_and_its_cancellation_give_back_to_the_same_lots():
    book = MemberBook()
    adjust(book, 100, now=NOW - timedelta(days=400))  # expired 35 days ago
    adjust(book, 100)
    decided = redeem(book, 60, purpose="cash_off")
    # The due lot expires first; 60 of the other are spent.
    assert decided.result.money == Decimal("0.60")
    done = apply(book, decided)
    assert (book.totals[Category.X], book.totals[Category.R], book.balance) == (-100, -60, 40)
    lots = {lot.id: lot for lot in book.lots.values()}
    spent = tuple((e.lot_id, e.points) for e in decided.plan.points.entries if e.category == "R")
    cancel = RedemptionPoints(
        TENANT, done, spent, tuple(lots[str(lot)] for lot, _ in spent), book.holdings(NOW)
    )
    cancelled = apply(book, decide_cancellation(cancel, done.id, NOW))
    assert (cancelled.status, cancelled.cancelled_at, book.balance) == ("cancelled", NOW, 100)
    with pytest.raises(Conflict) as refused:
        decide_cancellation(
            RedemptionPoints(TENANT, cancelled, (), (), book.holdings(NOW)), done.id, NOW
        )
    assert refused.value.code == "redemption_already_cancelled"
    with pytest.raises(NotFound):
        decide_cancellation(RedemptionPoints(TENANT, None, (), (), book.holdings(NOW)), 9, NOW)


def test_cancelled_points_of_a_lot_expired_meanwhile_expire_again():
    book = MemberBook()
    earned = NOW - timedelta(days=400)  # expired 35 days ago
    adjust(book, 100, now=earned)
    done = apply(book, redeem(book, 100, now=earned + timedelta(days=1)))
    (lot,) = book.lots.values()
    cancel = RedemptionPoints(TENANT, done, ((int(lot.id), -100),), (lot,), book.holdings(NOW))
    apply(book, decide_cancellation(cancel, done.id, NOW))
    assert (book.totals[Category.R], book.totals[Category.X], book.balance) == (0, -100, 0)


def test_redemptions_name_an_active_card_or_a_member():
    book = MemberBook()
    adjust(book, 100)
    with pytest.raises(Invalid) as refused:
        decide_redemption(
            read(book),
            card_number=None,
            member_id=None,
            points=1,
            purpose="gift",
            reference=None,
            now=NOW,
        )
    assert refused.value.code == "card_or_member_required"
    cases = [
        ({"card": None}, {"card_number": "S01G0000019"}, "card_not_found"),
        (
            {"card": card()},
            {"card_number": "S01G0000019", "member_id": "other"},
            "card_member_mismatch",
        ),
        ({"card": card(status=CardStatus.LOST)}, {"card_number": "S01G0000019"}, "card_lost"),
    ]
    for context, request, code in cases:
        with pytest.raises((Invalid, Conflict)) as refused:
            decide_redemption(
                read(book, **context),
                points=1,
                purpose="gift",
                reference=None,
                now=NOW,
                **({"member_id": None} | request),
            )
        assert refused.value.code == code
    with pytest.raises(Invalid) as refused:
        redeem(book, 1, purpose="bribe")
    assert refused.value.code == "invalid_purpose"
    cash_off = PointsSettings(points_per_yuan=3)
    with pytest.raises(Invalid) as refused:  # 1 point is a third of a fen
        decide_redemption(
            read(book, settings=cash_off),
            card_number=None,
            member_id=MEMBER,
            points=1,
            purpose="cash_off",
            reference=None,
            now=NOW,
        )
    assert refused.value.code == "points_not_whole_fen"


def test_purchased_points_are_an_f_lot_at_the_point_price():
    book = MemberBook()
    settings = PointsSettings(point_price=Decimal("0.015"))
    decided = decide_purchase(
        read(book, settings=settings),
        card_number=None,
        member_id=MEMBER,
        points=70,
        purchase_id="p-1",
        now=NOW,
    )
    bought = apply(book, decided)
    assert (bought.money, bought.balance, book.totals[Category.F]) == (Decimal("1.05"), 70, 70)


def test_a_balance_shown_expires_due_lots_once():
    book = MemberBook()
    adjust(book, 100, now=NOW - timedelta(days=400))  # expired 35 days ago
    adjust(book, 50, now=NOW - timedelta(days=40))  # written before that
    shown = decide_points(read(book), MEMBER, NOW)
    assert isinstance(shown, Decided)  # a write: the due lot expires
    points = apply(book, shown)
    assert (points.balance, points.available, points.by_category[Category.X]) == (50, 50, -100)
    assert points.next_expiry.points == 50
    again = decide_points(read(book), MEMBER, NOW)
    assert isinstance(again, Points) and again == points  # nothing more to write
    with pytest.raises(NotFound):
        decide_points(read(book, member_id=None), "nobody", NOW)


def test_change_account_deposits_and_spends():
    def move(kind, amount, balance="10.00", enabled=True, status=CardStatus.ACTIVE):
        context = ChangeContext(
            TENANT,
            card(status=status),
            "GOLD",
            enabled,
            Decimal("50"),
            Decimal(balance),
            77,
        )
        return decide_change(
            context,
            kind,
            number="S01G0000019",
            amount=Decimal(amount),
            reference=None,
            source_id="s",
            now=NOW,
        )

    deposited = move(ChangeKind.DEPOSIT, "40.00")
    assert (deposited.result.balance, deposited.plan.change.balance) == (
        Decimal("50.00"),
        Decimal("10.00"),
    )
    assert deposited.result.entry_id == 77 and deposited.plan.points is None
    spent = move(ChangeKind.SPEND, "10.00", enabled=False)  # what is stored stays spendable
    assert spent.result.amount == Decimal("-10.00") and spent.result.balance == 0
    for args, code in [
        ((ChangeKind.DEPOSIT, "40.01"), "change_account_limit"),
        ((ChangeKind.SPEND, "10.01"), "insufficient_change_balance"),
        ((ChangeKind.SPEND, "0"), "invalid_amount"),
    ]:
        with pytest.raises((Invalid, Conflict)) as refused:
            move(*args)
        assert refused.value.code == code
    with pytest.raises(Conflict) as refused:
        move(ChangeKind.DEPOSIT, "1.00", enabled=False)
    assert refused.value.code == "change_account_disabled"
    with pytest.raises(Conflict) as refused:
        move(ChangeKind.SPEND, "1.00", balance="0", enabled=False)
    assert refused.value.code == "change_account_disabled"
    with pytest.raises(Conflict) as refused:
        move(ChangeKind.SPEND, "1.00", status=CardStatus.FROZEN)
    assert refused.value.code == "card_frozen"


def test_a_due_lot_pending_and_expired_at_once_leaves_pending_right():
    """A lot can still be in its return window when it expires (pending days longer than
    the expiry): its X entry carries its available_at, so pending falls with it."""
    book = MemberBook()
    late = Lot("1", Category.A, 10, NOW - timedelta(days=40), NOW + timedelta(days=5), NOW)
    book.lots["1"] = late
    book.totals[Category.A] = 10
    book.entries.append(LotEntry(Category.A, 10, late.available_at, "1"))
    shown = decide_points(read(book), MEMBER, NOW)
    points = apply(book, shown)
    assert (points.balance, points.pending, points.available) == (0, 0, 0)
