"""The satisfaction index (docs/domain §9): the tree, the 0–100 mapping, the weighted roll-up with
missing answers, quadrants; and the CSI within [0, 100] as a property."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.csi import (
    ACSI_TEMPLATE,
    ROOT,
    NodeSpec,
    Quadrant,
    Tree,
    build_tree,
    check_answers,
    check_model,
    check_weight_target,
    node_scores,
    quadrant,
    respondent_score,
    roll_up,
    spec_of,
    to_100,
)
from app.domain.errors import Invalid
from app.domain.weights import round_weights


def spec(code, *children, name=None):
    return NodeSpec(code, name or code, tuple(children))


def small_tree() -> Tree:
    #   root ─ Q (quality) ─ Q1 ─ q1a, q1b
    #        │             └ Q2 ─ q2a
    #        └ S (satisfaction) ─ S1 ─ s1a
    return build_tree(
        [
            spec("Q", spec("Q1", spec("q1a"), spec("q1b")), spec("Q2", spec("q2a"))),
            spec("S", spec("S1", spec("s1a"))),
        ]
    )


def with_weights(tree: Tree, weights: dict[str, str]) -> Tree:
    from dataclasses import replace

    return Tree(
        tuple(
            replace(n, weight=Decimal(weights[n.code])) if n.code in weights else n
            for n in tree.nodes
        )
    )


def test_likert_mapping():
    # (x − 1)/(k − 1)·100
    assert [to_100(Fraction(x), 5) for x in range(1, 6)] == [0, 25, 50, 75, 100]
    assert to_100(Fraction(4), 7) == 50
    assert to_100(Fraction(7, 2), 5) == Fraction(125, 2)


def test_tree_levels_and_order():
    tree = small_tree()
    assert [(n.code, n.level, n.parent) for n in tree.ordered()] == [
        ("Q", 2, None),
        ("Q1", 3, "Q"),
        ("q1a", 4, "Q1"),
        ("q1b", 4, "Q1"),
        ("Q2", 3, "Q"),
        ("q2a", 4, "Q2"),
        ("S", 2, None),
        ("S1", 3, "S"),
        ("s1a", 4, "S1"),
    ]
    assert tree.items() == ["q1a", "q1b", "q2a", "s1a"]
    assert tree.items_under("Q") == ["q1a", "q1b", "q2a"]
    assert tree.items_under(ROOT) == tree.items()
    assert tree.weights(ROOT) == {"Q": Decimal("0.5000"), "S": Decimal("0.5000")}


@pytest.mark.parametrize(
    ("nodes", "code", "field"),
    [
        ([], "no_nodes", "nodes"),
        ([spec("Q")], "invalid_tree", "nodes[0].children"),
        ([spec("Q", spec("Q1"))], "invalid_tree", "nodes[0].children[0].children"),
        (
            [spec("Q", spec("Q1", spec("q", spec("x"))))],
            "invalid_tree",
            "nodes[0].children[0].children[0].children",
        ),
        (
            [spec("Q", spec("Q1", spec("Q")))],
            "duplicate_node",
            "nodes[0].children[0].children[0].code",
        ),
        ([spec("root", spec("Q1", spec("q")))], "reserved_code", "nodes[0].code"),
        ([spec("a b", spec("Q1", spec("q")))], "invalid_code", "nodes[0].code"),
        (
            [spec("Q", spec("Q1", spec("q", name=" ")))],
            "invalid_name",
            "nodes[0].children[0].children[0].name",
        ),
    ],
)
def test_tree_refusals(nodes, code, field):
    with pytest.raises(Invalid) as err:
        build_tree(nodes)
    assert (err.value.code, err.value.errors[0].field) == (code, field)


def test_model_checks():
    tree = small_tree()
    check_model(tree, 5, "S", "Q", Decimal("50"))
    for args, code in [
        ((6, None, None, Decimal(50)), "invalid_scale"),
        ((5, "X", None, Decimal(50)), "unknown_node"),
        ((5, "S", "S", Decimal(50)), "invalid_quadrant_nodes"),
        ((5, None, None, Decimal(100)), "invalid_threshold"),
        ((5, None, None, Decimal("50.001")), "invalid_threshold"),
    ]:
        with pytest.raises(Invalid) as err:
            check_model(tree, *args)
        assert err.value.code == code


def test_weight_targets():
    tree = small_tree()
    check_weight_target(tree, ROOT, ["S", "Q"])
    check_weight_target(tree, "Q1", ["q1a", "q1b"])
    for node, indicators, code in [
        ("X", ["a"], "unknown_node"),
        ("q1a", ["a"], "not_a_parent"),
        ("Q", ["Q1"], "indicators_mismatch"),
        ("Q", ["Q1", "Q2", "Q2"], "indicators_mismatch"),
    ]:
        with pytest.raises(Invalid) as err:
            check_weight_target(tree, node, indicators)
        assert err.value.code == code


def test_answers_are_checked():
    tree = small_tree()
    check_answers(tree, {"q1a": 1, "s1a": 5}, 5)
    for answers, code, field in [
        ({}, "no_answers", "answers"),
        ({"Q1": 3}, "unknown_item", "answers.Q1"),
        ({"zz": 3}, "unknown_item", "answers.zz"),
        ({"q1a": 6}, "score_out_of_scale", "answers.q1a"),
        ({"q1a": 0}, "score_out_of_scale", "answers.q1a"),
        ({"q1a": True}, "score_out_of_scale", "answers.q1a"),
    ]:
        with pytest.raises(Invalid) as err:
            check_answers(tree, answers, 5)
        assert (err.value.code, err.value.errors[0].field) == (code, field)
    check_answers(tree, {"q1a": 7}, 7)


def test_roll_up_equal_weights_and_missing_answers():
    tree = small_tree()
    # q1a: 5 and 3 (mean 4 → 75); q1b: 2 (→ 25); q2a unanswered; s1a: 4, 4 (→ 75)
    scores = roll_up(tree, {"q1a": (8, 2), "q1b": (2, 1), "s1a": (8, 2)}, 5)
    assert scores["q1a"] == 75 and scores["q1b"] == 25 and scores["q2a"] is None
    assert scores["Q1"] == 50  # (75 + 25) / 2
    assert scores["Q2"] is None
    assert scores["Q"] == 50  # Q2 has no score: excluded, not zero
    assert scores["S"] == 75
    assert scores[ROOT] == Fraction(125, 2)  # (50 + 75) / 2


def test_roll_up_with_weights():
    tree = with_weights(small_tree(), {"Q": "0.7", "S": "0.3", "Q1": "0.25", "Q2": "0.75"})
    scores = roll_up(tree, {"q1a": (5, 1), "q1b": (1, 1), "q2a": (4, 1), "s1a": (1, 1)}, 5)
    # Q1 = (100 + 0)/2 = 50; Q2 = 75; Q = 0.25·50 + 0.75·75 = 68.75; S = 0; CSI = 0.7·68.75
    assert scores["Q"] == Fraction(6875, 100)
    assert scores[ROOT] == Fraction(48125, 1000)
    rows = node_scores(tree, scores, {"Q": 1}, {ROOT: "ahp", "Q": "direct"})
    assert [(r.code, str(r.weight), r.weighted_by, str(r.score)) for r in rows[:2]] == [
        ("Q", "0.7000", "ahp", "68.75"),
        ("Q1", "0.2500", "direct", "50.00"),
    ]
    assert rows[0].responses == 1 and rows[1].responses == 0
    assert rows[2].weighted_by == "equal"  # q1a under Q1: never weighted


def test_zero_weight_children_do_not_count():
    tree = with_weights(small_tree(), {"Q": "1", "S": "0"})
    scores = roll_up(tree, {"s1a": (5, 1)}, 5)
    assert scores["S"] == 100
    assert scores[ROOT] is None  # only a zero-weight child was answered


def test_quadrants_and_respondent_scores():
    tree = small_tree()
    t = Decimal("50")
    assert quadrant(Fraction(75), Fraction(100), t) is Quadrant.LOYALIST
    assert quadrant(Fraction(75), Fraction(50), t) is Quadrant.MERCENARY  # 50 is not above
    assert quadrant(Fraction(25), Fraction(51), t) is Quadrant.HOSTAGE
    assert quadrant(Fraction(50), Fraction(0), t) is Quadrant.DEFECTOR
    assert respondent_score(tree, "Q", {"q1a": 5, "q2a": 1, "s1a": 3}, 5) == 50
    assert respondent_score(tree, "S", {"q1a": 5}, 5) is None


def test_acsi_template_is_a_valid_model():
    tree = build_tree([spec_of(n) for n in ACSI_TEMPLATE["nodes"]])
    check_model(
        tree,
        ACSI_TEMPLATE["scale_points"],
        ACSI_TEMPLATE["satisfaction_node"],
        ACSI_TEMPLATE["loyalty_node"],
        Decimal(ACSI_TEMPLATE["threshold"]),
    )
    assert [n.code for n in tree.nodes if n.level == 2] == ["EXP", "PQ", "PV", "SAT", "CMP", "LOY"]


@given(
    st.dictionaries(
        st.sampled_from(["q1a", "q1b", "q2a", "s1a"]),
        st.lists(st.integers(1, 7), min_size=1, max_size=20),
        min_size=1,
    ),
    st.sampled_from([5, 7]),
    st.lists(st.integers(0, 10), min_size=4, max_size=4),
)
def test_csi_is_within_0_and_100(answers, k, raw):
    answers = {item: [min(x, k) for x in xs] for item, xs in answers.items()}
    tree = small_tree()
    if raw[0] + raw[1] and raw[2] + raw[3]:  # weights set by some method, else equal
        top = round_weights({"Q": Fraction(raw[0]), "S": Fraction(raw[1])})
        under_q = round_weights({"Q1": Fraction(raw[2]), "Q2": Fraction(raw[3])})
        tree = with_weights(tree, {c: str(w) for c, w in (top | under_q).items()})
    totals = {item: (sum(xs), len(xs)) for item, xs in answers.items()}
    scores = roll_up(tree, totals, k)
    for value in scores.values():
        assert value is None or 0 <= value <= 100
    rows = node_scores(tree, scores, {}, {})
    assert all(r.score is None or Decimal(0) <= r.score <= Decimal(100) for r in rows)
