"""Voucher codes (docs/domain §12): unguessable, typed by people, checked before any lookup. Pure.

A code is 13 characters of Crockford's base 32 (65 random bits) and one check character, 14
in all. Crockford's alphabet has no I, L, O or U, so what a customer reads aloud or a cashier
types is forgiving: input is upper-cased, spaces and dashes are dropped, I and L read as 1 and
O as 0.

The check makes the 14 values v_1 … v_14 a word of a code over GF(32): the sum of
a^(14-i) · v_i is 0, with a a primitive element (x, modulo x^5 + x^2 + 1). A mistyped
character adds a^k · e ≠ 0; a swap of two characters d apart adds a^k · (a^d + 1) · (x − y),
which is 0 only if a^d = 1, i.e. d a multiple of 31 — longer than a code. So every single
mistyped character and every swap of two characters, neighbours or not, is refused (422)
before the database is asked. (Luhn mod 32 would miss the swap of 0 and Z, as Luhn mod 10
misses 09 ↔ 90.) A forged code has 1 chance in 2^65 of naming a voucher.
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


_MODULUS = 0b100101  # x^5 + x^2 + 1, primitive: x generates GF(32)'s 31 non-zero elements


def _times_x(value: int) -> int:
    """``value`` × x in GF(32) (XOR is its addition)."""
    value <<= 1
    return value ^ _MODULUS if value & 0b100000 else value


def _syndrome(characters: str) -> int:
    """Σ a^(n-i) · v_i over GF(32) by Horner's rule (characters of ALPHABET)."""
    total = 0
    for ch in characters:
        total = _times_x(total) ^ _VALUE[ch]
    return total


def check_character(body: str) -> str:
    """The character that makes the syndrome of ``body`` + it zero."""
    return ALPHABET[_times_x(_syndrome(body))]


def new_code(random_bits: int | None = None) -> str:
    """A fresh code: 65 random bits (``random_bits`` for tests) and its check character."""
    value = secrets.randbits(5 * BODY_LENGTH) if random_bits is None else random_bits
    body = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(BODY_LENGTH)))
    return body + check_character(body)


def is_valid(code: str) -> bool:
    return len(code) == LENGTH and all(ch in _VALUE for ch in code) and _syndrome(code) == 0


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


_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
_TIMES_X = np.array([_times_x(v) for v in range(32)], dtype=np.uint8)  # v ↦ v × x in GF(32)


def new_codes(n: int) -> list[str]:
    """``n`` fresh codes at once (a bulk issue), as ``new_code`` draws them: 13 characters of
    5 random bits each (the low 5 bits of bytes from ``secrets``) and the check character,
    computed for all of them together (Horner's rule over GF(32), column by column)."""
    if n <= 0:
        return []
    digits = np.frombuffer(secrets.token_bytes(BODY_LENGTH * n), dtype=np.uint8).reshape(
        n, BODY_LENGTH
    ) & np.uint8(31)
    syndrome = np.zeros(n, dtype=np.uint8)
    for column in range(BODY_LENGTH):
        syndrome = _TIMES_X[syndrome] ^ digits[:, column]
    check = _TIMES_X[syndrome]
    chars = _ALPHABET_BYTES[np.concatenate([digits, check[:, None]], axis=1)]
    text = chars.tobytes().decode("ascii")
    return [text[i : i + LENGTH] for i in range(0, LENGTH * n, LENGTH)]
