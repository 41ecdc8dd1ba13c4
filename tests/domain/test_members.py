from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.access import Scope
from app.domain.errors import Conflict, Invalid
from app.domain.members import (
    Consent,
    Gender,
    Member,
    check_birthday,
    erasure,
    mask_phone,
    masked,
    new_profile,
    normalize_phone,
    revision,
    sees_full_profile,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def member(**overrides) -> Member:
    values = {
        "id": "m1",
        "tenant_id": "t1",
        "external_ref": "CRM-1",
        "name": "王芳",
        "phone": "13812345678",
        "birthday": date(1990, 5, 17),
        "gender": Gender.FEMALE,
        "region": "上海",
        "occupation": "teacher",
        "source_channel": "store",
        "tags": ("vip",),
        "consent": Consent(True, NOW),
        "created_at": NOW,
        "updated_at": NOW,
        "erased_at": None,
    }
    return Member(**{**values, **overrides})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+12025550123", "+12025550123"),
        ("+8610 1234 5678", "+861012345678"),  # a Beijing landline: E.164, not a mobile
    ],
)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12812345678",  # mobiles start 13-19
        "1381234567",  # too short
        "138123456789",  # too long
        "8613812345678",  # a country code needs its +
        "+0123456789",  # E.164 country codes don't start with 0
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "１３８１２３４５６７８",  # full-width digits
        "(138)12345678",
        "phone",
    ],
)
def test_bad_phones_are_invalid_on_the_phone_field(raw):
    with pytest.raises(Invalid) as err:
        normalize_phone(raw)
    assert err.value.code == "invalid_phone" and err.value.errors[0].field == "phone"


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+442079460958") == "+44********58"
    assert mask_phone("+12345678") == "+12****78"


mainland = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
e164 = st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True)


@given(st.one_of(mainland, e164))
def test_masked_phone_keeps_length_and_hides_the_middle(phone):
    out = mask_phone(phone)
    shown_end = 4 if len(phone) == 11 else 2
    assert len(out) == len(phone)
    assert out[:3] == phone[:3] and out[-shown_end:] == phone[-shown_end:]
    assert set(out[3:-shown_end]) == {"*"}  # not one hidden digit shows


@given(st.text(max_size=20))
def test_mask_never_grows_or_reveals_short_values(value):
    out = mask_phone(value)
    assert len(out) == len(value)
    if len(value) <= 5:  # 3 shown + 2 shown would leave nothing hidden
        assert set(out) <= {"*"}


@given(st.one_of(mainland, e164))
def test_normalisation_is_idempotent_and_ignores_separators(phone):
    spaced = "-".join(phone[i : i + 3] for i in range(0, len(phone), 3))
    assert (
        normalize_phone(spaced) == normalize_phone(phone) == normalize_phone(normalize_phone(phone))
    )


def test_birthday_bounds():
    assert check_birthday(date(1900, 1, 1), TODAY) == date(1900, 1, 1)
    assert check_birthday(TODAY, TODAY) == TODAY
    for bad in (date(1899, 12, 31), date(2026, 11, 24)):
        with pytest.raises(Invalid) as err:
            check_birthday(bad, TODAY)
        assert err.value.errors[0].field == "birthday"


def test_who_sees_the_full_profile():
    assert sees_full_profile(frozenset({Scope.ADMIN}))
    assert sees_full_profile(frozenset({Scope.APP, Scope.POS}))
    for scope in (Scope.POS, Scope.PARTNER, Scope.ANALYTICS):
        assert not sees_full_profile(frozenset({scope}))


def test_masked_view():
    view = masked(member())
    assert view.phone == "138****5678" and view.birthday is None
    assert view.name == "王芳"  # only phone and birthday are masked
    assert masked(member(phone=None)).phone is None


def test_new_profile_dedupes_tags_and_stamps_consent_when_given():
    fields = {"phone": "+86 138 1234 5678", "tags": ["b", "a", "b"], "marketing_consent": False}
    out = new_profile(fields, TODAY, NOW)
    assert out["phone"] == "13812345678"
    assert out["tags"] == ("b", "a")
    assert out["consent"] == Consent(False, NOW)  # a refusal is recorded too
    assert new_profile({}, None, NOW)["consent"] == Consent(False, None)


def test_revision_stamps_consent_only_when_it_changes():
    assert "consent" not in revision(member(), {"marketing_consent": True}, None, NOW)
    later = datetime(2026, 12, 1, tzinfo=UTC)
    out = revision(member(), {"marketing_consent": False}, None, later)
    assert out["consent"] == Consent(False, later)


def test_revision_validates_birthday_and_refuses_erased_members():
    with pytest.raises(Invalid):
        revision(member(), {"birthday": date(2027, 1, 1)}, TODAY, NOW)
    with pytest.raises(Conflict) as err:
        revision(member(erased_at=NOW), {"name": "x"}, None, NOW)
    assert err.value.code == "member_erased"


def test_erasure_blanks_personal_fields():
    out = erasure(member(), NOW)
    assert out["erased_at"] == NOW
    for field in ("external_ref", "name", "phone", "birthday", "region", "occupation"):
        assert out[field] is None, field
    assert out["tags"] == () and out["gender"] == Gender.UNKNOWN
    assert out["consent"] == Consent(False, NOW)
    assert "source_channel" not in out  # not personal: kept for reporting
