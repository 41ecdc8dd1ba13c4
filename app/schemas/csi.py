"""The customer satisfaction index: models, responses, scores and quadrants."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.csi import ACSI_TEMPLATE, ROOT, NodeSpec
from app.schemas.common import DecimalString, Instant, IntId, JsonInt, Strict

_MEMBER = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"
_AT = "2026-11-23T08:00:00Z"
_SMALL: JsonDict = {
    "code": "STORE-2026",
    "name": "Store satisfaction 2026",
    "scale_points": 5,
    "satisfaction_node": "SAT",
    "loyalty_node": "LOY",
    "nodes": [
        {
            "code": "SAT",
            "name": "Satisfaction",
            "children": [
                {
                    "code": "SAT1",
                    "name": "Overall",
                    "children": [{"code": "SAT1_1", "name": "Overall, how satisfied are you?"}],
                }
            ],
        },
        {
            "code": "LOY",
            "name": "Loyalty",
            "children": [
                {
                    "code": "LOY1",
                    "name": "Repurchase",
                    "children": [{"code": "LOY1_1", "name": "Will you shop here again?"}],
                }
            ],
        },
    ],
}


class NodeIn(Strict):
    code: str = Field(max_length=32, description="Unique in the model; `root` is reserved.")
    name: str = Field(min_length=1, max_length=200)
    children: list[NodeIn] = Field(
        default_factory=list,
        max_length=200,
        description="Level 2 → level-3 indicators; level 3 → level-4 questionnaire items; "
        "items have none.",
    )

    def spec(self) -> NodeSpec:
        return NodeSpec(self.code, self.name, tuple(c.spec() for c in self.children))


class CsiModelCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_SMALL, ACSI_TEMPLATE]})

    code: str = Field(max_length=32, description="Immutable; letters, digits, `_`, `.`, `-`.")
    name: str = Field(min_length=1, max_length=200)
    scale_points: JsonInt = Field(description="The Likert scale of the items: 5 or 7.")
    satisfaction_node: str | None = Field(
        default=None, max_length=32, description="The node measuring satisfaction (quadrants)."
    )
    loyalty_node: str | None = Field(
        default=None, max_length=32, description="The node measuring loyalty (quadrants)."
    )
    threshold: DecimalString = Field(
        default=Decimal("50"),
        description="Quadrants: a node score (0–100) strictly above this is high. 50 is the "
        "scale's midpoint (3 on 5 points, 4 on 7).",
    )
    nodes: list[NodeIn] = Field(
        max_length=50, description="The level-2 variables, each a tree down to level 4."
    )


class NodeRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "SAT1_1",
                    "name": "Overall, how satisfied are you?",
                    "level": 4,
                    "weight": "1.0000",
                    "weighted_by": "equal",
                    "children": [],
                }
            ]
        }
    )

    code: str
    name: str
    level: int = Field(description="2 variable, 3 indicator, 4 questionnaire item.")
    weight: DecimalString = Field(description="Among its siblings, four decimals (sum 1).")
    weighted_by: str = Field(
        description="How the siblings were weighed: `equal` (never set) or the method."
    )
    children: list[NodeRead]


class CsiModelRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "STORE-2026",
                    "name": "Store satisfaction 2026",
                    "scale_points": 5,
                    "satisfaction_node": "SAT",
                    "loyalty_node": "LOY",
                    "threshold": "50.00",
                    "created_at": _AT,
                    "nodes": [
                        {
                            "code": "SAT",
                            "name": "Satisfaction",
                            "level": 2,
                            "weight": "0.5000",
                            "weighted_by": "equal",
                            "children": [],
                        }
                    ],
                }
            ]
        }
    )

    code: str
    name: str
    scale_points: int
    satisfaction_node: str | None
    loyalty_node: str | None
    threshold: DecimalString
    created_at: datetime | None
    nodes: list[NodeRead]

    @classmethod
    def of(cls, view) -> CsiModelRead:
        model, methods = view.model, view.methods
        tree = model.tree

        def node(code: str, parent: str) -> NodeRead:
            n = tree.by_code[code]
            return NodeRead(
                code=n.code,
                name=n.name,
                level=n.level,
                weight=tree.weights(parent)[code],
                weighted_by=methods.get(parent, "set") if tree.weights_set(parent) else "equal",
                children=[node(c, code) for c in tree.children[code]],
            )

        return cls(
            code=model.code,
            name=model.name,
            scale_points=model.scale_points,
            satisfaction_node=model.satisfaction_node,
            loyalty_node=model.loyalty_node,
            threshold=model.threshold,
            created_at=model.created_at,
            nodes=[node(c, ROOT) for c in tree.children[ROOT]],
        )


class CsiModelSummaryRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "STORE-2026",
                    "name": "Store satisfaction",
                    "scale_points": 5,
                    "created_at": _AT,
                }
            ]
        }
    )

    code: str
    name: str
    scale_points: int
    created_at: datetime


class CsiResponseCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "respondent_ref": "Q-2026-0001",
                    "member_id": _MEMBER,
                    "store_code": "S01",
                    "answered_at": "2026-11-23T10:00:00+08:00",
                    "answers": {"SAT1_1": 4, "LOY1_1": 5},
                }
            ]
        }
    )

    respondent_ref: str = Field(
        min_length=1, max_length=64, description="Your id of the respondent or questionnaire."
    )
    member_id: str | None = Field(default=None, min_length=1, max_length=64)
    store_code: str | None = Field(default=None, min_length=1, max_length=12)
    answered_at: Instant
    answers: dict[str, JsonInt] = Field(
        max_length=500,
        description="Item code → score on the model's scale (1..5 or 1..7). Unanswered items "
        "are simply left out.",
    )


class CsiResponseRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "501",
                    "model_code": "STORE-2026",
                    "respondent_ref": "Q-2026-0001",
                    "member_id": _MEMBER,
                    "store_code": "S01",
                    "answered_at": "2026-11-23T02:00:00Z",
                    "answers": {"LOY1_1": 5, "SAT1_1": 4},
                    "created_at": _AT,
                }
            ]
        }
    )

    id: IntId
    model_code: str
    respondent_ref: str
    member_id: str | None
    store_code: str | None
    answered_at: datetime
    answers: dict[str, int]
    created_at: datetime


class NodeScoreRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "PQ",
                    "name": "Perceived quality",
                    "level": 2,
                    "parent": "root",
                    "weight": "0.4000",
                    "weighted_by": "direct",
                    "score": "51.67",
                    "responses": 3,
                }
            ]
        }
    )

    code: str
    name: str
    level: int
    parent: str = Field(description="The parent node; `root` for level-2 variables.")
    weight: DecimalString = Field(description="Among its siblings (sum 1).")
    weighted_by: str
    score: DecimalString | None = Field(description="0–100, two decimals; null: no answers.")
    responses: int = Field(description="Responses that answered at least one item below.")


class CsiScoreRead(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "model_code": "STORE-2026",
                    "from": "2026-11-01",
                    "to": "2026-11-30",
                    "store_code": None,
                    "csi": "70.83",
                    "responses": 3,
                    "nodes": [
                        {
                            "code": "SAT",
                            "name": "Satisfaction",
                            "level": 2,
                            "parent": "root",
                            "weight": "0.6000",
                            "weighted_by": "direct",
                            "score": "75.00",
                            "responses": 3,
                        }
                    ],
                }
            ]
        },
    )

    model_code: str
    from_: dt.date | None = Field(alias="from", serialization_alias="from")
    to: dt.date | None
    store_code: str | None
    csi: DecimalString | None = Field(description="The index, 0–100, two decimals.")
    responses: int
    nodes: list[NodeScoreRead] = Field(description="Every node, parents before children.")


class QuadrantRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 1, "members": [_MEMBER]}]})

    count: int = Field(description="Respondents in the quadrant.")
    members: list[str] = Field(description="Their member ids (respondents linked to a member).")


class SatisfactionLoyaltyRead(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "model_code": "STORE-2026",
                    "from": None,
                    "to": None,
                    "store_code": None,
                    "satisfaction_node": "SAT",
                    "loyalty_node": "LOY",
                    "threshold": "50.00",
                    "respondents": 3,
                    "unclassified": 0,
                    "loyalist": {"count": 1, "members": [_MEMBER]},
                    "mercenary": {"count": 1, "members": []},
                    "hostage": {"count": 0, "members": []},
                    "defector": {"count": 1, "members": []},
                }
            ]
        },
    )

    model_code: str
    from_: dt.date | None = Field(alias="from", serialization_alias="from")
    to: dt.date | None
    store_code: str | None
    satisfaction_node: str
    loyalty_node: str
    threshold: DecimalString = Field(description="High = a node score strictly above this.")
    respondents: int = Field(description="Respondents (each by their latest response).")
    unclassified: int = Field(
        description="Respondents who answered no satisfaction or no loyalty item."
    )
    loyalist: QuadrantRead = Field(description="忠诚型: satisfied and loyal.")
    mercenary: QuadrantRead = Field(description="图利型: satisfied, not loyal.")
    hostage: QuadrantRead = Field(description="人质型: loyal, not satisfied.")
    defector: QuadrantRead = Field(description="流失型: neither.")
