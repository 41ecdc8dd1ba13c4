"""Member group criteria (docs/domain §10): checking, defaults, the stored form, age ranges."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.member_groups import (
    Criteria,
    IntRange,
    RankBy,
    age_to_birth_years,
    check_code,
    criteria_from_json,
    criteria_of,
)

FULL = {
    "attributes": {
        "genders": ["female", "female"],
        "age": {"min": 25, "max": 40},
        "regions": ["上海"],
        "card_classes": ["GOLD"],
        "tags": ["beauty"],
        "rfm_segments": ["important_value"],
    },
    "consumption": {
        "from": date(2026, 1, 1),
        "to": date(2026, 6, 30),
        "amount": {"min": Decimal("1000"), "max": None},
        "count": {"min": 2, "max": None},
        "categories": ["10"],
        "brands": ["OLAY"],
    },
    "ranking": {"by": "amount", "top": 500},
}


def test_full_criteria_round_trip():
    criteria = criteria_of(FULL)
    assert criteria.attributes.genders == ("female",)  # deduplicated
    assert criteria.consumption.count == IntRange(2, None)
    assert criteria.ranking.by is RankBy.AMOUNT
    stored = criteria.as_json()
    assert stored["consumption"]["from"] == "2026-01-01"
    assert stored["consumption"]["amount"] == {"min": "1000", "max": None}
    assert criteria_from_json(stored) == criteria


def test_empty_criteria_select_everyone():
    assert criteria_of({}) == Criteria()
    assert Criteria().as_json() == {}


def test_count_defaults():
    window = {"from": date(2026, 1, 1), "to": date(2026, 1, 31)}
    assert criteria_of({"consumption": window}).consumption.count == IntRange(1, None)
    not_bought = criteria_of({"consumption": {**window, "count": {"max": 0}}})
    assert not_bought.consumption.count == IntRange(0, 0)
    at_most_3 = criteria_of({"consumption": {**window, "count": {"max": 3}}})
    assert at_most_3.consumption.count == IntRange(1, 3)


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        ({"attributes": {"genders": ["robot"]}}, ["criteria.attributes.genders"]),
        ({"attributes": {"age": {"min": 50, "max": 20}}}, ["criteria.attributes.age"]),
        ({"attributes": {"age": {"min": -1}}}, ["criteria.attributes.age.min"]),
        ({"attributes": {"rfm_segments": ["vip"]}}, ["criteria.attributes.rfm_segments"]),
        ({"attributes": {"regions": [""]}}, ["criteria.attributes.regions"]),
        ({"attributes": {"tags": [f"t{i}" for i in range(101)]}}, ["criteria.attributes.tags"]),
        (
            {"consumption": {"from": date(2026, 2, 1), "to": date(2026, 1, 1)}},
            ["criteria.consumption.to"],
        ),
        ({"consumption": {"from": date(2026, 2, 1)}}, ["criteria.consumption"]),
        (
            {"consumption": {"from": date(1, 1, 1), "to": date(2026, 1, 1)}},
            ["criteria.consumption"],
        ),
        (
            {"consumption": {"from": date(2026, 1, 1), "to": date(9999, 12, 31)}},
            ["criteria.consumption"],
        ),
        (
            {
                "consumption": {
                    "from": date(2026, 1, 1),
                    "to": date(2026, 1, 2),
                    "amount": {"min": Decimal("5"), "max": Decimal("1")},
                }
            },
            ["criteria.consumption.amount"],
        ),
        (
            {
                "consumption": {
                    "from": date(2026, 1, 1),
                    "to": date(2026, 1, 2),
                    "amount": {"min": Decimal("0.001")},
                }
            },
            ["criteria.consumption.amount.min"],
        ),
        ({"ranking": {"by": "amount", "top": 0}}, ["criteria.ranking.top"]),
        ({"ranking": {"by": "love", "top": 5}}, ["criteria.ranking.by"]),
    ],
)
def test_invalid_criteria_name_the_field(raw, fields):
    with pytest.raises(Invalid) as caught:
        criteria_of(raw)
    assert caught.value.code == "invalid_criteria"
    assert [e.field for e in caught.value.errors] == fields


@pytest.mark.parametrize("code", ["VIP", "vip-2026", "A_B", "9", "X" * 32])
def test_codes(code):
    assert check_code(code) == code


@pytest.mark.parametrize("code", ["", "-VIP", "VIP 1", "会员", "X" * 33, "a/b"])
def test_bad_codes(code):
    with pytest.raises(Invalid) as caught:
        check_code(code)
    assert caught.value.code == "invalid_group_code"


@given(st.integers(0, 150), st.integers(0, 150), st.integers(1950, 2100))
def test_age_range_is_a_birth_year_range(low, high, year):
    low, high = min(low, high), max(low, high)
    earliest, latest = age_to_birth_years(IntRange(low, high), year)
    for born in range(year - 160, year + 1):
        assert (earliest <= born <= latest) == (low <= year - born <= high)
    assert age_to_birth_years(IntRange(None, None), year) == (None, None)
