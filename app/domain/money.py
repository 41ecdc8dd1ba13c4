"""Money arithmetic shared by every rule: Decimal only, CNY to the fen."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round2(value: Decimal) -> Decimal:
    """To the fen, half up: the only rounding the rules allow, and only where it says so."""
    return value.quantize(CENT, ROUND_HALF_UP)


def decimal_places(value: Decimal) -> int:
    """Decimal places that matter (1.500 has one), exactly: no context rounding involved."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or not any(digits):
        return 0
    places = -exponent
    for digit in reversed(digits):
        if digit or not places:
            break
        places -= 1
    return places
