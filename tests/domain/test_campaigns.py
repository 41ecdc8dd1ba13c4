"""Campaigns (docs/domain §12), pure: the seed's campaign arithmetic, the control draw, the
batch plan of an issue and the Welch interval of the uplift."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from app.domain.campaigns import (
    Aggregates,
    Arm,
    Campaign,
    GroupMember,
    Redemptions,
    SpendStats,
    check_change,
    check_terms,
    is_control,
    plan_batch,
    results,
    welch_interval,
)
from app.domain.errors import Conflict, Invalid

START = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = (START, START + timedelta(days=31))


def campaign(**fields) -> Campaign:
    values = {
        "code": "WB",
        "name": "Winback",
        "template": "BACK18",
        "member_group": "LAPSED",
        "control_share": Decimal("0.1"),
        "starts_at": START,
        "ends_at": START + timedelta(days=31),
        "budget": None,
        "seed": "s",
    }
    return Campaign(**(values | fields))


def stats_of(values: list[Decimal]) -> SpendStats:
    return SpendStats(
        len(values), sum(values, Decimal(0)), sum((v * v for v in values), Decimal(0))
    )


SEED_CAMPAIGN = Redemptions(
    redeemed=861,
    transactions=861,
    redeeming_members=861,
    revenue=Decimal("169743"),
    cost=Decimal("15498"),  # 861 × 18
    cost_store=Decimal("15498"),
)


def test_the_seeds_campaign_gives_10_95_not_the_printed_roi():
    r = results(Aggregates("WB", WINDOW, 13578, 0, SEED_CAMPAIGN, [], [], None, None), None)
    assert r.redemption_rate == Decimal("0.0634")  # printed as 6.3 %
    assert r.totals.cost == 861 * 18
    assert r.revenue_per_cost == Decimal("10.95")  # the seed prints "ROI 23.18"
    assert r.comparison is None


def test_with_a_control_group_the_uplift_and_incremental_return():
    treated = stats_of([Decimal(30)] * 50 + [Decimal(0)] * 50)  # mean 15
    control = stats_of([Decimal(20)] * 10 + [Decimal(0)] * 10)  # mean 10
    totals = Redemptions(redeemed=50, transactions=50, revenue=Decimal(1500), cost=Decimal(900))
    agg = Aggregates("WB", WINDOW, 100, 20, totals, [], [], treated, control)
    c = results(agg, Decimal("0.4")).comparison
    assert c is not None
    assert (c.treated_spend_per_member, c.control_spend_per_member) == (15, 10)
    assert c.uplift == 5 and c.incremental_revenue == 500  # 5 × 100 treated
    assert c.incremental_return == Decimal("-0.7778")  # (500 × 0.4 − 900) / 900
    assert c.uplift_low is not None and c.uplift_high is not None
    assert c.uplift_low < 5 < c.uplift_high
    assert results(agg, None).comparison.incremental_return is None  # type: ignore[union-attr]


def test_no_issue_and_no_cost_give_no_ratios():
    r = results(Aggregates("WB", WINDOW, 0, 0, Redemptions(), [], [], None, None), Decimal("0.3"))
    assert r.redemption_rate is None and r.revenue_per_cost is None


def test_the_welch_interval_matches_scipys_test():
    a = [Decimal(x) for x in (12, 0, 30, 8, 0, 45, 3)]
    b = [Decimal(x) for x in (0, 5, 0, 10)]
    low, high = welch_interval(stats_of(a), stats_of(b))  # type: ignore[misc]
    ref = stats.ttest_ind([float(x) for x in a], [float(x) for x in b], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert low == pytest.approx(ci.low) and high == pytest.approx(ci.high)


spends = st.lists(
    st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False), min_size=2, max_size=40
)


@given(spends, spends)
def test_the_welch_interval_holds_the_difference_and_is_symmetric(a, b):
    t, c = stats_of(a), stats_of(b)
    low, high = welch_interval(t, c)  # type: ignore[misc]
    diff = float(t.mean - c.mean)
    tolerance = 1e-9 * max(1.0, abs(diff))
    assert low - tolerance <= diff <= high + tolerance
    assert (diff - low) == pytest.approx(high - diff, rel=1e-9, abs=1e-6)


def test_an_arm_of_one_has_no_interval():
    assert welch_interval(stats_of([Decimal(1)]), stats_of([Decimal(1), Decimal(2)])) is None


def test_the_draw_is_stable_and_near_the_share():
    members = [f"00000000-0000-4000-8000-{i:012d}" for i in range(20000)]
    drawn = [is_control("seed", m, Decimal("0.1")) for m in members]
    assert drawn == [is_control("seed", m, Decimal("0.1")) for m in members]
    assert 0.09 < sum(drawn) / len(drawn) < 0.11
    assert not any(is_control("seed", m, Decimal(0)) for m in members)
    other = [is_control("other", m, Decimal("0.1")) for m in members]
    assert other != drawn  # another campaign's seed draws another control group


def _codes():
    n = count()
    return lambda: f"C{next(n)}"


def test_a_batch_keeps_stored_arms_draws_new_ones_and_respects_the_budget():
    members = [
        GroupMember("a", None, False, True),  # new, drawn control
        GroupMember("b", None, False, False),  # new, treated
        GroupMember("c", Arm.TREATED, True, False),  # served before
        GroupMember("d", Arm.TREATED, False, True),  # stored treated (draw ignored), unserved
        GroupMember("e", Arm.CONTROL, False, False),  # stored control stays control
        GroupMember("f", None, False, False),  # new, treated, beyond the budget
    ]
    plan = plan_batch(members, 2, _codes())
    assert plan.new_arms == [
        ("a", Arm.CONTROL, None),
        ("b", Arm.TREATED, "C0"),
        ("f", Arm.TREATED, None),
    ]
    assert plan.filled == [("d", "C1")]
    assert (plan.issued, plan.control, plan.skipped) == (2, 2, 2)
    assert plan.vouchers == [("b", "C0"), ("d", "C1")]
    unlimited = plan_batch(members, None, _codes())
    assert (unlimited.issued, unlimited.control, unlimited.skipped) == (3, 2, 1)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"control_share": Decimal("0.51")}, "invalid_control_share"),
        ({"control_share": Decimal("-0.01")}, "invalid_control_share"),
        ({"control_share": Decimal("0.105")}, "invalid_control_share"),
        ({"ends_at": START}, "invalid_campaign_window"),
        ({"budget": 0}, "invalid_budget"),
    ],
)
def test_terms_refused(fields, code):
    with pytest.raises(Invalid) as e:
        check_terms(campaign(**fields))
    assert e.value.code == code


def test_after_the_first_issue_the_draw_and_the_offer_are_fixed():
    issued = campaign(last_issued_at=START)
    check_change(
        issued,
        campaign(last_issued_at=START, name="x", budget=5, ends_at=START + timedelta(days=60)),
    )
    for field, value in [
        ("template", "OTHER"),
        ("member_group", "OTHER"),
        ("control_share", Decimal("0.2")),
        ("starts_at", START - timedelta(days=1)),
    ]:
        with pytest.raises(Conflict) as e:
            check_change(issued, campaign(last_issued_at=START, **{field: value}))
        assert e.value.code == "campaign_issued"
    check_change(campaign(), campaign(template="OTHER"))  # before: anything goes


def test_breakdowns_pass_through():
    day = date(2026, 12, 2)
    by_store = [("S01", SEED_CAMPAIGN)]
    by_day = [(day, SEED_CAMPAIGN)]
    r = results(Aggregates("WB", WINDOW, 1, 0, SEED_CAMPAIGN, by_store, by_day, None, None), None)
    assert r.by_store == by_store and r.by_day == by_day
