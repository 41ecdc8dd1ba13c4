"""Complaints (docs/domain §11): the eight steps in order, a rejected approval going back to a new
solution, compensation rules and the period's figures."""

from decimal import Decimal

import pytest

from app.domain.complaints import (
    NEXT_STEP,
    Status,
    Step,
    advance,
    check_compensation,
    check_satisfaction,
    hours,
    per_thousand,
    satisfied_share,
)
from app.domain.errors import Conflict, Invalid


def test_the_eight_steps_in_order():
    status = Status.RECORDED
    seen = [status]
    for step in Step:
        status = advance(1, status, step)
        seen.append(status)
    assert seen == list(Status)
    assert NEXT_STEP[Status.CLOSED] is None


def test_steps_out_of_order_are_conflicts():
    with pytest.raises(Conflict) as err:
        advance(7, Status.RECORDED, Step.SOLUTION)
    assert err.value.code == "step_out_of_order"
    assert err.value.extra == {"complaint_status": "recorded", "next_step": "nature"}
    with pytest.raises(Conflict) as err:  # a step done twice
        advance(7, Status.NATURE_JUDGED, Step.NATURE)
    assert err.value.extra["next_step"] == "department"
    with pytest.raises(Conflict) as err:
        advance(7, Status.CLOSED, Step.EVALUATION)
    assert err.value.extra == {"complaint_status": "closed", "next_step": None}


def test_a_rejected_solution_goes_back_for_a_new_one():
    assert (
        advance(1, Status.SOLUTION_PROPOSED, Step.APPROVAL, approved=False) is Status.CAUSE_ANALYSED
    )
    assert advance(1, Status.CAUSE_ANALYSED, Step.SOLUTION) is Status.SOLUTION_PROPOSED


def test_compensation_and_satisfaction():
    assert check_compensation(None, None) == 0
    assert check_compensation(0, None) == 0
    assert check_compensation(200, "m") == 200
    for points, member, code in [
        (200, None, "member_required"),
        (-1, "m", "invalid_points"),
        (True, "m", "invalid_points"),
        (10**7, "m", "invalid_points"),
    ]:
        with pytest.raises(Invalid) as err:
            check_compensation(points, member)
        assert (err.value.code, err.value.errors[0].field) == (code, "compensation_points")
    assert check_satisfaction(4) == 4
    for bad in (0, 6, True):
        with pytest.raises(Invalid):
            check_satisfaction(bad)


def test_figures():
    assert hours(5400) == Decimal("1.50")
    assert hours(None) is None
    assert per_thousand(3, 1200) == Decimal("2.50")
    assert per_thousand(1, 3) == Decimal("333.33")
    assert per_thousand(1, 0) is None
    assert satisfied_share(2, 3) == Decimal("0.6667")
    assert satisfied_share(0, 0) is None
