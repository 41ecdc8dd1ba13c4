"""RFM (docs/domain §5): the airline table's cut points, the eight segments, quintiles, and the
vectorised scoring agreeing with the one-member rules."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.rfm import (
    SEGMENTS,
    RfmConfig,
    RfmMethod,
    f_score,
    fen,
    m_score,
    quintiles,
    r_score,
    rfm_config,
    score,
    segment_counts,
    segment_of,
    threshold_scores,
)

DEFAULT = RfmConfig()


def test_defaults_are_the_airline_table():
    assert DEFAULT.as_json() == {
        "method": "thresholds",
        "window_days": 730,
        "r_days": [30, 90, 180, 365],
        "f_counts": [2, 6, 11, 24],
        "m_amounts": ["500", "1000", "3000", "5000"],
        "high_score": 3,
    }
    assert RfmConfig.from_json(DEFAULT.as_json()) == DEFAULT


# docs/domain §5: R ≤ 30 → 5, ≤ 90 → 4, ≤ 180 → 3, ≤ 365 → 2, else 1
@pytest.mark.parametrize(
    ("days", "expected"),
    [(0, 5), (30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (181, 2), (365, 2), (366, 1), (729, 1)],
)
def test_recency(days, expected):
    assert r_score(days, DEFAULT.r_days) == expected


# F: fewer than 2 → 1; 2-5 → 2; 6-10 → 3; 11-23 → 4; 24 or more → 5
@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, 1), (2, 2), (5, 2), (6, 3), (10, 3), (11, 4), (23, 4), (24, 5), (300, 5)],
)
def test_frequency(count, expected):
    assert f_score(count, DEFAULT.f_counts) == expected


# M: ≤ 500 → 1; 500.01-1000 → 2; 1000.01-3000 → 3; 3000.01-5000 → 4; > 5000 → 5
@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.01", 1),
        ("500.00", 1),
        ("500.01", 2),
        ("1000", 2),
        ("1000.01", 3),
        ("3000", 3),
        ("3000.01", 4),
        ("5000", 4),
        ("5000.01", 5),
    ],
)
def test_monetary(amount, expected):
    assert m_score(Decimal(amount), DEFAULT.m_amounts) == expected


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, "important_value"),  # R↑F↑M↑ 重要价值
        (3, 1, 4, "important_develop"),  # R↑F↓M↑ 重要发展
        (2, 3, 3, "important_keep"),  # R↓F↑M↑ 重要保持
        (1, 2, 5, "important_win_back"),  # R↓F↓M↑ 重要挽留
        (4, 4, 2, "general_value"),  # 一般价值
        (3, 2, 1, "general_develop"),  # 一般发展
        (1, 5, 2, "general_keep"),  # 一般保持
        (2, 2, 2, "general_win_back"),  # 一般挽留
    ],
)
def test_segments(r, f, m, segment):
    assert segment_of(r, f, m) == segment


def test_high_score_moves_the_line():
    assert segment_of(3, 3, 3, high_score=4) == "general_win_back"
    assert segment_of(1, 1, 1, high_score=1) == "important_value"


def test_a_worked_example():
    """Last purchase 20 days ago, 12 receipts, 3200.50 on average → R5 F4 M4, important value;
    200 days, 1 receipt, 480 → R2 F1 M1, general win-back."""
    recency = np.array([20, 200])
    frequency = np.array([12, 1])
    monetary = np.array([fen(Decimal("3200.50")), fen(Decimal("480"))])
    s = score(recency, frequency, monetary, DEFAULT)
    assert s.r.tolist() == [5, 2] and s.f.tolist() == [4, 1] and s.m.tolist() == [4, 1]
    assert [SEGMENTS[i] for i in s.segment] == ["important_value", "general_win_back"]
    assert segment_counts(s.segment) == {
        **dict.fromkeys(SEGMENTS, 0),
        "important_value": 1,
        "general_win_back": 1,
    }


_members = st.lists(
    st.tuples(
        st.integers(0, 800),
        st.integers(1, 60),
        st.decimals(Decimal("0.01"), Decimal("20000"), places=2),
    ),
    min_size=1,
    max_size=60,
)


@given(_members)
def test_vectorised_thresholds_equal_the_table(members):
    recency = np.array([x[0] for x in members])
    frequency = np.array([x[1] for x in members])
    monetary = np.array([fen(x[2]) for x in members], dtype=np.int64)
    r, f, m = threshold_scores(recency, frequency, monetary, DEFAULT)
    assert r.tolist() == [r_score(x[0], DEFAULT.r_days) for x in members]
    assert f.tolist() == [f_score(x[1], DEFAULT.f_counts) for x in members]
    assert m.tolist() == [m_score(x[2], DEFAULT.m_amounts) for x in members]
    s = score(recency, frequency, monetary, DEFAULT)
    assert [SEGMENTS[i] for i in s.segment] == [
        segment_of(a, b, c) for a, b, c in zip(r.tolist(), f.tolist(), m.tolist(), strict=True)
    ]


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=200))
def test_quintiles_are_monotone_and_share_ties(values):
    arr = np.array(values)
    up = quintiles(arr, higher_is_better=True)
    down = quintiles(arr, higher_is_better=False)
    assert set(up.tolist()) <= {1, 2, 3, 4, 5} and set(down.tolist()) <= {1, 2, 3, 4, 5}
    for i in range(len(values)):
        for j in range(len(values)):
            if values[i] < values[j]:
                assert up[i] <= up[j] and down[i] >= down[j]
            if values[i] == values[j]:
                assert up[i] == up[j] and down[i] == down[j]


@given(st.integers(5, 500))
def test_distinct_values_fill_the_quintiles_evenly(n):
    arr = np.random.default_rng(n).permutation(n)
    counts = np.bincount(quintiles(arr, higher_is_better=True), minlength=6)[1:]
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    assert quintiles(arr, higher_is_better=True)[arr.argmax()] == 5
    assert quintiles(arr, higher_is_better=False)[arr.argmin()] == 5


def test_quantile_method():
    config = RfmConfig(method=RfmMethod.QUANTILE)
    recency = np.array([1, 10, 100, 200, 400])
    frequency = np.array([9, 7, 5, 3, 1])
    monetary = np.array([5, 4, 3, 2, 1]) * 100
    s = score(recency, frequency, monetary, config)
    assert s.r.tolist() == [5, 4, 3, 2, 1]
    assert s.f.tolist() == [5, 4, 3, 2, 1] and s.m.tolist() == [5, 4, 3, 2, 1]
    assert s.segment.tolist() == [0, 0, 0, 7, 7]


def test_empty_run():
    s = score(np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([]), DEFAULT)
    assert len(s.r) == 0 and segment_counts(s.segment) == dict.fromkeys(SEGMENTS, 0)
    q = score(np.array([]), np.array([]), np.array([]), RfmConfig(method=RfmMethod.QUANTILE))
    assert len(q.segment) == 0


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"window_days": 0}, ["window_days"]),
        ({"window_days": 3651}, ["window_days"]),
        ({"r_days": (30, 90, 90, 365)}, ["r_days"]),
        ({"r_days": (0, 90, 180, 365)}, ["r_days"]),
        ({"r_days": (30, 90, 180)}, ["r_days"]),
        ({"f_counts": (24, 11, 6, 2)}, ["f_counts"]),
        (
            {"m_amounts": (Decimal("500"), Decimal("400"), Decimal("3000"), Decimal("5000"))},
            ["m_amounts"],
        ),
        (
            {"m_amounts": (Decimal("-1"), Decimal("400"), Decimal("3000"), Decimal("5000"))},
            ["m_amounts"],
        ),
        (
            {"m_amounts": (Decimal("0.001"), Decimal("1"), Decimal("2"), Decimal("3"))},
            ["m_amounts"],
        ),
        ({"high_score": 6}, ["high_score"]),
        ({"r_days": (30, 90, 180, 10**30)}, ["r_days"]),
        ({"f_counts": (2, 6, 11, 10**7)}, ["f_counts"]),
        ({"high_score": 0, "window_days": -1}, ["window_days", "high_score"]),
    ],
)
def test_config_validation_names_the_fields(changes, fields):
    values = {
        "method": RfmMethod.THRESHOLDS,
        "window_days": 730,
        "r_days": DEFAULT.r_days,
        "f_counts": DEFAULT.f_counts,
        "m_amounts": DEFAULT.m_amounts,
        "high_score": 3,
        **changes,
    }
    with pytest.raises(Invalid) as caught:
        rfm_config(**values)
    assert caught.value.code == "invalid_rfm_config"
    assert [e.field for e in caught.value.errors] == fields
