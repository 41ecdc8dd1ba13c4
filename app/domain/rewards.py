"""The rewards catalogue (积分商城, docs/domain §12). Pure.

A reward offers a voucher template for a number of points, while it is active and in its
window, to holders of the eligible card classes (none listed: anyone), while its stock lasts
(no stock: unlimited). An exchange spends the points as a redemption (R, purpose ``gift``,
referencing the voucher's code) and issues one voucher of the template, source ``reward``:
``decide_exchange`` decides both from one read, and the service applies them with the stock's
guarded decrement in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import N_, Conflict, FieldError, refuse_any
from app.domain.ledger import Decided
from app.domain.points_writes import MemberPoints, decide_redemption, holder
from app.domain.voucher_terms import (
    MAX_INT,
    References,
    header_errors,
    in_window,
    is_count,
    list_errors,
    window_errors,
)
from app.domain.vouchers import NewVoucher, Source, Template, validity

PURPOSE = "gift"


@dataclass(frozen=True, kw_only=True)
class RewardTerms:
    code: str
    name: str
    template: str
    points: int
    stock: int | None = None  # left to exchange; None: unlimited
    card_classes: tuple[str, ...] = ()  # eligible; empty: any
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class Reward(RewardTerms):
    exchanged: int
    created_at: datetime
    updated_at: datetime


def check_reward(terms: RewardTerms, known: References) -> None:
    """422 ``invalid_reward`` naming every bad field, references included."""
    errors = header_errors(terms.code, terms.name, terms.template, known)
    if not is_count(terms.points, 1):
        errors.append(FieldError("points", "a whole number from 1 to {max}", max=MAX_INT))
    if terms.stock is not None and not is_count(terms.stock, 0):
        errors.append(FieldError("stock", "a whole number from 0 to {max}", max=MAX_INT))
    errors += list_errors(
        "card_classes", terms.card_classes, known.card_classes, N_("no card class {code_name}")
    )
    errors += window_errors(terms.starts_at, terms.ends_at)
    refuse_any(errors, "invalid_reward", N_("The reward"))


@dataclass(frozen=True)
class Exchange:
    """An exchange as answered: the voucher issued and the points it cost."""

    voucher: NewVoucher
    reward: str
    member_id: str
    card_number: str | None
    points: int
    balance: int  # the member's points after the exchange
    redemption_id: int
    exchanged_at: datetime


def check_open(reward: Reward, now: datetime) -> None:
    """The reward can be exchanged now, as read (its stock is guarded again when taken)."""
    if not reward.active:
        raise Conflict("reward_inactive", "Reward {reward} is not offered.", reward=reward.code)
    if not in_window(reward.starts_at, reward.ends_at, now):
        raise Conflict(
            "reward_not_in_window",
            "Reward {reward} is offered from {starts_at} to {ends_at}.",
            extra={"starts_at": _iso(reward.starts_at), "ends_at": _iso(reward.ends_at)},
            reward=reward.code,
            starts_at=_iso(reward.starts_at) or "-",
            ends_at=_iso(reward.ends_at) or "-",
        )
    if reward.stock == 0:
        raise out_of_stock(reward.code)


def out_of_stock(reward: str) -> Conflict:
    return Conflict("reward_out_of_stock", "Reward {reward} is out of stock.", reward=reward)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def decide_exchange(
    context: MemberPoints,
    *,
    reward: Reward,
    template: Template | None,
    member_classes: frozenset[str],
    card_number: str | None,
    member_id: str | None,
    voucher_code: str,
    now: datetime,
) -> Decided[Exchange]:
    """The redemption and the voucher of one exchange, or why not. ``member_classes``: the
    classes of the member's active cards (read when no card is named)."""
    check_open(reward, now)
    if template is None:
        raise Conflict(
            "reward_template_missing",
            "Reward {reward}'s voucher template {template} no longer exists.",
            reward=reward.code,
            template=reward.template,
        )
    member, card = holder(context, card_number, member_id, now)
    if reward.card_classes:
        classes = {context.card.card_class} if context.card is not None else member_classes
        if not classes & set(reward.card_classes):
            raise Conflict(
                "reward_class_not_eligible",
                "Reward {reward} is for holders of {classes} cards.",
                extra={"card_classes": list(reward.card_classes)},
                reward=reward.code,
                classes=", ".join(reward.card_classes),
            )
    valid_from, valid_to = validity(template, now)
    if valid_to <= now:
        raise Conflict(
            "reward_template_expired",
            "Reward {reward}'s vouchers would no longer be valid (template {template}).",
            reward=reward.code,
            template=template.code,
        )
    spent = decide_redemption(
        context,
        card_number=card_number,
        member_id=member_id,
        points=reward.points,
        purpose=PURPOSE,
        reference=voucher_code,
        now=now,
    )
    voucher = NewVoucher(
        voucher_code,
        template.code,
        member,
        valid_from,
        valid_to,
        Source.REWARD,
        source_ref=reward.code,
    )
    assert spent.plan.points is not None  # a redemption spends points
    exchange = Exchange(
        voucher,
        reward.code,
        member,
        card,
        reward.points,
        spent.plan.points.balance,
        spent.result.id,
        now,
    )
    return Decided(spent.plan, exchange)
