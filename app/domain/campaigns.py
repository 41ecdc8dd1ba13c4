"""Campaigns (docs/domain §12): a voucher template issued to a generated member group, with a
randomly held-out control group, and the campaign's results. Pure.

A member's arm is a function of the campaign's ``seed`` and the member's id: the first 60 bits
of md5(seed ‖ member id), read as a fraction of 2^60, below ``control_share`` is control. The
same draw is written in SQL (app/repositories/campaigns.py) and here (``is_control``), and it
is stored the first time it is drawn, so a member's arm never changes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from scipy.stats import t as student_t

from app.domain.errors import Conflict, Invalid

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
MAX_CONTROL_SHARE = Decimal("0.5")
DRAW_BITS = 60
CENT = Decimal("0.01")
RATE = Decimal("0.0001")
# Fields a campaign's first issue fixes: changing them afterwards would change who was treated.
FIXED_AT_ISSUE = ("template", "member_group", "control_share", "starts_at")


class Arm(StrEnum):
    TREATED = "treated"
    CONTROL = "control"


@dataclass(frozen=True)
class Campaign:
    code: str
    name: str
    template: str
    member_group: str
    control_share: Decimal
    starts_at: datetime
    ends_at: datetime
    budget: int | None
    seed: str
    last_issued_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def issued_once(self) -> bool:
        return self.last_issued_at is not None


def check_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise Invalid(
            "invalid_campaign_code",
            "A campaign code is 1-32 letters, digits, '_' or '-', starting with a letter or digit.",
            field="code",
        )
    return code


def check_terms(campaign: Campaign) -> Campaign:
    """A campaign's own terms: the control share, the window, the budget."""
    if not Decimal(0) <= campaign.control_share <= MAX_CONTROL_SHARE:
        raise Invalid(
            "invalid_control_share",
            "control_share is a fraction from 0 to 0.5.",
            field="control_share",
        )
    if campaign.control_share != campaign.control_share.quantize(CENT):
        raise Invalid(
            "invalid_control_share",
            "control_share has at most 2 decimals.",
            field="control_share",
        )
    if campaign.ends_at <= campaign.starts_at:
        raise Invalid(
            "invalid_campaign_window", "ends_at must be after starts_at.", field="ends_at"
        )
    if campaign.budget is not None and not 1 <= campaign.budget <= 100_000_000:
        raise Invalid(
            "invalid_budget", "budget is a number of vouchers from 1 to 100000000.", field="budget"
        )
    return campaign


def check_change(before: Campaign, after: Campaign) -> None:
    """Once issued, a campaign keeps what decided who got a voucher (409 ``campaign_issued``)."""
    if not before.issued_once:
        return
    for name in FIXED_AT_ISSUE:
        if getattr(before, name) != getattr(after, name):
            raise Conflict(
                "campaign_issued",
                "Campaign {code_name} has issued vouchers: its {name} can no longer change.",
                field=name,
                code_name=before.code,
                name=name,
            )


def control_threshold(control_share: Decimal) -> int:
    """Draws (60-bit integers) below this are control."""
    return int(control_share * (1 << DRAW_BITS))


def draw(seed: str, member_id: str) -> int:
    """The member's 60-bit draw in the campaign (as the SQL computes it)."""
    return int(hashlib.md5((seed + member_id).encode()).hexdigest()[:15], 16)  # noqa: S324


def is_control(seed: str, member_id: str, control_share: Decimal) -> bool:
    return draw(seed, member_id) < control_threshold(control_share)


# --- issuing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupMember:
    """A group member as a batch of the issue reads it: its stored arm, if drawn before,
    whether it holds this campaign's voucher, and its draw (control or not)."""

    member_id: str
    arm: Arm | None
    served: bool
    drawn_control: bool


@dataclass(frozen=True)
class BatchPlan:
    new_arms: list[tuple[str, Arm, str | None]]  # (member, arm, voucher code or None)
    filled: list[tuple[str, str]]  # (member, voucher code): a stored treated arm without one
    issued: int
    control: int
    skipped: int

    @property
    def vouchers(self) -> list[tuple[str, str]]:
        """(member, code) of every voucher this batch issues."""
        return [(m, c) for m, _, c in self.new_arms if c is not None] + self.filled


def plan_batch(
    members: Iterable[GroupMember], remaining: int | None, new_code: Callable[[], str]
) -> BatchPlan:
    """Who in this batch gets an arm and who a voucher: each member keeps a stored arm or gets
    its draw; each treated member without a voucher gets one while the budget lasts
    (``remaining``: None = no budget). Treated members already served, or beyond the budget,
    are skipped."""
    new_arms: list[tuple[str, Arm, str | None]] = []
    filled: list[tuple[str, str]] = []
    issued = control = skipped = 0
    for m in members:
        arm = m.arm or (Arm.CONTROL if m.drawn_control else Arm.TREATED)
        code = None
        if arm is Arm.CONTROL:
            control += 1
        elif m.served or (remaining is not None and issued >= remaining):
            skipped += 1
        else:
            code = new_code()
            issued += 1
        if m.arm is None:
            new_arms.append((m.member_id, arm, code))
        elif code is not None:
            filled.append((m.member_id, code))
    return BatchPlan(new_arms, filled, issued, control, skipped)


@dataclass(frozen=True)
class IssueResult:
    issued: int = 0
    control: int = 0
    skipped: int = 0

    def plus(self, batch: BatchPlan) -> IssueResult:
        return IssueResult(
            self.issued + batch.issued, self.control + batch.control, self.skipped + batch.skipped
        )


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redemptions:
    """The redemptions of one slice (the campaign, a store, a day), read set-based: the
    receipts are counted once however many of the campaign's vouchers each redeemed."""

    redeemed: int = 0
    transactions: int = 0
    redeeming_members: int = 0
    revenue: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    cost_store: Decimal = Decimal(0)
    cost_supplier: Decimal = Decimal(0)


@dataclass(frozen=True)
class SpendStats:
    """Spend per member in the window over one arm's members: their count, the sum of their
    spends and of their squares (members who bought nothing count as 0)."""

    members: int
    total: Decimal
    squares: Decimal

    @property
    def mean(self) -> Decimal:
        return self.total / self.members

    @property
    def variance(self) -> Decimal:
        """The sample variance (n − 1)."""
        n = self.members
        return (self.squares - self.total * self.total / n) / (n - 1)


@dataclass(frozen=True)
class Aggregates:
    campaign: str
    window: tuple[datetime, datetime]  # where spend per member is compared
    issued: int
    control: int
    totals: Redemptions
    by_store: Sequence[tuple[str, Redemptions]]
    by_day: Sequence[tuple[date, Redemptions]]
    treated_spend: SpendStats | None
    control_spend: SpendStats | None


@dataclass(frozen=True)
class ControlComparison:
    treated_members: int
    control_members: int
    treated_spend_per_member: Decimal
    control_spend_per_member: Decimal
    uplift: Decimal
    uplift_low: Decimal | None
    uplift_high: Decimal | None
    incremental_revenue: Decimal
    incremental_return: Decimal | None


@dataclass(frozen=True)
class Results:
    campaign: str
    window: tuple[datetime, datetime]
    issued: int
    control: int
    totals: Redemptions
    redemption_rate: Decimal | None
    revenue_per_cost: Decimal | None
    comparison: ControlComparison | None
    by_store: Sequence[tuple[str, Redemptions]]
    by_day: Sequence[tuple[date, Redemptions]]


def _q(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def welch_interval(
    treated: SpendStats, control: SpendStats, level: float = 0.95
) -> tuple[float, float] | None:
    """The ``level`` confidence interval of mean(treated) − mean(control) by Welch's t
    (unequal variances, Welch–Satterthwaite degrees of freedom); None with fewer than two
    members in an arm."""
    if treated.members < 2 or control.members < 2:
        return None
    diff = float(treated.mean - control.mean)
    a = float(treated.variance) / treated.members
    b = float(control.variance) / control.members
    se = math.sqrt(max(a + b, 0.0))
    if se == 0:
        return diff, diff
    df = (a + b) ** 2 / (a**2 / (treated.members - 1) + b**2 / (control.members - 1))
    half = float(student_t.ppf(0.5 + level / 2, df)) * se
    return diff - half, diff + half


def compare(
    treated: SpendStats, control: SpendStats, cost: Decimal, gross_margin: Decimal | None
) -> ControlComparison:
    uplift = treated.mean - control.mean
    incremental = uplift * treated.members
    ret = None
    if gross_margin is not None and cost > 0:
        ret = _q((incremental * gross_margin - cost) / cost, RATE)
    interval = welch_interval(treated, control)
    low, high = (None, None) if interval is None else interval
    return ControlComparison(
        treated_members=treated.members,
        control_members=control.members,
        treated_spend_per_member=_q(treated.mean, CENT),
        control_spend_per_member=_q(control.mean, CENT),
        uplift=_q(uplift, CENT),
        uplift_low=None if low is None else _q(Decimal(repr(low)), CENT),
        uplift_high=None if high is None else _q(Decimal(repr(high)), CENT),
        incremental_revenue=_q(incremental, CENT),
        incremental_return=ret,
    )


def results(agg: Aggregates, gross_margin: Decimal | None) -> Results:
    """The campaign's figures from its aggregates (definitions: docs/domain/12-campaigns.md).

    redemption_rate = redeemed / issued; revenue_per_cost = revenue / cost; with a control
    group (both arms non-empty): uplift = spend per treated member − spend per control member,
    incremental_revenue = uplift × treated members, incremental_return = (incremental revenue
    × gross margin − cost) / cost."""
    t = agg.totals
    comparison = None
    if (
        agg.treated_spend is not None
        and agg.control_spend is not None
        and agg.treated_spend.members > 0
        and agg.control_spend.members > 0
    ):
        comparison = compare(agg.treated_spend, agg.control_spend, t.cost, gross_margin)
    return Results(
        campaign=agg.campaign,
        window=agg.window,
        issued=agg.issued,
        control=agg.control,
        totals=t,
        redemption_rate=_q(Decimal(t.redeemed) / agg.issued, RATE) if agg.issued else None,
        revenue_per_cost=_q(t.revenue / t.cost, CENT) if t.cost > 0 else None,
        comparison=comparison,
        by_store=agg.by_store,
        by_day=agg.by_day,
    )
