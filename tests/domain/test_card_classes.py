"""Card class rules, the change-log diff and who bears a discount (store_share_for)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.card_classes import (
    CardClass,
    ClassTerms,
    FieldChange,
    OverrideLevel,
    ShareOverride,
    SharingGroup,
    Usage,
    changed_fields,
    check_change,
    check_class,
    check_sharing_group,
    store_share_for,
    terms_of,
)
from app.domain.errors import Conflict, Invalid

NOW = datetime(2026, 11, 23, tzinfo=UTC)
GOOD = ClassTerms(name="Gold", usage=Usage.MEMBER, serial_length=6, serial_start=1, serial_end=999)


def fields_of(err: pytest.ExceptionInfo) -> set[str]:
    return {e.field for e in err.value.errors}


def invalid_fields(code: str = "GOLD", **changes) -> set[str]:
    with pytest.raises(Invalid) as err:
        check_class(code, replace(GOOD, **changes))
    assert err.value.code == "invalid_card_class"
    return fields_of(err)


def test_defaults_are_valid() -> None:
    check_class("GOLD", GOOD)
    assert (GOOD.prefix, GOOD.suffix, GOOD.check_digit_length) == ("", "", 1)
    assert GOOD.default_points_rate == Decimal("0.1")
    assert GOOD.default_discount_rate == Decimal("1")
    assert (GOOD.stack_threshold_rate, GOOD.stack_rate) == (Decimal("0.8"), Decimal("1"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prefix": "vip"}, "prefix"),
        ({"prefix": "ABCDEFG"}, "prefix"),
        ({"suffix": "ABCDE"}, "suffix"),
        ({"check_digit_length": 3}, "check_digit_length"),
        ({"serial_length": 0}, "serial_length"),
        ({"serial_length": 13}, "serial_length"),
        ({"validity_months": 0}, "validity_months"),
        ({"default_discount_rate": Decimal("0")}, "default_discount_rate"),
        ({"default_discount_rate": Decimal("1.01")}, "default_discount_rate"),
        ({"default_discount_rate": Decimal("0.12345")}, "default_discount_rate"),
        ({"stack_threshold_rate": Decimal("-0.1")}, "stack_threshold_rate"),
        ({"stack_rate": Decimal("NaN")}, "stack_rate"),
        ({"default_points_rate": Decimal("-0.1")}, "default_points_rate"),
        ({"identity_points_multiple": Decimal("1E+9")}, "identity_points_multiple"),
        ({"receipt_open_threshold": Decimal("10.001")}, "receipt_open_threshold"),
        ({"receipt_open_threshold": Decimal("-1")}, "receipt_open_threshold"),
        ({"change_account_limit": Decimal("0.005")}, "change_account_limit"),
        ({"upgrade_to": "DIAMOND"}, "upgrade_spend_12m"),
        ({"upgrade_spend_12m": Decimal("100")}, "upgrade_to"),
        ({"upgrade_to": "DIAMOND", "upgrade_spend_12m": Decimal("0")}, "upgrade_spend_12m"),
        ({"upgrade_to": "GOLD", "upgrade_spend_12m": Decimal("100")}, "upgrade_to"),
    ],
)
def test_each_rule_names_its_field(changes: dict, field: str) -> None:
    assert invalid_fields(**changes) == {field}


def test_boundaries_that_are_allowed() -> None:
    check_class(
        "GOLD",
        replace(
            GOOD,
            default_discount_rate=Decimal("1"),
            stack_rate=Decimal("0.0001"),
            default_points_rate=Decimal("0"),
            receipt_open_threshold=Decimal("0"),
            change_account_limit=Decimal("99.90"),  # trailing zero: still 2 places
            upgrade_to="DIAMOND",
            upgrade_spend_12m=Decimal("0.01"),
            validity_months=1,
        ),
    )


def test_every_broken_field_is_reported_at_once() -> None:
    assert invalid_fields("gold", prefix="x", stack_rate=Decimal(2)) == {
        "code",
        "prefix",
        "stack_rate",
    }


def test_card_number_must_fit_with_the_longest_store_code() -> None:
    # 12 (store code) + 6 + 12 + 2 = 32 fits; one more suffix character does not.
    widest = {"prefix": "ABCDEF", "serial_length": 12, "check_digit_length": 2}
    check_class("GOLD", replace(GOOD, **widest))
    assert invalid_fields(**widest, suffix="X") == {"serial_length"}


@given(
    length=st.integers(min_value=1, max_value=12),
    start=st.integers(min_value=-5, max_value=10**12 + 5),
    end=st.integers(min_value=-5, max_value=10**12 + 5),
)
def test_serial_range_rule(length: int, start: int, end: int) -> None:
    terms = replace(GOOD, serial_length=length, serial_start=start, serial_end=end)
    fits = 0 <= start <= end < 10**length
    try:
        check_class("GOLD", terms)
    except Invalid as err:
        assert not fits
        assert {e.field for e in err.errors} <= {"serial_start", "serial_end"}
    else:
        assert fits


def _issued(cards: int, **changes) -> CardClass:
    return CardClass(
        **{**terms_of(GOOD).__dict__, **changes},
        tenant_id="t",
        code="GOLD",
        next_serial=GOOD.serial_start + cards,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    "field_value",
    [
        ("prefix", "V"),
        ("serial_length", 7),
        ("serial_start", 0),
        ("check_digit_length", 2),
        ("suffix", "X"),
    ],
)
def test_number_format_is_frozen_once_cards_were_issued(field_value) -> None:
    field, value = field_value
    new = replace(GOOD, **{field: value})
    check_change(_issued(0), new)  # nothing issued yet: allowed
    with pytest.raises(Conflict) as err:
        check_change(_issued(3), new)
    assert err.value.code == "card_class_in_use"
    assert fields_of(err) == {field}


def test_serial_end_cannot_drop_below_last_issued_serial() -> None:
    current = _issued(10)  # serials 1..10 issued
    check_change(current, replace(GOOD, serial_end=10, name="renamed"))
    with pytest.raises(Conflict) as err:
        check_change(current, replace(GOOD, serial_end=9))
    assert fields_of(err) == {"serial_end"}


def test_changed_fields_for_create_update_delete() -> None:
    created = changed_fields(None, GOOD)
    assert FieldChange("name", None, "Gold") in created
    assert FieldChange("default_points_rate", None, "0.1") in created
    assert FieldChange("change_account_enabled", None, "false") in created
    assert all(c.field != "sharing_group" for c in created)  # null before and after
    updated = replace(GOOD, name="Gold+", stack_rate=Decimal("0.95"), serial_end=999)
    assert changed_fields(GOOD, updated) == [
        FieldChange("name", "Gold", "Gold+"),
        FieldChange("stack_rate", "1", "0.95"),
    ]
    assert changed_fields(GOOD, replace(GOOD, stack_rate=Decimal("1.000"))) == []
    deleted = changed_fields(GOOD, None)
    assert {(c.old, c.new) for c in deleted if c.field == "usage"} == {("member", None)}
    assert [c.field for c in deleted] == [c.field for c in created]


# --- sharing groups --------------------------------------------------------------------------


def group(*overrides: ShareOverride, share: str = "0.5") -> SharingGroup:
    return SharingGroup("t", "STD", "Standard", Decimal(share), overrides, NOW, NOW)


COUNTER = ShareOverride(OverrideLevel.COUNTER, "COSMETICS", Decimal("0.3"))
BRAND = ShareOverride(OverrideLevel.BRAND, "OLAY", Decimal("0.1"))


def test_store_share_precedence() -> None:
    g = group(COUNTER, BRAND)
    assert store_share_for(g, "COSMETICS", "OLAY") == Decimal("0.1")  # brand beats counter
    assert store_share_for(g, "COSMETICS", "LOREAL") == Decimal("0.3")
    assert store_share_for(g, "FOOD", "OLAY") == Decimal("0.1")
    assert store_share_for(g, "FOOD", None) == Decimal("0.5")
    assert store_share_for(g, None, None) == Decimal("0.5")


def test_override_codes_are_matched_per_level() -> None:
    # A counter that happens to share a brand's code does not pick up the brand override.
    g = group(ShareOverride(OverrideLevel.BRAND, "X1", Decimal("0")))
    assert store_share_for(g, "X1", None) == Decimal("0.5")
    assert store_share_for(g, None, "X1") == Decimal("0")


def test_zero_override_is_not_treated_as_missing() -> None:
    g = group(ShareOverride(OverrideLevel.COUNTER, "C1", Decimal("0")), share="1")
    assert store_share_for(g, "C1", None) == Decimal("0")


def test_sharing_group_validation() -> None:
    check_sharing_group("STD", "Standard", Decimal("1"), [COUNTER, BRAND])
    with pytest.raises(Invalid) as err:
        check_sharing_group(
            "std",
            "x",
            Decimal("1.5"),
            [
                COUNTER,
                replace(COUNTER, store_share=Decimal("0.2")),
                replace(BRAND, store_share=Decimal("-1")),
            ],
        )
    assert err.value.code == "invalid_sharing_group"
    assert fields_of(err) == {"code", "store_share", "overrides[1]", "overrides[2].store_share"}
