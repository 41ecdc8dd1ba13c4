"""Indicator weights (指标权重, docs/domain §9.2): the weights of the indicators under one node.

Five methods, each returning weights that are ≥ 0 and sum to exactly 1 at four decimals
(the exact shares are rounded by largest remainder, so rounding never breaks the sum):

* ``expert_average`` (主观赋权): the mean of each expert's weights, normalised. Each expert's
  weights must sum to 1 within 0.001.
* ``direct`` (直接比较法): each indicator as a multiple of the least important one (> 0);
  weights are the normalised multiples.
* ``pairwise`` (对偶比较法): every unordered pair compared once; the more important gets 1
  point, a tie ½ each; weight = an indicator's points / all points.
* ``delphi`` (德尔菲法): rounds of expert weights; per round and indicator the mean and the
  coefficient of variation (sample standard deviation / mean); converged when every CV of
  the last round is below the threshold (default 0.15). Weights = the last round's means,
  normalised.
* ``ahp`` (层次分析法): a positive reciprocal comparison matrix on Saaty's 1–9 scale; weights =
  the principal eigenvector normalised; CI = (λmax − n)/(n − 1), CR = CI/RI with Saaty's RI;
  CR > 0.10 is inconsistent and refused.

Pure: inputs are codes, Decimals, Fractions and ints; errors are ``Invalid`` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from app.domain.errors import Invalid
from app.domain.voc import FOUR, to_decimal

MAX_INDICATORS = 50
MAX_AHP_INDICATORS = 10
MAX_EXPERTS = 200
MAX_ROUNDS = 20
SUM_TOLERANCE = Fraction(1, 1000)
RECIPROCAL_TOLERANCE = Fraction(1, 100)
DEFAULT_CV_THRESHOLD = Decimal("0.15")
MAX_CR = Fraction(1, 10)
UNITS = 10_000  # four decimals
ZERO = Decimal("0")

# Saaty's random consistency index by matrix size (n = 1, 2: any matrix is consistent).
RANDOM_INDEX = {
    1: Decimal("0"),
    2: Decimal("0"),
    3: Decimal("0.58"),
    4: Decimal("0.90"),
    5: Decimal("1.12"),
    6: Decimal("1.24"),
    7: Decimal("1.32"),
    8: Decimal("1.41"),
    9: Decimal("1.45"),
    10: Decimal("1.49"),
}


class Method(StrEnum):
    EXPERT_AVERAGE = "expert_average"
    DIRECT = "direct"
    PAIRWISE = "pairwise"
    DELPHI = "delphi"
    AHP = "ahp"


@dataclass(frozen=True)
class Prefer:
    """A pairwise judgement: ``more`` is more important than ``less``."""

    more: str
    less: str


@dataclass(frozen=True)
class Tie:
    a: str
    b: str


Judgement = Prefer | Tie


@dataclass(frozen=True)
class DelphiRound:
    mean: dict[str, Decimal]
    cv: dict[str, Decimal]


@dataclass(frozen=True)
class Weighting:
    """Weights (4 decimals, summing to 1) and the method's diagnostics."""

    method: Method
    weights: dict[str, Decimal]
    # ahp
    lambda_max: Decimal | None = None
    ci: Decimal | None = None
    cr: Decimal | None = None
    ri: Decimal | None = None
    # delphi
    converged: bool | None = None
    round_limit_reached: bool | None = None
    rounds: list[DelphiRound] | None = None
    # pairwise
    points: dict[str, Decimal] | None = None

    def diagnostics(self) -> dict:
        """The method's diagnostics, JSON-able (Decimals as strings), for the audit trail."""
        out: dict = {}
        for name in ("lambda_max", "ci", "cr", "ri"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        if self.converged is not None:
            out["converged"] = self.converged
            out["round_limit_reached"] = self.round_limit_reached
            out["rounds"] = [
                {
                    "mean": {k: str(v) for k, v in r.mean.items()},
                    "cv": {k: str(v) for k, v in r.cv.items()},
                }
                for r in self.rounds or []
            ]
        if self.points is not None:
            out["points"] = {k: str(v) for k, v in self.points.items()}
        return out


# --- shared -------------------------------------------------------------------------------


def check_indicators(indicators: Sequence[str], limit: int = MAX_INDICATORS) -> list[str]:
    codes = list(indicators)
    if not codes:
        raise Invalid("no_indicators", "Name at least one indicator.", field="indicators")
    if len(codes) > limit:
        raise Invalid(
            "too_many_indicators",
            "At most {limit} indicators for this method.",
            field="indicators",
            limit=limit,
        )
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not code.strip():
            raise Invalid("invalid_indicator", "must be a non-empty code", field=f"indicators[{i}]")
        if code in seen:
            raise Invalid(
                "duplicate_indicator",
                "{code_name} is named twice.",
                field=f"indicators[{i}]",
                code_name=code,
            )
        seen.add(code)
    return codes


def round_weights(raw: Mapping[str, Fraction]) -> dict[str, Decimal]:
    """Normalise non-negative values to shares and round them to 4 decimals summing to 1
    (largest remainder; ties go to the earlier indicator)."""
    total = sum(raw.values(), Fraction(0))
    if total <= 0:
        raise Invalid("zero_weights", "The weights are all zero.", field="indicators")
    units: dict[str, int] = {}
    remainders: list[tuple[Fraction, int, str]] = []
    for position, (code, value) in enumerate(raw.items()):
        scaled = value * UNITS / total
        whole = math.floor(scaled)
        units[code] = whole
        remainders.append((scaled - whole, -position, code))
    missing = UNITS - sum(units.values())
    for _, _, code in sorted(remainders, reverse=True)[:missing]:
        units[code] += 1
    return {code: (Decimal(u) / UNITS).quantize(FOUR) for code, u in units.items()}


def equal_weights(codes: Sequence[str]) -> dict[str, Decimal]:
    return round_weights(dict.fromkeys(codes, Fraction(1)))


def _expert(
    indicators: list[str], weights: Mapping[str, Decimal], path: str
) -> dict[str, Fraction]:
    unknown = [k for k in weights if k not in indicators]
    if unknown:
        raise Invalid(
            "unknown_indicator",
            "{unknown} is not among the indicators.",
            field=path,
            unknown=unknown[0],
        )
    out: dict[str, Fraction] = {}
    for code in indicators:
        if code not in weights:
            raise Invalid(
                "missing_weight",
                "no weight for {code_name}",
                field=f"{path}.{code}",
                code_name=code,
            )
        value = Fraction(weights[code])
        if value < 0 or value > 1:
            raise Invalid("invalid_weight", "must be within 0..1", field=f"{path}.{code}")
        out[code] = value
    total = sum(out.values(), Fraction(0))
    if abs(total - 1) > SUM_TOLERANCE:
        raise Invalid(
            "weights_not_summing_to_one",
            "The weights sum to {to_decimal}, not 1 (±0.001).",
            field=path,
            to_decimal=to_decimal(total, FOUR),
        )
    return out


def _experts(
    indicators: list[str], experts: Sequence[Mapping[str, Decimal]], path: str, minimum: int
) -> list[dict[str, Fraction]]:
    if len(experts) < minimum:
        raise Invalid(
            "too_few_experts",
            "At least {minimum} expert(s) are needed.",
            field=path,
            minimum=minimum,
        )
    if len(experts) > MAX_EXPERTS:
        raise Invalid(
            "too_many_experts",
            "At most {max_experts} experts.",
            field=path,
            max_experts=MAX_EXPERTS,
        )
    return [_expert(indicators, e, f"{path}[{i}]") for i, e in enumerate(experts)]


def _mean(values: list[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


# --- methods ------------------------------------------------------------------------------


def expert_average(
    indicators: Sequence[str], experts: Sequence[Mapping[str, Decimal]]
) -> Weighting:
    codes = check_indicators(indicators)
    panel = _experts(codes, experts, "experts", 1)
    means = {c: _mean([e[c] for e in panel]) for c in codes}
    return Weighting(Method.EXPERT_AVERAGE, round_weights(means))


def direct(indicators: Sequence[str], multiples: Mapping[str, Decimal]) -> Weighting:
    codes = check_indicators(indicators)
    unknown = [k for k in multiples if k not in codes]
    if unknown:
        raise Invalid(
            "unknown_indicator",
            "{unknown} is not among the indicators.",
            field="multiples",
            unknown=unknown[0],
        )
    raw: dict[str, Fraction] = {}
    for code in codes:
        if code not in multiples:
            raise Invalid(
                "missing_multiple",
                "no multiple for {code_name}",
                field=f"multiples.{code}",
                code_name=code,
            )
        value = Fraction(multiples[code])
        if value <= 0:
            raise Invalid("invalid_multiple", "must be > 0", field=f"multiples.{code}")
        raw[code] = value
    return Weighting(Method.DIRECT, round_weights(raw))


def pairwise(indicators: Sequence[str], judgements: Sequence[Judgement]) -> Weighting:
    codes = check_indicators(indicators)
    points = dict.fromkeys(codes, Fraction(0))
    seen: set[frozenset[str]] = set()
    for i, j in enumerate(judgements):
        if isinstance(j, Prefer):
            pair, names = (j.more, j.less), (("more", j.more), ("less", j.less))
        else:
            pair, names = (j.a, j.b), (("tie[0]", j.a), ("tie[1]", j.b))
        for name, code in names:
            if code not in points:
                raise Invalid(
                    "unknown_indicator",
                    "{code_name} is not among the indicators.",
                    field=f"judgements[{i}].{name}",
                    code_name=code,
                )
        if pair[0] == pair[1]:
            raise Invalid(
                "invalid_judgement",
                "An indicator is not compared with itself.",
                field=f"judgements[{i}]",
            )
        key = frozenset(pair)
        if key in seen:
            raise Invalid(
                "duplicate_pair",
                "{pair} and {pair2} are compared twice.",
                field=f"judgements[{i}]",
                pair=pair[0],
                pair2=pair[1],
            )
        seen.add(key)
        if isinstance(j, Prefer):
            points[j.more] += 1
        else:
            points[j.a] += Fraction(1, 2)
            points[j.b] += Fraction(1, 2)
    missing = [
        (a, b) for x, a in enumerate(codes) for b in codes[x + 1 :] if frozenset((a, b)) not in seen
    ]
    if missing:
        a, b = missing[0]
        raise Invalid(
            "missing_pair",
            "Every pair must be compared once: {len} missing, e.g. {a} and {b}.",
            field="judgements",
            extra={"missing": [list(p) for p in missing]},
            len=len(missing),
            a=a,
            b=b,
        )
    if len(codes) == 1:
        return Weighting(Method.PAIRWISE, {codes[0]: Decimal("1.0000")}, points={codes[0]: ZERO})
    return Weighting(
        Method.PAIRWISE,
        round_weights(points),
        points={c: Decimal(p.numerator) / p.denominator for c, p in points.items()},
    )


def _sqrt(value: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(value.numerator) / Decimal(value.denominator)).sqrt()


def _cv(values: list[Fraction]) -> Decimal:
    """Sample standard deviation / mean; 0 when the mean is 0 (all experts gave 0)."""
    mean = _mean(values)
    if mean == 0:
        return Decimal("0.0000")
    variance = sum(((v - mean) ** 2 for v in values), Fraction(0)) / (len(values) - 1)
    with localcontext() as ctx:
        ctx.prec = 40
        cv = _sqrt(variance) / (Decimal(mean.numerator) / Decimal(mean.denominator))
    return to_decimal(cv, FOUR)


def delphi(
    indicators: Sequence[str],
    rounds: Sequence[Sequence[Mapping[str, Decimal]]],
    cv_threshold: Decimal = DEFAULT_CV_THRESHOLD,
    max_rounds: int | None = None,
) -> Weighting:
    codes = check_indicators(indicators)
    if not rounds:
        raise Invalid("no_rounds", "Give at least one round.", field="rounds")
    if len(rounds) > MAX_ROUNDS:
        raise Invalid(
            "too_many_rounds", "At most {max_rounds} rounds.", field="rounds", max_rounds=MAX_ROUNDS
        )
    if cv_threshold <= 0:
        raise Invalid("invalid_cv_threshold", "must be > 0", field="cv_threshold")
    if max_rounds is not None and max_rounds < 1:
        raise Invalid("invalid_max_rounds", "must be ≥ 1", field="max_rounds")
    summaries: list[DelphiRound] = []
    last_means: dict[str, Fraction] = {}
    cv_exact: dict[str, Decimal] = {}
    for r, experts in enumerate(rounds):
        panel = _experts(codes, experts, f"rounds[{r}]", 2)
        last_means = {c: _mean([e[c] for e in panel]) for c in codes}
        cv_exact = {c: _cv([e[c] for e in panel]) for c in codes}
        summaries.append(
            DelphiRound({c: to_decimal(m, FOUR) for c, m in last_means.items()}, cv_exact)
        )
    converged = all(cv < cv_threshold for cv in cv_exact.values())
    return Weighting(
        Method.DELPHI,
        round_weights(last_means),
        converged=converged,
        round_limit_reached=max_rounds is not None and len(rounds) >= max_rounds,
        rounds=summaries,
    )


# As many digits as a decimal string may have (12 + 6): a longer one is no scale value, and
# Python refuses to convert integers of over 4300 digits.
_RATIO = re.compile(
    r"^\s*([0-9]{1,12}(?:\.[0-9]{1,6})?)\s*(?:/\s*([0-9]{1,12}(?:\.[0-9]{1,6})?)\s*)?$"
)


def parse_ratio(value: object, path: str) -> Fraction:
    """A matrix entry: a number, or a string "3", "0.5" or "1/3"; must be positive."""
    result: Fraction | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int):
        result = Fraction(value)
    elif isinstance(value, float) and math.isfinite(value):
        result = Fraction(repr(value))
    elif isinstance(value, Decimal) and value.is_finite():
        result = Fraction(value)
    elif isinstance(value, str):
        match = _RATIO.match(value)
        if match:
            top = Fraction(match.group(1))
            bottom = Fraction(match.group(2)) if match.group(2) else Fraction(1)
            result = top / bottom if bottom != 0 else None
    if result is None or result <= 0:
        raise Invalid(
            "invalid_matrix", 'must be a positive number or a ratio like "1/3"', field=path
        )
    return result


def _principal(matrix: list[list[float]]) -> tuple[list[float], float]:
    """Principal eigenvector (normalised to sum 1) and eigenvalue of a positive matrix, by
    power iteration (Perron–Frobenius: it converges to the unique positive eigenvector)."""
    n = len(matrix)
    w = [1.0 / n] * n
    for _ in range(10_000):
        v = [sum(row[j] * w[j] for j in range(n)) for row in matrix]
        total = sum(v)
        v = [x / total for x in v]
        done = max(abs(a - b) for a, b in zip(v, w, strict=True)) < 1e-15
        w = v
        if done:
            break
    product = [sum(row[j] * w[j] for j in range(n)) for row in matrix]
    lambda_max = sum(product[i] / w[i] for i in range(n)) / n
    return w, lambda_max


def ahp(indicators: Sequence[str], matrix: Sequence[Sequence[object]]) -> Weighting:
    codes = check_indicators(indicators, MAX_AHP_INDICATORS)
    n = len(codes)
    if len(matrix) != n or any(
        not isinstance(row, Sequence) or isinstance(row, str) or len(row) != n for row in matrix
    ):
        raise Invalid(
            "invalid_matrix",
            "The matrix must be {n}×{n}, one row per indicator.",
            field="matrix",
            n=n,
        )
    values = [
        [parse_ratio(x, f"matrix[{i}][{j}]") for j, x in enumerate(row)]
        for i, row in enumerate(matrix)
    ]
    for i in range(n):
        if values[i][i] != 1:
            raise Invalid("invalid_matrix", "the diagonal must be 1", field=f"matrix[{i}][{i}]")
        for j in range(n):
            if not Fraction(1, 9) <= values[i][j] <= 9:
                raise Invalid(
                    "invalid_matrix",
                    "must be on Saaty's scale, 1/9 to 9",
                    field=f"matrix[{i}][{j}]",
                )
            if j > i and abs(values[i][j] * values[j][i] - 1) > RECIPROCAL_TOLERANCE:
                raise Invalid(
                    "matrix_not_reciprocal",
                    "matrix[{j}][{i}] must be the reciprocal of matrix[{i}][{j}].",
                    field=f"matrix[{j}][{i}]",
                    j=j,
                    i=i,
                )
    vector, lambda_max = _principal([[float(x) for x in row] for row in values])
    ri = RANDOM_INDEX[n]
    ci = max(0.0, (lambda_max - n) / (n - 1)) if n > 1 else 0.0
    cr = ci / float(ri) if ri else 0.0
    ci_d, cr_d = to_decimal(Decimal(repr(ci)), FOUR), to_decimal(Decimal(repr(cr)), FOUR)
    if Fraction(repr(cr)) > MAX_CR:
        raise Invalid(
            "inconsistent_matrix",
            "The matrix is inconsistent: CR = {cr_d} > 0.10. Revise the judgements.",
            field="matrix",
            extra={
                "cr": str(cr_d),
                "ci": str(ci_d),
                "lambda_max": str(to_decimal(Decimal(repr(lambda_max)), FOUR)),
            },
            cr_d=cr_d,
        )
    weights = round_weights(
        {code: Fraction(repr(v)) for code, v in zip(codes, vector, strict=True)}
    )
    return Weighting(
        Method.AHP,
        weights,
        lambda_max=to_decimal(Decimal(repr(lambda_max)), FOUR),
        ci=ci_d,
        cr=cr_d,
        ri=ri,
    )
