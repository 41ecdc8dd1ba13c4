"""Customer lifetime value (CLV, 客户终生价值, docs/domain §6). Pure: stdlib, numpy and scipy only.

Two families of models live here.

**The retention model** of the seeds, exact in ``Decimal``: a margin per year
``m = annual_spend × gross_margin``, a yearly retention ``r`` and discount rate ``d``, over ``T``
years or unbounded, in one of three timing conventions (``retention_clv``).

**Probabilistic models fitted to transactions** (floats, numpy arrays, one element per
customer): BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way") for the
number of purchases and the probability of being alive, and Gamma-Gamma (Fader, Hardie & Lee
2005, "RFM and CLV: using iso-value curves") for the value of a purchase, both fitted by
maximum likelihood; then per-customer expected purchases, P(alive), the expected value of a
purchase, discounted CLV, the historical / current / potential breakdown and the value
quadrant. Time is in *periods* of the caller's unit (``PERIOD_DAYS``), counted from each
customer's first purchase:

- ``frequency`` x — repeat purchases (purchases after the first; same-day purchases are one),
- ``recency`` t_x — the time of the last purchase (0 when x = 0),
- ``T`` — the time from the first purchase to the end of the calibration period,
- ``monetary_value`` m_x — the mean value of the x repeat purchases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

from app.domain.errors import FieldError, Invalid, Message, Summary
from app.domain.money import CENT

# ---------------------------------------------------------------------------------------------
# The retention model (docs/domain §6.1)
# ---------------------------------------------------------------------------------------------

MAX_YEARS = 100  # a bounded horizon: 1..MAX_YEARS years
SCHEDULE_CAP = 100  # rows shown for an unbounded horizon (the total is the closed form)
FACTOR = Decimal("1e-10")  # survival and discount factors are shown to 10 decimals
_PRECISION = 60  # digits of the Decimal context the sums run in (rounded to the fen once)


class Convention(StrEnum):
    """When a year's margin arrives and whether the first year is certain (docs/domain §6.1)."""

    END_OF_YEAR = "end_of_year"  # Σ m·r^(t−1)/(1+d)^t        — year 1 certain, paid at its end
    RETAINED_ONLY = "retained_only"  # Σ m·r^t/(1+d)^t      — only retained years count
    START_OF_YEAR = "start_of_year"  # Σ m·r^(t−1)/(1+d)^(t−1) — paid at the start, undiscounted


@dataclass(frozen=True)
class ScheduleRow:
    year: int
    margin: Decimal  # m, to the fen
    survival: Decimal  # probability the year's margin is earned: r^(t−1), or r^t (retained_only)
    discount_factor: Decimal  # 1/(1+d)^t, or 1/(1+d)^(t−1) (start_of_year)
    present_value: Decimal  # m × survival × discount_factor from the exact factors, to the fen


@dataclass(frozen=True)
class RetentionClv:
    clv: Decimal  # the exact total rounded once to the fen (rows are rounded on their own)
    annual_margin: Decimal  # m to the fen
    convention: Convention
    years: int | None  # None: unbounded
    schedule: tuple[ScheduleRow, ...]  # every year when bounded, the first SCHEDULE_CAP if not


def _round_fen(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _rate_problem(value: object, *, high: Decimal, what: Message) -> str | Message | None:
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        return "must be a decimal number"
    value = Decimal(value)
    if not value.is_finite() or not Decimal(0) <= value <= high:
        return Message("must be {what}", what=what)
    return None


def retention_clv(
    annual_spend: Decimal,
    gross_margin: Decimal,
    retention: Decimal,
    discount_rate: Decimal,
    years: int | None = None,
    convention: Convention | str = Convention.END_OF_YEAR,
) -> RetentionClv:
    """CLV of one customer under the retention model, to the fen.

    ``years=None`` is an unbounded horizon: the total is the closed form (end_of_year
    m/(1+d−r), retained_only m·r/(1+d−r), start_of_year m(1+d)/(1+d−r)), defined only when
    r < 1 + d, and the schedule shows the first ``SCHEDULE_CAP`` years. A bounded horizon sums
    its ``years`` terms exactly. Inputs out of range raise ``Invalid`` naming every offending
    field as the API names it; a diverging unbounded series raises ``clv_diverges``.
    """
    problems: list[FieldError] = []
    for name, value, high, what in (
        ("annual_spend", annual_spend, Decimal("1e15"), Message("≥ 0")),
        ("gross_margin", gross_margin, Decimal(1), Message("between 0 and 1")),
        ("retention", retention, Decimal(1), Message("between 0 and 1")),
        ("discount_rate", discount_rate, Decimal(1), Message("between 0 and 1")),
    ):
        problem = _rate_problem(value, high=high, what=what)
        if problem:
            problems.append(FieldError(name, problem))
    if years is not None and (
        not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= MAX_YEARS
    ):
        problems.append(
            FieldError("years", "must be null (unbounded) or 1..{max_years}", max_years=MAX_YEARS)
        )
    try:
        convention = Convention(convention)
    except ValueError:
        choices = ", ".join(c.value for c in Convention)
        problems.append(FieldError("convention", "must be one of {choices}", choices=choices))
    if problems:
        summary = Summary(problems)
        raise Invalid(
            "invalid_clv_input", "Invalid CLV input. {summary}", errors=problems, summary=summary
        )
    spend, margin_rate = Decimal(annual_spend), Decimal(gross_margin)
    r, d = Decimal(retention), Decimal(discount_rate)
    if years is None and r >= 1 + d:
        raise Invalid(
            "clv_diverges",
            "With an unbounded horizon the retention ({r}) must be below 1 + the discount "
            "rate ({value}): the series does not converge. Give `years` or lower the "
            "retention.",
            field="retention",
            r=r,
            value=1 + d,
        )

    with localcontext() as ctx:
        ctx.prec = _PRECISION
        m = spend * margin_rate
        growth = 1 + d
        rows = []
        exact_sum = Decimal(0)
        r_power = Decimal(1)  # r^(t−1)
        growth_power = Decimal(1)  # (1+d)^(t−1)
        for t in range(1, (years or SCHEDULE_CAP) + 1):
            survival = r_power * r if convention is Convention.RETAINED_ONLY else r_power
            if convention is Convention.START_OF_YEAR:
                discount = 1 / growth_power
            else:
                discount = 1 / (growth_power * growth)
            present = m * survival * discount
            exact_sum += present
            rows.append(
                ScheduleRow(
                    year=t,
                    margin=_round_fen(m),
                    survival=survival.quantize(FACTOR, ROUND_HALF_UP),
                    discount_factor=discount.quantize(FACTOR, ROUND_HALF_UP),
                    present_value=_round_fen(present),
                )
            )
            r_power *= r
            growth_power *= growth
        if years is None:
            closed = m / (growth - r)
            if convention is Convention.RETAINED_ONLY:
                closed *= r
            elif convention is Convention.START_OF_YEAR:
                closed *= growth
            total = closed
        else:
            total = exact_sum
        return RetentionClv(
            clv=_round_fen(total),
            annual_margin=_round_fen(m),
            convention=convention,
            years=years,
            schedule=tuple(rows),
        )


@dataclass(frozen=True)
class ValueBreakdown:
    historical: Decimal
    current: Decimal
    potential: Decimal
    total: Decimal


def value_breakdown(
    historical_value: Decimal, current_value: Decimal, potential_value: Decimal
) -> ValueBreakdown:
    """docs/domain §6: CLV = historical value (realised margin to date) + current value (the future
    value if behaviour stays as it is) + potential value (what better behaviour would add:
    cross-sell, referrals, retention). Each to the fen, half up; the total is their sum."""
    parts = [_round_fen(Decimal(v)) for v in (historical_value, current_value, potential_value)]
    return ValueBreakdown(*parts, total=sum(parts, Decimal("0.00")))


# ---------------------------------------------------------------------------------------------
# Time units and discounting for the fitted models
# ---------------------------------------------------------------------------------------------

DAYS_PER_YEAR = 365.25
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": DAYS_PER_YEAR / 12}


def period_discount_rate(annual_rate: float, time_unit: str) -> float:
    """The per-period rate equivalent to ``annual_rate`` compounded:
    (1 + annual)^(days per period / 365.25) − 1. A week at 10 % a year: 0.1829 %;
    a month: 0.7974 %; a day: 0.02610 %. ``time_unit`` is ``day``, ``week`` or ``month``."""
    if time_unit not in PERIOD_DAYS:
        raise Invalid("invalid_time_unit", "must be day, week or month", field="time_unit")
    if not (math.isfinite(annual_rate) and 0 <= annual_rate <= 10):
        raise Invalid(
            "invalid_discount_rate", "must be between 0 and 10", field="annual_discount_rate"
        )
    return (1 + annual_rate) ** (PERIOD_DAYS[time_unit] / DAYS_PER_YEAR) - 1


# ---------------------------------------------------------------------------------------------
# Fitting helpers
# ---------------------------------------------------------------------------------------------

MIN_CUSTOMERS = 10  # BG/NBD: fewer customers than this are refused (insufficient_data)
MIN_REPEAT_CUSTOMERS = 5  # ... and fewer customers with a repeat purchase than this
# A fitted parameter beyond 1e6 or below 1e-6 (on data scaled so that the longest T, or the
# largest spend, is 10) means the likelihood keeps rising towards a boundary: the data show no
# heterogeneity or no dropout, and the model degenerates. Such fits are refused.
MAX_LOG_PARAM = math.log(1e6)
_GTOL = 1e-9  # gradient norm of the mean log-likelihood at which a fit has converged
_ACCEPT_GTOL = 1e-5  # ... and the most a fit that stalled at machine precision may have left


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS: a threaded BLAS dot stalls for milliseconds on a busy machine, and a
    plain pairwise sum is deterministic."""
    return float(np.sum(a * b))


def _array(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    if out.ndim != 1:
        raise Invalid("invalid_clv_data", "{name} must be one-dimensional", field=name, name=name)
    if not np.all(np.isfinite(out)):
        raise Invalid("invalid_clv_data", "{name} has non-finite values", field=name, name=name)
    return out


def _rfm(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, tx, age = _array("frequency", frequency), _array("recency", recency), _array("T", T)
    if not (len(x) == len(tx) == len(age)):
        raise Invalid("invalid_clv_data", "frequency, recency and T differ in length")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise Invalid("invalid_clv_data", "frequency must be whole numbers ≥ 0", field="frequency")
    if np.any(tx < 0) or np.any(tx > age * (1 + 1e-12) + 1e-12):
        raise Invalid("invalid_clv_data", "need 0 ≤ recency ≤ T", field="recency")
    return x, np.where(x > 0, tx, 0.0), age


def _collapse(*columns: np.ndarray, weights: np.ndarray | None = None):
    """Identical rows once, with their count (or summed weights), and the map back."""
    stacked = np.column_stack(columns)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, weights=weights, minlength=len(unique)).astype(np.float64)
    return unique, counts, inverse


@dataclass(frozen=True)
class _Optimum:
    theta: np.ndarray
    nll: float  # mean negative log-likelihood (per unit of weight)
    converged: bool
    iterations: int
    message: str  # the optimiser's own words, stored with the fit


def _maximise(objective, theta0: np.ndarray) -> _Optimum:
    """BFGS on the mean negative log-likelihood in log-parameters, with the analytic
    gradient; if BFGS stops short of ``_GTOL`` (it often does, at the limit of the line
    search's precision), up to three Newton steps on a finite-difference Hessian of that
    gradient, each kept only if it shrinks the gradient without raising the objective."""
    low, high = -MAX_LOG_PARAM - 5, MAX_LOG_PARAM + 5

    def guarded(theta: np.ndarray) -> tuple[float, np.ndarray]:
        # Outside the box the parameters would overflow: evaluate at the box and add a
        # quadratic wall so that BFGS turns back (inside the box it is the exact objective).
        clipped = np.clip(theta, low, high)
        value, grad = objective(clipped)
        outside = theta - clipped
        return value + _dot(outside, outside), grad + 2 * outside

    with np.errstate(all="ignore"):
        result = minimize(
            guarded,
            theta0,
            jac=True,
            method="BFGS",
            options={"gtol": _GTOL, "maxiter": 2000},
        )
        theta, value = np.asarray(result.x, dtype=np.float64), float(result.fun)
        grad = guarded(theta)[1]
        newton = 0
        for _ in range(3):
            if not np.all(np.isfinite(grad)) or np.max(np.abs(grad)) <= _GTOL:
                break
            hessian = _numeric_hessian(lambda t: guarded(t)[1], theta)
            try:
                step = np.linalg.solve(hessian, grad)
            except np.linalg.LinAlgError:
                break
            candidate = theta - step
            cand_value, cand_grad = guarded(candidate)
            # At the optimum the objective is flat to rounding: a step counts if it does not
            # raise it beyond rounding and shrinks the gradient.
            slack = 1e-13 * max(1.0, abs(value))
            if not (
                np.isfinite(cand_value)
                and cand_value <= value + slack
                and np.max(np.abs(cand_grad)) < np.max(np.abs(grad))
            ):
                break
            theta, value, grad = candidate, cand_value, cand_grad
            newton += 1
    gnorm = float(np.max(np.abs(grad))) if np.all(np.isfinite(grad)) else math.inf
    converged = bool(np.isfinite(value)) and (
        gnorm <= _GTOL * 10 or (gnorm <= _ACCEPT_GTOL and result.status in (0, 2))
    )
    message = f"{result.message} Largest gradient {gnorm:.1e} after {newton} Newton step(s)."
    return _Optimum(theta, value, converged, int(result.nit), message)


def _numeric_hessian(gradient, theta: np.ndarray, step: float = 1e-5) -> np.ndarray:
    n = len(theta)
    hessian = np.empty((n, n))
    for i in range(n):
        shift = np.zeros(n)
        shift[i] = step
        hessian[i] = (gradient(theta + shift) - gradient(theta - shift)) / (2 * step)
    return (hessian + hessian.T) / 2


def _check_optimum(model: str, opt: _Optimum, names: Sequence[str]) -> None:
    if not np.isfinite(opt.nll) or not np.all(np.isfinite(opt.theta)):
        raise Invalid(
            "clv_fit_failed",
            "The {model} likelihood could not be evaluated on this data.",
            model=model,
        )
    for name, value in zip(names, opt.theta, strict=True):
        if abs(value) > MAX_LOG_PARAM:
            raise Invalid(
                "clv_fit_failed",
                "The {model} fit is degenerate: parameter {name} runs off to {value} (the "
                "data show too little variation for the model).",
                extra={"parameter": name},
                model=model,
                name=name,
                value="infinity" if value > 0 else "zero",
            )
    if not opt.converged:
        raise Invalid(
            "clv_fit_failed",
            "The {model} fit did not converge after {iterations} iterations: {message_name}",
            model=model,
            iterations=opt.iterations,
            message_name=opt.message,
        )


# ---------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdFit:
    """Purchases of an alive customer ~ Poisson(λ), λ ~ Gamma(r, α) across customers (α in
    periods); after each repeat purchase the customer drops out with probability
    p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float  # total over the customers fitted
    converged: bool
    iterations: int
    message: str
    customers: int = 0


def _bgnbd_objective(zero_T: np.ndarray, zero_w: np.ndarray, rows: np.ndarray, w: np.ndarray):
    """Mean negative log-likelihood and its gradient in (log r, log α, log a, log b).

    Customers without a repeat purchase contribute r·ln α − r·ln(α+T) (t_x plays no part, so
    they are grouped by T alone). For the others, with D = ln a − ln(b+x−1) +
    (r+x)(ln(α+T) − ln(α+t_x)), ln(A3 + A4) = −(r+x)·ln(α+T) + softplus(D), and the share of
    the "dropped out after the last purchase" branch is s = expit(D)."""
    x, tx, age = rows[:, 0], rows[:, 1], rows[:, 2]
    xs, xi = np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    wx = np.bincount(xi, weights=w, minlength=len(xs))  # weight per distinct x
    total = float(w.sum() + zero_w.sum())

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(theta)
        log_alpha = np.log(alpha)
        # Terms depending on x only: once per distinct x, weighted by its customers.
        g = (
            gammaln(r + xs)
            - gammaln(r)
            + gammaln(b + xs)
            - gammaln(b)
            + gammaln(a + b)
            - gammaln(a + b + xs)
        )
        dg_r = digamma(r + xs) - digamma(r)
        dg_a = digamma(a + b) - digamma(a + b + xs)
        dg_b = digamma(b + xs) - digamma(b) + dg_a
        log_b = np.log(b + xs - 1)
        # No repeat purchase.
        log_z = np.log(alpha + zero_T)
        ll = float(zero_w.sum()) * r * log_alpha - r * _dot(zero_w, log_z)
        d_r = _dot(zero_w, log_alpha - log_z)
        d_alpha = r * _dot(zero_w, 1 / alpha - 1 / (alpha + zero_T))
        # Repeat purchasers.
        rx = r + x
        log_at, log_atx = np.log(alpha + age), np.log(alpha + tx)
        gap = log_at - log_atx
        dropped = np.log(a) - log_b[xi] + rx * gap
        s = expit(dropped)
        ll += _dot(wx, g) + _dot(w, r * log_alpha - rx * log_at + np.logaddexp(0.0, dropped))
        d_r += _dot(wx, dg_r) + _dot(w, log_alpha - log_at + s * gap)
        inv_at, inv_atx = 1 / (alpha + age), 1 / (alpha + tx)
        d_alpha += _dot(w, r / alpha - rx * inv_at + s * rx * (inv_at - inv_atx))
        ws = w * s
        d_a = _dot(wx, dg_a) + ws.sum() / a
        d_b = _dot(wx, dg_b) - _dot(
            np.bincount(xi, weights=ws, minlength=len(xs)), 1 / (b + xs - 1)
        )
        grad = np.array([r * d_r, alpha * d_alpha, a * d_a, b * d_b])
        return -float(ll) / total, -grad / total

    return objective


def fit_bgnbd(
    frequency: Sequence[float] | np.ndarray,
    recency: Sequence[float] | np.ndarray,
    T: Sequence[float] | np.ndarray,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD (Fader, Hardie & Lee 2005, eq. 6):

        L(r, α, a, b | x, t_x, T) = Γ(r+x) α^r / Γ(r) · B(a, b+x)/B(a, b)
            · [ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]

    maximised over log r, log α, log a, log b (BFGS with the analytic gradient; identical
    (x, t_x, T) rows are evaluated once, weighted by their count). Times are in any one unit;
    α comes out in that unit. ``weights`` (optional) counts customers per row, e.g. when the
    rows were already grouped in SQL. Refuses (``Invalid``) too little data —
    ``insufficient_data`` — and fits that diverge or do not converge — ``clv_fit_failed``.
    """
    x, tx, age = _rfm(frequency, recency, T)
    w = None if weights is None else _array("weights", weights)
    if w is not None and (len(w) != len(x) or np.any(w < 0)):
        raise Invalid("invalid_clv_data", "weights must be ≥ 0, one per customer", field="weights")
    customers = float(len(x) if w is None else w.sum())
    repeaters = float(np.sum(x > 0) if w is None else w[x > 0].sum())
    if customers < MIN_CUSTOMERS:
        raise Invalid(
            "insufficient_data",
            "BG/NBD needs at least {min_customers} customers; got {customers:g}.",
            extra={"customers": customers},
            min_customers=MIN_CUSTOMERS,
            customers=customers,
        )
    if repeaters < MIN_REPEAT_CUSTOMERS:
        raise Invalid(
            "insufficient_data",
            "BG/NBD needs at least {min_repeat_customers} customers with a repeat purchase; "
            "got {repeaters:g}.",
            extra={"repeat_customers": repeaters},
            min_repeat_customers=MIN_REPEAT_CUSTOMERS,
            repeaters=repeaters,
        )
    # Times scaled so that the longest T is 10 (as lifetimes does): all start values are 1.
    scale = 10.0 / float(age.max()) if age.max() > 0 else 1.0
    weight = np.ones(len(x)) if w is None else w
    zero = (x == 0) & (weight > 0)
    repeat = (x > 0) & (weight > 0)
    zero_T, zero_w, _ = _collapse(age[zero] * scale, weights=weight[zero])
    rows, counts, _ = _collapse(
        x[repeat], tx[repeat] * scale, age[repeat] * scale, weights=weight[repeat]
    )
    objective = _bgnbd_objective(zero_T[:, 0], zero_w, rows, counts)
    opt = _maximise(objective, np.zeros(4))
    _check_optimum("BG/NBD", opt, ("r", "alpha", "a", "b"))
    r, alpha_scaled, a, b = np.exp(opt.theta)
    alpha = alpha_scaled / scale
    per_customer = _bgnbd_loglik(r, alpha, a, b, x, tx, age)  # in the caller's time unit
    log_likelihood = float(per_customer.sum()) if w is None else _dot(w, per_customer)
    return BgNbdFit(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=log_likelihood,
        converged=opt.converged,
        iterations=opt.iterations,
        message=opt.message,
        customers=round(customers),
    )


def _bgnbd_loglik(r, alpha, a, b, x, tx, age) -> np.ndarray:
    """Per-customer log-likelihood (the fit's objective, unscaled), for reporting and tests."""
    repeat = x > 0
    a3 = -(r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            repeat,
            np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
        + np.logaddexp(a3, a4)
    )


def bgnbd_log_likelihood(fit: BgNbdFit, frequency, recency, T) -> float:
    """Total log-likelihood of the data under ``fit``'s parameters."""
    x, tx, age = _rfm(frequency, recency, T)
    return float(np.sum(_bgnbd_loglik(fit.r, fit.alpha, fit.a, fit.b, x, tx, age)))


def p_alive(fit: BgNbdFit, frequency, recency, T) -> np.ndarray:
    """P(alive | x, t_x, T) (eq. 13): 1 / (1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)).
    It is 1 for a customer who never came back (x = 0): in BG/NBD a customer can drop out
    only right after a repeat purchase."""
    x, tx, age = _rfm(frequency, recency, T)
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(fit.a)
            - np.log(np.where(repeat, fit.b + x - 1, 1.0))
            + (fit.r + x) * (np.log(fit.alpha + age) - np.log(fit.alpha + tx))
        )
    return np.where(repeat, expit(-log_odds), 1.0)


def _expected_if_alive(fit: BgNbdFit, t, x: np.ndarray, age: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T] — eq. 10 without its P(alive) factor:
    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)], z = t/(α+T+t).

    Euler's transformation 2F1(A, B; C; z) = (1−z)^(C−A−B) · 2F1(C−A, C−B; C; z) turns the
    bracket into 1 − (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z): the same value, but the
    2F1's numerator parameters no longer grow with x, so it neither overflows for frequent
    buyers (the original one is ~1e46 at x = 178) nor loses digits."""
    r, alpha, b = fit.r, fit.alpha, fit.b
    a = fit.a if abs(fit.a - 1) > 1e-9 else 1 + 1e-9  # removable singularity at a = 1
    t = np.asarray(t, dtype=np.float64)
    horizon = alpha + age + t
    hyp = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, t / horizon)
    log_kept = (a - 1) * (np.log(alpha + age) - np.log(horizon))  # (a−1)·ln(1−z)
    with np.errstate(divide="ignore", invalid="ignore"):
        # 1 − tail as −expm1(ln tail): exact for small t, where the tail → 1; the plain
        # difference where the 2F1 is not positive (possible only when a + b + x − 1 < 1).
        one_minus_tail = np.where(
            hyp > 0, -np.expm1(log_kept + np.log(hyp)), 1 - np.exp(log_kept) * hyp
        )
    return np.maximum((a + b + x - 1) / (a - 1) * one_minus_tail, 0.0)


def expected_purchases(fit: BgNbdFit, t: float, frequency, recency, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T] (eq. 10): expected purchases in the next ``t`` periods after T,
    = P(alive) × the expectation of an alive customer."""
    x, tx, age = _rfm(frequency, recency, T)
    if not (math.isfinite(t) and t >= 0):
        raise Invalid("invalid_clv_data", "t must be ≥ 0", field="t")
    return p_alive(fit, x, tx, age) * _expected_if_alive(fit, t, x, age)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaFit:
    """A purchase's value ~ Gamma(p, ν), ν ~ Gamma(q, γ) across customers (γ = ``v``, in
    money); the mean purchase value across customers is p·v/(q−1)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    customers: int = 0

    @property
    def mean_value(self) -> float:
        return self.p * self.v / (self.q - 1)


def _gg_objective(x: np.ndarray, m: np.ndarray, w: np.ndarray):
    """Mean negative log-likelihood and gradient in (log p, log q, log γ). The Γ and ψ terms
    depend on x alone (computed once per distinct x); per customer only ln(x·m + γ) is left."""
    xs, xi = np.unique(x, return_inverse=True)
    xi = xi.reshape(-1)
    wx = np.bincount(xi, weights=w, minlength=len(xs))  # weight per distinct x
    xm = x * m
    total = float(w.sum())
    wxlogm, wlogm = _dot(w, x * np.log(m)), _dot(w, np.log(m))
    wxlogx = _dot(w, x * np.log(x))

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(theta)
        pxs = p * xs
        log_xmv = np.log(xm + v)
        wl, wxl = _dot(w, log_xmv), _dot(w * x, log_xmv)
        ll = (
            _dot(wx, gammaln(pxs + q) - gammaln(pxs))
            - total * gammaln(q)
            + total * q * np.log(v)
            + p * wxlogm
            - wlogm
            + p * wxlogx
            - p * wxl
            - q * wl
        )
        psi_pq = digamma(pxs + q)
        d_p = _dot(wx * xs, psi_pq - digamma(pxs)) + wxlogm + wxlogx - wxl
        d_q = _dot(wx, psi_pq) - total * digamma(q) + total * np.log(v) - wl
        d_v = total * q / v - _dot(w, (p * x + q) / (xm + v))
        grad = np.array([p * d_p, q * d_q, v * d_v])
        return -float(ll) / total, -grad / total

    return objective


def _gg_loglik(p, q, v, x, m) -> np.ndarray:
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )


def fit_gamma_gamma(
    frequency: Sequence[float] | np.ndarray,
    monetary_value: Sequence[float] | np.ndarray,
    *,
    weights: Sequence[float] | np.ndarray | None = None,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 3-4) on the
    customers with frequency > 0 and a positive mean spend (the others carry no information
    about spend per purchase and are left out). The density of the mean m_x of x purchases:

        f(m_x | p, q, γ; x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q x^(px) m_x^(px−1) / (γ + x·m_x)^(px+q)

    maximised over log p, log q, log γ. Refuses fewer than ``MIN_REPEAT_CUSTOMERS`` such
    customers (``insufficient_data``) and fits with q ≤ 1 — the mean spend would be infinite —
    or that diverge (``clv_fit_failed``)."""
    x, m = _array("frequency", frequency), _array("monetary_value", monetary_value)
    if len(x) != len(m):
        raise Invalid("invalid_clv_data", "frequency and monetary_value differ in length")
    w = np.ones(len(x)) if weights is None else _array("weights", weights)
    if len(w) != len(x) or np.any(w < 0):
        raise Invalid("invalid_clv_data", "weights must be ≥ 0, one per customer", field="weights")
    keep = (x > 0) & (m > 0) & (w > 0)
    x, m, w = x[keep], m[keep], w[keep]
    if w.sum() < MIN_REPEAT_CUSTOMERS:
        raise Invalid(
            "insufficient_data",
            "Gamma-Gamma needs at least {min_repeat_customers} customers with a repeat "
            "purchase and a positive spend; got {w:g}.",
            extra={"repeat_customers": float(w.sum())},
            min_repeat_customers=MIN_REPEAT_CUSTOMERS,
            w=w.sum(),
        )
    scale = 10.0 / float(m.max())  # spend scaled so that the largest is 10: start values 1
    opt = _maximise(_gg_objective(x, m * scale, w), np.zeros(3))
    _check_optimum("Gamma-Gamma", opt, ("p", "q", "v"))
    p, q, v_scaled = np.exp(opt.theta)
    v = v_scaled / scale
    if q <= 1:
        raise Invalid(
            "clv_fit_failed",
            "The Gamma-Gamma fit has q = {q:.3f} ≤ 1: spend per purchase is too heavy-tailed "
            "for the model (its mean would be infinite).",
            extra={"parameter": "q"},
            q=q,
        )
    return GammaGammaFit(
        p=float(p),
        q=float(q),
        v=float(v),
        log_likelihood=_dot(w, _gg_loglik(p, q, v, x, m)),
        converged=opt.converged,
        iterations=opt.iterations,
        message=opt.message,
        customers=round(float(w.sum())),
    )


def expected_average_value(gg: GammaGammaFit, frequency, monetary_value) -> np.ndarray:
    """E[value of a purchase | x, m_x] (eq. 5): (γ + x·m_x)·p / (p·x + q − 1), a weighted mean
    of the population mean p·γ/(q−1) and the customer's own mean m_x; the population mean
    for x = 0, and m_x taken as 0 when it is not positive (net refunds)."""
    x, m = _array("frequency", frequency), _array("monetary_value", monetary_value)
    if len(x) != len(m) or np.any(x < 0):
        raise Invalid("invalid_clv_data", "need frequency ≥ 0 and one monetary value each")
    m = np.where(x > 0, np.maximum(m, 0.0), 0.0)
    return (gg.v + x * m) * gg.p / (gg.p * x + gg.q - 1)


# ---------------------------------------------------------------------------------------------
# Discounted CLV, the value breakdown and the value quadrant
# ---------------------------------------------------------------------------------------------

# Ten years in days. The cost is one 2F1 per distinct (x, T) per period: 10,000 distinct
# customers over 365 periods take about a second.
MAX_HORIZON_PERIODS = 3660
_BLOCK = 2_000_000  # elements of a (periods × customers) block evaluated at once


def _discounted_alive_purchases(
    fit: BgNbdFit, x: np.ndarray, age: np.ndarray, horizon: int, rate: float
) -> np.ndarray:
    """Σ_{k=1..H} [E_alive(k) − E_alive(k−1)] / (1+d)^k per customer; depends on x and T only,
    so each distinct (x, T) is computed once."""
    rows, _, inverse = _collapse(x, age)
    steps = np.arange(horizon + 1, dtype=np.float64)[:, None]
    discount = ((1 + rate) ** -np.arange(1, horizon + 1, dtype=np.float64))[:, None]
    out = np.empty(len(rows))
    block = max(1, _BLOCK // (horizon + 1))
    for start in range(0, len(rows), block):
        ux, ut = rows[start : start + block, 0], rows[start : start + block, 1]
        cumulative = _expected_if_alive(fit, steps, ux[None, :], ut[None, :])
        out[start : start + block] = (discount * np.diff(cumulative, axis=0)).sum(axis=0)
    return out[inverse]


def _check_horizon(horizon_periods: int, period_discount_rate: float) -> None:
    if not (
        isinstance(horizon_periods, int | np.integer)
        and 1 <= horizon_periods <= MAX_HORIZON_PERIODS
    ):
        raise Invalid(
            "invalid_clv_data",
            "horizon_periods must be 1..{max_horizon_periods}",
            field="horizon_periods",
            max_horizon_periods=MAX_HORIZON_PERIODS,
        )
    if not (math.isfinite(period_discount_rate) and 0 <= period_discount_rate < 1):
        raise Invalid(
            "invalid_clv_data", "the period discount rate must be in [0, 1)", field="discount_rate"
        )


def discounted_clv(
    fit: BgNbdFit,
    gg: GammaGammaFit,
    frequency,
    recency,
    T,
    monetary_value,
    horizon_periods: int,
    period_discount_rate: float,
) -> np.ndarray:
    """Discounted expected spend over the next ``horizon_periods`` periods, the way lifetimes'
    ``customer_lifetime_value`` does it but per period of the fit's unit:

        CLV = Σ_{k=1..H} [E(Y(k)) − E(Y(k−1))] · E[value] / (1 + d)^k

    with E(Y(k)) from ``expected_purchases``, E[value] from ``expected_average_value`` and d
    the per-period rate (``period_discount_rate`` converts an annual one). lifetimes sums
    monthly steps with a monthly rate; the two agree when the period is a month."""
    _check_horizon(horizon_periods, period_discount_rate)
    x, tx, age = _rfm(frequency, recency, T)
    value = expected_average_value(gg, x, monetary_value)
    alive = _discounted_alive_purchases(fit, x, age, int(horizon_periods), period_discount_rate)
    return p_alive(fit, x, tx, age) * alive * value


@dataclass(frozen=True)
class MemberValues:
    """Per customer (arrays aligned with the input), money in the unit of ``monetary_value``
    times ``margin``."""

    p_alive: np.ndarray
    expected_purchases: np.ndarray  # over the horizon
    expected_average_value: np.ndarray  # spend per purchase (before the margin)
    historical: np.ndarray  # realised value to date: historical spend × margin
    current: np.ndarray  # discounted CLV if behaviour stays as it is
    potential: np.ndarray  # what keeping the customer surely alive would add
    total: np.ndarray  # historical + current + potential


def member_values(
    fit: BgNbdFit,
    gg: GammaGammaFit,
    frequency,
    recency,
    T,
    monetary_value,
    historical_spend,
    horizon_periods: int,
    period_discount_rate: float,
    *,
    margin: float = 1.0,
) -> MemberValues:
    """Everything the members view shows, in one pass (docs/domain §6.2 breakdown):

    - historical = ``historical_spend`` × margin (what the customer has brought so far);
    - current = ``discounted_clv`` × margin (future value if behaviour stays as it is);
    - potential = (discounted CLV of the same customer were they surely still alive − current
      CLV) × margin = current · (1 − P(alive)) / P(alive): the value a retention or win-back
      action could add. Cross-sell and referrals leave no trace in transactions, so this is
      the part of "better behaviour" the model can measure;
    - total = historical + current + potential.
    ``margin`` = 1 (the default) reports spend; a gross margin (e.g. 0.3) reports margin.
    """
    _check_horizon(horizon_periods, period_discount_rate)
    if not (math.isfinite(margin) and -1 <= margin <= 1):
        raise Invalid("invalid_clv_data", "margin must be between -1 and 1", field="margin")
    x, tx, age = _rfm(frequency, recency, T)
    history = _array("historical_spend", historical_spend)
    if len(history) != len(x):
        raise Invalid("invalid_clv_data", "historical_spend differs in length")
    value = expected_average_value(gg, x, monetary_value)
    alive_p = p_alive(fit, x, tx, age)
    horizon = int(horizon_periods)
    purchases_if_alive = _expected_if_alive(fit, float(horizon), x, age)
    if_alive = _discounted_alive_purchases(fit, x, age, horizon, period_discount_rate) * value
    current = alive_p * if_alive
    return MemberValues(
        p_alive=alive_p,
        expected_purchases=alive_p * purchases_if_alive,
        expected_average_value=value,
        historical=history * margin,
        current=current * margin,
        potential=(if_alive - current) * margin,
        total=(history + if_alive) * margin,
    )


class ValueQuadrant(StrEnum):
    """docs/domain §6.2, current value × future (potential) value (客户价值矩阵)."""

    VIP = "vip"  # 贵宾型 (MVC): high current, high potential
    IMPROVE = "improve"  # 改进型 (MGC): low current, high potential
    MAINTAIN = "maintain"  # 维持型: high current, low potential
    ABANDON = "abandon"  # 放弃型 (below zero): low current, low potential


@dataclass(frozen=True)
class ValueThresholds:
    """Cut points of the value quadrant; a value is *high* when strictly above its cut.

    An axis given an amount (``current`` / ``potential``, in the unit of the values) uses it;
    an axis without one uses the ``quantile`` of that axis over the customers classified
    together — by default the median, so each axis splits the tenant's customers in halves.
    """

    current: float | Decimal | None = None
    potential: float | Decimal | None = None
    quantile: float = 0.5

    def __post_init__(self) -> None:
        if not (isinstance(self.quantile, float | int) and 0 < self.quantile < 1):
            raise Invalid(
                "invalid_value_thresholds", "quantile must be in (0, 1)", field="quantile"
            )
        for name in ("current", "potential"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(float(value)):
                raise Invalid("invalid_value_thresholds", "must be a finite amount", field=name)


@dataclass(frozen=True)
class Quadrants:
    labels: np.ndarray  # one ValueQuadrant value (str) per customer
    current_threshold: float  # the cuts actually used
    potential_threshold: float


def value_quadrants(
    current_value, potential_value, thresholds: ValueThresholds | None = None
) -> Quadrants:
    """Place each customer in the value quadrant (see ``ValueQuadrant``)."""
    thresholds = thresholds or ValueThresholds()
    current, potential = _array("current", current_value), _array("potential", potential_value)
    if len(current) != len(potential):
        raise Invalid("invalid_clv_data", "current and potential values differ in length")

    def cut(values: np.ndarray, given) -> float:
        if given is not None:
            return float(given)
        return float(np.quantile(values, thresholds.quantile)) if len(values) else 0.0

    cut_current = cut(current, thresholds.current)
    cut_potential = cut(potential, thresholds.potential)
    high_c, high_p = current > cut_current, potential > cut_potential
    labels = np.where(
        high_c,
        np.where(high_p, ValueQuadrant.VIP.value, ValueQuadrant.MAINTAIN.value),
        np.where(high_p, ValueQuadrant.IMPROVE.value, ValueQuadrant.ABANDON.value),
    )
    return Quadrants(labels, cut_current, cut_potential)
