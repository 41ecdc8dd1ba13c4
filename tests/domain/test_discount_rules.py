"""Discount rule documents: validation, approve's start rule, the transitions, the log diff."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain.discount_rules import (
    MAX_ENTRIES,
    DiscountRule,
    RuleKind,
    RuleLine,
    RuleStatus,
    RuleTerms,
    approve,
    changed_fields,
    check_editable,
    check_terms,
    parse_rule_id,
    void,
)
from app.domain.errors import Conflict, Invalid
from app.domain.pricing import Level

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
LINE = RuleLine("OLAY", "GOLD", Decimal("0.8"), True)
TERMS = RuleTerms(level=Level.BRAND, entries=(LINE,))


def draft(**changes) -> DiscountRule:
    rule = DiscountRule(
        id=7,
        tenant_id="t",
        status=RuleStatus.DRAFT,
        level=Level.BRAND,
        effective_from=None,
        effective_to=None,
        note=None,
        approved_at=None,
        voided_at=None,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        entry_count=1,
        entries=(LINE,),
    )
    return replace(rule, **changes)


def invalid_fields(**changes) -> list[str]:
    with pytest.raises(Invalid) as err:
        check_terms(replace(TERMS, **changes))
    assert err.value.code == "invalid_discount_rule"
    return [e.field for e in err.value.errors]


# --- validation ----------------------------------------------------------------------------


def test_a_minimal_document_is_valid() -> None:
    check_terms(TERMS)
    check_terms(replace(TERMS, effective_from=NOW, effective_to=NOW + timedelta(seconds=1)))


@pytest.mark.parametrize(
    ("rate", "ok"),
    [
        ("1", True),
        ("0.0001", True),
        ("0.9", True),
        ("0", False),
        ("1.0001", False),
        ("-0.5", False),
        ("0.12345", False),
    ],
)
def test_rate_is_in_zero_one_with_four_places(rate: str, ok: bool) -> None:
    entries = (replace(LINE, rate=Decimal(rate)),)
    if ok:
        check_terms(replace(TERMS, entries=entries))
    else:
        assert invalid_fields(entries=entries) == ["entries[0].rate"]


@pytest.mark.parametrize(
    ("rate", "ok"),
    [
        ("0", True),
        ("99.9999", True),
        ("100", False),
        ("0.12345", False),
        # More digits than the decimal context's precision (28): rounding it would hide them.
        ("1.00000000000000000000000000001", False),
    ],
)
def test_points_rate_is_in_zero_hundred_with_four_places(rate: str, ok: bool) -> None:
    terms = replace(TERMS, entries=(replace(LINE, rate=Decimal(rate)),))
    if ok:
        check_terms(terms, RuleKind.POINTS)
        return
    with pytest.raises(Invalid) as err:
        check_terms(terms, RuleKind.POINTS)
    assert [e.field for e in err.value.errors] == ["entries[0].rate"]


def test_entry_count_bounds() -> None:
    assert invalid_fields(entries=()) == ["entries"]
    many = tuple(replace(LINE, target=f"B{i}") for i in range(MAX_ENTRIES))
    check_terms(replace(TERMS, entries=many))
    assert invalid_fields(entries=(*many, replace(LINE, target="ONE-MORE"))) == ["entries"]


def test_target_and_class_lengths() -> None:
    assert invalid_fields(entries=(replace(LINE, target=""),)) == ["entries[0].target"]
    assert invalid_fields(entries=(replace(LINE, target="  "),)) == ["entries[0].target"]
    assert invalid_fields(entries=(replace(LINE, target="X" * 65),)) == ["entries[0].target"]
    check_terms(replace(TERMS, entries=(replace(LINE, target="X" * 64),)))
    assert invalid_fields(entries=(replace(LINE, card_class=""),)) == ["entries[0].card_class"]


def test_duplicate_target_and_class_is_named_at_the_repeat() -> None:
    entries = (LINE, replace(LINE, card_class="DIAMOND"), replace(LINE, rate=Decimal("0.7")))
    assert invalid_fields(entries=entries) == ["entries[2]"]


def test_window_must_be_forward_and_carry_offsets() -> None:
    assert invalid_fields(effective_from=NOW, effective_to=NOW) == ["effective_to"]
    naive = datetime(2026, 12, 1)
    assert invalid_fields(effective_from=naive, effective_to=NOW) == ["effective_from"]
    # Offsets other than UTC are fine; comparison is by instant.
    plus8 = timezone(timedelta(hours=8))
    check_terms(
        replace(TERMS, effective_from=NOW, effective_to=datetime(2026, 11, 23, 17, tzinfo=plus8))
    )


def test_every_problem_is_reported_at_once() -> None:
    fields = invalid_fields(
        level="aisle", note="x" * 1001, entries=(replace(LINE, rate=Decimal(2), target=""),)
    )
    assert fields == ["level", "note", "entries[0].target", "entries[0].rate"]


def test_rule_ids_parse_strictly() -> None:
    assert parse_rule_id("42") == 42
    assert parse_rule_id(str(2**63 - 1)) == 2**63 - 1
    for bad in ("0", "-1", "4.2", "abc", "", "²", str(2**63), "1" * 20, " 42"):
        assert parse_rule_id(bad) is None, bad


# --- transitions ---------------------------------------------------------------------------


def test_approve_defaults_the_start_to_the_approval_time() -> None:
    approved = approve(draft(), NOW)
    assert approved.status is RuleStatus.APPROVED
    assert approved.approved_at == approved.effective_from == NOW


def test_approve_never_back_dates_the_start() -> None:
    assert approve(draft(effective_from=NOW - timedelta(days=3)), NOW).effective_from == NOW


def test_approve_keeps_a_later_start() -> None:
    later = NOW + timedelta(days=8)
    approved = approve(draft(effective_from=later), NOW)
    assert (approved.effective_from, approved.approved_at) == (later, NOW)


def test_approve_refuses_a_window_already_over() -> None:
    rule = draft(effective_from=NOW - timedelta(days=3), effective_to=NOW - timedelta(days=1))
    with pytest.raises(Invalid) as err:
        approve(rule, NOW)
    assert err.value.code == "invalid_window"
    assert [e.field for e in err.value.errors] == ["effective_to"]
    with pytest.raises(Invalid):
        approve(draft(effective_to=NOW), NOW)  # the end equals the clamped start
    approve(draft(effective_to=NOW + timedelta(microseconds=1)), NOW)


def test_only_drafts_are_approved_or_edited() -> None:
    approved = approve(draft(), NOW)
    for rule in (approved, void(draft(), NOW), void(approved, NOW)):
        with pytest.raises(Conflict) as err:
            approve(rule, NOW)
        assert err.value.code == "rule_not_draft"
        with pytest.raises(Conflict):
            check_editable(rule)
    check_editable(draft())


def test_void_from_draft_or_approved_once() -> None:
    later = NOW + timedelta(hours=1)
    voided = void(approve(draft(), NOW), later)
    assert (voided.status, voided.voided_at, voided.approved_at) == (
        RuleStatus.VOIDED,
        later,
        NOW,
    )
    assert void(draft(), NOW).approved_at is None
    with pytest.raises(Conflict) as err:
        void(voided, later)
    assert err.value.code == "rule_already_voided"


# --- change log ----------------------------------------------------------------------------


def test_create_logs_every_set_field_with_entries_as_compact_json() -> None:
    changes = {c.field: (c.old, c.new) for c in changed_fields(None, draft(note="Winter"))}
    assert set(changes) == {"status", "level", "note", "entries"}
    assert changes["status"] == (None, "draft")
    assert changes["level"] == (None, "brand")
    old, new = changes["entries"]
    assert old is None and " " not in new
    assert json.loads(new) == [
        {"target": "OLAY", "card_class": "GOLD", "rate": "0.8", "stackable": True}
    ]


def test_approve_logs_status_stamp_and_a_moved_start() -> None:
    before = draft(effective_from=NOW - timedelta(days=1))
    changes = {c.field: (c.old, c.new) for c in changed_fields(before, approve(before, NOW))}
    assert changes == {
        "status": ("draft", "approved"),
        "effective_from": ((NOW - timedelta(days=1)).isoformat(), NOW.isoformat()),
        "approved_at": (None, NOW.isoformat()),
    }


def test_equal_rates_written_differently_are_no_change() -> None:
    before = draft()
    after = replace(before, entries=(replace(LINE, rate=Decimal("0.80")),))
    assert changed_fields(before, after) == []
