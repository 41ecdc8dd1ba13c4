from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from app.domain.audit import FieldChange, as_text, changed_fields


@dataclass
class Thing:
    name: str
    rate: Decimal
    active: bool
    at: datetime | None


BEFORE = Thing("Gold", Decimal("0.90"), True, None)


def test_values_are_logged_in_the_api_spelling():
    at = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert [as_text(v) for v in (None, True, False, Decimal("0.90"), at, 7)] == [
        None,
        "true",
        "false",
        "0.90",
        "2026-11-23T08:00:00+00:00",
        "7",
    ]


def test_only_changed_fields_are_logged():
    after = Thing("Gold+", Decimal("0.9"), True, None)  # 0.90 == 0.9: not a change
    assert changed_fields(BEFORE, after, ("name", "rate", "active")) == [
        FieldChange("name", "Gold", "Gold+")
    ]


def test_create_and_delete_log_every_field_that_has_a_value():
    fields = ("name", "rate", "active", "at")
    created = changed_fields(None, BEFORE, fields)
    assert created == [
        FieldChange("name", None, "Gold"),
        FieldChange("rate", None, "0.90"),
        FieldChange("active", None, "true"),
    ]
    assert [(c.field, c.old, c.new) for c in changed_fields(BEFORE, None, fields)] == [
        (c.field, c.new, None) for c in created
    ]


def test_a_custom_spelling_can_be_given():
    changes = changed_fields(BEFORE, Thing("x", BEFORE.rate, True, None), ("name",), str.upper)
    assert changes == [FieldChange("name", "GOLD", "X")]
