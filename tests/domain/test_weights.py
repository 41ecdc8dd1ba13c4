"""Indicator weights (docs/domain §9.2): the five methods on its examples, their refusals, and
properties — weights sum to 1 and are non-negative; AHP on a consistent matrix built from a
weight vector recovers it with CR ≈ 0."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.errors import Invalid
from app.domain.weights import (
    Prefer,
    Tie,
    ahp,
    delphi,
    direct,
    expert_average,
    pairwise,
    parse_ratio,
    round_weights,
)

D = Decimal


def r3(value: Decimal) -> Decimal:
    return value.quantize(D("0.001"), ROUND_HALF_UP)


ABC = ["A", "B", "C"]


def experts(*rows):
    return [dict(zip(ABC, (D(x) for x in row), strict=True)) for row in rows]


def test_expert_average_exercise():
    # docs/domain §9.2: (50, 30, 20), (60, 20, 20), (40, 40, 20) % → 50, 30, 20 %
    r = expert_average(
        ABC, experts(("0.5", "0.3", "0.2"), ("0.6", "0.2", "0.2"), ("0.4", "0.4", "0.2"))
    )
    assert r.weights == {"A": D("0.5000"), "B": D("0.3000"), "C": D("0.2000")}
    assert [str(w) for w in r.weights.values()] == ["0.5000", "0.3000", "0.2000"]


def test_expert_weights_must_sum_to_one_within_a_thousandth():
    ok = expert_average(ABC, experts(("0.334", "0.333", "0.334")))  # 1.001: tolerated
    assert sum(ok.weights.values()) == 1
    with pytest.raises(Invalid) as err:
        expert_average(ABC, experts(("0.5", "0.3", "0.2"), ("0.5", "0.3", "0.3")))
    assert (err.value.code, err.value.errors[0].field) == (
        "weights_not_summing_to_one",
        "experts[1]",
    )


@pytest.mark.parametrize(
    ("panel", "code", "field"),
    [
        ([{"A": D("0.5"), "B": D("0.5")}], "missing_weight", "experts[0].C"),
        (
            [{"A": D("0.5"), "B": D("0.5"), "C": D("0"), "Z": D("0")}],
            "unknown_indicator",
            "experts[0]",
        ),
        ([{"A": D("1.5"), "B": D("-0.5"), "C": D("0")}], "invalid_weight", "experts[0].A"),
        ([], "too_few_experts", "experts"),
    ],
)
def test_expert_average_refuses(panel, code, field):
    with pytest.raises(Invalid) as err:
        expert_average(ABC, panel)
    assert (err.value.code, err.value.errors[0].field) == (code, field)


def test_direct_comparison_normalises_the_multiples():
    r = direct(ABC, {"A": D(3), "B": D(2), "C": D(1)})
    assert r.weights == {"A": D("0.5000"), "B": D("0.3333"), "C": D("0.1667")}
    with pytest.raises(Invalid) as err:
        direct(ABC, {"A": D(3), "B": D(0), "C": D(1)})
    assert (err.value.code, err.value.errors[0].field) == ("invalid_multiple", "multiples.B")
    with pytest.raises(Invalid) as err:
        direct(ABC, {"A": D(3), "B": D(1)})
    assert err.value.code == "missing_multiple"


def test_pairwise_points():
    # A > B, A > C, B ~ C: A 2 points, B and C ½ each, of 3.
    r = pairwise(ABC, [Prefer("A", "B"), Tie("B", "C"), Prefer("A", "C")])
    assert r.weights == {"A": D("0.6667"), "B": D("0.1667"), "C": D("0.1666")}
    assert r.points == {"A": D(2), "B": D("0.5"), "C": D("0.5")}
    assert sum(r.weights.values()) == 1


@pytest.mark.parametrize(
    ("judgements", "code", "field"),
    [
        ([Prefer("A", "B"), Prefer("A", "C")], "missing_pair", "judgements"),
        (
            [Prefer("A", "B"), Prefer("B", "A"), Prefer("A", "C"), Tie("B", "C")],
            "duplicate_pair",
            "judgements[1]",
        ),
        ([Prefer("A", "A")], "invalid_judgement", "judgements[0]"),
        ([Prefer("A", "Z")], "unknown_indicator", "judgements[0].less"),
        ([Tie("Q", "A")], "unknown_indicator", "judgements[0].tie[0]"),
    ],
)
def test_pairwise_needs_every_pair_exactly_once(judgements, code, field):
    with pytest.raises(Invalid) as err:
        pairwise(ABC, judgements)
    assert (err.value.code, err.value.errors[0].field) == (code, field)


def test_missing_pairs_are_listed():
    with pytest.raises(Invalid) as err:
        pairwise(ABC, [Prefer("A", "B")])
    assert err.value.extra["missing"] == [["A", "C"], ["B", "C"]]


def test_delphi_rounds_converge():
    first = experts(("0.7", "0.2", "0.1"), ("0.4", "0.4", "0.2"), ("0.5", "0.3", "0.2"))
    second = experts(("0.55", "0.3", "0.15"), ("0.5", "0.3", "0.2"), ("0.5", "0.32", "0.18"))
    r = delphi(ABC, [first])
    assert r.converged is False  # A: mean 0.5333, sd 0.1528 → CV 0.2864
    assert r.rounds[0].mean["A"] == D("0.5333")
    assert r.rounds[0].cv["A"] == D("0.2864")
    r = delphi(ABC, [first, second])
    assert r.converged is True
    assert len(r.rounds) == 2
    assert all(cv < D("0.15") for cv in r.rounds[1].cv.values())
    # The weights are the last round's means (0.5167, 0.3067, 0.1767) normalised.
    assert r.weights == {"A": D("0.5167"), "B": D("0.3067"), "C": D("0.1766")}
    assert sum(r.weights.values()) == 1


def test_delphi_threshold_round_limit_and_refusals():
    first = experts(("0.7", "0.2", "0.1"), ("0.4", "0.4", "0.2"))
    assert delphi(ABC, [first], cv_threshold=D("0.6")).converged is True
    limited = delphi(ABC, [first], max_rounds=1)
    assert (limited.converged, limited.round_limit_reached) == (False, True)
    with pytest.raises(Invalid) as err:
        delphi(ABC, [experts(("0.5", "0.3", "0.2"))])
    assert (err.value.code, err.value.errors[0].field) == ("too_few_experts", "rounds[0]")
    with pytest.raises(Invalid) as err:
        delphi(ABC, [])
    assert err.value.code == "no_rounds"
    with pytest.raises(Invalid) as err:
        delphi(ABC, [first], cv_threshold=D(0))
    assert err.value.code == "invalid_cv_threshold"


def test_ahp_example():
    # docs/domain §9.2: → weights 0.637, 0.258, 0.105, λmax 3.039, CR 0.033.
    r = ahp(ABC, [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]])
    assert [r3(w) for w in r.weights.values()] == [D("0.637"), D("0.258"), D("0.105")]
    assert sum(r.weights.values()) == 1
    assert r3(r.lambda_max) == D("3.039")  # 3.0385
    assert r3(r.cr) == D("0.033")  # 0.0332
    assert r.ri == D("0.58")


def test_ahp_refuses_an_inconsistent_matrix_stating_the_cr():
    # A > B, B > C, but C > A strongly.
    with pytest.raises(Invalid) as err:
        ahp(ABC, [[1, 3, "1/5"], ["1/3", 1, 3], [5, "1/3", 1]])
    assert err.value.code == "inconsistent_matrix"
    assert D(err.value.extra["cr"]) > D("0.10")
    assert err.value.extra["cr"] in err.value.detail


@pytest.mark.parametrize(
    ("matrix", "code", "field"),
    [
        ([[1, 3], ["1/3", 1]], "invalid_matrix", "matrix"),
        ([[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 2]], "invalid_matrix", "matrix[2][2]"),
        ([[1, 3, 5], ["1/2", 1, 3], ["1/5", "1/3", 1]], "matrix_not_reciprocal", "matrix[1][0]"),
        ([[1, -3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]], "invalid_matrix", "matrix[0][1]"),
        ([[1, 12, 5], ["1/12", 1, 3], ["1/5", "1/3", 1]], "invalid_matrix", "matrix[0][1]"),
        ([[1, "x", 5], ["1/3", 1, 3], ["1/5", "1/3", 1]], "invalid_matrix", "matrix[0][1]"),
        ([[1, "3/0", 5], ["1/3", 1, 3], ["1/5", "1/3", 1]], "invalid_matrix", "matrix[0][1]"),
        ([[1, True, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]], "invalid_matrix", "matrix[0][1]"),
    ],
)
def test_ahp_matrix_checks(matrix, code, field):
    with pytest.raises(Invalid) as err:
        ahp(ABC, matrix)
    assert (err.value.code, err.value.errors[0].field) == (code, field)


def test_ahp_accepts_near_reciprocal_decimals_and_small_matrices():
    r = ahp(ABC, [[1, 3, 5], [0.333, 1, 3], ["0.2", 0.333, 1]])
    assert round(r.weights["A"], 2) == D("0.64")
    assert ahp(["A"], [[1]]).weights == {"A": D("1.0000")}
    two = ahp(["A", "B"], [[1, 3], ["1/3", 1]])
    assert (two.weights, two.cr) == ({"A": D("0.7500"), "B": D("0.2500")}, D("0.0000"))
    with pytest.raises(Invalid) as err:
        ahp([f"I{i}" for i in range(11)], [[1] * 11] * 11)
    assert err.value.code == "too_many_indicators"


def test_parse_ratio():
    assert parse_ratio("1/3", "x") == Fraction(1, 3)
    assert parse_ratio(" 2.5 ", "x") == Fraction(5, 2)
    assert parse_ratio(0.5, "x") == Fraction(1, 2)


def test_indicators_are_checked():
    with pytest.raises(Invalid) as err:
        direct(["A", "A"], {"A": D(1)})
    assert (err.value.code, err.value.errors[0].field) == ("duplicate_indicator", "indicators[1]")
    with pytest.raises(Invalid) as err:
        direct([], {})
    assert err.value.code == "no_indicators"


# --- properties ---------------------------------------------------------------------------

codes = st.lists(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=3),
    min_size=1,
    max_size=12,
    unique=True,
)


def _ok(weights):
    assert sum(weights.values()) == 1
    assert all(w >= 0 and w.as_tuple().exponent == -4 for w in weights.values())


@given(st.lists(st.fractions(min_value=0, max_value=1000), min_size=1, max_size=30))
def test_rounded_weights_sum_to_one_and_are_non_negative(values):
    raw = {f"I{i}": v for i, v in enumerate(values)}
    if sum(raw.values()) == 0:
        return
    weights = round_weights(raw)
    _ok(weights)
    total = sum(raw.values())
    for code, value in raw.items():  # each within one unit of the exact share
        assert abs(Fraction(weights[code]) - value / total) <= Fraction(1, 10_000)


@given(codes, st.data())
def test_direct_weights_sum_to_one(indicators, data):
    multiples = {
        c: data.draw(st.decimals(min_value="0.01", max_value="100", places=2)) for c in indicators
    }
    _ok(direct(indicators, multiples).weights)


@given(codes, st.data())
def test_pairwise_weights_sum_to_one(indicators, data):
    judgements = []
    for x, a in enumerate(indicators):
        for b in indicators[x + 1 :]:
            kind = data.draw(st.sampled_from(["a", "b", "tie"]))
            judgements.append(
                Tie(a, b) if kind == "tie" else Prefer(a, b) if kind == "a" else Prefer(b, a)
            )
    _ok(pairwise(indicators, judgements).weights)


def _panel(indicators, data, size):
    out = []
    for _ in range(size):
        raw = [data.draw(st.integers(0, 100)) for _ in indicators]
        if sum(raw) == 0:
            raw[0] = 1
        total = sum(raw)
        # Exact shares written with 6 decimals: each expert sums to 1 within 0.001.
        out.append({c: round(D(r) / D(total), 6) for c, r in zip(indicators, raw, strict=True)})
    return out


@given(codes, st.data())
def test_expert_and_delphi_weights_sum_to_one(indicators, data):
    _ok(expert_average(indicators, _panel(indicators, data, 3)).weights)
    r = delphi(indicators, [_panel(indicators, data, 3), _panel(indicators, data, 2)])
    _ok(r.weights)
    assert all(cv >= 0 for cv in r.rounds[-1].cv.values())


@settings(max_examples=200)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=10))
def test_ahp_recovers_the_weights_of_a_consistent_matrix(raw):
    indicators = [f"I{i}" for i in range(len(raw))]
    # a_ij = w_i / w_j: consistent by construction, and on Saaty's scale as w ∈ [1, 9].
    matrix = [[f"{wi}/{wj}" for wj in raw] for wi in raw]
    r = ahp(indicators, matrix)
    _ok(r.weights)
    total = sum(raw)
    for code, w in zip(indicators, raw, strict=True):
        assert abs(Fraction(r.weights[code]) - Fraction(w, total)) <= Fraction(2, 10_000)
    assert r.cr <= D("0.0001")
    assert abs(r.lambda_max - len(raw)) <= D("0.0001")
