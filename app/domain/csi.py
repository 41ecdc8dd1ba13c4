"""Customer satisfaction index (客户满意度指数, docs/domain §9).

A model is a tree: level 1 the CSI itself (addressed as ``root``), level 2 the latent
variables (ACSI: expectation, perceived quality, perceived value, satisfaction, complaints,
loyalty), level 3 concrete indicators, level 4 questionnaire items. Items are answered on a
k-point Likert scale (k = 5 or 7); an answer x maps to 0–100 as (x − 1)/(k − 1)·100.

Scores roll up: an item's score is the mean of its mapped answers; a node's score is the
weighted mean of its children's scores over the children that have one (the weights of
those children renormalised), so a missing answer is excluded from its node's mean rather
than counted as zero. Weights are set per parent node with any method of
app.domain.weights; until set, siblings weigh equally. The CSI is the root's score. Every
score is a convex combination of values in [0, 100], so it stays within [0, 100].

Satisfaction × loyalty places a respondent in a quadrant from their own satisfaction and
loyalty node scores: high = strictly above the threshold (default 50, the scale's midpoint).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from app.domain.errors import Invalid, Message
from app.domain.money import decimal_places
from app.domain.voc import CODE_PATTERN, FOUR, TWO, to_decimal
from app.domain.weights import equal_weights

ROOT = "root"
SCALES = (5, 7)
LEVELS = (2, 3, 4)
MAX_NODES = 500
DEFAULT_THRESHOLD = Decimal("50")
_CODE = re.compile(CODE_PATTERN)


class Quadrant(StrEnum):
    LOYALIST = "loyalist"  # 忠诚型 / 信徒: satisfied and loyal
    MERCENARY = "mercenary"  # 图利型: satisfied, not loyal
    HOSTAGE = "hostage"  # 人质型: loyal, not satisfied
    DEFECTOR = "defector"  # 流失型 / 暴徒: neither


@dataclass(frozen=True)
class NodeSpec:
    """A node as sent: code, name and children (none for a level-4 item)."""

    code: str
    name: str
    children: tuple[NodeSpec, ...] = ()


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    level: int
    parent: str | None  # None: a level-2 variable, child of the CSI
    position: int
    weight: Decimal | None = None  # None: siblings weigh equally


@dataclass(frozen=True)
class Tree:
    """A model's nodes in pre-order (parents before children, siblings in order)."""

    nodes: tuple[Node, ...]
    by_code: dict[str, Node] = field(init=False, repr=False, compare=False)
    children: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {n.code: n for n in self.nodes}
        children: dict[str, list[str]] = {ROOT: []}
        for node in sorted(self.nodes, key=lambda n: n.position):
            children.setdefault(node.code, [])
            children.setdefault(node.parent or ROOT, []).append(node.code)
        object.__setattr__(self, "by_code", by_code)
        object.__setattr__(self, "children", children)

    def items(self) -> list[str]:
        return [n.code for n in self.nodes if n.level == 4]

    def is_parent(self, code: str) -> bool:
        return code == ROOT or (code in self.by_code and self.by_code[code].level < 4)

    def items_under(self, code: str) -> list[str]:
        if code != ROOT and self.by_code[code].level == 4:
            return [code]
        out: list[str] = []
        for child in self.children[code]:
            out.extend(self.items_under(child))
        return out

    def weights_set(self, parent: str) -> bool:
        return any(self.by_code[c].weight is not None for c in self.children[parent])

    def weights(self, parent: str) -> dict[str, Decimal]:
        """The children's weights as shown (4 decimals, summing to 1)."""
        kids = self.children[parent]
        if self.weights_set(parent):
            return {c: (self.by_code[c].weight or Decimal(0)).quantize(FOUR) for c in kids}
        return equal_weights(kids)

    def exact_weights(self, parent: str) -> dict[str, Fraction]:
        """The weights the roll-up uses: those set, or exactly 1/n each."""
        kids = self.children[parent]
        if self.weights_set(parent):
            return {c: Fraction(self.by_code[c].weight or 0) for c in kids}
        return {c: Fraction(1, len(kids)) for c in kids}

    def ordered(self) -> list[Node]:
        """Pre-order: each node followed by its subtree."""
        out: list[Node] = []

        def walk(code: str) -> None:
            for child in self.children[code]:
                out.append(self.by_code[child])
                walk(child)

        walk(ROOT)
        return out


@dataclass(frozen=True)
class Model:
    code: str
    name: str
    scale_points: int
    satisfaction_node: str | None
    loyalty_node: str | None
    threshold: Decimal  # high = strictly above, on 0–100
    tree: Tree
    created_at: datetime | None = None


# --- model definition ---------------------------------------------------------------------


def check_code(code: object, path: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code):
        raise Invalid(
            "invalid_code",
            "code must be 1–32 letters, digits, '_', '.' or '-', starting with a letter or digit",
            field=path,
        )
    return code


def build_tree(specs: Sequence[NodeSpec]) -> Tree:
    """Check and flatten the nodes as sent: level-2 variables holding level-3 indicators
    holding level-4 items; codes unique in the model (``root`` is the CSI's own)."""
    if not specs:
        raise Invalid("no_nodes", "A model needs at least one level-2 variable.", field="nodes")
    nodes: list[Node] = []
    seen: set[str] = set()

    def add(spec: NodeSpec, level: int, parent: str | None, path: str) -> None:
        code = check_code(spec.code, f"{path}.code")
        if code == ROOT:
            raise Invalid("reserved_code", "`root` names the CSI itself.", field=f"{path}.code")
        if code in seen:
            raise Invalid(
                "duplicate_node", "{code_name} is used twice.", field=f"{path}.code", code_name=code
            )
        if not spec.name or not spec.name.strip():
            raise Invalid("invalid_name", "must not be blank", field=f"{path}.name")
        seen.add(code)
        nodes.append(Node(code, spec.name.strip(), level, parent, len(nodes)))
        if len(nodes) > MAX_NODES:
            raise Invalid(
                "too_many_nodes", "At most {max_nodes} nodes.", field="nodes", max_nodes=MAX_NODES
            )
        if level == 4:
            if spec.children:
                raise Invalid(
                    "invalid_tree",
                    "A level-4 questionnaire item has no children.",
                    field=f"{path}.children",
                )
            return
        if not spec.children:
            kind = (
                Message("variable needs level-3 indicators")
                if level == 2
                else Message("indicator needs items")
            )
            raise Invalid(
                "invalid_tree",
                "A level-{level} {kind}.",
                field=f"{path}.children",
                level=level,
                kind=kind,
            )
        for i, child in enumerate(spec.children):
            add(child, level + 1, code, f"{path}.children[{i}]")

    for i, spec in enumerate(specs):
        add(spec, 2, None, f"nodes[{i}]")
    return Tree(tuple(nodes))


def check_model(
    tree: Tree,
    scale_points: int,
    satisfaction_node: str | None,
    loyalty_node: str | None,
    threshold: Decimal,
) -> None:
    if scale_points not in SCALES:
        raise Invalid("invalid_scale", "must be 5 or 7", field="scale_points")
    for name, code in (("satisfaction_node", satisfaction_node), ("loyalty_node", loyalty_node)):
        if code is not None and code not in tree.by_code:
            raise Invalid(
                "unknown_node",
                "{code_name} is not a node of the model.",
                field=name,
                code_name=code,
            )
    if satisfaction_node is not None and satisfaction_node == loyalty_node:
        raise Invalid(
            "invalid_quadrant_nodes",
            "Satisfaction and loyalty must be different nodes.",
            field="loyalty_node",
        )
    if not Decimal(0) <= threshold < 100 or decimal_places(threshold) > 2:
        raise Invalid(
            "invalid_threshold", "must be within 0..100 (exclusive), 2 decimals", field="threshold"
        )


def check_weight_target(tree: Tree, node: str, indicators: Sequence[str]) -> None:
    """Weights are set on a parent node, naming exactly its children."""
    if node != ROOT and node not in tree.by_code:
        raise Invalid("unknown_node", "{node} is not a node of the model.", field="node", node=node)
    if not tree.is_parent(node):
        raise Invalid(
            "not_a_parent",
            "{node} is a questionnaire item: weights are set on the node above it.",
            field="node",
            node=node,
        )
    expected = tree.children[node]
    if sorted(indicators) != sorted(expected) or len(set(indicators)) != len(indicators):
        raise Invalid(
            "indicators_mismatch",
            "The indicators must be exactly the children of {node}: {value}.",
            field="indicators",
            extra={"children": expected},
            node=node,
            value=", ".join(expected),
        )


# --- answers and scores -------------------------------------------------------------------


def check_answers(tree: Tree, answers: Mapping[str, object], scale_points: int) -> None:
    if not answers:
        raise Invalid("no_answers", "Answer at least one item.", field="answers")
    items = set(tree.items())
    for code, score in answers.items():
        if code not in items:
            raise Invalid(
                "unknown_item",
                "{code_name} is not a questionnaire item of the model.",
                field=f"answers.{code}",
                code_name=code,
            )
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= scale_points:
            raise Invalid(
                "score_out_of_scale",
                "must be a whole number from 1 to {scale_points}",
                field=f"answers.{code}",
                scale_points=scale_points,
            )


def to_100(mean: Fraction, scale_points: int) -> Fraction:
    """A (mean) answer on the k-point scale, as 0–100."""
    return (mean - 1) / (scale_points - 1) * 100


def roll_up(
    tree: Tree, item_totals: Mapping[str, tuple[int, int]], scale_points: int
) -> dict[str, Fraction | None]:
    """Every node's score (and ``root``'s, the CSI) from each item's (sum of answers, number
    of answers); None where nothing below was answered (or only zero-weight children were)."""
    scores: dict[str, Fraction | None] = {}

    def score(code: str) -> Fraction | None:
        if code != ROOT and tree.by_code[code].level == 4:
            total, count = item_totals.get(code, (0, 0))
            value = to_100(Fraction(total, count), scale_points) if count else None
        else:
            weights = tree.exact_weights(code)
            known = {c: s for c in tree.children[code] if (s := score(c)) is not None}
            weight = sum((weights[c] for c in known), Fraction(0))
            value = (
                sum((weights[c] * s for c, s in known.items()), Fraction(0)) / weight
                if weight
                else None
            )
        scores[code] = value
        return value

    score(ROOT)
    return scores


@dataclass(frozen=True)
class NodeScore:
    code: str
    name: str
    level: int
    parent: str
    weight: Decimal
    weighted_by: str
    score: Decimal | None
    responses: int


def node_scores(
    tree: Tree,
    scores: Mapping[str, Fraction | None],
    responses: Mapping[str, int],
    methods: Mapping[str, str],
) -> list[NodeScore]:
    """Each node's score (2 decimals), its weight among its siblings and the number of
    responses that answered something below it, in pre-order."""
    out = []
    for node in tree.ordered():
        parent = node.parent or ROOT
        value = scores.get(node.code)
        out.append(
            NodeScore(
                node.code,
                node.name,
                node.level,
                parent,
                tree.weights(parent)[node.code],
                methods.get(parent, "set") if tree.weights_set(parent) else "equal",
                to_decimal(value, TWO) if value is not None else None,
                responses.get(node.code, 0),
            )
        )
    return out


def respondent_score(
    tree: Tree, node: str, answers: Mapping[str, int], scale_points: int
) -> Fraction | None:
    """One respondent's score of ``node`` from their own answers."""
    return roll_up(tree, {k: (v, 1) for k, v in answers.items()}, scale_points)[node]


def quadrant(satisfaction: Fraction, loyalty: Fraction, threshold: Decimal) -> Quadrant:
    t = Fraction(threshold)
    high_s, high_l = satisfaction > t, loyalty > t
    if high_s and high_l:
        return Quadrant.LOYALIST
    if high_s:
        return Quadrant.MERCENARY
    if high_l:
        return Quadrant.HOSTAGE
    return Quadrant.DEFECTOR


def share(part: int, whole: int) -> Decimal | None:
    return to_decimal(Fraction(part, whole), FOUR) if whole else None


# --- the ACSI template --------------------------------------------------------------------


def _items(code: str, *names: str) -> list[dict]:
    return [{"code": f"{code}_{i}", "name": n, "children": []} for i, n in enumerate(names, 1)]


def _indicator(code: str, name: str, *items: str) -> dict:
    return {"code": code, "name": name, "children": _items(code, *items)}


ACSI_TEMPLATE: dict = {
    "code": "ACSI",
    "name": "American Customer Satisfaction Index (美国顾客满意度指数) for a store",
    "scale_points": 5,
    "satisfaction_node": "SAT",
    "loyalty_node": "LOY",
    "threshold": "50",
    "nodes": [
        {
            "code": "EXP",
            "name": "Customer expectations (顾客预期)",
            "children": [
                _indicator(
                    "EXP1",
                    "Overall expectation",
                    "Before shopping, how good did you expect us to be?",
                ),
                _indicator(
                    "EXP2",
                    "Expected reliability",
                    "How reliably did you expect us to meet your needs?",
                ),
                _indicator(
                    "EXP3",
                    "Expected fit to needs",
                    "How well did you expect us to suit your needs?",
                ),
            ],
        },
        {
            "code": "PQ",
            "name": "Perceived quality (感知质量)",
            "children": [
                _indicator(
                    "PQ1", "Goods", "Quality of the goods", "Freshness and range of the goods"
                ),
                _indicator("PQ2", "Service", "Staff attitude and help", "Speed of the checkout"),
                _indicator("PQ3", "Store", "Cleanliness and layout of the store"),
            ],
        },
        {
            "code": "PV",
            "name": "Perceived value (感知价值)",
            "children": [
                _indicator("PV1", "Price given quality", "Prices for the quality you get"),
                _indicator("PV2", "Quality given price", "Quality for the prices you pay"),
            ],
        },
        {
            "code": "SAT",
            "name": "Customer satisfaction (顾客满意)",
            "children": [
                _indicator("SAT1", "Overall satisfaction", "Overall, how satisfied are you?"),
                _indicator(
                    "SAT2", "Against expectations", "How well did we meet your expectations?"
                ),
                _indicator("SAT3", "Against the ideal", "How close are we to your ideal store?"),
            ],
        },
        {
            "code": "CMP",
            "name": "Customer complaints (顾客抱怨)",
            "children": [
                _indicator(
                    "CMP1",
                    "Complaint handling",
                    "If you complained, how well was it handled? (5 = very well)",
                ),
            ],
        },
        {
            "code": "LOY",
            "name": "Customer loyalty (顾客忠诚)",
            "children": [
                _indicator("LOY1", "Repurchase", "How likely are you to shop here again?"),
                _indicator("LOY2", "Recommendation", "How likely are you to recommend us?"),
                _indicator(
                    "LOY3", "Price tolerance", "Would you stay if our prices rose a little?"
                ),
            ],
        },
    ],
}


def spec_of(node: Mapping) -> NodeSpec:
    return NodeSpec(node["code"], node["name"], tuple(spec_of(c) for c in node["children"]))
