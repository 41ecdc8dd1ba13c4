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

import numpy as np

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


def canonical(text: str, field: str = "code") -> str:
    """The code as stored, from what was typed; 422 ``invalid_voucher_code`` when it can't be
    one (wrong length, a character outside the alphabet, a wrong check character)."""
    code = text.upper().translate(_READ_AS)
    if not is_valid(code):
        raise Invalid(
            "invalid_voucher_code",
            "{text} is not a voucher code (mistyped?).",
            field=field,
            text=text[:40],
        )
    return code


_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
# Luhn's factors over the body, left to right: 2 on the rightmost character, then 1, 2, ...
_FACTORS = np.array([2 if (BODY_LENGTH - 1 - i) % 2 == 0 else 1 for i in range(BODY_LENGTH)])


def new_codes(n: int) -> list[str]:
    """``n`` fresh codes at once (a bulk issue), as ``new_code`` draws them: 13 characters of
    5 random bits each (the low 5 bits of bytes from ``secrets``) and the Luhn mod 32 check
    character, computed for all of them together."""
    if n <= 0:
        return []
    digits = np.frombuffer(secrets.token_bytes(BODY_LENGTH * n), dtype=np.uint8).reshape(
        n, BODY_LENGTH
    ) & np.uint8(31)
    addends = digits.astype(np.int64) * _FACTORS
    total = (addends // 32 + addends % 32).sum(axis=1)
    check = (32 - total % 32) % 32
    chars = _ALPHABET_BYTES[np.concatenate([digits, check[:, None].astype(np.uint8)], axis=1)]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + LENGTH] for i in range(0, LENGTH * n, LENGTH)]
