"""Card numbers, magnetic-track data and one-time verification codes.

A card number is ``store code + class prefix + zero-padded serial + check digits + suffix``.
Check digits cover everything before them (store code, prefix, padded serial):

* length 0: none;
* length 1: Luhn;
* length 2: ISO/IEC 7064 MOD 97-10, as in IBAN (``98 - n*100 mod 97``, two digits).

Store codes, prefixes and suffixes may hold uppercase letters. Before the check digits are
computed, each letter is expanded to two digits, A=10 ... Z=35 (the ISIN/IBAN convention), and
the algorithm runs over the resulting digit string. So a letter-for-digit swap is caught, but
"A" and "10" expand alike; the fixed layout of the number is what tells them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from app.domain.errors import Invalid, Message

_ALNUM = re.compile(r"[A-Z0-9]*")
_TRACK_MAC = re.compile(r"[0-9a-f]{8}")
_PBKDF2_ITERATIONS = 100_000


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit to append to ``digits``."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("Luhn input must be ASCII digits.")
    total = 0
    # Walking from the right, the digit next to the (future) check digit is doubled.
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def mod97_check_digits(digits: str) -> str:
    """The two ISO/IEC 7064 MOD 97-10 digits to append to ``digits``."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("MOD 97-10 input must be ASCII digits.")
    return f"{98 - int(digits) * 100 % 97:02d}"


def expand_letters(text: str) -> str:
    """Replace each letter A-Z with two digits (A=10 ... Z=35); digits are kept."""
    out = []
    for ch in text:
        if "0" <= ch <= "9":
            out.append(ch)
        elif "A" <= ch <= "Z":
            out.append(str(ord(ch) - ord("A") + 10))
        else:
            raise ValueError(f"{ch!r} is not an uppercase letter or digit.")
    return "".join(out)


def check_digits(body: str, length: int) -> str:
    """Check digits of the given length (0, 1 or 2) over ``body``."""
    if length == 0:
        return ""
    if length == 1:
        return luhn_check_digit(expand_letters(body))
    if length == 2:
        return mod97_check_digits(expand_letters(body))
    raise ValueError(f"Unsupported check digit length {length}.")


@dataclass(frozen=True)
class CardNumberFormat:
    """How one card class lays out its numbers (the store code comes per call)."""

    prefix: str
    serial_length: int
    check_digit_length: int
    suffix: str

    def __post_init__(self) -> None:
        if not (_ALNUM.fullmatch(self.prefix) and _ALNUM.fullmatch(self.suffix)):
            raise ValueError("Prefix and suffix may hold only A-Z and 0-9.")
        if self.serial_length < 1:
            raise ValueError("serial_length must be at least 1.")
        if self.check_digit_length not in (0, 1, 2):
            raise ValueError("check_digit_length must be 0, 1 or 2.")

    def compose(self, store_code: str, serial: int) -> str:
        """The full card number for ``serial`` issued at ``store_code``."""
        if not store_code or not _ALNUM.fullmatch(store_code):
            raise ValueError("Store code must be non-empty A-Z and 0-9.")
        if serial < 0 or serial >= 10**self.serial_length:
            raise ValueError(f"Serial {serial} does not fit in {self.serial_length} digits.")
        body = f"{store_code}{self.prefix}{serial:0{self.serial_length}d}"
        return body + check_digits(body, self.check_digit_length) + self.suffix

    @property
    def min_length(self) -> int:
        """Shortest possible number: a one-character store code."""
        return (
            1 + len(self.prefix) + self.serial_length + self.check_digit_length + len(self.suffix)
        )


def _bad_number(detail: str | Message) -> Invalid:
    return Invalid("invalid_card_number", detail, field="card_number")


def split_number(number: str, fmt: CardNumberFormat) -> tuple[str, str]:
    """Split ``number`` into (body, check digits), dropping the suffix."""
    if not number.endswith(fmt.suffix):
        raise _bad_number(Message("Card number must end with '{suffix}'.", suffix=fmt.suffix))
    if len(number) < fmt.min_length:
        raise _bad_number("Card number is too short.")
    rest = number[: len(number) - len(fmt.suffix)]
    cut = len(rest) - fmt.check_digit_length
    return rest[:cut], rest[cut:]


def verify_card_number(number: str, fmt: CardNumberFormat) -> None:
    """Raise ``Invalid`` unless ``number`` has this format's shape and check digits."""
    body, check = split_number(number, fmt)
    if not _ALNUM.fullmatch(body):
        raise _bad_number("Card number may hold only A-Z and 0-9.")
    head, serial = body[: -fmt.serial_length], body[-fmt.serial_length :]
    if not serial.isdigit():
        raise _bad_number("Card serial must be digits.")
    if not head.endswith(fmt.prefix) or len(head) == len(fmt.prefix):
        raise _bad_number(
            Message("Card number must be a store code followed by '{prefix}'.", prefix=fmt.prefix)
        )
    # Compare with the canonical digits rather than "mod 97 == 1": that also rejects "01"
    # standing in for "98", so each body has exactly one valid number.
    if check != check_digits(body, fmt.check_digit_length):
        raise _bad_number("Card number check digits do not match.")


def has_valid_check_digits(number_without_suffix: str, length: int) -> bool:
    """Whether the last ``length`` characters are the check digits of what precedes them."""
    if length not in (0, 1, 2):
        raise ValueError("length must be 0, 1 or 2.")
    cut = len(number_without_suffix) - length
    if cut < 1:
        return False
    body, check = number_without_suffix[:cut], number_without_suffix[cut:]
    try:
        return check == check_digits(body, length)
    except ValueError:  # lowercase, punctuation, ...: not a card number at all
        return False


def track_mac(secret: bytes, card_number: str) -> str:
    """First 8 hex characters of HMAC-SHA256 over the card number."""
    return hmac.new(secret, card_number.encode("utf-8"), hashlib.sha256).hexdigest()[:8]


def make_track(secret: bytes, card_number: str) -> str:
    """Track data: ``card_number=mac``."""
    return f"{card_number}={track_mac(secret, card_number)}"


def parse_track(secret: bytes, track: str) -> str:
    """The card number in ``track``; ``Invalid`` if malformed or the MAC is wrong."""
    number, sep, mac = track.rpartition("=")
    if not sep or not number or "=" in number or not _TRACK_MAC.fullmatch(mac):
        raise Invalid("invalid_track", "Track data must be 'card_number=mac'.", field="track")
    if not hmac.compare_digest(mac, track_mac(secret, number)):
        raise Invalid("invalid_track", "Track data failed its integrity check.", field="track")
    return number


def new_verification_code() -> str:
    """A random 6-digit code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_verification_code(code: str) -> str:
    """Salted PBKDF2-HMAC-SHA256 hash: ``pbkdf2_sha256$iterations$salt_hex$hash_hex``."""
    # A 6-digit code has only 10**6 values, so no iteration count makes an offline guess
    # hard; the lockout after 5 failed attempts is the real protection. Keep it modest.
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt, _PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${_PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_verification_code(code: str, stored_hash: str) -> bool:
    """Whether ``code`` matches ``stored_hash``, compared in constant time."""
    try:
        scheme, iterations, salt_hex, digest_hex = stored_hash.split("$")
        rounds = int(iterations)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256" or rounds < 1 or not expected:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", code.encode("utf-8"), salt, rounds)
    return hmac.compare_digest(actual, expected)
