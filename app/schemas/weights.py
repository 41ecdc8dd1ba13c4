"""Indicator weights: one request body per method (discriminated by ``method``) and the
weights with the method's diagnostics beside them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.config import JsonDict

from app.domain.errors import N_, Invalid
from app.domain.weights import DEFAULT_CV_THRESHOLD, Judgement, Method, Prefer, Tie, Weighting
from app.schemas.common import DecimalString, IntId, JsonInt, Strict
from app.schemas.enums import WeightingMethod

Code = Annotated[str, Field(min_length=1, max_length=64)]
ExpertWeights = dict[Code, DecimalString]

EXAMPLES: dict[str, JsonDict] = {
    "expert_average": {
        "method": "expert_average",
        "indicators": ["A", "B", "C"],
        "experts": [
            {"A": "0.5", "B": "0.3", "C": "0.2"},
            {"A": "0.6", "B": "0.2", "C": "0.2"},
            {"A": "0.4", "B": "0.4", "C": "0.2"},
        ],
    },
    "direct": {
        "method": "direct",
        "indicators": ["A", "B", "C"],
        "multiples": {"A": "3", "B": "2", "C": "1"},
    },
    "pairwise": {
        "method": "pairwise",
        "indicators": ["A", "B", "C"],
        "judgements": [{"more": "A", "less": "B"}, {"more": "A", "less": "C"}, {"tie": ["B", "C"]}],
    },
    "delphi": {
        "method": "delphi",
        "indicators": ["A", "B", "C"],
        "rounds": [
            [
                {"A": "0.7", "B": "0.2", "C": "0.1"},
                {"A": "0.4", "B": "0.4", "C": "0.2"},
                {"A": "0.5", "B": "0.3", "C": "0.2"},
            ],
            [
                {"A": "0.55", "B": "0.3", "C": "0.15"},
                {"A": "0.5", "B": "0.3", "C": "0.2"},
                {"A": "0.5", "B": "0.32", "C": "0.18"},
            ],
        ],
        "cv_threshold": "0.15",
    },
    "ahp": {
        "method": "ahp",
        "indicators": ["A", "B", "C"],
        "matrix": [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
    },
}


class JudgementIn(Strict):
    """``{"more": a, "less": b}`` (a gets 1 point) or ``{"tie": [a, b]}`` (½ each)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"more": "A", "less": "B"}, {"tie": ["B", "C"]}]}
    )

    more: Code | None = Field(default=None, description="The more important indicator.")
    less: Code | None = Field(default=None, description="The less important one.")
    tie: list[Code] | None = Field(
        default=None, min_length=2, max_length=2, description="Two equally important ones."
    )

    @model_validator(mode="after")
    def _one_form(self) -> JudgementIn:
        prefer = self.more is not None and self.less is not None
        partial = (self.more is None) != (self.less is None)
        if partial or prefer == (self.tie is not None):
            raise ValueError(N_('give either "more" and "less", or "tie"'))
        return self

    def judgement(self) -> Judgement:
        if self.tie is not None:
            return Tie(self.tie[0], self.tie[1])
        return Prefer(self.more or "", self.less or "")


# A matrix entry: a JSON number or a string "3", "0.5", "1/3"; checked by the domain, so a
# bad one is reported as ``matrix[i][j]``.
MatrixEntry = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "examples": ["1/3", "5"]}]}),
]

# The inputs each method takes; the first is required.
INPUTS: dict[Method, tuple[str, ...]] = {
    Method.EXPERT_AVERAGE: ("experts",),
    Method.DIRECT: ("multiples",),
    Method.PAIRWISE: ("judgements",),
    Method.DELPHI: ("rounds", "cv_threshold", "max_rounds"),
    Method.AHP: ("matrix",),
}


class WeightsIn(Strict):
    """One body per method: ``method``, ``indicators`` and that method's inputs only."""

    model_config = ConfigDict(json_schema_extra={"examples": list(EXAMPLES.values())})

    method: WeightingMethod
    indicators: list[Code] = Field(
        min_length=1,
        max_length=100,
        description="Indicator codes, each once (at most 50; 10 for AHP).",
    )
    experts: list[ExpertWeights] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="expert_average: each expert's weight per indicator (0–1), summing to 1 "
        "within 0.001.",
    )
    multiples: dict[Code, DecimalString] | None = Field(
        default=None,
        description="direct: each indicator as a multiple (> 0) of the least important (1).",
    )
    judgements: list[JudgementIn] | None = Field(
        default=None,
        max_length=1300,
        description="pairwise: every unordered pair of indicators exactly once.",
    )
    rounds: list[list[ExpertWeights]] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="delphi: the rounds in order; in each, at least 2 experts' weights (each "
        "summing to 1 within 0.001).",
    )
    cv_threshold: DecimalString | None = Field(
        default=None,
        description="delphi: converged when every indicator's coefficient of variation "
        "(sample standard deviation / mean) in the last round is below this; default 0.15.",
    )
    max_rounds: JsonInt | None = Field(
        default=None,
        ge=1,
        le=20,
        description="delphi: the round limit; reaching it ends the consultation even "
        "without convergence (`round_limit_reached`).",
    )
    matrix: list[list[MatrixEntry]] | None = Field(
        default=None,
        max_length=10,
        description="ahp: row i, column j = how much more important indicator i is than j "
        'on Saaty\'s 1–9 scale, as numbers or strings like "3" or "1/3"; the diagonal is 1 '
        "and a_ji = 1/a_ij (within 1 %).",
    )

    def params(self) -> dict:
        """The method's inputs as app.domain.weights takes them; 422 for an input of
        another method or a missing one."""
        own = INPUTS[self.method]
        for name in sorted({n for names in INPUTS.values() for n in names} - set(own)):
            if getattr(self, name) is not None:
                raise Invalid(
                    "unexpected_input",
                    "{name} is not an input of {method}.",
                    field=name,
                    name=name,
                    method=self.method.value,
                )
        if getattr(self, own[0]) is None:
            raise Invalid(
                "missing_input",
                "{method} needs {own}.",
                field=own[0],
                method=self.method.value,
                own=own[0],
            )
        if self.method is Method.PAIRWISE:
            return {"judgements": [j.judgement() for j in self.judgements or []]}
        if self.method is Method.DELPHI:
            return {
                "rounds": self.rounds,
                "cv_threshold": DEFAULT_CV_THRESHOLD
                if self.cv_threshold is None
                else self.cv_threshold,
                "max_rounds": self.max_rounds,
            }
        return {own[0]: getattr(self, own[0])}


class DelphiRoundRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mean": {"A": "0.5333", "B": "0.3000", "C": "0.1667"},
                    "cv": {"A": "0.2864", "B": "0.3333", "C": "0.3464"},
                }
            ]
        }
    )

    mean: dict[str, DecimalString] = Field(description="Per indicator, four decimals.")
    cv: dict[str, DecimalString] = Field(
        description="Coefficient of variation per indicator: sample standard deviation / mean."
    )


class WeightsRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "ahp",
                    "weights": {"A": "0.6370", "B": "0.2583", "C": "0.1047"},
                    "lambda_max": "3.0385",
                    "ci": "0.0193",
                    "cr": "0.0332",
                    "ri": "0.58",
                },
                {
                    "method": "expert_average",
                    "weights": {"A": "0.5000", "B": "0.3000", "C": "0.2000"},
                },
            ]
        }
    )

    method: str
    weights: dict[str, DecimalString] = Field(
        description="Per indicator, four decimals, ≥ 0, summing to exactly 1."
    )
    lambda_max: DecimalString | None = Field(default=None, description="AHP: λmax.")
    ci: DecimalString | None = Field(default=None, description="AHP: (λmax − n)/(n − 1).")
    cr: DecimalString | None = Field(default=None, description="AHP: CI/RI, at most 0.10.")
    ri: DecimalString | None = Field(default=None, description="AHP: Saaty's random index.")
    converged: bool | None = Field(
        default=None, description="Delphi: every CV of the last round below the threshold."
    )
    round_limit_reached: bool | None = Field(
        default=None, description="Delphi: as many rounds as `max_rounds`."
    )
    rounds: list[DelphiRoundRead] | None = Field(
        default=None, description="Delphi: each round's mean and CV per indicator."
    )
    points: dict[str, DecimalString] | None = Field(
        default=None, description="Pairwise: each indicator's points."
    )

    @classmethod
    def of(cls, w: Weighting) -> WeightsRead:
        return cls(method=w.method.value, weights=w.weights, **w.diagnostics())


class WeightingRead(WeightsRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "41",
                    "node": "root",
                    "method": "direct",
                    "weights": {"EXP": "0.1000", "PQ": "0.3000", "SAT": "0.6000"},
                    "inputs": EXAMPLES["direct"],
                    "set_by": "head-office",
                    "set_at": "2026-11-23T08:00:00Z",
                }
            ]
        }
    )

    id: IntId = Field(description="The weighting, kept for audit.")
    node: str = Field(description="The parent node whose children were weighed; `root`: the CSI.")
    inputs: dict = Field(description="The request as sent.")
    set_by: str = Field(description="Name of the API key that set the weights.")
    set_at: datetime

    @classmethod
    def of_record(cls, record) -> WeightingRead:
        # JSONB keeps no key order: show indicators in the order they were sent.
        order = {code: i for i, code in enumerate(record.inputs.get("indicators", []))}

        def ordered(value):
            if isinstance(value, dict) and set(value) <= set(order):
                return dict(sorted(value.items(), key=lambda kv: order[kv[0]]))
            if isinstance(value, dict):
                return {k: ordered(v) for k, v in value.items()}
            if isinstance(value, list):
                return [ordered(v) for v in value]
            return value

        return cls(
            id=record.id,
            node=record.node,
            method=record.method,
            inputs=record.inputs,
            set_by=record.actor,
            set_at=record.created_at,
            **ordered(record.result),
        )
