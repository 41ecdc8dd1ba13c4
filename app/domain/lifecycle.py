"""Customer lifecycle stages (docs/domain §7.2; the relationship-lifecycle model of the seeds:
考察期 exploration, 形成期 formation, 稳定期 stability, 退化期 decline, plus lost).

A member's stage as of a day, from their purchase history up to it (days are the tenant's),
by the first rule that holds — every threshold is a tenant setting:

1. no purchase at all → no stage (counted apart as ``no_purchases``);
2. **lost**: the last purchase is more than ``lost_after_days`` (365) days ago;
3. **exploration**: at most ``exploration_max_purchases`` (1) purchases — still trying us;
4. **decline**: the last purchase is more than ``decline_after_days`` (180) days ago, or the
   spend of the last ``trend_days`` (180) days is below ``decline_ratio`` (0.5) × the spend of
   the ``trend_days`` before them (judged only once the history covers both windows and the
   earlier one has spend);
5. **formation**: the first purchase is less than ``stability_min_days`` (365) days ago, or
   fewer than ``stability_min_purchases`` (6) purchases — the relationship is still forming;
6. **stability** otherwise.

Arrays in, stage codes out (index into ``STAGES``): a breakdown of a million members is a
few vector operations. Money is integer fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from app.domain.errors import N_, FieldError, refuse_any

STAGES = ("exploration", "formation", "stability", "decline", "lost")
EXPLORATION, FORMATION, STABILITY, DECLINE, LOST = range(5)
NO_STAGE = -1
MAX_DAYS = 3650
MAX_PURCHASES = 1_000_000


@dataclass(frozen=True)
class LifecycleConfig:
    lost_after_days: int = 365
    exploration_max_purchases: int = 1
    decline_after_days: int = 180
    trend_days: int = 180
    decline_ratio: Decimal = Decimal("0.5")
    stability_min_days: int = 365
    stability_min_purchases: int = 6

    def as_json(self) -> dict:
        return {
            "lost_after_days": self.lost_after_days,
            "exploration_max_purchases": self.exploration_max_purchases,
            "decline_after_days": self.decline_after_days,
            "trend_days": self.trend_days,
            "decline_ratio": format(self.decline_ratio, "f"),
            "stability_min_days": self.stability_min_days,
            "stability_min_purchases": self.stability_min_purchases,
        }

    @classmethod
    def from_json(cls, data: dict) -> LifecycleConfig:
        return cls(**{**data, "decline_ratio": Decimal(data["decline_ratio"])})


def lifecycle_config(**values) -> LifecycleConfig:
    """A checked configuration; 422 ``invalid_lifecycle_config`` naming every field."""
    config = LifecycleConfig(**values)
    errors: list[FieldError] = []
    for name in ("lost_after_days", "decline_after_days", "trend_days", "stability_min_days"):
        if not 1 <= getattr(config, name) <= MAX_DAYS:
            errors.append(
                FieldError(name, "{name} is 1 to {max_days}.", name=name, max_days=MAX_DAYS)
            )
    if config.decline_after_days >= config.lost_after_days:
        errors.append(
            FieldError("decline_after_days", "decline_after_days is less than lost_after_days.")
        )
    if not 1 <= config.exploration_max_purchases <= MAX_PURCHASES:
        errors.append(
            FieldError(
                "exploration_max_purchases",
                "exploration_max_purchases is 1 to {max_purchases}.",
                max_purchases=MAX_PURCHASES,
            )
        )
    if config.stability_min_purchases > MAX_PURCHASES:
        errors.append(
            FieldError(
                "stability_min_purchases",
                "stability_min_purchases is at most {max_purchases}.",
                max_purchases=MAX_PURCHASES,
            )
        )
    if config.stability_min_purchases <= config.exploration_max_purchases:
        errors.append(
            FieldError(
                "stability_min_purchases",
                "stability_min_purchases is more than exploration_max_purchases.",
            )
        )
    if not Decimal(0) < config.decline_ratio <= Decimal(1) or config.decline_ratio != round(
        config.decline_ratio, 4
    ):
        errors.append(
            FieldError("decline_ratio", "decline_ratio is above 0, at most 1, 4 decimals.")
        )
    refuse_any(errors, "invalid_lifecycle_config", N_("The lifecycle configuration"))
    return config


def stages(
    purchases: np.ndarray,
    recency_days: np.ndarray,
    tenure_days: np.ndarray,
    recent_fen: np.ndarray,
    previous_fen: np.ndarray,
    config: LifecycleConfig,
) -> np.ndarray:
    """The stage code of each member (NO_STAGE without purchases). ``recency_days``: days
    since the last purchase; ``tenure_days``: since the first; ``recent_fen``: spend in the
    last ``trend_days`` days (as_of included); ``previous_fen``: in the ``trend_days`` before."""
    # recent < ratio × previous, exactly in integers (the ratio has at most 4 decimals; a
    # year's spend in fen × 10^4 stays far below 2^63)
    k = int(config.decline_ratio * 10_000)
    falling = (
        (tenure_days >= 2 * config.trend_days)
        & (previous_fen > 0)
        & (recent_fen.astype(np.int64) * 10_000 < previous_fen.astype(np.int64) * k)
    )
    return np.select(
        [
            purchases <= 0,
            recency_days > config.lost_after_days,
            purchases <= config.exploration_max_purchases,
            (recency_days > config.decline_after_days) | falling,
            (tenure_days < config.stability_min_days)
            | (purchases < config.stability_min_purchases),
        ],
        [NO_STAGE, LOST, EXPLORATION, DECLINE, FORMATION],
        default=STABILITY,
    ).astype(np.int8)


def stage_of(
    purchases: int,
    recency_days: int,
    tenure_days: int,
    recent: Decimal,
    previous: Decimal,
    config: LifecycleConfig,
) -> str | None:
    """One member, rule by rule (the specification the vectorised ``stages`` follows)."""
    if purchases <= 0:
        return None
    if recency_days > config.lost_after_days:
        return "lost"
    if purchases <= config.exploration_max_purchases:
        return "exploration"
    falling = (
        tenure_days >= 2 * config.trend_days
        and previous > 0
        and recent < config.decline_ratio * previous
    )
    if recency_days > config.decline_after_days or falling:
        return "decline"
    if tenure_days < config.stability_min_days or purchases < config.stability_min_purchases:
        return "formation"
    return "stability"


def breakdown(codes: np.ndarray) -> dict[str, int]:
    counts = np.bincount(codes[codes >= 0].astype(np.int64), minlength=len(STAGES))
    return {name: int(counts[i]) for i, name in enumerate(STAGES)}
