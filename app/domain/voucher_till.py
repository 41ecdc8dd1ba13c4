"""Vouchers at the till (docs/domain §12): which of a basket's vouchers apply, what each takes
off which line, who bears it, and what a sale earns as 返券. Pure.

The quote and the sale decide with the same function, ``apply_vouchers``: the quote reports it,
the sale requires each voucher payment to equal it (422 ``voucher_amount_mismatch``).

How several vouchers combine (each is tested):

* **Order.** ``percent_off`` vouchers first, then ``threshold_amount_off`` (满X减Y), then
  ``amount_off``; within a kind, in the order the till sent them. A percent-off voucher so
  applies to the member price, before any amount is taken off it.
* **Thresholds.** A voucher's ``min_spend`` is tested on its covered lines' amount left after
  the vouchers before it: 10 % off a 200.00 basket leaves 180.00, which no longer meets a
  满200减20. A plain amount-off voucher comes last, as cash would, and never breaks a threshold.
* **Caps.** A voucher never takes more than its covered lines still hold: an 18.00 voucher
  on 12.00 of goods takes 12.00 (and its payment is 12.00). A percent-off voucher's discount is
  its lines' amount less that amount × rate, half up to the fen, at most ``max_discount``.
* **Allocation.** A discount is spread over the covered lines pro rata to what they still hold,
  in fen, cumulatively rounded (the last line takes the rounding): points (§3.2) and a return
  see the voucher's part of every line.
* **Limit.** At most ``per_member_limit`` vouchers of one template on one receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from app.domain.card_classes import SharingGroup
from app.domain.money import CENT, ZERO
from app.domain.points import allocate_pro_rata
from app.domain.pricing import Goods
from app.domain.vouchers import Kind, Status, Template, Voucher, VoucherRule

KIND_ORDER = {Kind.PERCENT_OFF: 0, Kind.THRESHOLD_AMOUNT_OFF: 1, Kind.AMOUNT_OFF: 2}


class Reason(StrEnum):
    """Why a voucher does not apply to a basket."""

    INVALID_CODE = "invalid_code"  # not a code at all (mistyped)
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"  # the same code twice in one basket
    ALREADY_USED = "already_used"
    VOIDED = "voided"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NOT_HOLDER = "not_holder"  # bound to another member (or no card)
    CLASS = "class"
    STORE = "store"
    LIMIT = "limit"
    SCOPE = "scope"  # no line of the basket is covered (or nothing is left on them)
    MIN_SPEND = "min_spend"


@dataclass(frozen=True)
class BasketLine:
    """A line as vouchers see it: its goods and its amount at the member price."""

    goods: Goods
    amount: Decimal

    @property
    def line_no(self) -> int:
        return self.goods.line_no


@dataclass(frozen=True)
class Redeemer:
    store_code: str
    card_class: str | None  # None: a walk-in without a card
    member_id: str | None


@dataclass(frozen=True)
class Discount:
    """What one voucher takes off: per line, and who bears it."""

    amount: Decimal
    shares: Mapping[int, Decimal]  # line_no → part of the amount
    store_borne: Decimal
    supplier_borne: Decimal
    store_by_line: Mapping[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """One voucher of a basket: applied with its discount, or not, with the reason."""

    code: str
    template: Template | None
    voucher: Voucher | None
    reason: Reason | None = None
    discount: Discount | None = None

    @property
    def applied(self) -> bool:
        return self.discount is not None

    @property
    def amount(self) -> Decimal:
        return self.discount.amount if self.discount else ZERO


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def discount_of(
    template: Template,
    lines: Sequence[BasketLine],
    left: Mapping[int, Decimal],
    groups: Mapping[str, SharingGroup],
) -> Discount | Reason:
    """What ``template`` takes off ``lines`` holding ``left`` (line_no → amount still on it),
    or why it takes nothing (scope, min spend)."""
    covered = [line for line in lines if template.scope.covers(line.goods)]
    base = sum((left[line.line_no] for line in covered), ZERO)
    if base <= ZERO:
        return Reason.SCOPE
    if template.min_spend is not None and base < template.min_spend:
        return Reason.MIN_SPEND
    if template.kind is Kind.PERCENT_OFF:
        assert template.rate is not None  # template_terms
        amount = base - _round(base * template.rate)
        if template.max_discount is not None:
            amount = min(amount, template.max_discount)
    else:
        assert template.face_value is not None  # template_terms
        amount = min(template.face_value, base)
    if amount <= ZERO:
        return Reason.SCOPE
    split = allocate_pro_rata(amount, [left[line.line_no] for line in covered])
    shares = {line.line_no: s for line, s in zip(covered, split, strict=True) if s}
    store_by_line = {
        line.line_no: _round(shares[line.line_no] * template.store_share_of(line.goods, groups))
        for line in covered
        if line.line_no in shares
    }
    store = sum(store_by_line.values(), ZERO)
    return Discount(amount, shares, store, amount - store, store_by_line)


def _refusal(
    voucher: Voucher | None,
    template: Template | None,
    who: Redeemer,
    now: datetime,
) -> Reason | None:
    """Why ``voucher`` can't be used by ``who`` now, whatever the basket."""
    if voucher is None or template is None:
        return Reason.NOT_FOUND
    if voucher.status is Status.REDEEMED:
        return Reason.ALREADY_USED
    if voucher.status is Status.VOIDED:
        return Reason.VOIDED
    if voucher.status is Status.EXPIRED or now >= voucher.valid_to:
        return Reason.EXPIRED
    if now < voucher.valid_from:
        return Reason.NOT_YET_VALID
    if not template.bearer and voucher.holder != who.member_id:
        return Reason.NOT_HOLDER
    if template.card_classes and who.card_class not in template.card_classes:
        return Reason.CLASS
    if template.stores and who.store_code not in template.stores:
        return Reason.STORE
    return None


def apply_vouchers(
    codes: Sequence[str],
    found: Mapping[str, Voucher],
    templates: Mapping[str, Template],
    lines: Sequence[BasketLine],
    who: Redeemer,
    groups: Mapping[str, SharingGroup],
    now: datetime,
) -> list[Outcome]:
    """Each code's outcome, in the order given (decided in the order of the module's rules).
    A code missing from ``found`` (unknown, or text that is no code) is ``not_found``."""
    left = {line.line_no: line.amount for line in lines}
    outcomes: dict[int, Outcome] = {}
    candidates: list[tuple[int, int, str, Voucher, Template]] = []
    seen: set[str] = set()
    for i, code in enumerate(codes):
        voucher = found.get(code)
        template = templates.get(voucher.template) if voucher else None
        if code in seen:
            reason: Reason | None = Reason.DUPLICATE
        else:
            reason = _refusal(voucher, template, who, now)
        seen.add(code)
        if reason is not None or voucher is None or template is None:
            outcomes[i] = Outcome(code, template, voucher, reason or Reason.NOT_FOUND)
        else:
            candidates.append((KIND_ORDER[template.kind], i, code, voucher, template))
    used: dict[str, int] = {}
    for _, i, code, voucher, template in sorted(candidates, key=lambda c: (c[0], c[1])):
        limit = template.per_member_limit
        if limit is not None and used.get(template.code, 0) >= limit:
            outcomes[i] = Outcome(code, template, voucher, Reason.LIMIT)
            continue
        found_discount = discount_of(template, lines, left, groups)
        if isinstance(found_discount, Reason):
            outcomes[i] = Outcome(code, template, voucher, found_discount)
            continue
        for no, share in found_discount.shares.items():
            left[no] -= share
        used[template.code] = used.get(template.code, 0) + 1
        outcomes[i] = Outcome(code, template, voucher, None, found_discount)
    return [outcomes[i] for i in range(len(codes))]


def replay_discounts(
    applied: Sequence[Template], lines: Sequence[BasketLine], groups: Mapping[str, SharingGroup]
) -> list[Decimal]:
    """What vouchers applied (in the order they were applied) take off ``lines`` now: a
    return's remaining receipt, to see how much of their value it still earns."""
    left = {line.line_no: line.amount for line in lines}
    amounts = []
    for template in applied:
        found = discount_of(template, lines, left, groups)
        if isinstance(found, Reason):
            amounts.append(ZERO)
            continue
        for no, share in found.shares.items():
            left[no] -= share
        amounts.append(found.amount)
    return amounts


def voucher_shares(outcomes: Sequence[Outcome]) -> dict[int, Decimal]:
    """line_no → the part of the line paid with vouchers."""
    shares: dict[int, Decimal] = {}
    for outcome in outcomes:
        if outcome.discount is not None:
            for no, share in outcome.discount.shares.items():
                shares[no] = shares.get(no, ZERO) + share
    return shares


# --- 返券: vouchers a sale earns ------------------------------------------------------------


def rule_in_effect(rule: VoucherRule, store_code: str, card_class: str, at: datetime) -> bool:
    return (
        (not rule.stores or store_code in rule.stores)
        and (not rule.card_classes or card_class in rule.card_classes)
        and (rule.starts_at is None or rule.starts_at <= at)
        and (rule.ends_at is None or at < rule.ends_at)
    )


def earned_count(rule: VoucherRule, lines: Sequence[BasketLine]) -> int:
    """Vouchers ``rule`` gives for ``lines`` (their amounts net of voucher payments): one per
    full ``per_amount`` of covered amount, at most ``max_per_receipt``."""
    eligible = sum((x.amount for x in lines if rule.scope.covers(x.goods)), ZERO)
    count = int(eligible // rule.per_amount) if eligible > ZERO else 0
    if rule.max_per_receipt is not None:
        count = min(count, rule.max_per_receipt)
    return count


def earned_vouchers(
    rules: Sequence[VoucherRule],
    lines: Sequence[BasketLine],
    store_code: str,
    card_class: str,
    at: datetime,
) -> dict[str, int]:
    """rule code → vouchers the sale earns by it (rules in effect for the store, class and
    time; none listed that give nothing)."""
    counts = {
        rule.code: earned_count(rule, lines)
        for rule in rules
        if rule_in_effect(rule, store_code, card_class, at)
    }
    return {code: n for code, n in counts.items() if n}


def net_of_vouchers(lines: Sequence[BasketLine], shares: Mapping[int, Decimal]) -> list[BasketLine]:
    return [BasketLine(x.goods, x.amount - shares.get(x.line_no, ZERO)) for x in lines]


CodeDraw = Callable[[], str]
