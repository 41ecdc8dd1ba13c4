"""Synthetic customers drawn from the BG/NBD and Gamma-Gamma models with known parameters
(app.domain.clv): for the tests that recover them, the benchmark and demo data. Pure: numpy
only, every draw from the generator passed in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulatedCustomers:
    frequency: np.ndarray  # repeat purchases in (0, T]
    recency: np.ndarray  # time of the last of them (0 if none)
    T: np.ndarray  # time from the first purchase to the end of the calibration period
    alive: np.ndarray  # bool: still alive at T (the truth P(alive) estimates)
    holdout: np.ndarray  # purchases in (T, T + holdout] (the truth expected_purchases estimates)
    rate: np.ndarray  # each customer's λ
    dropout: np.ndarray  # each customer's p


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | np.ndarray,
    rng: np.random.Generator,
    *,
    holdout: float = 0.0,
) -> SimulatedCustomers:
    """``n`` customers whose first purchase is at time 0: λ ~ Gamma(shape r, rate α),
    p ~ Beta(a, b); purchases follow a Poisson process of rate λ and after each repeat purchase
    the customer drops out with probability p (BG/NBD). Observed up to ``T`` (a scalar or one
    per customer), then for ``holdout`` more periods."""
    age = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = rng.beta(a, b, n)
    frequency, recency, clock = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.ones(n, dtype=bool)
    _run(rng, rate, dropout, clock, age, alive, frequency, recency)
    holdout_count = np.zeros(n)
    if holdout > 0:
        clock = age.copy()  # memoryless: an alive customer's next purchase is as from T
        still = alive.copy()
        _run(rng, rate, dropout, clock, age + holdout, still, holdout_count, np.zeros(n))
    return SimulatedCustomers(frequency, recency, age, alive, holdout_count, rate, dropout)


def _run(rng, rate, dropout, clock, end, alive, count, last) -> None:
    """Advance every alive customer purchase by purchase until ``end`` or dropout (in place)."""
    active = np.flatnonzero(alive)
    while active.size:
        at = clock[active] + rng.exponential(1.0 / rate[active])
        inside = at <= end[active]
        buyers = active[inside]
        clock[buyers] = at[inside]
        count[buyers] += 1
        last[buyers] = at[inside]
        drops = rng.random(buyers.size) < dropout[buyers]
        alive[buyers[drops]] = False
        active = buyers[~drops]


def simulate_spend(
    frequency: np.ndarray, p: float, q: float, v: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Gamma-Gamma: each customer's ν ~ Gamma(shape q, rate v); each purchase's value ~
    Gamma(shape p, rate ν). Returns (mean value of the ``frequency`` purchases — 0 when there
    are none —, the customer's true mean purchase value p/ν)."""
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / v, len(x))
    totals = rng.gamma(np.where(x > 0, p * x, 1.0), 1.0 / nu)
    return np.where(x > 0, totals / np.maximum(x, 1), 0.0), p / nu
