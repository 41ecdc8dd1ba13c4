"""RFM (docs/domain §5, O1012 RFM分类指标): scores 1-5 per dimension and the eight segments.

Per member as of a run date, over a window (default 730 days): R = whole days since the last
purchase, F = purchases (receipts) in the window, M = their average net amount. Members
without a purchase in the window are not scored.

* ``thresholds`` (default, the airline table): R 5 if recency ≤ r_days[0], 4 if ≤ r_days[1],
  3 if ≤ r_days[2], 2 if ≤ r_days[3], else 1; F 1 if frequency < f_counts[0], … 5 if ≥
  f_counts[3]; M 1 if monetary ≤ m_amounts[0], … 5 if > m_amounts[3].
* ``quantile``: quintiles of the tenant's own scored members. A member's score is 1 + ⌊5·p⌋
  where p is the share of members strictly worse (for F and M: a smaller value; for R: more
  days since the last purchase), so ties share a score and 5 goes to the top fifth.

A dimension is *high* when its score ≥ ``high_score`` (default 3). The segments:
R↑F↑M↑ important value (重要价值), R↑F↓M↑ important develop (重要发展), R↓F↑M↑ important keep
(重要保持), R↓F↓M↑ important win-back (重要挽留), and the same four with M↓ as general.

Scoring works on numpy arrays (one entry per member): a run scores a million members in
a few vector operations. Money is integer fen there, so every comparison is exact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

import numpy as np

from app.domain.errors import N_, FieldError, refuse_any

SEGMENTS = (
    "important_value",
    "important_develop",
    "important_keep",
    "important_win_back",
    "general_value",
    "general_develop",
    "general_keep",
    "general_win_back",
)
MAX_WINDOW_DAYS = 3650
MAX_AMOUNT = Decimal("999999999999.99")
MAX_COUNT = 1_000_000


class RfmMethod(StrEnum):
    THRESHOLDS = "thresholds"
    QUANTILE = "quantile"


@dataclass(frozen=True)
class RfmConfig:
    method: RfmMethod = RfmMethod.THRESHOLDS
    window_days: int = 730
    r_days: tuple[int, ...] = (30, 90, 180, 365)
    f_counts: tuple[int, ...] = (2, 6, 11, 24)
    m_amounts: tuple[Decimal, ...] = field(
        default=(Decimal("500"), Decimal("1000"), Decimal("3000"), Decimal("5000"))
    )
    high_score: int = 3

    def as_json(self) -> dict:
        return {
            "method": self.method.value,
            "window_days": self.window_days,
            "r_days": list(self.r_days),
            "f_counts": list(self.f_counts),
            "m_amounts": [format(a, "f") for a in self.m_amounts],
            "high_score": self.high_score,
        }

    @classmethod
    def from_json(cls, data: dict) -> RfmConfig:
        return cls(
            RfmMethod(data["method"]),
            int(data["window_days"]),
            tuple(int(x) for x in data["r_days"]),
            tuple(int(x) for x in data["f_counts"]),
            tuple(Decimal(x) for x in data["m_amounts"]),
            int(data["high_score"]),
        )


def _ascending(name: str, values: tuple, errors: list[FieldError], high) -> None:
    if len(values) != 4:
        errors.append(FieldError(name, "{name} has exactly 4 cut points.", name=name))
        return
    if any(v <= 0 or v > high for v in values):
        errors.append(
            FieldError(name, "{name} are positive, at most {high}.", name=name, high=high)
        )
    elif any(b <= a for a, b in itertools.pairwise(values)):
        errors.append(FieldError(name, "{name} are strictly ascending.", name=name))


def rfm_config(
    method: RfmMethod,
    window_days: int,
    r_days: tuple[int, ...],
    f_counts: tuple[int, ...],
    m_amounts: tuple[Decimal, ...],
    high_score: int,
) -> RfmConfig:
    """A checked configuration; 422 ``invalid_rfm_config`` naming every offending field."""
    errors: list[FieldError] = []
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        errors.append(
            FieldError(
                "window_days",
                "window_days is 1 to {max_window_days}.",
                max_window_days=MAX_WINDOW_DAYS,
            )
        )
    _ascending("r_days", tuple(r_days), errors, MAX_WINDOW_DAYS)
    _ascending("f_counts", tuple(f_counts), errors, MAX_COUNT)
    _ascending("m_amounts", tuple(m_amounts), errors, MAX_AMOUNT)
    if any(a != a.quantize(Decimal("0.01")) for a in m_amounts) and not any(
        e.field == "m_amounts" for e in errors
    ):
        errors.append(FieldError("m_amounts", "m_amounts are CNY with at most 2 decimals."))
    if not 1 <= high_score <= 5:
        errors.append(FieldError("high_score", "high_score is 1 to 5."))
    refuse_any(errors, "invalid_rfm_config", N_("The RFM configuration"))
    return RfmConfig(
        method,
        window_days,
        tuple(r_days),
        tuple(f_counts),
        tuple(Decimal(a) for a in m_amounts),
        high_score,
    )


# --- one member (the airline table of §5.1, spelled out) ----------------------------------------


def r_score(recency_days: int, r_days: tuple[int, ...]) -> int:
    for score, limit in zip((5, 4, 3, 2), r_days, strict=True):
        if recency_days <= limit:
            return score
    return 1


def f_score(frequency: int, f_counts: tuple[int, ...]) -> int:
    for score, limit in zip((1, 2, 3, 4), f_counts, strict=True):
        if frequency < limit:
            return score
    return 5


def m_score(monetary: Decimal, m_amounts: tuple[Decimal, ...]) -> int:
    for score, limit in zip((1, 2, 3, 4), m_amounts, strict=True):
        if monetary <= limit:
            return score
    return 5


def segment_of(r: int, f: int, m: int, high_score: int = 3) -> str:
    return SEGMENTS[_segment_index(r >= high_score, f >= high_score, m >= high_score)]


def _segment_index(r_high, f_high, m_high):
    """0..7 in SEGMENTS order (works on booleans and on boolean arrays)."""
    return (1 - m_high) * 4 + (1 - r_high) * 2 + (1 - f_high)


# --- every member at once ------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    r: np.ndarray  # int8, 1..5
    f: np.ndarray
    m: np.ndarray
    segment: np.ndarray  # int8 index into SEGMENTS


def fen(amount: Decimal) -> int:
    return int(amount * 100)


def threshold_scores(
    recency: np.ndarray, frequency: np.ndarray, monetary_fen: np.ndarray, config: RfmConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``thresholds`` method over arrays: exactly ``r_score``/``f_score``/``m_score``."""
    r = 5 - np.searchsorted(np.asarray(config.r_days), recency, side="left")
    f = 1 + np.searchsorted(np.asarray(config.f_counts), frequency, side="right")
    cuts = np.asarray([fen(a) for a in config.m_amounts], dtype=np.int64)
    m = 1 + np.searchsorted(cuts, monetary_fen, side="left")
    return r.astype(np.int8), f.astype(np.int8), m.astype(np.int8)


def quintiles(values: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """1 + ⌊5 × (share of values strictly worse)⌋: ties share a score; 1..5."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    ordered = np.sort(values)
    if higher_is_better:
        worse = np.searchsorted(ordered, values, side="left")
    else:
        worse = n - np.searchsorted(ordered, values, side="right")
    return (1 + (5 * worse) // n).astype(np.int8)


def score(
    recency: np.ndarray, frequency: np.ndarray, monetary_fen: np.ndarray, config: RfmConfig
) -> Scores:
    if config.method is RfmMethod.QUANTILE:
        r = quintiles(recency, higher_is_better=False)
        f = quintiles(frequency, higher_is_better=True)
        m = quintiles(monetary_fen, higher_is_better=True)
    else:
        r, f, m = threshold_scores(recency, frequency, monetary_fen, config)
    high = config.high_score
    segment = _segment_index(
        (r >= high).astype(np.int8), (f >= high).astype(np.int8), (m >= high).astype(np.int8)
    ).astype(np.int8)
    return Scores(r, f, m, segment)


def segment_counts(segment: np.ndarray) -> dict[str, int]:
    counts = np.bincount(segment.astype(np.int64), minlength=len(SEGMENTS))
    return {name: int(counts[i]) for i, name in enumerate(SEGMENTS)}
