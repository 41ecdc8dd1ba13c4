"""Member price at checkout (docs/domain §2): rate resolution, stacked discounts, line amounts,
discount sharing, receipt card opening and basket validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.card_classes import OverrideLevel, ShareOverride, SharingGroup
from app.domain.errors import Invalid
from app.domain.pricing import (
    MOST_SPECIFIC_FIRST,
    ClassPricing,
    Level,
    Line,
    RuleEntry,
    RuleIndex,
    StackingMode,
    check_basket,
    openable_classes,
    price_basket,
    price_line,
    price_without_card,
    unit_price,
)

D = Decimal
THRESHOLD, MULTIPLY = StackingMode.THRESHOLD, StackingMode.MULTIPLY
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
EMPTY = RuleIndex.build(())


def day(n: int) -> datetime:
    """Midnight (Shanghai) of the n-th of November 2026, in UTC."""
    return datetime(2026, 11, n, tzinfo=timezone(timedelta(hours=8))).astimezone(UTC)


def line(**overrides) -> Line:
    values = dict(
        line_no=1,
        sku="SKU1",
        major_category="1",
        mid_category="101",
        minor_category="10101",
        counter="grocery",
        brand=None,
        original_price=D("100.00"),
        existing_price=D("100.00"),
        qty=D("1"),
    )
    return Line(**{**values, **overrides})


def rule(
    rule_id: str,
    level: Level,
    target: str,
    rate: str,
    *,
    approved: datetime = NOW,
    start: datetime | None = None,
    end: datetime | None = None,
    card_class: str = "GOLD",
    stackable: bool = True,
) -> RuleEntry:
    return RuleEntry(
        rule_id=rule_id,
        level=level,
        target=target,
        card_class=card_class,
        rate=D(rate),
        stackable=stackable,
        approved_at=approved,
        effective_from=approved if start is None else start,
        effective_to=end,
    )


def gold(**overrides) -> ClassPricing:
    values = dict(
        code="GOLD",
        default_discount_rate=D("0.9"),
        stack_threshold_rate=D("0.80"),
        stack_rate=D("0.95"),
        sharing=None,
    )
    return ClassPricing(**{**values, **overrides})


# --- §2.2 unit price -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "stackable", "mode", "expected", "stacked"),
    [
        # The seed's worked example: threshold 0.80, stack_rate 0.95, vip 0.88, original 100.
        ("90", True, THRESHOLD, "85.50", True),  # e = 0.90: min(85.50, 88)
        ("84", True, THRESHOLD, "79.80", True),  # e = 0.84: min(79.80, 88)
        ("80", True, THRESHOLD, "76.00", True),  # e = 0.80 is at the threshold: stacks
        ("79.99", True, THRESHOLD, "79.99", False),  # just below: min(79.99, 88)
        ("75", True, THRESHOLD, "75.00", False),  # e = 0.75 < 0.80: min(75, 88)
        ("75", True, MULTIPLY, "66.00", True),  # 75 × 0.88
        ("100", True, THRESHOLD, "88.00", False),  # no promotion
        ("100", True, MULTIPLY, "88.00", False),
        ("100", False, THRESHOLD, "88.00", False),
        ("90", False, THRESHOLD, "88.00", False),  # not stackable: min(90, 88)
        ("84", False, THRESHOLD, "84.00", False),  # not stackable: min(84, 88)
        ("84", False, MULTIPLY, "84.00", False),
        ("92.50", True, THRESHOLD, "87.875", True),  # unit is not rounded
    ],
)
def test_unit_price_worked_example(existing, stackable, mode, expected, stacked):
    unit, was_stacked = unit_price(
        D("100"), D(existing), D("0.88"), stackable, D("0.80"), D("0.95"), mode
    )
    assert unit == D(expected)
    assert was_stacked is stacked


def test_no_promotion_ignores_the_stack_rate():
    # e = 1 would pass any threshold, but §2.2 prices an unpromoted item at original × vip.
    assert unit_price(D("100"), D("100"), D("0.88"), True, D("0.8"), D("0.5"), THRESHOLD) == (
        D("88.00"),
        False,
    )


def test_stack_rate_one_is_not_called_stacked():
    # min(84 × 1, 88) = 84: what a non-stackable line pays, so nothing was stacked.
    assert unit_price(D("100"), D("84"), D("0.88"), True, D("0.8"), D("1"), THRESHOLD) == (
        D("84"),
        False,
    )


def test_member_rate_can_beat_the_stacked_price():
    # 90 × 0.95 = 85.50 > 100 × 0.80: the member price wins, and it is not a stacked price.
    assert unit_price(D("100"), D("90"), D("0.80"), True, D("0.8"), D("0.95"), THRESHOLD) == (
        D("80.00"),
        False,
    )


def test_free_item_has_no_division_by_zero():
    for mode in StackingMode:
        assert unit_price(D("0"), D("0"), D("0.9"), True, D("0.8"), D("0.95"), mode)[0] == 0


prices = st.decimals(min_value=D("0"), max_value=D("99999.99"), places=2)
rates = st.decimals(min_value=D("0.0001"), max_value=D("1"), places=4)
qtys = st.decimals(min_value=D("0.001"), max_value=D("999.999"), places=3)


@st.composite
def price_pairs(draw) -> tuple[Decimal, Decimal]:
    """(original, existing) with existing <= original; often equal (no promotion)."""
    original = draw(prices)
    if draw(st.booleans()):
        return original, original
    return original, draw(st.decimals(min_value=D("0"), max_value=original, places=2))


@given(price_pairs(), rates, st.booleans(), rates, rates, st.sampled_from(StackingMode))
def test_unit_price_stays_between_zero_and_existing(pair, vip, stackable, threshold, sr, mode):
    original, existing = pair
    unit, _ = unit_price(original, existing, vip, stackable, threshold, sr, mode)
    assert 0 <= unit <= existing


@given(price_pairs(), rates, rates, rates, st.sampled_from(StackingMode))
def test_stacking_never_costs_the_member_more(pair, vip, threshold, sr, mode):
    # Holds for both modes: threshold takes min(existing × sr, original × vip) with sr <= 1;
    # multiply gives existing × vip, <= existing (vip <= 1) and <= original × vip
    # (existing <= original).
    original, existing = pair
    with_stack, stacked = unit_price(original, existing, vip, True, threshold, sr, mode)
    without, not_stacked = unit_price(original, existing, vip, False, threshold, sr, mode)
    assert with_stack <= without
    assert stacked is (with_stack < without)
    assert not_stacked is False


# --- line amounts and sharing (§2.2, §2.3) ---------------------------------------------------


def test_line_amounts_round_only_the_amounts():
    # unit 87.875 (not rounded) × 3 = 263.625 → 263.63; original 300.00; member part
    # round2(92.50 × 3) - 263.63 = 277.50 - 263.63 = 13.87.
    priced = price_line(
        line(existing_price=D("92.50"), qty=D("3")),
        gold(default_discount_rate=D("0.88")),
        EMPTY,
        THRESHOLD,
        NOW,
    )
    assert priced.final_unit_price == D("87.88")
    assert (priced.original_amount, priced.final_amount) == (D("300.00"), D("263.63"))
    assert priced.discount_amount == D("36.37")
    assert priced.member_discount == D("13.87")
    assert (priced.store_borne, priced.supplier_borne) == (D("13.87"), D("0.00"))  # no group
    assert priced.stacked and priced.rate == D("0.88") and priced.level is None


def test_weighed_goods():
    # 12.99 × 0.455 kg = 5.91045 → 5.91; × 0.9 = 5.319405 → 5.32 (unit 11.691 not rounded).
    priced = price_line(
        line(original_price=D("12.99"), existing_price=D("12.99"), qty=D("0.455")),
        gold(),
        EMPTY,
        THRESHOLD,
        NOW,
    )
    assert (priced.original_amount, priced.final_amount) == (D("5.91"), D("5.32"))
    assert priced.final_unit_price == D("11.69")
    assert priced.member_discount == D("0.59")


def group(share: str, *overrides: tuple[OverrideLevel, str, str]) -> SharingGroup:
    return SharingGroup(
        tenant_id="t",
        code="G1",
        name="Standard",
        store_share=D(share),
        overrides=tuple(ShareOverride(lv, code, D(s)) for lv, code, s in overrides),
        created_at=NOW,
        updated_at=NOW,
    )


SHARING = group(
    "0.5", (OverrideLevel.COUNTER, "cosmetics", "0.7"), (OverrideLevel.BRAND, "OLAY", "0.3")
)


@pytest.mark.parametrize(
    ("counter", "brand", "store", "supplier"),
    [
        ("cosmetics", "OLAY", "3.00", "7.00"),  # brand override beats the counter's
        ("cosmetics", "LOREAL", "7.00", "3.00"),  # counter override
        ("grocery", "OLAY", "3.00", "7.00"),
        ("grocery", None, "5.00", "5.00"),  # the group's default
    ],
)
def test_sharing_overrides(counter, brand, store, supplier):
    priced = price_line(
        line(counter=counter, brand=brand), gold(sharing=SHARING), EMPTY, THRESHOLD, NOW
    )
    assert priced.member_discount == D("10.00")
    assert (priced.store_borne, priced.supplier_borne) == (D(store), D(supplier))


def test_store_borne_rounds_half_up():
    # 0.50 at 0.9 costs 0.45: member discount 0.05; store share 0.5 of it is 0.025 → 0.03,
    # the supplier bears the remaining 0.02.
    priced = price_line(
        line(original_price=D("0.50"), existing_price=D("0.50")),
        gold(sharing=group("0.5")),
        EMPTY,
        THRESHOLD,
        NOW,
    )
    assert priced.member_discount == D("0.05")
    assert (priced.store_borne, priced.supplier_borne) == (D("0.03"), D("0.02"))


def test_promotion_part_is_not_the_members():
    # existing 75 < threshold: the member pays 75, the promotion's price; no member discount.
    priced = price_line(
        line(existing_price=D("75.00")), gold(sharing=group("0.5")), EMPTY, THRESHOLD, NOW
    )
    assert priced.final_amount == D("75.00") and priced.discount_amount == D("25.00")
    assert (priced.member_discount, priced.store_borne, priced.supplier_borne) == (0, 0, 0)
    assert not priced.stacked


def test_without_card_pays_the_existing_price():
    priced = price_without_card(line(existing_price=D("84.00"), qty=D("1.5")))
    assert (priced.original_amount, priced.final_amount) == (D("150.00"), D("126.00"))
    assert priced.discount_amount == D("24.00")
    assert priced.rate == 1 and not priced.stackable and not priced.stacked
    assert (priced.member_discount, priced.store_borne, priced.supplier_borne) == (0, 0, 0)
    assert priced.level is None and priced.rule_id is None


def test_basket_without_card():
    basket = price_basket(
        [line(line_no=1), line(line_no=2, existing_price=D("90.00"))], None, EMPTY, THRESHOLD, NOW
    )
    assert [p.final_amount for p in basket.lines] == [D("100.00"), D("90.00")]
    assert basket.totals.final_amount == D("190.00")
    assert basket.totals.discount_amount == D("10.00")


basket_lines = st.lists(
    st.builds(
        lambda no, pair, qty, counter, brand: line(
            line_no=no,
            original_price=pair[0],
            existing_price=pair[1],
            qty=qty,
            counter=counter,
            brand=brand,
        ),
        st.integers(1, 500),
        price_pairs(),
        qtys,
        st.sampled_from(["cosmetics", "grocery", None]),
        st.sampled_from(["OLAY", "LOREAL", None]),
    ),
    max_size=20,
)
shares = st.decimals(min_value=D("0"), max_value=D("1"), places=4)


@given(
    basket_lines,
    rates,
    rates,
    rates,
    st.sampled_from(StackingMode),
    st.none() | shares,
    shares,
    shares,
    st.booleans(),
)
def test_basket_properties(
    lines, vip, threshold, sr, mode, share, counter_share, brand_share, card
):
    sharing = None
    if share is not None:
        sharing = group(
            str(share),
            (OverrideLevel.COUNTER, "cosmetics", str(counter_share)),
            (OverrideLevel.BRAND, "OLAY", str(brand_share)),
        )
    klass = ClassPricing("GOLD", vip, threshold, sr, sharing) if card else None
    basket = price_basket(lines, klass, EMPTY, mode, NOW)
    assert basket.totals.original_amount == sum(p.original_amount for p in basket.lines)
    assert basket.totals.final_amount == sum(p.final_amount for p in basket.lines)
    assert basket.totals.discount_amount == sum(p.discount_amount for p in basket.lines)
    assert [p.line_no for p in basket.lines] == [ln.line_no for ln in lines]
    for p, ln in zip(basket.lines, lines, strict=True):
        assert 0 <= p.final_unit_price <= ln.existing_price
        assert 0 <= p.final_amount <= p.original_amount
        assert p.discount_amount == p.original_amount - p.final_amount
        assert p.member_discount == p.store_borne + p.supplier_borne
        assert p.store_borne >= 0 and p.supplier_borne >= 0
        for amount in (p.final_amount, p.member_discount, p.store_borne, p.supplier_borne):
            assert amount.as_tuple().exponent == -2


# --- §2.1 which rate applies -----------------------------------------------------------------


def test_counter_rule_and_class_default():
    index = RuleIndex.build([rule("R1", Level.COUNTER, "cosmetics", "0.98")])
    cosmetics = index.resolve("GOLD", line(counter="cosmetics"), NOW, D("0.9"))
    other = index.resolve("GOLD", line(counter="grocery"), NOW, D("0.9"))
    assert (cosmetics.rate, cosmetics.level, cosmetics.rule_id) == (
        D("0.98"),
        Level.COUNTER,
        "R1",
    )
    assert (other.rate, other.stackable, other.level, other.rule_id) == (
        D("0.9"),
        True,
        None,
        None,
    )
    priced = price_line(line(counter="cosmetics"), gold(), index, THRESHOLD, NOW)
    assert priced.final_amount == D("98.00") and priced.rule_id == "R1"  # higher than default


def test_later_approval_wins_within_a_level():
    index = RuleIndex.build(
        [
            rule("R1", Level.BRAND, "OLAY", "0.9", approved=day(11)),
            rule("R2", Level.BRAND, "OLAY", "0.8", approved=day(15)),
            rule("R2", Level.BRAND, "LOREAL", "0.8", approved=day(15)),
        ]
    )
    olay, loreal = line(brand="OLAY"), line(brand="LOREAL")
    assert index.resolve("GOLD", olay, day(12), D("0.95")).rate == D("0.9")
    assert index.resolve("GOLD", olay, day(14) + timedelta(hours=23), D("0.95")).rate == D("0.9")
    assert index.resolve("GOLD", olay, day(15), D("0.95")).rate == D("0.8")
    assert index.resolve("GOLD", olay, day(16), D("0.95")).rule_id == "R2"
    early = index.resolve("GOLD", loreal, day(12), D("0.95"))
    assert (early.rate, early.level) == (D("0.95"), None)
    assert index.resolve("GOLD", olay, day(10), D("0.95")).level is None  # before any rule


def test_effective_window_is_half_open():
    entry = rule("R1", Level.BRAND, "OLAY", "0.7", approved=day(1), start=day(10), end=day(20))
    index = RuleIndex.build([entry])
    olay = line(brand="OLAY")
    gap = timedelta(microseconds=1)
    assert index.find("GOLD", olay, day(10) - gap) is None
    assert index.find("GOLD", olay, day(10)) is entry
    assert index.find("GOLD", olay, day(20) - gap) is entry
    assert index.find("GOLD", olay, day(20)) is None


def test_window_ignores_time_zones():
    shanghai = timezone(timedelta(hours=8))
    start = datetime(2026, 11, 10, 8, 0, tzinfo=shanghai)  # 00:00 UTC
    index = RuleIndex.build([rule("R1", Level.BRAND, "OLAY", "0.7", start=start, end=None)])
    assert index.find("GOLD", line(brand="OLAY"), datetime(2026, 11, 10, tzinfo=UTC)) is not None
    assert index.find("GOLD", line(brand="OLAY"), datetime(2026, 11, 9, 23, 59, tzinfo=UTC)) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        index.find("GOLD", line(brand="OLAY"), datetime(2026, 11, 10))


def test_voided_later_document_gives_way_to_the_earlier_one():
    # R2 (approved later) was voided on the 18th: from then on R1 applies again.
    index = RuleIndex.build(
        [
            rule("R1", Level.BRAND, "OLAY", "0.9", approved=day(11)),
            rule("R2", Level.BRAND, "OLAY", "0.8", approved=day(15), end=day(18)),
            rule("R3", Level.BRAND, "OLAY", "0.5", approved=day(16), start=day(20), end=day(19)),
        ]
    )
    assert index.find("GOLD", line(brand="OLAY"), day(17)).rule_id == "R2"
    assert index.find("GOLD", line(brand="OLAY"), day(18)).rule_id == "R1"
    assert index.find("GOLD", line(brand="OLAY"), day(25)).rule_id == "R1"  # R3: empty window
    assert len(index) == 2


def test_future_dated_rule_waits_its_turn():
    index = RuleIndex.build(
        [
            rule("R1", Level.BRAND, "OLAY", "0.9", approved=day(11)),
            rule("R2", Level.BRAND, "OLAY", "0.8", approved=day(12), start=day(20)),
        ]
    )
    assert index.find("GOLD", line(brand="OLAY"), day(13)).rule_id == "R1"
    assert index.find("GOLD", line(brand="OLAY"), day(20)).rule_id == "R2"


def test_more_specific_level_wins_whatever_the_approval_order():
    sku = line(sku="A1", brand="OLAY", counter="cosmetics")
    for product_day, brand_day in ((11, 15), (15, 11)):
        index = RuleIndex.build(
            [
                rule("P", Level.PRODUCT, "A1", "0.95", approved=day(product_day)),
                rule("B", Level.BRAND, "OLAY", "0.7", approved=day(brand_day)),
                rule("C", Level.COUNTER, "cosmetics", "0.6", approved=day(20)),
            ]
        )
        assert index.find("GOLD", sku, day(16)).rule_id == "P"
        assert index.find("GOLD", replace(sku, sku="A2"), day(16)).rule_id == "B"
        assert index.find("GOLD", replace(sku, sku="A2"), day(21)).rule_id == "B"
        assert index.find("GOLD", replace(sku, sku="A2", brand=None), day(21)).rule_id == "C"


def test_each_category_level_in_order():
    entries = [
        rule(level.value, level, target, "0.9")
        for level, target in (
            (Level.MAJOR_CATEGORY, "1"),
            (Level.MID_CATEGORY, "101"),
            (Level.MINOR_CATEGORY, "10101"),
        )
    ]
    index = RuleIndex.build(entries)
    item = line()
    assert index.find("GOLD", item, NOW).level is Level.MINOR_CATEGORY
    assert index.find("GOLD", replace(item, minor_category="x"), NOW).level is Level.MID_CATEGORY
    assert index.find("GOLD", replace(item, minor_category=None, mid_category=None), NOW).level is (
        Level.MAJOR_CATEGORY
    )
    assert MOST_SPECIFIC_FIRST[0] is Level.PRODUCT and MOST_SPECIFIC_FIRST[-1] is (
        Level.MAJOR_CATEGORY
    )
    assert set(MOST_SPECIFIC_FIRST) == set(Level)


def test_rule_for_another_class_never_applies():
    index = RuleIndex.build([rule("R1", Level.PRODUCT, "SKU1", "0.5", card_class="DIAMOND")])
    assert index.find("GOLD", line(), NOW) is None
    assert index.find("DIAMOND", line(), NOW).rule_id == "R1"
    assert price_line(line(), gold(), index, THRESHOLD, NOW).final_amount == D("90.00")


def test_equal_approval_times_break_ties_by_rule_id():
    index = RuleIndex.build(
        [
            rule("DOC-0002", Level.BRAND, "OLAY", "0.8"),
            rule("DOC-0010", Level.BRAND, "OLAY", "0.7"),
            rule("DOC-0003", Level.BRAND, "OLAY", "0.6"),
        ]
    )
    assert index.find("GOLD", line(brand="OLAY"), NOW).rule_id == "DOC-0010"
    numeric = RuleIndex.build(
        [rule("9", Level.BRAND, "OLAY", "0.8"), rule("10", Level.BRAND, "OLAY", "0.7")]
    )
    assert numeric.find("GOLD", line(brand="OLAY"), NOW).rule_id == "10"


def test_non_stackable_rule_flows_into_the_price():
    index = RuleIndex.build([rule("R1", Level.BRAND, "OLAY", "0.88", stackable=False)])
    priced = price_line(
        line(brand="OLAY", existing_price=D("90.00")), gold(), index, THRESHOLD, NOW
    )
    assert priced.final_amount == D("88.00")  # min(90, 88), no stacking
    assert (priced.stackable, priced.stacked, priced.level) == (False, False, Level.BRAND)


def test_rule_entry_checks_itself():
    with pytest.raises(ValueError, match="rate"):
        rule("R1", Level.BRAND, "OLAY", "0")
    with pytest.raises(ValueError, match="rate"):
        rule("R1", Level.BRAND, "OLAY", "1.01")
    with pytest.raises(ValueError, match="timezone-aware"):
        rule("R1", Level.BRAND, "OLAY", "0.9", approved=datetime(2026, 11, 1))


# The key property: the index agrees with a brute-force scan of every entry.

CLASSES = ("GOLD", "DIAMOND")
TARGETS = ("a", "b", "c")
BASE = datetime(2026, 11, 1, tzinfo=UTC)
ZONES = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))


def hour(n: int, zone: timezone = UTC) -> datetime:
    return (BASE + timedelta(hours=n)).astimezone(zone)


@st.composite
def entries(draw) -> RuleEntry:
    start = draw(st.integers(0, 12))
    end = draw(st.none() | st.integers(0, 16))  # may be empty (end <= start): voided early
    zone = draw(st.sampled_from(ZONES))
    return RuleEntry(
        rule_id=draw(st.sampled_from(("R1", "R2", "R3", "R10"))),
        level=draw(st.sampled_from(Level)),
        target=draw(st.sampled_from(TARGETS)),
        card_class=draw(st.sampled_from(CLASSES)),
        rate=D(draw(st.integers(1, 100))) / 100,
        stackable=draw(st.booleans()),
        approved_at=hour(draw(st.integers(0, 6)), zone),  # few values: many ties
        effective_from=hour(start, zone),
        effective_to=None if end is None else hour(end, zone),
    )


lines_for_index = st.builds(
    lambda sku, major, mid, minor, counter, brand: line(
        sku=sku,
        major_category=major,
        mid_category=mid,
        minor_category=minor,
        counter=counter,
        brand=brand,
    ),
    *[st.sampled_from(TARGETS)] + [st.none() | st.sampled_from(TARGETS)] * 5,
)


def brute_force(rules: list[RuleEntry], card_class: str, item: Line, at: datetime):
    code_at = {
        Level.PRODUCT: item.sku,
        Level.BRAND: item.brand,
        Level.COUNTER: item.counter,
        Level.MINOR_CATEGORY: item.minor_category,
        Level.MID_CATEGORY: item.mid_category,
        Level.MAJOR_CATEGORY: item.major_category,
    }
    specificity = {level: rank for rank, level in enumerate(reversed(MOST_SPECIFIC_FIRST))}
    best = None
    for entry in rules:
        in_effect = entry.effective_from <= at and (
            entry.effective_to is None or at < entry.effective_to
        )
        if not in_effect or entry.card_class != card_class:
            continue
        if code_at[entry.level] is None or code_at[entry.level] != entry.target:
            continue
        # Ids order as numbers when numeric: longer is greater ("R10" after "R2").
        rank = (specificity[entry.level], entry.approved_at, len(entry.rule_id), entry.rule_id)
        if best is None or rank > best[0]:  # strict: the first of equals stays
            best = (rank, entry)
    return None if best is None else best[1]


@settings(max_examples=300)
@given(
    st.lists(entries(), max_size=40),
    st.lists(
        st.tuples(
            st.sampled_from(CLASSES), lines_for_index, st.integers(-1, 18), st.sampled_from(ZONES)
        ),
        min_size=1,
        max_size=10,
    ),
)
def test_index_agrees_with_brute_force(rules, queries):
    index = RuleIndex.build(rules)
    for card_class, item, at_hour, zone in queries:
        at = hour(at_hour, zone)
        expected = brute_force(rules, card_class, item, at)
        assert index.find(card_class, item, at) is expected
        resolution = index.resolve(card_class, item, at, D("0.93"))
        if expected is None:
            assert (resolution.rate, resolution.level, resolution.rule_id) == (
                D("0.93"),
                None,
                None,
            )
            assert resolution.stackable
        else:
            assert (resolution.rate, resolution.stackable) == (expected.rate, expected.stackable)
            assert (resolution.level, resolution.rule_id) == (expected.level, expected.rule_id)


# --- §2.4 opening a card from a receipt ------------------------------------------------------


def test_openable_classes():
    thresholds = {
        "NORMAL": D("200.00"),
        "SILVER": D("500.00"),
        "BRONZE": D("500.00"),
        "GOLD": D("2000.00"),
        "STAFF": None,
    }
    assert openable_classes(D("500.00"), thresholds) == ["BRONZE", "SILVER", "NORMAL"]
    assert openable_classes(D("499.99"), thresholds) == ["NORMAL"]
    assert openable_classes(D("199.99"), thresholds) == []
    assert openable_classes(D("5000"), thresholds)[0] == "GOLD"


# --- basket validation -----------------------------------------------------------------------


def invalid(lines: list[Line]) -> tuple[str, set[str]]:
    with pytest.raises(Invalid) as err:
        check_basket(lines)
    return err.value.code, {e.field for e in err.value.errors}


def test_valid_basket_passes():
    check_basket([line(line_no=n, qty=D("0.125"), existing_price=D("99.90")) for n in range(500)])
    check_basket([line(original_price=D("0.0000"), existing_price=D("0"), qty=D("2.500"))])


def test_basket_size():
    assert invalid([]) == ("empty_basket", {"lines"})
    assert invalid([line(line_no=n) for n in range(501)]) == ("too_many_lines", {"lines"})


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"original_price": D("-1")}, "invalid_price", "original_price"),
        ({"original_price": D("10.001")}, "invalid_price", "original_price"),
        ({"original_price": D("NaN")}, "invalid_price", "original_price"),
        ({"existing_price": D("1.234")}, "invalid_price", "existing_price"),
        ({"existing_price": D("100.01")}, "invalid_price", "existing_price"),
        ({"original_price": D("1E+12")}, "invalid_price", "original_price"),
        ({"qty": D("0")}, "invalid_qty", "qty"),
        ({"qty": D("-1")}, "invalid_qty", "qty"),
        ({"qty": D("0.0001")}, "invalid_qty", "qty"),
        ({"qty": D("Infinity")}, "invalid_qty", "qty"),
        ({"qty": D("1.0000000000000000000000000001")}, "invalid_qty", "qty"),
        ({"qty": D("10000000000")}, "invalid_qty", "qty"),  # original amount too large
    ],
)
def test_line_problems_name_their_field(changes, code, field):
    lines = [line(line_no=1), line(line_no=2), line(line_no=3, **changes)]
    assert invalid(lines) == (code, {f"lines[2].{field}"})


def test_trailing_zeros_do_not_count_as_places():
    check_basket([line(original_price=D("10.5000"), existing_price=D("10.50"), qty=D("1.5000"))])


def test_duplicate_line_no_and_all_problems_listed():
    code, fields = invalid(
        [
            line(line_no=7),
            line(line_no=8, qty=D("0")),
            line(line_no=7, existing_price=D("200")),
        ]
    )
    assert code == "duplicate_line_no"
    assert fields == {"lines[2].line_no", "lines[2].existing_price", "lines[1].qty"}
