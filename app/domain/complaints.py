"""Complaints (客户投诉, docs/domain §11): eight steps, in order.

record → judge nature → assign department → analyse cause → propose solution → approval →
implement → evaluate (closed). A complaint's ``status`` is the last step done; the only way
forward is the next step (anything else is a conflict). An approval that rejects the
proposed solution sends the complaint back to ``cause_analysed``, so a new solution is
proposed and approved before anything is implemented. A compensation in points is proposed
with the solution and written as a D adjustment when the solution is implemented.

The figures of a period: counts by status and by category, the median time from record to
close, the complaint rate per 1,000 members served (complaints / distinct members with a
sale in the period × 1000) and the share of evaluated complaints resolved to a satisfaction
of 4 or 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from app.domain.errors import Conflict, Invalid, Message
from app.domain.voc import FOUR, TWO, to_decimal

MAX_COMPENSATION = 1_000_000
SATISFIED = 4  # satisfaction ≥ 4 counts as resolved to satisfaction


class Status(StrEnum):
    RECORDED = "recorded"
    NATURE_JUDGED = "nature_judged"
    DEPARTMENT_ASSIGNED = "department_assigned"
    CAUSE_ANALYSED = "cause_analysed"
    SOLUTION_PROPOSED = "solution_proposed"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"


class Step(StrEnum):
    NATURE = "nature"
    DEPARTMENT = "department"
    CAUSE = "cause"
    SOLUTION = "solution"
    APPROVAL = "approval"
    IMPLEMENTATION = "implementation"
    EVALUATION = "evaluation"


class Channel(StrEnum):
    STORE = "store"
    PHONE = "phone"
    APP = "app"
    WEB = "web"
    EMAIL = "email"
    SOCIAL = "social"
    LETTER = "letter"
    OTHER = "other"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class StepRecord:
    step: str  # "record", then the Step values
    data: dict
    actor: str
    at: datetime


@dataclass(frozen=True)
class Complaint:
    id: int
    member_id: str | None
    store_code: str | None
    channel: Channel
    category: str
    content: str
    status: Status
    justified: bool | None
    severity: Severity | None
    department: str | None
    cause: str | None
    solution: str | None
    compensation_points: int | None
    adjustment_id: str | None
    satisfaction: int | None
    recorded_by: str
    recorded_at: datetime
    closed_at: datetime | None
    steps: tuple[StepRecord, ...] = ()

    @property
    def next_step(self) -> Step | None:
        return NEXT_STEP[self.status]


@dataclass(frozen=True)
class Figures:
    """A period's complaints, as counted by the database."""

    total: int
    by_status: dict[Status, int]
    by_category: dict[str, int]
    closed: int
    median_seconds_to_close: float | None
    evaluated: int
    satisfied: int
    members_served: int


NEXT_STEP: dict[Status, Step | None] = {
    Status.RECORDED: Step.NATURE,
    Status.NATURE_JUDGED: Step.DEPARTMENT,
    Status.DEPARTMENT_ASSIGNED: Step.CAUSE,
    Status.CAUSE_ANALYSED: Step.SOLUTION,
    Status.SOLUTION_PROPOSED: Step.APPROVAL,
    Status.APPROVED: Step.IMPLEMENTATION,
    Status.IMPLEMENTED: Step.EVALUATION,
    Status.CLOSED: None,
}
STATUS_AFTER: dict[Step, Status] = {
    Step.NATURE: Status.NATURE_JUDGED,
    Step.DEPARTMENT: Status.DEPARTMENT_ASSIGNED,
    Step.CAUSE: Status.CAUSE_ANALYSED,
    Step.SOLUTION: Status.SOLUTION_PROPOSED,
    Step.APPROVAL: Status.APPROVED,
    Step.IMPLEMENTATION: Status.IMPLEMENTED,
    Step.EVALUATION: Status.CLOSED,
}


def advance(complaint_id: int, status: Status, step: Step, *, approved: bool = True) -> Status:
    """The status after ``step``; 409 ``step_out_of_order`` unless it is the next one."""
    expected = NEXT_STEP[status]
    if step is not expected:
        detail = (
            Message(
                "Complaint {complaint_id} is closed: no step follows.", complaint_id=complaint_id
            )
            if expected is None
            else Message(
                "Complaint {complaint_id} is {status}: the next step is {expected}, not {step}.",
                complaint_id=complaint_id,
                status=status.value,
                expected=expected.value,
                step=step.value,
            )
        )
        raise Conflict(
            "step_out_of_order",
            detail,
            extra={
                "complaint_status": status.value,
                "next_step": expected.value if expected else None,
            },
        )
    if step is Step.APPROVAL and not approved:
        return Status.CAUSE_ANALYSED
    return STATUS_AFTER[step]


def check_compensation(points: int | None, member_id: str | None) -> int:
    """Points proposed with a solution (0 or absent: none); a member must receive them."""
    if points is None:
        return 0
    if (
        isinstance(points, bool)
        or not isinstance(points, int)
        or not 0 <= points <= MAX_COMPENSATION
    ):
        raise Invalid(
            "invalid_points",
            "must be a whole number from 0 to {max_compensation}",
            field="compensation_points",
            max_compensation=MAX_COMPENSATION,
        )
    if points and member_id is None:
        raise Invalid(
            "member_required",
            "Compensation in points needs a member: the complaint was recorded without one.",
            field="compensation_points",
        )
    return points


def check_satisfaction(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise Invalid(
            "invalid_satisfaction", "must be a whole number from 1 to 5", field="satisfaction"
        )
    return value


def hours(seconds: float | Decimal | None) -> Decimal | None:
    """A duration in hours, two decimals."""
    if seconds is None:
        return None
    return to_decimal(Fraction(Decimal(str(seconds))) / 3600, TWO)


def per_thousand(complaints: int, members_served: int) -> Decimal | None:
    """Complaints per 1,000 members served (None when nobody was served)."""
    if not members_served:
        return None
    return to_decimal(Fraction(complaints * 1000, members_served), TWO)


def satisfied_share(satisfied: int, evaluated: int) -> Decimal | None:
    if not evaluated:
        return None
    return to_decimal(Fraction(satisfied, evaluated), FOUR)
