"""NPS arithmetic (docs/domain §8): the exercises, the standard error and the calculator's input
rules, and the bounds as properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.nps import Group, calculate, from_counts, from_scores, group_of


def test_groups():
    assert [group_of(s) for s in range(11)] == [Group.DETRACTOR] * 7 + [Group.PASSIVE] * 2 + [
        Group.PROMOTER
    ] * 2


def test_exercise_30_40_30_of_100():
    r = from_counts(30, 40, 30)
    assert (r.n, r.nps, r.promoter_share, r.detractor_share) == (
        100,
        Decimal("0.00"),
        Decimal("0.3000"),
        Decimal("0.3000"),
    )
    assert r.standard_error == Decimal("7.75")  # docs/domain §8
    assert r.margin_of_error_95 == Decimal("15.18")  # 1.96 × 7.7460 = 15.182


def test_exercise_60_80_60_of_200():
    r = from_counts(60, 80, 60)
    assert (r.n, r.nps) == (200, Decimal("0.00"))
    # sqrt(0.6 / 200) · 100 = 5.477
    assert r.standard_error == Decimal("5.48")


def test_scores_and_counts_agree():
    scores = [10, 9, 9, 8, 7, 6, 0, 3, 10, 10]
    by_scores = from_scores(scores)
    assert by_scores == from_counts(5, 2, 3)
    assert by_scores.nps == Decimal("20.00")


def test_two_decimals_half_up():
    # 1 promoter of 3 = 33.333… → 33.33; 2 of 3 = 66.666… → 66.67
    assert from_counts(1, 2, 0).nps == Decimal("33.33")
    assert from_counts(2, 1, 0).nps == Decimal("66.67")
    assert from_counts(0, 1, 2).nps == Decimal("-66.67")


def test_all_promoters_have_no_spread():
    r = from_counts(12, 0, 0)
    assert (r.nps, r.standard_error, r.margin_of_error_95) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )


def test_empty_group_has_no_figures():
    r = from_counts(0, 0, 0)
    assert (r.n, r.nps, r.standard_error) == (0, None, None)


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"scores": [3, 11]}, "invalid_score", "scores[1]"),
        ({"scores": [-1]}, "invalid_score", "scores[0]"),
        ({"scores": [True]}, "invalid_score", "scores[0]"),
        ({"scores": []}, "no_answers", "scores"),
        ({"scores": [1], "promoters": 1}, "scores_or_counts", "scores"),
        ({"promoters": 1, "passives": 1}, "scores_or_counts", "detractors"),
        ({}, "scores_or_counts", "scores"),
        ({"promoters": 0, "passives": 0, "detractors": 0}, "no_answers", "scores"),
        ({"promoters": -1, "passives": 0, "detractors": 3}, "invalid_count", "promoters"),
    ],
)
def test_calculator_refuses(kwargs, code, field):
    args = {"scores": None, "promoters": None, "passives": None, "detractors": None, **kwargs}
    with pytest.raises(Invalid) as err:
        calculate(**args)
    assert (err.value.code, err.value.errors[0].field) == (code, field)


@given(st.lists(st.integers(0, 10), min_size=1, max_size=300))
def test_nps_is_within_bounds(scores):
    r = from_scores(scores)
    assert Decimal(-100) <= r.nps <= Decimal(100)
    assert r.promoters + r.passives + r.detractors == r.n == len(scores)
    assert Decimal(0) <= r.standard_error <= Decimal(100)
    assert r.margin_of_error_95 >= r.standard_error


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_nps_is_the_difference_of_shares(p, m, d):
    if p + m + d == 0:
        return
    r = from_counts(p, m, d)
    exact = Decimal(100 * (p - d)) / Decimal(p + m + d)
    assert abs(r.nps - exact) <= Decimal("0.005")
