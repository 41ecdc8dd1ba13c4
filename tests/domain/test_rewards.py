"""The rewards catalogue decided without a database (app/domain/rewards.py): an offer's terms
refused with every bad field at once, and an exchange — the points spent as a gift
redemption referencing the voucher, the voucher issued for the template's validity — or
refused for the offer's state, the member's class or points."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.domain.errors import Conflict, Invalid
from app.domain.ledger import Decided
from app.domain.points import Category, ExpiryKind, ExpiryPolicy
from app.domain.points_ledger import PointsSettings
from app.domain.points_writes import MemberPoints, decide_adjustment
from app.domain.rewards import Reward, RewardTerms, check_reward, decide_exchange
from app.domain.voucher_codes import is_valid, new_code
from app.domain.voucher_terms import References
from app.domain.vouchers import Kind, Source, Template
from tests.domain.conftest import MEMBER, NOW, SHANGHAI, TENANT, MemberBook, card

KNOWN = References(templates=frozenset({"CNY18"}), card_classes=frozenset({"GOLD", "SILVER"}))
TEMPLATE = Template("CNY18", "18 off", Kind.AMOUNT_OFF, face_value=Decimal(18), valid_days=30)
TERMS = {"code": "CUP-18", "name": "18 CNY", "template": "CNY18", "points": 1800}


YEARLY = PointsSettings(expiry=ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 12))


def read(book: MemberBook, now=NOW, card=None) -> MemberPoints:
    lot_id, redemption_id = book.allocate(2)
    return MemberPoints(
        TENANT, SHANGHAI, YEARLY, MEMBER, card, book.holdings(now), lot_id, redemption_id
    )


def apply(book: MemberBook, decided: Decided):
    assert book.apply(decided.plan)
    assert book.problems(NOW) == []
    return decided.result


def adjust(book: MemberBook, points: int) -> None:
    decided = decide_adjustment(
        read(book),
        member_id=MEMBER,
        points=points,
        reason="goodwill",
        actor="admin",
        adjustment_id="adj-1",
        now=NOW,
    )
    apply(book, decided)


def reward(**changes) -> Reward:
    values = {**TERMS, "exchanged": 0, "created_at": NOW, "updated_at": NOW, **changes}
    return Reward(**values)


def fields_of(exc: pytest.ExceptionInfo) -> list[str]:
    return [e.field for e in exc.value.errors]


def test_good_terms_pass():
    check_reward(RewardTerms(**TERMS, stock=0, card_classes=("GOLD",)), KNOWN)


def test_bad_terms_are_one_refusal_naming_every_field():
    terms = RewardTerms(
        code="-bad",
        name=" ",
        template="NOPE",
        points=0,
        stock=-1,
        card_classes=("GOLD", "PLATINUM"),
        starts_at=NOW,
        ends_at=NOW,
    )
    with pytest.raises(Invalid) as refused:
        check_reward(terms, KNOWN)
    assert refused.value.code == "invalid_reward"
    assert fields_of(refused) == [
        "code",
        "name",
        "template",
        "points",
        "stock",
        "card_classes[1]",
        "ends_at",
    ]
    assert "no card class PLATINUM" in refused.value.detail


@pytest.mark.parametrize("points", [True, 2**31, -5, 1.5])
def test_points_are_a_whole_number_an_integer_column_holds(points):
    with pytest.raises(Invalid) as refused:
        check_reward(RewardTerms(**{**TERMS, "points": points}), KNOWN)
    assert fields_of(refused) == ["points"]


def exchange(book, offer, *, template=TEMPLATE, classes=frozenset(), now=NOW, **who):
    who = who or {"member_id": MEMBER, "card_number": None}
    code = new_code(7)
    context = read(book, now, card=who.pop("card", None))
    return decide_exchange(
        context,
        reward=offer,
        template=template,
        member_classes=classes,
        voucher_code=code,
        now=now,
        **{"member_id": None, "card_number": None, **who},
    )


def test_an_exchange_spends_the_points_as_a_gift_and_issues_the_voucher():
    book = MemberBook()
    adjust(book, 5000)
    decided = exchange(book, reward())
    done = apply(book, decided)
    assert (done.points, done.balance, done.member_id) == (1800, 3200, MEMBER)
    assert book.totals[Category.R] == -1800
    voucher = done.voucher
    assert is_valid(voucher.code) and decided.plan.redemption.reference == voucher.code
    assert decided.plan.redemption.purpose == "gift"
    assert (voucher.template, voucher.holder, voucher.source, voucher.source_ref) == (
        "CNY18",
        MEMBER,
        Source.REWARD,
        "CUP-18",
    )
    assert (voucher.valid_from, voucher.valid_to) == (NOW, NOW + timedelta(days=30))


def test_not_enough_points_is_the_ledgers_refusal():
    book = MemberBook()
    adjust(book, 1000)
    with pytest.raises(Conflict) as refused:
        exchange(book, reward())
    assert (refused.value.code, refused.value.extra["shortfall"]) == ("insufficient_points", 800)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"active": False}, "reward_inactive"),
        ({"starts_at": NOW + timedelta(seconds=1)}, "reward_not_in_window"),
        ({"ends_at": NOW}, "reward_not_in_window"),
        ({"stock": 0}, "reward_out_of_stock"),
    ],
)
def test_a_closed_offer_is_refused_before_anything_is_spent(changes, code):
    book = MemberBook()
    adjust(book, 5000)
    with pytest.raises(Conflict) as refused:
        exchange(book, reward(**changes))
    assert refused.value.code == code


def test_the_window_is_inclusive_of_its_start():
    book = MemberBook()
    adjust(book, 5000)
    assert apply(book, exchange(book, reward(starts_at=NOW, stock=1))).balance == 3200


def test_classes_are_the_named_cards_or_any_active_card_of_the_member():
    book = MemberBook()
    adjust(book, 9000)
    gold_only = reward(card_classes=("GOLD",))
    with pytest.raises(Conflict) as refused:
        exchange(book, gold_only, classes=frozenset({"SILVER"}))
    assert refused.value.code == "reward_class_not_eligible"
    assert refused.value.extra == {"card_classes": ["GOLD"]}
    assert apply(book, exchange(book, gold_only, classes=frozenset({"SILVER", "GOLD"})))
    silver = card(klass="SILVER")
    with pytest.raises(Conflict):  # the card named decides, not the member's other cards
        exchange(
            book,
            gold_only,
            classes=frozenset({"GOLD"}),
            card=silver,
            card_number=silver.number,
        )
    gold = card()
    done = apply(book, exchange(book, gold_only, card=gold, card_number=gold.number))
    assert done.card_number == gold.number


def test_a_template_gone_or_past_its_window_issues_nothing():
    book = MemberBook()
    adjust(book, 5000)
    with pytest.raises(Conflict) as refused:
        exchange(book, reward(), template=None)
    assert refused.value.code == "reward_template_missing"
    ended = Template(
        "CNY18",
        "18 off",
        Kind.AMOUNT_OFF,
        face_value=Decimal(18),
        valid_from=NOW - timedelta(days=30),
        valid_to=NOW,
    )
    with pytest.raises(Conflict) as refused:
        exchange(book, reward(), template=ended)
    assert refused.value.code == "reward_template_expired"
