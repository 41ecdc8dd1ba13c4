"""Net Promoter Score (净推荐值, docs/domain §8).

Answers 0–10: promoters 9–10, passives 7–8, detractors 0–6. NPS = %promoters − %detractors
on −100…100. With n answers, p = promoters/n and q = detractors/n, the standard error is
sqrt((p + q − (p − q)²)/n)·100 and the 95 % margin of error is 1.96 standard errors.
Outputs are Decimals: NPS, standard error and margin to two decimals, shares (fractions of
n) to four, all rounded half up from the exact values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from app.domain.errors import Invalid
from app.domain.voc import FOUR, TWO, to_decimal

Z_95 = Decimal("1.96")
MIN_SCORE, MAX_SCORE = 0, 10
# Answers per group: plenty, and their sum stays a number any client (and Python's JSON, which
# stops at 4300 digits) can read.
MAX_COUNT = 10**12


class Group(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


@dataclass(frozen=True)
class Nps:
    n: int
    promoters: int
    passives: int
    detractors: int
    nps: Decimal | None  # None when n = 0
    promoter_share: Decimal | None
    detractor_share: Decimal | None
    standard_error: Decimal | None
    margin_of_error_95: Decimal | None


def is_score(value: object) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and MIN_SCORE <= value <= MAX_SCORE
    )


def check_score(value: object, field: str = "score") -> int:
    if not is_score(value):
        raise Invalid("invalid_score", "must be a whole number from 0 to 10", field=field)
    return value  # type: ignore[return-value]


def group_of(score: int) -> Group:
    check_score(score)
    if score >= 9:
        return Group.PROMOTER
    if score >= 7:
        return Group.PASSIVE
    return Group.DETRACTOR


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise Invalid(
            "invalid_count",
            "must be a whole number from 0 to {max_count}",
            field=field,
            max_count=MAX_COUNT,
        )
    return value


def from_counts(promoters: int, passives: int, detractors: int) -> Nps:
    """The figures of a group of answers; an empty group has counts and no figures."""
    p = _count(promoters, "promoters")
    m = _count(passives, "passives")
    d = _count(detractors, "detractors")
    n = p + m + d
    if n == 0:
        return Nps(0, 0, 0, 0, None, None, None, None, None)
    share_p, share_d = Fraction(p, n), Fraction(d, n)
    variance = (share_p + share_d - (share_p - share_d) ** 2) / n
    with localcontext() as ctx:
        ctx.prec = 40
        se = (Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt() * 100
        margin = se * Z_95
    return Nps(
        n,
        p,
        m,
        d,
        to_decimal((share_p - share_d) * 100, TWO),
        to_decimal(share_p, FOUR),
        to_decimal(share_d, FOUR),
        to_decimal(se, TWO),
        to_decimal(margin, TWO),
    )


def from_scores(scores: Sequence[int]) -> Nps:
    counts = dict.fromkeys(Group, 0)
    for i, score in enumerate(scores):
        counts[group_of(check_score(score, f"scores[{i}]"))] += 1
    return from_counts(counts[Group.PROMOTER], counts[Group.PASSIVE], counts[Group.DETRACTOR])


def calculate(
    scores: Sequence[int] | None,
    promoters: int | None,
    passives: int | None,
    detractors: int | None,
) -> Nps:
    """The stateless calculator: either the scores or the three counts, never both or
    neither, and at least one answer."""
    counts = (promoters, passives, detractors)
    if scores is not None:
        if any(c is not None for c in counts):
            raise Invalid(
                "scores_or_counts",
                "Give either `scores` or the three counts, not both.",
                field="scores",
            )
        result = from_scores(scores)
    elif all(c is not None for c in counts):
        result = from_counts(promoters, passives, detractors)  # type: ignore[arg-type]
    else:
        missing = [
            name
            for name, c in zip(("promoters", "passives", "detractors"), counts, strict=True)
            if c is None
        ]
        raise Invalid(
            "scores_or_counts",
            "Give either `scores` or all three of `promoters`, `passives`, `detractors`.",
            field="scores" if len(missing) == 3 else missing[0],
        )
    if result.n == 0:
        raise Invalid("no_answers", "There are no answers to score.", field="scores")
    return result
