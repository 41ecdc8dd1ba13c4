"""Lifecycle stages (docs/domain §7): each rule in order, the vectorised form agreeing with the rule
by rule one, and the settings' checks."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.lifecycle import (
    STAGES,
    LifecycleConfig,
    breakdown,
    lifecycle_config,
    stage_of,
    stages,
)

DEFAULT = LifecycleConfig()


@pytest.mark.parametrize(
    ("purchases", "recency", "tenure", "recent", "previous", "stage"),
    [
        (0, 0, 0, "0", "0", None),  # never bought
        (12, 366, 900, "0", "0", "lost"),  # nothing for more than a year
        (1, 365, 365, "0", "100", "exploration"),  # one purchase, a year ago: not yet lost
        (1, 2, 2, "50", "0", "exploration"),
        (8, 181, 800, "0", "900", "decline"),  # quiet for half a year
        (8, 10, 400, "100", "1000", "decline"),  # spending under half of before
        (8, 10, 359, "100", "1000", "formation"),  # history too short to judge the trend
        (3, 10, 500, "900", "1000", "formation"),  # too few purchases yet
        (6, 10, 200, "900", "1000", "formation"),  # too young a relationship
        (6, 10, 400, "500", "1000", "stability"),  # exactly half is not below half
        (30, 1, 2000, "5000", "0", "stability"),
    ],
)
def test_rules(purchases, recency, tenure, recent, previous, stage):
    assert (
        stage_of(purchases, recency, tenure, Decimal(recent), Decimal(previous), DEFAULT) == stage
    )
    codes = stages(
        np.array([purchases]),
        np.array([recency]),
        np.array([tenure]),
        np.array([int(Decimal(recent) * 100)]),
        np.array([int(Decimal(previous) * 100)]),
        DEFAULT,
    )
    assert (STAGES[codes[0]] if codes[0] >= 0 else None) == stage


_member = st.tuples(
    st.integers(0, 40),
    st.integers(0, 800),
    st.integers(0, 2000),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
)
_config = st.builds(
    LifecycleConfig,
    lost_after_days=st.integers(200, 400),
    exploration_max_purchases=st.integers(1, 3),
    decline_after_days=st.integers(30, 199),
    trend_days=st.integers(30, 365),
    decline_ratio=st.decimals(Decimal("0.0001"), Decimal("1"), places=4),
    stability_min_days=st.integers(1, 800),
    stability_min_purchases=st.integers(4, 12),
)


@given(st.lists(_member, max_size=50), _config)
def test_vectorised_equals_rule_by_rule(members, config):
    arrays = [np.array([m[i] for m in members], dtype=np.int64) for i in range(5)]
    codes = stages(*arrays, config)
    expected = [
        stage_of(p, r, t, Decimal(a) / 100, Decimal(b) / 100, config) for p, r, t, a, b in members
    ]
    assert [STAGES[c] if c >= 0 else None for c in codes] == expected
    counts = breakdown(codes)
    assert sum(counts.values()) == sum(1 for e in expected if e is not None)


def test_settings_round_trip_and_checks():
    assert LifecycleConfig.from_json(DEFAULT.as_json()) == DEFAULT
    assert DEFAULT.as_json()["decline_ratio"] == "0.5"
    with pytest.raises(Invalid) as caught:
        lifecycle_config(
            lost_after_days=100,
            decline_after_days=100,
            decline_ratio=Decimal("1.5"),
            exploration_max_purchases=6,
        )
    assert caught.value.code == "invalid_lifecycle_config"
    assert [e.field for e in caught.value.errors] == [
        "decline_after_days",
        "stability_min_purchases",
        "decline_ratio",
    ]
    with pytest.raises(Invalid):
        lifecycle_config(trend_days=0)
    with pytest.raises(Invalid):
        lifecycle_config(stability_min_purchases=10**30)
    with pytest.raises(Invalid):
        lifecycle_config(decline_ratio=Decimal("0.12345"))
