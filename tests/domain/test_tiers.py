from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.tiers import UpgradeRule, upgrade_steps

RULES = {
    "NORMAL": UpgradeRule("GOLD", Decimal("5000")),
    "GOLD": UpgradeRule("DIAMOND", Decimal("20000")),
}


def test_no_upgrade_below_the_threshold():
    assert upgrade_steps("NORMAL", Decimal("4999.99"), RULES) == []
    assert upgrade_steps("DIAMOND", Decimal("1000000"), RULES) == []


def test_threshold_reached_exactly_upgrades():
    steps = upgrade_steps("NORMAL", Decimal("5000.00"), RULES)
    assert [(s.from_class, s.to_class) for s in steps] == [("NORMAL", "GOLD")]
    assert (
        steps[0].reason(Decimal("5000")) == "12-month spend 5000.00 reached 5000.00: NORMAL → GOLD"
    )


def test_spend_carries_along_the_chain():
    steps = upgrade_steps("NORMAL", Decimal("25000"), RULES)
    assert [s.to_class for s in steps] == ["GOLD", "DIAMOND"]


def test_a_loop_stops():
    loop = {"A": UpgradeRule("B", Decimal(1)), "B": UpgradeRule("A", Decimal(1))}
    assert [s.to_class for s in upgrade_steps("A", Decimal(5), loop)] == ["B"]


@given(st.decimals(min_value=0, max_value=10**6, places=2))
def test_more_spend_never_means_fewer_steps(spend):
    fewer = upgrade_steps("NORMAL", spend, RULES)
    more = upgrade_steps("NORMAL", spend + 1, RULES)
    assert len(more) >= len(fewer)
    assert all(spend >= s.threshold for s in fewer)
