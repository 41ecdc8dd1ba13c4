"""Multiplier k, the birthday in a time zone and warm rules (app.domain.points_rules)."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from app.domain.errors import Invalid
from app.domain.points_rules import (
    BirthdayMultiplier,
    BirthdayScope,
    ConditionKind,
    EventTerms,
    WarmCondition,
    WarmRule,
    WarmTerms,
    check_event,
    check_warm_rule,
    condition_json,
    condition_of,
    is_birthday,
    multiplier,
    needs_member_groups,
    warm_points,
)
from app.domain.pricing import Level, PointsRuleEntry, RuleIndex

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


def event(k="2", start="2026-12-01", end="2026-12-31", stores=(), classes=(), groups=()):
    return EventTerms(
        name="e",
        k=D(k),
        starts_at=datetime.fromisoformat(start).replace(tzinfo=UTC),
        ends_at=datetime.fromisoformat(end).replace(tzinfo=UTC),
        store_codes=tuple(stores),
        card_classes=tuple(classes),
        member_groups=tuple(groups),
    )


def test_k_is_the_largest_matching_not_the_product():
    events = [event("3"), event("2"), event("5", stores=["S02"]), event("4", classes=["PLAT"])]
    assert multiplier(events, AT, "S01", "GOLD") == D(3)
    assert multiplier(events, AT, "S02", "GOLD") == D(5)
    assert multiplier(events, AT, "S01", "PLAT") == D(4)
    assert multiplier([], AT, "S01", "GOLD") == D(1)


def test_events_for_member_groups_apply_to_members_of_any_of_them():
    events = [event("2"), event("4", groups=["VIP", "NEW"])]
    assert multiplier(events, AT, "S01", "GOLD") == D(2)  # in no group
    assert multiplier(events, AT, "S01", "GOLD", member_groups=frozenset({"NEW"})) == D(4)
    assert multiplier(events, AT, "S01", "GOLD", member_groups=frozenset({"LAPSED"})) == D(2)
    assert needs_member_groups(events, AT)
    assert not needs_member_groups(events[:1], AT)
    assert not needs_member_groups(events, datetime(2027, 1, 1, tzinfo=UTC))  # ended


def test_event_window_is_start_inclusive_end_exclusive():
    e = event(start="2026-12-05T03:00:00", end="2026-12-06")
    assert multiplier([e], AT, "S01", "GOLD") == D(2)
    assert multiplier([e], datetime(2026, 12, 6, tzinfo=UTC), "S01", "GOLD") == D(1)


def test_birthday_multiplier_competes_with_events():
    bday = BirthdayMultiplier(D(2), BirthdayScope.DAY)
    kw = {"birthday": bday, "member_birthday": date(1990, 12, 5), "tz": SHANGHAI}
    assert multiplier([event("3")], AT, "S01", "GOLD", **kw) == D(3)
    assert multiplier([event("1.5")], AT, "S01", "GOLD", **kw) == D(2)
    assert multiplier([], AT, "S01", "GOLD", **{**kw, "member_birthday": None}) == D(1)


def test_birthday_day_and_month_in_the_tenant_zone():
    late = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # already 5 December in Shanghai
    assert is_birthday(date(1990, 12, 5), late, SHANGHAI, BirthdayScope.DAY)
    assert not is_birthday(date(1990, 12, 5), late, UTC, BirthdayScope.DAY)
    assert is_birthday(date(1990, 12, 31), late, SHANGHAI, BirthdayScope.MONTH)
    assert not is_birthday(date(1990, 11, 30), late, SHANGHAI, BirthdayScope.MONTH)
    feb28 = datetime(2027, 2, 28, 4, tzinfo=UTC)
    assert is_birthday(date(2000, 2, 29), feb28, SHANGHAI, BirthdayScope.DAY)
    assert not is_birthday(None, feb28, SHANGHAI, BirthdayScope.MONTH)


@dataclass
class G:
    line_no: int
    sku: str
    brand: str | None = None
    major_category: str | None = None
    mid_category: str | None = None
    minor_category: str | None = None
    counter: str | None = None


def warm(rule_id, points, condition, **kw):
    return WarmRule(
        id=rule_id,
        name="w",
        points=points,
        condition=condition,
        created_at=AT,
        updated_at=AT,
        **kw,
    )


def test_warm_rules_each_once_per_receipt():
    rules = [
        warm(1, 50, WarmCondition(kind=ConditionKind.BOUGHT, level=Level.BRAND, target="OLAY")),
        warm(2, 100, WarmCondition(kind=ConditionKind.RECEIPT_AT_LEAST, amount=D("500"))),
        warm(3, 200, WarmCondition(kind=ConditionKind.BIRTHDAY)),
        warm(4, 9, WarmCondition(kind=ConditionKind.RECEIPT_AT_LEAST, amount=D(1)), active=False),
        warm(
            5,
            9,
            WarmCondition(kind=ConditionKind.RECEIPT_AT_LEAST, amount=D(1)),
            ends_at=AT,
        ),
    ]
    lines = [G(1, "A", brand="OLAY"), G(2, "B", brand="OLAY")]
    assert warm_points(rules, AT, lines, D("500.00"), None, SHANGHAI) == {"1": 50, "2": 100}
    got = warm_points(rules, AT, lines[1:], D("499.99"), date(1980, 12, 5), SHANGHAI)
    assert got == {"1": 50, "3": 200}


def test_conditions_round_trip():
    for c in (
        WarmCondition(kind=ConditionKind.BIRTHDAY, scope=BirthdayScope.MONTH),
        WarmCondition(kind=ConditionKind.BOUGHT, level=Level.PRODUCT, target="6901"),
        WarmCondition(kind=ConditionKind.RECEIPT_AT_LEAST, amount=D("99.5")),
    ):
        assert condition_of(condition_json(c)) == c


def test_validation_names_fields():
    with pytest.raises(Invalid) as caught:
        check_event(event("0.5", start="2026-12-02", end="2026-12-01", stores=["S1", "S1"]))
    assert {e.field for e in caught.value.errors} == {"k", "ends_at", "store_codes"}
    bad = WarmTerms(
        name=" ",
        points=0,
        condition=WarmCondition(kind=ConditionKind.RECEIPT_AT_LEAST, amount=D("-1")),
    )
    with pytest.raises(Invalid) as caught:
        check_warm_rule(bad)
    assert {e.field for e in caught.value.errors} == {"name", "points", "condition.amount"}


def test_points_entries_accept_zero_and_large_rates():
    entry = PointsRuleEntry(
        rule_id="1",
        level=Level.BRAND,
        target="CIG",
        card_class="GOLD",
        rate=D(0),
        stackable=False,
        approved_at=AT,
        effective_from=AT,
        effective_to=None,
    )
    index = RuleIndex.build([entry])
    res = index.resolve("GOLD", G(1, "X", brand="CIG"), AT, D("0.1"))
    assert (res.rate, res.rule_id) == (D(0), "1")
    with pytest.raises(ValueError, match="points rate"):
        replace(entry, rate=D(-1))
