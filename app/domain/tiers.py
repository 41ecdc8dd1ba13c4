"""Tier upgrades (go beyond the seeds): a class may name ``upgrade_to`` and
``upgrade_spend_12m``; a card whose member spent at least that in the last 12 months moves up,
as far as the spend carries it along the chain of classes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class UpgradeRule:
    to: str
    spend_12m: Decimal


@dataclass(frozen=True)
class TierStep:
    from_class: str
    to_class: str
    threshold: Decimal

    def reason(self, spend: Decimal) -> str:
        return (
            f"12-month spend {spend:.2f} reached {self.threshold:.2f}: "
            f"{self.from_class} → {self.to_class}"
        )


def upgrade_steps(current: str, spend: Decimal, rules: dict[str, UpgradeRule]) -> list[TierStep]:
    """Every step a card of class ``current`` climbs for this spend (empty when none). A chain
    that loops back on itself stops where it would revisit a class."""
    steps: list[TierStep] = []
    seen = {current}
    while (rule := rules.get(current)) and spend >= rule.spend_12m and rule.to not in seen:
        steps.append(TierStep(current, rule.to, rule.spend_12m))
        seen.add(rule.to)
        current = rule.to
    return steps
