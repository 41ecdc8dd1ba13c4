"""Voucher codes, template rules and a voucher's states, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Conflict, Invalid
from app.domain.voucher_codes import (
    ALPHABET,
    BODY_LENGTH,
    LENGTH,
    canonical,
    check_character,
    is_valid,
    new_code,
)
from app.domain.voucher_states import check_issue, holder_of, shown_status
from app.domain.voucher_templates import (
    References,
    changed_fields,
    check_change,
    patched,
    refuse_delete,
    template_terms,
)
from app.domain.vouchers import Kind, Scope, Status, Template, validity

BITS = st.integers(min_value=0, max_value=2 ** (5 * BODY_LENGTH) - 1)
NOW = datetime(2026, 12, 3, 8, tzinfo=UTC)
NOTHING = References()


# --- codes ---------------------------------------------------------------------------------


@given(BITS)
def test_every_generated_code_is_valid_and_canonical(bits):
    code = new_code(bits)
    assert len(code) == LENGTH and is_valid(code)
    assert canonical(code) == code


@given(BITS, st.integers(0, LENGTH - 1), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_refused(bits, position, character):
    code = new_code(bits)
    if code[position] == character:
        return
    typo = code[:position] + character + code[position + 1 :]
    assert not is_valid(typo)
    with pytest.raises(Invalid) as refused:
        canonical(typo)
    assert refused.value.code == "invalid_voucher_code"


@given(BITS, st.integers(0, LENGTH - 2))
def test_any_adjacent_swap_is_refused(bits, i):
    code = new_code(bits)
    if code[i] == code[i + 1]:
        return
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert not is_valid(swapped)


@given(BITS, st.integers(0, LENGTH - 1), st.integers(0, LENGTH - 1))
def test_any_swap_at_any_distance_is_refused(bits, i, j):
    code = new_code(bits)
    if code[i] == code[j]:
        return
    swapped = list(code)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert not is_valid("".join(swapped))


def test_the_swap_luhn_mod_32_would_miss_is_refused():
    """0 ↔ Z (0 ↔ 31) is Luhn mod 32's blind spot, as 09 ↔ 90 is Luhn mod 10's."""
    for i in range(BODY_LENGTH - 1):
        body = "0" * i + "0Z" + "0" * (BODY_LENGTH - i - 2)
        code = body + check_character(body)
        assert is_valid(code)
        assert not is_valid(code[:i] + "Z0" + code[i + 2 :])


def test_fresh_codes_differ():
    assert len({new_code() for _ in range(1000)}) == 1000


def test_typed_forms_are_read_as_the_code():
    code = new_code(123456789)
    assert canonical(f"  {code[:4].lower()}-{code[4:9]} {code[9:]} ") == code
    # Crockford: I and L read as 1, O as 0.
    with_ones = new_code(0)  # all zeros
    assert canonical(with_ones.replace("0", "O")) == with_ones
    for bad in ("", "ABC", code + code, "U" * 14, code[:-1] + "!"):
        with pytest.raises(Invalid):
            canonical(bad)


# --- templates -----------------------------------------------------------------------------


def off(**fields) -> Template:
    values = {"code": "T", "name": "18 off", "kind": Kind.AMOUNT_OFF, "face_value": Decimal(18)}
    return Template(**{**values, "valid_days": 30, **fields})


def refused_fields(template: Template, known: References = NOTHING) -> set[str]:
    with pytest.raises(Invalid) as refused:
        template_terms(template, known)
    assert refused.value.code == "invalid_voucher_template"
    return {e.field for e in refused.value.errors}


def test_valid_templates_pass():
    known = References(frozenset({"S01"}), frozenset({"GOLD"}), frozenset({"STD"}))
    for t in (
        off(),
        off(kind=Kind.THRESHOLD_AMOUNT_OFF, min_spend=Decimal(18)),
        off(kind=Kind.PERCENT_OFF, face_value=None, rate=Decimal("0.9"), max_discount=Decimal(5)),
        off(stores=frozenset({"S01"}), card_classes=frozenset({"GOLD"}), sharing_group="STD"),
        off(valid_days=None, valid_from=NOW, valid_to=NOW + timedelta(days=1)),
        off(store_share=Decimal(0), per_member_limit=1),
    ):
        assert template_terms(t, known) is t


def test_rules_name_each_bad_field():
    assert refused_fields(off(kind=Kind.THRESHOLD_AMOUNT_OFF)) == {"min_spend"}
    assert refused_fields(off(kind=Kind.THRESHOLD_AMOUNT_OFF, min_spend=Decimal(17))) == {
        "min_spend"
    }
    assert refused_fields(off(kind=Kind.PERCENT_OFF, face_value=None)) == {"rate"}
    assert refused_fields(off(kind=Kind.PERCENT_OFF, rate=Decimal("0.9"))) == {"face_value"}
    for rate in ("0", "1", "1.5", "0.12345"):
        assert refused_fields(off(kind=Kind.PERCENT_OFF, face_value=None, rate=Decimal(rate))) == {
            "rate"
        }
    assert refused_fields(off(rate=Decimal("0.9"), max_discount=Decimal(1))) == {
        "rate",
        "max_discount",
    }
    assert refused_fields(off(face_value=Decimal("0.001"))) == {"face_value"}
    assert refused_fields(off(valid_days=None)) == {"valid_days"}
    assert refused_fields(off(valid_from=NOW, valid_to=NOW + timedelta(1))) == {"valid_days"}
    assert refused_fields(off(valid_days=None, valid_from=NOW, valid_to=NOW)) == {"valid_to"}
    assert refused_fields(off(valid_days=0)) == {"valid_days"}
    assert refused_fields(off(per_member_limit=0)) == {"per_member_limit"}
    assert refused_fields(off(sharing_group="STD", store_share=Decimal("0.5"))) == {
        "sharing_group",
        "store_share",
    }
    assert refused_fields(off(code="has space", name=" ")) == {"code", "name"}
    assert refused_fields(off(scope=Scope.of({"aisle": ["A"]}, {"sku": [""]}))) == {
        "include.aisle",
        "exclude.sku",
    }
    assert refused_fields(off(stores=frozenset({"S09"}), card_classes=frozenset({"X"}))) == {
        "stores",
        "card_classes",
    }


def test_patch_replaces_maps_and_keeps_the_rest():
    current = off(scope=Scope.of({"brand": ["OLAY"]}, {"counter": ["TOBACCO"]}))
    new = patched(current, {"exclude": {}, "stores": ["S01"], "kind": "threshold_amount_off"})
    assert new.scope.as_json() == ({"brand": ["OLAY"]}, {})
    assert new.stores == frozenset({"S01"}) and new.kind is Kind.THRESHOLD_AMOUNT_OFF
    assert new.face_value == current.face_value and new.name == current.name


def test_value_terms_freeze_once_in_use_and_delete_is_refused():
    current = off()
    changed = off(face_value=Decimal(20), name="other")
    check_change(current, changed, in_use=False)
    with pytest.raises(Conflict) as refused:
        check_change(current, changed, in_use=True)
    assert refused.value.code == "template_in_use"
    assert [e.field for e in refused.value.errors] == ["face_value"]
    check_change(current, off(name="other", min_spend=Decimal(50)), in_use=True)
    refuse_delete("T", in_use=False)
    with pytest.raises(Conflict):
        refuse_delete("T", in_use=True)


def test_change_log_fields_in_api_spelling():
    before = off()
    after = off(name="new", stores=frozenset({"S02", "S01"}), scope=Scope.of({"sku": ["1"]}, None))
    log = {c.field: (c.old, c.new) for c in changed_fields(before, after)}
    assert log == {
        "name": ("18 off", "new"),
        "stores": ("[]", '["S01","S02"]'),
        "include": ("{}", '{"sku":["1"]}'),
    }
    created = {c.field for c in changed_fields(None, before)}
    assert {"name", "kind", "face_value", "valid_days"} <= created
    assert "rate" not in created  # null then, null now
    assert {c.new for c in changed_fields(before, None)} == {None}


# --- vouchers ------------------------------------------------------------------------------


def test_validity_from_issue_or_the_window():
    assert validity(off(valid_days=7), NOW) == (NOW, NOW + timedelta(days=7))
    window = off(valid_days=None, valid_from=NOW, valid_to=NOW + timedelta(1))
    assert validity(window, NOW + timedelta(hours=1)) == (NOW, NOW + timedelta(1))


def test_an_issued_voucher_past_its_validity_is_shown_expired():
    assert shown_status(Status.ISSUED, NOW, NOW) is Status.EXPIRED  # valid_to is exclusive
    assert shown_status(Status.ISSUED, NOW + timedelta(seconds=1), NOW) is Status.ISSUED
    assert shown_status(Status.REDEEMED, NOW, NOW + timedelta(1)) is Status.REDEEMED
    assert shown_status(Status.VOIDED, NOW, NOW + timedelta(1)) is Status.VOIDED


def test_issue_limit_and_dead_on_arrival():
    later = NOW + timedelta(1)
    check_issue(off(per_member_limit=2), held=1, valid_to=later, now=NOW)
    check_issue(off(), held=1000, valid_to=later, now=NOW)
    with pytest.raises(Conflict) as refused:
        check_issue(off(per_member_limit=2), held=2, valid_to=later, now=NOW)
    assert refused.value.code == "voucher_limit_reached"
    with pytest.raises(Conflict) as refused:
        check_issue(off(), held=0, valid_to=NOW, now=NOW)
    assert refused.value.code == "voucher_template_ended"


def test_holder_of_a_request():
    assert holder_of("m1", None, None) == "m1"
    assert holder_of(None, "C1", "m2") == "m2"
    assert holder_of("m2", "C1", "m2") == "m2"
    for args, code in (
        ((None, None, None), "card_or_member_required"),
        ((None, "C1", None), "card_not_found"),
        (("m1", "C1", "m2"), "card_member_mismatch"),
    ):
        with pytest.raises(Invalid) as refused:
            holder_of(*args)
        assert refused.value.code == code
