"""Card numbers, check digits, track data and verification codes."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.domain.cards import (
    CardNumberFormat,
    check_digits,
    expand_letters,
    has_valid_check_digits,
    hash_verification_code,
    luhn_check_digit,
    make_track,
    mod97_check_digits,
    new_verification_code,
    parse_track,
    split_number,
    track_mac,
    verify_card_number,
    verify_verification_code,
)
from app.domain.errors import Invalid

# --- known vectors -----------------------------------------------------------------------


def test_luhn_known_vector() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("0") == "0"


def test_luhn_misses_09_90_transposition() -> None:
    # The one adjacent transposition Luhn cannot see; the properties below filter only this.
    assert luhn_check_digit("09") == luhn_check_digit("90") == "1"


def test_expand_letters() -> None:
    assert expand_letters("AZ09") == "1035" + "09"
    assert expand_letters("WEST") == "32142829"
    for bad in ("a", "-", " ", "É", "٣"):
        with pytest.raises(ValueError):
            expand_letters(bad)


def test_mod97_iban_vector() -> None:
    # GB82WEST12345698765432: move the first four characters to the end, expand letters.
    iban = "GB82WEST12345698765432"
    rearranged = expand_letters(iban[4:] + iban[:4])
    assert rearranged == "3214282912345698765432161182"
    assert int(rearranged) % 97 == 1
    # The check digits themselves come from the same string without them ("GB" only).
    assert mod97_check_digits(expand_letters(iban[4:] + "GB")) == "82"
    assert mod97_check_digits("32142829123456987654321611") == "82"
    assert check_digits(iban[4:] + "GB", 2) == "82"


def test_mod97_is_zero_padded() -> None:
    # 98 - (n*100 mod 97) is 2..98; pick n so the result is a single digit.
    n = next(i for i in range(1, 1000) if 98 - i * 100 % 97 < 10)
    assert len(mod97_check_digits(str(n))) == 2
    assert mod97_check_digits(str(n)).startswith("0")


def test_check_digits_lengths() -> None:
    assert check_digits("S01", 0) == ""
    assert check_digits("S01", 1) == luhn_check_digit("2801")
    assert check_digits("S01", 2) == mod97_check_digits("2801")
    with pytest.raises(ValueError):
        check_digits("S01", 3)
    with pytest.raises(ValueError):
        mod97_check_digits("12a")


# --- format, compose, split, verify --------------------------------------------------------


def test_compose_layout() -> None:
    fmt = CardNumberFormat(prefix="VIP", serial_length=6, check_digit_length=2, suffix="X")
    number = fmt.compose("S01", 42)
    body = "S01VIP000042"
    assert number == body + mod97_check_digits(expand_letters(body)) + "X"
    assert split_number(number, fmt) == (body, number[-3:-1])
    verify_card_number(number, fmt)


def test_compose_rejects_serial_that_does_not_fit() -> None:
    fmt = CardNumberFormat(prefix="", serial_length=3, check_digit_length=1, suffix="")
    assert fmt.compose("1", 999).startswith("1999")
    for serial in (1000, -1):
        with pytest.raises(ValueError):
            fmt.compose("1", serial)
    with pytest.raises(ValueError):
        fmt.compose("s01", 1)
    with pytest.raises(ValueError):
        fmt.compose("", 1)


def test_bad_format_rejected() -> None:
    with pytest.raises(ValueError):
        CardNumberFormat(prefix="", serial_length=4, check_digit_length=3, suffix="")
    with pytest.raises(ValueError):
        CardNumberFormat(prefix="a", serial_length=4, check_digit_length=1, suffix="")
    with pytest.raises(ValueError):
        CardNumberFormat(prefix="", serial_length=0, check_digit_length=1, suffix="")


def _assert_bad(number: str, fmt: CardNumberFormat) -> None:
    with pytest.raises(Invalid) as exc:
        verify_card_number(number, fmt)
    assert exc.value.code == "invalid_card_number"
    assert [e.field for e in exc.value.errors] == ["card_number"]


def test_split_rejects_wrong_suffix_and_short_numbers() -> None:
    fmt = CardNumberFormat(prefix="P", serial_length=4, check_digit_length=2, suffix="Z")
    good = fmt.compose("S1", 7)
    with pytest.raises(Invalid):
        split_number(good[:-1] + "Y", fmt)
    with pytest.raises(Invalid):
        split_number("P0007Z", fmt)  # no room for a store code and check digits
    _assert_bad(good[:-1] + "Y", fmt)
    _assert_bad("S1Q0007" + good[-3:], fmt)  # wrong prefix
    _assert_bad("S1P00A7" + good[-3:], fmt)  # serial not digits
    _assert_bad("s1p0007" + good[-3:], fmt)  # lowercase
    _assert_bad("P0007" + check_digits("P0007", 2) + "Z", fmt)  # missing store code


def test_has_valid_check_digits() -> None:
    fmt = CardNumberFormat(prefix="", serial_length=5, check_digit_length=1, suffix="")
    number = fmt.compose("S01", 12345)
    assert has_valid_check_digits(number, 1)
    assert not has_valid_check_digits(number[:-1] + str((int(number[-1]) + 1) % 10), 1)
    assert has_valid_check_digits("ABC", 0)
    assert not has_valid_check_digits("5", 1)  # nothing for the digit to cover
    assert not has_valid_check_digits("s01-12", 2)
    with pytest.raises(ValueError):
        has_valid_check_digits("123", 3)


# --- properties ------------------------------------------------------------------------------

alnum = st.from_regex(r"[A-Z0-9]*", fullmatch=True)


@st.composite
def cards(draw: st.DrawFn, lengths: tuple[int, ...] = (0, 1, 2)) -> tuple[CardNumberFormat, str]:
    fmt = CardNumberFormat(
        prefix=draw(alnum.filter(lambda s: len(s) <= 4)),
        serial_length=draw(st.integers(1, 12)),
        check_digit_length=draw(st.sampled_from(lengths)),
        suffix=draw(alnum.filter(lambda s: len(s) <= 3)),
    )
    store = draw(st.from_regex(r"[A-Z0-9]{1,6}", fullmatch=True))
    serial = draw(st.integers(0, 10**fmt.serial_length - 1))
    return fmt, fmt.compose(store, serial)


def _rebuild(fmt: CardNumberFormat, checked: str) -> str:
    return checked + fmt.suffix


def _checked_part(fmt: CardNumberFormat, number: str) -> str:
    """Body plus check digits: everything except the suffix."""
    return number[: len(number) - len(fmt.suffix)]


@given(cards())
def test_composed_numbers_verify(card: tuple[CardNumberFormat, str]) -> None:
    fmt, number = card
    verify_card_number(number, fmt)
    body, check = split_number(number, fmt)
    assert len(check) == fmt.check_digit_length
    assert has_valid_check_digits(_checked_part(fmt, number), fmt.check_digit_length)
    if fmt.check_digit_length == 2:
        assert int(expand_letters(body) + check) % 97 == 1


@given(cards(lengths=(1, 2)), st.data())
def test_single_digit_change_rejected(card: tuple[CardNumberFormat, str], data: st.DataObject):
    fmt, number = card
    checked = _checked_part(fmt, number)
    positions = [i for i, ch in enumerate(checked) if ch.isdigit()]
    i = data.draw(st.sampled_from(positions))
    new = data.draw(st.sampled_from("0123456789").filter(lambda d: d != checked[i]))
    changed = checked[:i] + new + checked[i + 1 :]
    _assert_bad(_rebuild(fmt, changed), fmt)
    assert not has_valid_check_digits(changed, fmt.check_digit_length)


@given(cards(lengths=(1, 2)), st.data())
def test_adjacent_transposition_rejected(card: tuple[CardNumberFormat, str], data: st.DataObject):
    fmt, number = card
    checked = _checked_part(fmt, number)
    luhn = fmt.check_digit_length == 1
    pairs = [
        i
        for i in range(len(checked) - 1)
        if checked[i].isdigit()
        and checked[i + 1].isdigit()
        and checked[i] != checked[i + 1]
        and not (luhn and {checked[i], checked[i + 1]} == {"0", "9"})
    ]
    assume(pairs)
    i = data.draw(st.sampled_from(pairs))
    swapped = checked[:i] + checked[i + 1] + checked[i] + checked[i + 2 :]
    _assert_bad(_rebuild(fmt, swapped), fmt)
    assert not has_valid_check_digits(swapped, fmt.check_digit_length)


@given(st.from_regex(r"[0-9]{1,30}", fullmatch=True))
def test_luhn_and_mod97_self_validate(digits: str) -> None:
    full = digits + luhn_check_digit(digits)
    assert luhn_check_digit(full[:-1]) == full[-1]
    assert int(digits + mod97_check_digits(digits)) % 97 == 1


# --- track data --------------------------------------------------------------------------------

SECRET = b"track-secret-for-tests"


@given(st.from_regex(r"[A-Z0-9]{1,24}", fullmatch=True))
def test_track_round_trip(number: str) -> None:
    track = make_track(SECRET, number)
    mac = track_mac(SECRET, number)
    assert track == f"{number}={mac}"
    assert len(mac) == 8 and mac == mac.lower()
    assert parse_track(SECRET, track) == number


def _assert_bad_track(track: str, secret: bytes = SECRET) -> None:
    with pytest.raises(Invalid) as exc:
        parse_track(secret, track)
    assert exc.value.code == "invalid_track"
    assert [e.field for e in exc.value.errors] == ["track"]


def test_track_tampering_rejected() -> None:
    number = "S01VIP00004217"
    track = make_track(SECRET, number)
    mac = track.split("=")[1]
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    _assert_bad_track(f"{number}={flipped}")
    _assert_bad_track(f"S01VIP00004218={mac}")  # card changed, MAC kept
    _assert_bad_track(track, secret=b"another-secret")
    for malformed in (
        "",
        number,
        f"{number}=",
        f"={mac}",
        f"{number}={mac.upper()}",
        f"{number}={mac}0",
        f"{number}=={mac}",
        f"A={number}={mac}",
    ):
        _assert_bad_track(malformed)


# --- verification codes ----------------------------------------------------------------------


def test_new_verification_code_is_six_digits() -> None:
    codes = {new_verification_code() for _ in range(50)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1


@pytest.mark.parametrize("code", ["000000", "123456", "987650"])
def test_verification_code_hash_and_verify(code: str) -> None:
    stored = hash_verification_code(code)
    scheme, iterations, salt_hex, digest_hex = stored.split("$")
    assert scheme == "pbkdf2_sha256" and int(iterations) >= 100_000
    assert len(salt_hex) == 32 and len(digest_hex) == 64
    # Only salt and digest vary; a chance run of these 6 digits in their hex is ~1e-5.
    assert code not in stored
    assert verify_verification_code(code, stored)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert not verify_verification_code(wrong, stored)
    assert hash_verification_code(code) != stored  # fresh salt each time


def test_verify_rejects_malformed_hash() -> None:
    for stored in (
        "",
        "plain",
        "md5$1$00$00",
        "pbkdf2_sha256$x$00$00",
        "pbkdf2_sha256$0$00$00",
        "pbkdf2_sha256$1$zz$00",
        "pbkdf2_sha256$1$00$",
    ):
        assert not verify_verification_code("123456", stored)
