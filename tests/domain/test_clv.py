"""Customer lifetime value (docs/domain §6): the retention model on every exercise to the
fen, its properties, and the BG/NBD and Gamma-Gamma fits recovering known parameters from
synthetic customers."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import clv
from app.domain.clv import (
    BgNbdFit,
    Convention,
    GammaGammaFit,
    ValueQuadrant,
    ValueThresholds,
    bgnbd_log_likelihood,
    discounted_clv,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    member_values,
    p_alive,
    period_discount_rate,
    retention_clv,
    value_breakdown,
    value_quadrants,
)
from app.domain.clv_simulation import simulate_bgnbd, simulate_spend
from app.domain.errors import Invalid

D = Decimal
EOY, RET, SOY = Convention.END_OF_YEAR, Convention.RETAINED_ONLY, Convention.START_OF_YEAR

# ---------------------------------------------------------------------------------------------
# The retention model: every exercise of docs/domain §6, to the fen
# ---------------------------------------------------------------------------------------------

# Exercise (seed): spend 2000, margin 50 %, r 0.8, d 8 %: unbounded 3571.43 / 2857.14 /
# 3857.14; T = 5: 2774.95 / 2219.96 / 2996.95 — the "a / b / c" order of the docs is
# end_of_year / retained_only / start_of_year. Exercise: 5000, 25 %, 0.7, 6 %: unbounded
# 3472.22 / 2430.56 / 3680.56.
DOMAIN_EXERCISES = [
    ("2000", "0.5", "0.8", "0.08", None, EOY, "3571.43"),
    ("2000", "0.5", "0.8", "0.08", None, RET, "2857.14"),
    ("2000", "0.5", "0.8", "0.08", None, SOY, "3857.14"),
    ("2000", "0.5", "0.8", "0.08", 5, EOY, "2774.95"),
    ("2000", "0.5", "0.8", "0.08", 5, RET, "2219.96"),
    ("2000", "0.5", "0.8", "0.08", 5, SOY, "2996.95"),
    ("5000", "0.25", "0.7", "0.06", None, EOY, "3472.22"),
    ("5000", "0.25", "0.7", "0.06", None, RET, "2430.56"),
    ("5000", "0.25", "0.7", "0.06", None, SOY, "3680.56"),
]


@pytest.mark.parametrize(
    ("spend", "margin", "retention", "rate", "years", "convention", "expected"),
    DOMAIN_EXERCISES,
)
def test_domain_exercises_to_the_fen(spend, margin, retention, rate, years, convention, expected):
    result = retention_clv(D(spend), D(margin), D(retention), D(rate), years, convention)
    assert result.clv == D(expected)
    assert result.clv.as_tuple().exponent == -2
    assert result.annual_margin == (D(spend) * D(margin)).quantize(D("0.01"))
    assert result.convention is convention


def test_each_exercise_matches_only_its_own_convention():
    """The exercises' figures pin the conventions down: no other convention gives them."""
    for spend, margin, retention, rate, years, convention, expected in DOMAIN_EXERCISES:
        others = {
            c: retention_clv(D(spend), D(margin), D(retention), D(rate), years, c).clv
            for c in Convention
            if c is not convention
        }
        assert D(expected) not in others.values()


def test_five_year_schedule_of_the_seed_exercise():
    result = retention_clv(D(2000), D("0.5"), D("0.8"), D("0.08"), 5, EOY)
    rows = result.schedule
    assert [r.year for r in rows] == [1, 2, 3, 4, 5]
    assert {r.margin for r in rows} == {D("1000.00")}
    assert [r.survival for r in rows] == [D(s) for s in ("1", "0.8", "0.64", "0.512", "0.4096")]
    assert rows[0].discount_factor == D("0.9259259259")  # 1/1.08
    assert rows[1].discount_factor == D("0.8573388203")  # 1/1.08²
    assert [r.present_value for r in rows] == [
        D(v) for v in ("925.93", "685.87", "508.05", "376.34", "278.77")
    ]
    # Rows are rounded one by one (they add up to 2774.96); the total is the exact sum
    # 2774.9518 rounded once.
    assert sum(r.present_value for r in rows) == D("2774.96")
    assert result.clv == D("2774.95")


def test_schedule_factors_per_convention():
    ret = retention_clv(D(2000), D("0.5"), D("0.8"), D("0.08"), 3, RET).schedule
    soy = retention_clv(D(2000), D("0.5"), D("0.8"), D("0.08"), 3, SOY).schedule
    assert [r.survival for r in ret] == [D("0.8"), D("0.64"), D("0.512")]
    assert ret[0].present_value == D("740.74")  # 1000 × 0.8 / 1.08
    assert [r.discount_factor for r in soy][:2] == [D(1), D("0.9259259259")]
    assert soy[0].present_value == D("1000.00")


def test_unbounded_schedule_is_capped_and_the_total_is_the_closed_form():
    result = retention_clv(D(2000), D("0.5"), D("0.8"), D("0.08"))
    assert len(result.schedule) == clv.SCHEDULE_CAP == 100
    assert result.years is None
    # 100 years of rows fall short of the closed form only by its tail 3571.43 × (0.8/1.08)^100.
    assert abs(sum(r.present_value for r in result.schedule) - result.clv) <= D("1.00")
    # With retention 1 and a positive rate the closed form is m/d.
    assert retention_clv(D(1000), D(1), D(1), D("0.1")).clv == D("10000.00")


def test_bounded_horizon_with_retention_one_and_no_discount_is_m_times_years():
    assert retention_clv(D(1000), D("0.3"), D(1), D(0), 7).clv == D("2100.00")
    assert retention_clv(D(1000), D("0.3"), D(0), D(0), 7, EOY).clv == D("300.00")
    assert retention_clv(D(1000), D("0.3"), D(0), D(0), 7, RET).clv == D("0.00")


def test_value_breakdown_of_the_seed():
    """The seed's StreamNow example: 4320 + 3058 + 1487 = 8865."""
    result = value_breakdown(D(4320), D(3058), D(1487))
    assert (result.historical, result.current, result.potential) == (
        D("4320.00"),
        D("3058.00"),
        D("1487.00"),
    )
    assert result.total == D("8865.00")
    assert value_breakdown(D("0.004"), D("0.005"), D("1.115")).total == D("1.13")


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"annual_spend": D(-1)}, {"annual_spend"}),
        ({"gross_margin": D("1.01")}, {"gross_margin"}),
        ({"gross_margin": D("-0.1")}, {"gross_margin"}),
        ({"retention": D("1.2")}, {"retention"}),
        ({"discount_rate": D("-0.01")}, {"discount_rate"}),
        ({"discount_rate": D("NaN")}, {"discount_rate"}),
        ({"years": 0}, {"years"}),
        ({"years": 101}, {"years"}),
        ({"years": True}, {"years"}),
        ({"convention": "mid_year"}, {"convention"}),
        (
            {"annual_spend": D(-1), "retention": D(2), "years": -3},
            {"annual_spend", "retention", "years"},
        ),
    ],
)
def test_out_of_range_inputs_name_every_field(kwargs, fields):
    args = {
        "annual_spend": D(2000),
        "gross_margin": D("0.5"),
        "retention": D("0.8"),
        "discount_rate": D("0.08"),
        "years": None,
        "convention": EOY,
        **kwargs,
    }
    with pytest.raises(Invalid) as caught:
        retention_clv(**args)
    assert caught.value.code == "invalid_clv_input"
    assert {e.field for e in caught.value.errors} == fields


def test_a_diverging_unbounded_series_is_refused():
    with pytest.raises(Invalid) as caught:
        retention_clv(D(2000), D("0.5"), D(1), D(0))
    assert caught.value.code == "clv_diverges"
    assert [e.field for e in caught.value.errors] == ["retention"]


rates = st.decimals(min_value=0, max_value=1, places=3)
spends = st.decimals(min_value=0, max_value=10_000_000, places=2)
conventions = st.sampled_from(list(Convention))


@settings(max_examples=60, deadline=None)
@given(
    spend=spends,
    margin=rates,
    r1=st.decimals(min_value=0, max_value="0.99", places=3),
    r2=st.decimals(min_value=0, max_value="0.99", places=3),
    d=st.decimals(min_value="0.001", max_value=1, places=3),
    years=st.one_of(st.none(), st.integers(1, 100)),
    convention=conventions,
)
def test_clv_grows_with_retention(spend, margin, r1, r2, d, years, convention):
    low, high = sorted([r1, r2])
    a = retention_clv(spend, margin, low, d, years, convention).clv
    b = retention_clv(spend, margin, high, d, years, convention).clv
    assert D(0) <= a <= b


@settings(max_examples=60, deadline=None)
@given(
    spend=spends,
    m1=rates,
    m2=rates,
    r=st.decimals(min_value=0, max_value="0.99", places=3),
    d=st.decimals(min_value=0, max_value=1, places=3),
    years=st.one_of(st.none(), st.integers(1, 100)),
    convention=conventions,
)
def test_clv_grows_with_margin_and_falls_with_the_discount_rate(
    spend, m1, m2, r, d, years, convention
):
    low, high = sorted([m1, m2])
    assert (
        retention_clv(spend, low, r, d, years, convention).clv
        <= retention_clv(spend, high, r, d, years, convention).clv
    )
    assert (
        retention_clv(spend, high, r, min(d + D("0.01"), D(1)), years, convention).clv
        <= retention_clv(spend, high, r, d, years, convention).clv
    )


@settings(max_examples=60, deadline=None)
@given(
    spend=spends,
    margin=rates,
    r=st.decimals(min_value=0, max_value="0.95", places=3),
    d=st.decimals(min_value=0, max_value=1, places=3),
    convention=conventions,
)
def test_bounded_sums_rise_to_the_closed_form(spend, margin, r, d, convention):
    unbounded = retention_clv(spend, margin, r, d, None, convention).clv
    previous = D(0)
    for years in (1, 5, 20, 100):
        bounded = retention_clv(spend, margin, r, d, years, convention).clv
        assert previous <= bounded <= unbounded
        previous = bounded
    # After 100 years what is missing is the closed form × (r/(1+d))^100 ≤ 0.95^100 ≈ 0.006.
    q = r / (1 + d)
    assert unbounded - previous <= unbounded * q**100 + D("0.01")


@settings(max_examples=60, deadline=None)
@given(
    spend=spends,
    margin=rates,
    r=st.decimals(min_value=0, max_value="0.99", places=3),
    d=st.decimals(min_value=0, max_value=1, places=3),
    years=st.one_of(st.none(), st.integers(1, 100)),
)
def test_conventions_are_shifts_of_one_another(spend, margin, r, d, years):
    """retained_only = end_of_year × r and start_of_year = end_of_year × (1+d), exactly before
    rounding; each side is off by at most half a fen (times the factor)."""
    eoy = retention_clv(spend, margin, r, d, years, EOY)
    ret = retention_clv(spend, margin, r, d, years, RET)
    soy = retention_clv(spend, margin, r, d, years, SOY)
    assert abs(ret.clv - eoy.clv * r) <= D("0.011")
    assert abs(soy.clv - eoy.clv * (1 + d)) <= D("0.016")
    assert len(eoy.schedule) == (years or 100)
    for row in eoy.schedule:
        # The row's factors are shown to 10 decimals: present_value is m × them, to the fen.
        exact = spend * margin * row.survival * row.discount_factor
        assert abs(row.present_value - exact) <= D("0.005") + spend * D("2e-10")


# ---------------------------------------------------------------------------------------------
# Discounting and time units
# ---------------------------------------------------------------------------------------------


def test_period_discount_rates_compound_back_to_the_annual_rate():
    for unit, periods in (("day", 365.25), ("week", 365.25 / 7), ("month", 12)):
        rate = period_discount_rate(0.10, unit)
        assert (1 + rate) ** periods == pytest.approx(1.10, rel=1e-12)
    assert period_discount_rate(0.10, "week") == pytest.approx(0.0018283, abs=1e-7)
    assert period_discount_rate(0.0, "month") == 0.0
    with pytest.raises(Invalid):
        period_discount_rate(0.1, "year")
    with pytest.raises(Invalid):
        period_discount_rate(-0.1, "week")


# ---------------------------------------------------------------------------------------------
# BG/NBD and Gamma-Gamma: formulas against the literature
# ---------------------------------------------------------------------------------------------

CDNOW = BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, converged=True,
                 iterations=0, message="published")  # fmt: skip
CDNOW_GG = GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=0.0, converged=True,
                         iterations=0, message="published")  # fmt: skip


def test_conditional_expectation_matches_the_bgnbd_paper():
    """Fader, Hardie & Lee (2005), §5: with the CDNOW estimates, a customer with x = 2,
    t_x = 30.43, T = 38.86 (weeks) is expected to make 1.226 purchases in the next 39 weeks."""
    e = expected_purchases(CDNOW, 39, [2], [30.43], [38.86])
    assert e[0] == pytest.approx(1.226, abs=5e-4)


def test_population_mean_spend_of_the_gamma_gamma_paper():
    # E(Z) = pγ/(q − 1) = 6.25 × 15.44 / 2.74
    assert CDNOW_GG.mean_value == pytest.approx(35.218, abs=1e-3)
    assert expected_average_value(CDNOW_GG, [0], [0])[0] == pytest.approx(35.218, abs=1e-3)


customers = st.tuples(
    st.integers(0, 40), st.floats(0, 1), st.floats(0.5, 200), st.floats(0, 200)
).map(lambda c: (float(c[0]), c[1] * c[2] if c[0] else 0.0, c[2], c[3]))


@settings(max_examples=200, deadline=None)
@given(customer=customers, extra=st.floats(0.01, 50))
def test_p_alive_and_expected_purchases_behave(customer, extra):
    x, tx, T, t = customer
    alive = p_alive(CDNOW, [x], [tx], [T])[0]
    assert 0.0 <= alive <= 1.0
    if x == 0:
        assert alive == 1.0
    else:
        # Longer silence since the last purchase: less likely alive.
        assert p_alive(CDNOW, [x], [tx], [T + extra])[0] <= alive
    e = expected_purchases(CDNOW, t, [x], [tx], [T])[0]
    e_later = expected_purchases(CDNOW, t + extra, [x], [tx], [T])[0]
    assert 0.0 <= e <= e_later


@pytest.mark.parametrize(
    ("a", "b", "x", "t_x", "T"),
    [
        (0.3, 0.5, 0, 0.0, 5.0),  # a + b < 1
        (1.3, 0.5, 0, 0.0, 5.0),  # a > 1
        (0.793, 2.426, 2, 30.43, 38.86),
        (0.32, 1.35, 178, 80.0, 88.7),  # a frequent buyer: the plain 2F1 would be ~1e46
    ],
)
def test_expected_purchases_by_monte_carlo(a, b, x, t_x, T):
    """Given alive at T, λ ~ Gamma(r + x, α + T) and p ~ Beta(a, b + x), and an alive customer
    makes E[(1 − e^(−λpt))/p] purchases in t: E[Y(t)] / P(alive) must equal it."""
    rng = np.random.default_rng(5)
    r, alpha, t = 0.5, 3.0, 10.0
    lam = rng.gamma(r + x, 1 / (alpha + T), 1_000_000)
    p = rng.beta(a, b + x, 1_000_000)
    monte_carlo = np.mean(-np.expm1(-lam * p * t) / p)
    fit = BgNbdFit(r, alpha, a, b, 0.0, True, 0, "")
    expected = expected_purchases(fit, t, [x], [t_x], [T])[0]
    assert expected / p_alive(fit, [x], [t_x], [T])[0] == pytest.approx(monte_carlo, rel=0.01)


def test_expected_average_value_shrinks_towards_the_population_mean():
    x = np.array([1.0, 3.0, 30.0, 2.0])
    m = np.array([100.0, 100.0, 100.0, 5.0])
    value = expected_average_value(CDNOW_GG, x, m)
    mean = CDNOW_GG.mean_value
    # Between the population mean and the customer's own mean, closer to it the more purchases.
    assert np.all((value - mean) * (value - m) <= 0)
    assert abs(value[2] - 100) < abs(value[1] - 100) < abs(value[0] - 100)


def test_gradients_are_those_of_the_likelihood():
    """The analytic gradients the fits use agree with finite differences."""
    rng = np.random.default_rng(7)
    sim = simulate_bgnbd(300, 0.5, 3.0, 0.9, 2.5, rng.uniform(5, 10, 300), rng)
    repeat = sim.frequency > 0
    zero_T, zero_w, _ = clv._collapse(sim.T[~repeat])
    rows, counts, _ = clv._collapse(sim.frequency[repeat], sim.recency[repeat], sim.T[repeat])
    bg = clv._bgnbd_objective(zero_T[:, 0], zero_w, rows, counts)
    m, _ = simulate_spend(sim.frequency[repeat], 3.0, 4.0, 10.0, rng)
    gg = clv._gg_objective(sim.frequency[repeat], m, np.ones(len(m)))
    for objective, theta in ((bg, np.log([0.4, 2.0, 1.2, 3.0])), (gg, np.log([2.5, 3.5, 12.0]))):
        _, grad = objective(theta)
        for i in range(len(theta)):
            h = np.zeros(len(theta))
            h[i] = 1e-6
            numeric = (objective(theta + h)[0] - objective(theta - h)[0]) / 2e-6
            assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    # And the objective is the paper's likelihood: compare with the per-customer formula.
    value, _ = bg(np.log([0.4, 2.0, 1.2, 3.0]))
    fit = BgNbdFit(0.4, 2.0, 1.2, 3.0, 0.0, True, 0, "")
    assert -value * 300 == pytest.approx(
        bgnbd_log_likelihood(fit, sim.frequency, sim.recency, sim.T), rel=1e-12
    )


# ---------------------------------------------------------------------------------------------
# Fits recover known parameters
# ---------------------------------------------------------------------------------------------

TRUE_BG = (0.75, 2.5, 0.8, 2.4)  # r, α (weeks), a, b
TRUE_GG = (6.25, 3.74, 15.44)  # p, q, γ (CNY)


@pytest.fixture(scope="module")
def synthetic():
    """20,000 customers observed for 52-104 weeks since their first purchase, then 39 more."""
    rng = np.random.default_rng(20261123)
    n = 20_000
    sim = simulate_bgnbd(n, *TRUE_BG, rng.uniform(52, 104, n), rng, holdout=39)
    spend, true_mean = simulate_spend(sim.frequency, *TRUE_GG, rng)
    return sim, spend, true_mean


def test_bgnbd_fit_recovers_known_parameters(synthetic):
    sim, _, _ = synthetic
    fit = fit_bgnbd(sim.frequency, sim.recency, sim.T)
    assert fit.converged
    assert fit.customers == 20_000
    estimated = np.array([fit.r, fit.alpha, fit.a, fit.b])
    # Spread of these estimates over seeds at this size: 1.5-2.5 % (sd); 8 % is > 3 sd.
    np.testing.assert_allclose(estimated, TRUE_BG, rtol=0.08)
    # A maximum: no better than the truth is no maximum.
    truth = BgNbdFit(*TRUE_BG, 0.0, True, 0, "")
    assert fit.log_likelihood >= bgnbd_log_likelihood(truth, sim.frequency, sim.recency, sim.T)
    assert fit.log_likelihood == pytest.approx(
        bgnbd_log_likelihood(fit, sim.frequency, sim.recency, sim.T), rel=1e-12
    )
    # Calibrated: P(alive) and the 39-week forecast add up to what the simulation did.
    alive = p_alive(fit, sim.frequency, sim.recency, sim.T)
    assert alive.mean() == pytest.approx(sim.alive.mean(), abs=0.015)
    forecast = expected_purchases(fit, 39, sim.frequency, sim.recency, sim.T)
    assert forecast.sum() == pytest.approx(sim.holdout.sum(), rel=0.05)
    # ... and tell the live from the dead better than chance.
    assert alive[sim.alive].mean() > alive[~sim.alive].mean() + 0.3


def test_gamma_gamma_fit_recovers_known_parameters(synthetic):
    sim, spend, true_mean = synthetic
    gg = fit_gamma_gamma(sim.frequency, spend)
    assert gg.converged
    assert gg.customers == int((sim.frequency > 0).sum())
    # p and γ trade off against each other (sd ≈ 5 % over seeds), q and the mean are sharp.
    assert gg.p == pytest.approx(TRUE_GG[0], rel=0.2)
    assert gg.q == pytest.approx(TRUE_GG[1], rel=0.06)
    assert gg.v == pytest.approx(TRUE_GG[2], rel=0.2)
    true_population_mean = TRUE_GG[0] * TRUE_GG[2] / (TRUE_GG[1] - 1)
    assert gg.mean_value == pytest.approx(true_population_mean, rel=0.03)
    repeat = sim.frequency > 0
    predicted = expected_average_value(gg, sim.frequency[repeat], spend[repeat])
    assert predicted.mean() == pytest.approx(true_mean[repeat].mean(), rel=0.03)
    # Conditioning on the customer's purchases beats the population mean.
    own = np.abs(predicted - true_mean[repeat]).mean()
    assert own < np.abs(gg.mean_value - true_mean[repeat]).mean()


def test_weights_fit_the_same_as_the_expanded_rows():
    rng = np.random.default_rng(11)
    sim = simulate_bgnbd(3000, *TRUE_BG, np.round(rng.uniform(10, 30, 3000)), rng)
    x, tx, T = sim.frequency, np.round(sim.recency), sim.T
    tx = np.minimum(tx, T)
    rows, counts = np.unique(np.column_stack([x, tx, T]), axis=0, return_counts=True)
    expanded = fit_bgnbd(x, tx, T)
    grouped = fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    np.testing.assert_allclose(
        [grouped.r, grouped.alpha, grouped.a, grouped.b],
        [expanded.r, expanded.alpha, expanded.a, expanded.b],
        rtol=1e-6,
    )
    assert grouped.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-9)
    assert grouped.customers == expanded.customers == 3000


def test_too_little_data_is_refused():
    with pytest.raises(Invalid) as caught:
        fit_bgnbd([1, 0, 2], [3, 0, 4], [5, 5, 5])
    assert caught.value.code == "insufficient_data"
    with pytest.raises(Invalid) as caught:
        fit_bgnbd(np.zeros(50), np.zeros(50), np.full(50, 10.0))  # nobody came back
    assert caught.value.code == "insufficient_data"
    with pytest.raises(Invalid) as caught:
        fit_gamma_gamma([0, 0, 1, 2, 0, 0], [0, 0, 10, 12, 0, 0])
    assert caught.value.code == "insufficient_data"


def test_data_the_models_cannot_describe_is_refused():
    # Identical customers: no heterogeneity, the parameters run off to infinity.
    with pytest.raises(Invalid) as caught:
        fit_bgnbd(np.full(50, 3.0), np.full(50, 20.0), np.full(50, 30.0))
    assert caught.value.code == "clv_fit_failed"
    with pytest.raises(Invalid) as caught:
        fit_gamma_gamma(np.full(50, 3.0), np.full(50, 20.0))
    assert caught.value.code == "clv_fit_failed"
    # Malformed arrays.
    for args in (([1, 2], [1], [2, 3]), ([1.5], [1], [2]), ([1], [3], [2]), ([np.nan], [0], [1])):
        with pytest.raises(Invalid) as caught:
            fit_bgnbd(*args)
        assert caught.value.code == "invalid_clv_data"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(10, 60))
def test_small_data_fits_or_is_refused_cleanly(seed, n):
    """Whatever the data: a converged fit with finite parameters, or a domain refusal."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1, 60, n)
    x = rng.integers(0, 8, n).astype(float)
    tx = np.where(x > 0, rng.uniform(0, 1, n) * T, 0.0)
    try:
        fit = fit_bgnbd(x, tx, T)
    except Invalid as refused:
        assert refused.code in {"insufficient_data", "clv_fit_failed"}
    else:
        assert fit.converged
        assert all(0 < v < np.inf for v in (fit.r, fit.alpha, fit.a, fit.b))
        assert np.all((p_alive(fit, x, tx, T) >= 0) & (p_alive(fit, x, tx, T) <= 1))


# ---------------------------------------------------------------------------------------------
# Discounted CLV, the breakdown and the quadrant
# ---------------------------------------------------------------------------------------------


def _lifetimes_style_clv(fit, gg, x, tx, T, m, horizon, rate):
    """The lifetimes recipe written out customer by customer, period by period."""
    out = []
    for i in range(len(x)):
        value = expected_average_value(gg, [x[i]], [m[i]])[0]
        total = 0.0
        for k in range(1, horizon + 1):
            now = expected_purchases(fit, k, [x[i]], [tx[i]], [T[i]])[0]
            before = expected_purchases(fit, k - 1, [x[i]], [tx[i]], [T[i]])[0]
            total += (now - before) * value / (1 + rate) ** k
        out.append(total)
    return np.array(out)


def test_discounted_clv_is_the_discounted_sum_of_expected_purchases():
    x = np.array([0.0, 1.0, 4.0, 4.0, 10.0])
    tx = np.array([0.0, 10.0, 30.0, 5.0, 38.0])
    T = np.array([20.0, 38.0, 38.0, 38.0, 39.0])
    m = np.array([0.0, 50.0, 20.0, 20.0, 80.0])
    rate = period_discount_rate(0.10, "week")
    got = discounted_clv(CDNOW, CDNOW_GG, x, tx, T, m, 52, rate)
    np.testing.assert_allclose(got, _lifetimes_style_clv(CDNOW, CDNOW_GG, x, tx, T, m, 52, rate))
    # Undiscounted, the sum telescopes to E[Y(52)] × E[value].
    flat = discounted_clv(CDNOW, CDNOW_GG, x, tx, T, m, 52, 0.0)
    np.testing.assert_allclose(
        flat,
        expected_purchases(CDNOW, 52, x, tx, T) * expected_average_value(CDNOW_GG, x, m),
        rtol=1e-10,
    )
    assert np.all(got < flat)
    assert np.all(discounted_clv(CDNOW, CDNOW_GG, x, tx, T, m, 26, rate) < got)
    # The silent customer (x = 4, last purchase in week 5) is worth less than the recent one.
    assert got[3] < got[2]


def test_member_values_break_clv_down():
    x = np.array([0.0, 1.0, 4.0, 4.0])
    tx = np.array([0.0, 10.0, 30.0, 5.0])
    T = np.array([20.0, 38.0, 38.0, 38.0])
    m = np.array([0.0, 50.0, 20.0, 20.0])
    history = np.array([30.0, 100.0, 120.0, 120.0])
    rate = period_discount_rate(0.10, "week")
    values = member_values(CDNOW, CDNOW_GG, x, tx, T, m, history, 52, rate, margin=0.3)
    current = discounted_clv(CDNOW, CDNOW_GG, x, tx, T, m, 52, rate) * 0.3
    np.testing.assert_allclose(values.current, current)
    np.testing.assert_allclose(values.historical, history * 0.3)
    np.testing.assert_allclose(values.total, values.historical + values.current + values.potential)
    np.testing.assert_allclose(values.p_alive, p_alive(CDNOW, x, tx, T))
    np.testing.assert_allclose(values.expected_purchases, expected_purchases(CDNOW, 52, x, tx, T))
    # Potential = what being surely alive would add: none for x = 0 (P(alive) = 1), the most
    # for the customer silent since week 5.
    assert values.potential[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(values.potential >= 0)
    assert values.potential[3] > values.potential[2]
    np.testing.assert_allclose(values.current + values.potential, values.current / values.p_alive)


def test_value_quadrants():
    current = np.array([10.0, 10.0, 1.0, 1.0, 5.0])
    potential = np.array([8.0, 0.5, 8.0, 0.5, 2.0])
    q = value_quadrants(current, potential, ValueThresholds(current=5, potential=2))
    assert list(q.labels) == ["vip", "maintain", "improve", "abandon", "abandon"]
    assert (q.current_threshold, q.potential_threshold) == (5.0, 2.0)
    # Default: each axis cut at its median (here 5 and 2), high = strictly above.
    default = value_quadrants(current, potential)
    assert list(default.labels) == list(q.labels)
    assert set(default.labels) <= {v.value for v in ValueQuadrant}
    # A higher quantile makes fewer customers "high" on both axes.
    strict = value_quadrants(current, potential, ValueThresholds(quantile=0.9))
    assert list(strict.labels).count("abandon") >= list(q.labels).count("abandon")
    with pytest.raises(Invalid):
        ValueThresholds(quantile=1.0)
