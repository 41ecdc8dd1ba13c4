"""Complaints (客户投诉): the record, the seven further steps' bodies and the analytics."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from app.domain.complaints import Complaint, Status, Step
from app.domain.voc import CODE_PATTERN
from app.schemas.common import DecimalString, IntId, JsonBool, JsonInt, Strict
from app.schemas.enums import ComplaintChannel, ComplaintSeverity, ComplaintStatus, ComplaintStep

_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_AT = "2026-11-23T08:00:00Z"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Field(default=None, max_length=1000, description="Free text for the log.")


class ComplaintCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": _MEMBER,
                    "channel": "store",
                    "store_code": "S01",
                    "category": "product_quality",
                    "content": "The milk bought yesterday was sour.",
                }
            ]
        }
    )

    member_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="The complaining member, if any."
    )
    channel: ComplaintChannel = Field(description="How the complaint came in.")
    store_code: str | None = Field(default=None, min_length=1, max_length=12)
    category: str = Field(
        max_length=32,
        pattern=CODE_PATTERN,
        description="Your category code, e.g. `product_quality`, `service_attitude`, `price`.",
    )
    content: Text = Field(description="What the customer said.")


class NatureStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"justified": True, "severity": "medium"}]}
    )

    justified: JsonBool = Field(description="Whether the complaint is founded (判断投诉性质).")
    severity: ComplaintSeverity
    note: str | None = Note


class DepartmentStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"department": "Fresh food", "assignee": "Wang Li"}]}
    )

    department: Short = Field(description="The department that handles it (确定处理部门).")
    assignee: str | None = Field(default=None, max_length=100)
    note: str | None = Note


class CauseStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"cause": "Cold chain broken during delivery."}]}
    )

    cause: Text = Field(description="Why it happened (分析投诉原因).")
    note: str | None = Note


class SolutionStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "solution": "Refund and apologise; 200 points compensation.",
                    "compensation_points": 200,
                },
                {"solution": "Apologise by phone."},
            ]
        }
    )

    solution: Text = Field(description="What will be done (提出处理方案).")
    compensation_points: JsonInt | None = Field(
        default=None,
        description="Points to give the member when implemented (a D adjustment); 0 or "
        "absent: none. Needs a member.",
    )
    note: str | None = Note


class ApprovalStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"approved": True}, {"approved": False, "note": "Compensation too high."}]
        }
    )

    approved: JsonBool = Field(
        description="true: the solution may be implemented; false: rejected, the complaint "
        "goes back to `cause_analysed` for a new solution."
    )
    note: str | None = Note


class ImplementationStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Refunded at the service desk."}, {}]}
    )

    note: str | None = Note


class EvaluationStep(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"satisfaction": 5, "note": "Customer thanked us."}]}
    )

    satisfaction: JsonInt = Field(description="The customer's satisfaction, 1–5.")
    note: str | None = Note


STEP_BODIES: dict[Step, type[Strict]] = {
    Step.NATURE: NatureStep,
    Step.DEPARTMENT: DepartmentStep,
    Step.CAUSE: CauseStep,
    Step.SOLUTION: SolutionStep,
    Step.APPROVAL: ApprovalStep,
    Step.IMPLEMENTATION: ImplementationStep,
    Step.EVALUATION: EvaluationStep,
}


class StepRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "step": "nature",
                    "data": {"justified": True, "severity": "medium"},
                    "actor": "service-desk",
                    "at": _AT,
                }
            ]
        }
    )

    step: str = Field(description="`record`, then the steps in order.")
    data: dict = Field(description="The step's data as recorded.")
    actor: str = Field(description="Name of the API key that did it.")
    at: datetime


_SUMMARY: JsonDict = {
    "id": "8812",
    "member_id": _MEMBER,
    "store_code": "S01",
    "channel": "store",
    "category": "product_quality",
    "content": "The milk bought yesterday was sour.",
    "status": "approved",
    "next_step": "implementation",
    "justified": True,
    "severity": "medium",
    "department": "Fresh food",
    "cause": "Cold chain broken during delivery.",
    "solution": "Refund and apologise; 200 points compensation.",
    "compensation_points": 200,
    "adjustment_id": None,
    "satisfaction": None,
    "recorded_by": "service-desk",
    "recorded_at": _AT,
    "closed_at": None,
}


class ComplaintSummaryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY]})

    id: IntId
    member_id: str | None
    store_code: str | None
    channel: ComplaintChannel
    category: str
    content: str
    status: ComplaintStatus = Field(description="The last step done.")
    next_step: ComplaintStep | None = Field(description="The only step that may come next.")
    justified: bool | None
    severity: ComplaintSeverity | None
    department: str | None
    cause: str | None
    solution: str | None
    compensation_points: int | None
    adjustment_id: str | None = Field(
        description="The D adjustment written when the solution was implemented."
    )
    satisfaction: int | None
    recorded_by: str
    recorded_at: datetime
    closed_at: datetime | None

    @classmethod
    def fields_of(cls, c: Complaint) -> dict:
        return {
            "id": c.id,
            "member_id": c.member_id,
            "store_code": c.store_code,
            "channel": c.channel,
            "category": c.category,
            "content": c.content,
            "status": c.status,
            "next_step": c.next_step,
            "justified": c.justified,
            "severity": c.severity,
            "department": c.department,
            "cause": c.cause,
            "solution": c.solution,
            "compensation_points": c.compensation_points,
            "adjustment_id": c.adjustment_id,
            "satisfaction": c.satisfaction,
            "recorded_by": c.recorded_by,
            "recorded_at": c.recorded_at,
            "closed_at": c.closed_at,
        }

    @classmethod
    def of(cls, c: Complaint) -> ComplaintSummaryRead:
        return cls(**cls.fields_of(c))


class ComplaintRead(ComplaintSummaryRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SUMMARY,
                    "steps": [
                        {
                            "step": "record",
                            "data": {"channel": "store", "category": "product_quality"},
                            "actor": "service-desk",
                            "at": _AT,
                        }
                    ],
                }
            ]
        }
    )

    steps: list[StepRead] = Field(description="Who did which step when, oldest first.")

    @classmethod
    def of(cls, c: Complaint) -> ComplaintRead:
        return cls(
            **cls.fields_of(c),
            steps=[StepRead(step=s.step, data=s.data, actor=s.actor, at=s.at) for s in c.steps],
        )


class ComplaintAnalyticsRead(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-11-01",
                    "to": "2026-11-30",
                    "store_code": None,
                    "total": 3,
                    "by_status": {**{s.value: 0 for s in Status}, "closed": 2, "recorded": 1},
                    "by_category": {"price": 1, "product_quality": 2},
                    "closed": 2,
                    "median_hours_to_close": "30.00",
                    "members_served": 1200,
                    "complaints_per_1000_members": "2.50",
                    "evaluated": 2,
                    "satisfied": 1,
                    "satisfied_share": "0.5000",
                }
            ]
        },
    )

    from_: dt.date | None = Field(alias="from", serialization_alias="from")
    to: dt.date | None
    store_code: str | None
    total: int = Field(description="Complaints recorded in the period.")
    by_status: dict[str, int] = Field(description="Per status (the last step done), all eight.")
    by_category: dict[str, int]
    closed: int
    median_hours_to_close: DecimalString | None = Field(
        description="Median time from record to evaluation of the closed ones, hours."
    )
    members_served: int = Field(
        description="Distinct members with a sale in the period (at the store, if given)."
    )
    complaints_per_1000_members: DecimalString | None = Field(
        description="total / members_served × 1000, two decimals; null when nobody was served."
    )
    evaluated: int
    satisfied: int = Field(description="Closed with a satisfaction of 4 or 5.")
    satisfied_share: DecimalString | None = Field(
        description="satisfied / evaluated, four decimals."
    )
