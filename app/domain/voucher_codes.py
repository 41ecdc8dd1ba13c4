"""Voucher codes (docs/domain §12): unguessable, typed by people, checked before any lookup. Pure.

A code is 13 characters of Crockford's base 32 (65 random bits) and one check character
(Luhn mod 32 over the same alphabet), 14 in all. Crockford's alphabet has no I, L, O or U, so
what a customer reads aloud or a cashier types is forgiving: input is upper-cased, spaces and
dashes are dropped, I and L read as 1 and O as 0. The Luhn mod N check catches every single
mistyped character and every swap of two adjacent ones, so a typo is refused (422) before the
database is asked, and a forged code has 1 chance in 2^65 of naming a voucher.
"""

from __future__ import annotations

import secrets

from app.domain.errors import Invalid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 13  # 65 bits
LENGTH = BODY_LENGTH + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def check_character(body: str) -> str:
    """Luhn mod 32 over ``body`` (characters of ALPHABET)."""
    n = len(ALPHABET)
    total, factor = 0, 2
    for ch in reversed(body):
        addend = factor * _VALUE[ch]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_code(random_bits: int | None = None) -> str:
    """A fresh code: 65 random bits (``random_bits`` for tests) and its check character."""
    value = secrets.randbits(5 * BODY_LENGTH) if random_bits is None else random_bits
    body = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(BODY_LENGTH)))
    return body + check_character(body)


def is_valid(code: str) -> bool:
    return (
        len(code) == LENGTH
        and all(ch in _VALUE for ch in code)
        and check_character(code[:-1]) == code[-1]
    )


def canonical_or_none(text: str) -> str | None:
    """The code as stored, or None when ``text`` can't be one."""
    code = text.upper().translate(_READ_AS)
    return code if is_valid(code) else None


def canonical(text: str, field: str = "code") -> str:
    """The code as stored, from what was typed; 422 ``invalid_voucher_code`` when it can't be
    one (wrong length, a character outside the alphabet, a wrong check character)."""
    code = canonical_or_none(text)
    if code is None:
        raise Invalid(
            "invalid_voucher_code",
            "{text} is not a voucher code (mistyped?).",
            field=field,
            text=text[:40],
        )
    return code
