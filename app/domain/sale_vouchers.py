"""Vouchers in a sale and its returns (docs/domain §12): the part of ``decide_sale`` and
``decide_return`` that redeems, earns, voids, restores and deducts. Pure.

A sale's ``voucher`` payments are checked with the quote's own function
(``voucher_till.apply_vouchers``): each must apply, and its amount must be what the quote gives
for this basket. What they took off each line is stored with the sale (points exclude it, §3.2),
with the terms they were applied on, so a return decides from the sale as it was.

On a return, the tenant's ``voucher_on_return`` decides for the vouchers the sale was paid
with: ``keep`` (the discount stays with the customer), ``deduct`` (the refund is reduced by the
part of their value the remaining receipt no longer earns: the vouchers are applied again, in
the same order, to what is left) or ``restore`` (a full return reinstates each voucher still
valid). Vouchers the sale earned (返券) are recounted on what is left: those no longer earned are
voided when unused; a used one's value is deducted from the refund.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from app.domain.card_classes import SharingGroup
from app.domain.errors import Conflict, Invalid
from app.domain.ledger import VoucherChange, VoucherRedemption
from app.domain.money import ZERO
from app.domain.points import Payment, PaymentMethod, fen
from app.domain.pricing import Goods
from app.domain.voucher_till import (
    KIND_ORDER,
    BasketLine,
    Outcome,
    Reason,
    Redeemer,
    apply_vouchers,
    earned_count,
    earned_vouchers,
    net_of_vouchers,
    replay_discounts,
    voucher_shares,
)
from app.domain.vouchers import (
    Kind,
    NewVoucher,
    OnReturn,
    Scope,
    Source,
    Status,
    Template,
    Voucher,
    VoucherRule,
    validity,
)


@dataclass(frozen=True)
class SaleVouchers:
    """What a sale's vouchers decide: the rows to write, the detail to store, the answer."""

    shares: dict[int, Decimal]  # line_no → paid with vouchers
    redeemed: tuple[VoucherRedemption, ...]
    issued: tuple[NewVoucher, ...]
    detail: dict
    answer: dict


NOTHING = SaleVouchers({}, (), (), {}, {"vouchers_redeemed": [], "vouchers_earned": []})


def _terms_json(template: Template) -> dict:
    include, exclude = template.scope.as_json()
    return {
        "code": template.code,
        "kind": template.kind.value,
        "face_value": None if template.face_value is None else str(template.face_value),
        "rate": None if template.rate is None else str(template.rate),
        "max_discount": None if template.max_discount is None else str(template.max_discount),
        "min_spend": None if template.min_spend is None else str(template.min_spend),
        "include": include,
        "exclude": exclude,
    }


def _terms_of(data: Mapping) -> Template:
    def money(name: str) -> Decimal | None:
        return None if data.get(name) is None else Decimal(data[name])

    return Template(
        code=data["code"],
        name=data["code"],
        kind=Kind(data["kind"]),
        face_value=money("face_value"),
        rate=money("rate"),
        max_discount=money("max_discount"),
        min_spend=money("min_spend"),
        scope=Scope.of(data["include"], data["exclude"]),
    )


def _refused(i: int, outcome: Outcome) -> Exception:
    field = f"payments[{i}].voucher_code"
    if outcome.reason is Reason.ALREADY_USED:
        return Conflict(
            "voucher_already_redeemed",
            "Voucher {voucher} has been used already.",
            field=field,
            voucher=outcome.code,
        )
    reason = outcome.reason.value if outcome.reason else "not_found"
    return Invalid(
        "voucher_not_applicable",
        "Voucher {voucher} does not apply to this sale ({reason}).",
        field=field,
        extra={"reason": reason},
        voucher=outcome.code,
        reason=reason,
    )


def sale_vouchers(
    *,
    payments: Sequence[Payment],
    lines: Sequence[Goods],
    amounts: Mapping[int, Decimal],
    found: Mapping[str, Voucher],
    templates: Mapping[str, Template],
    rules: Sequence[VoucherRule],
    groups: Mapping[str, SharingGroup],
    who: Redeemer,
    card_class: str,
    sale_id: int,
    receipt_no: str,
    occurred_at: datetime,
    now: datetime,
    draw_code: Callable[[], str],
) -> SaleVouchers:
    """The sale's voucher payments checked and redeemed, and the vouchers it earns (返券)."""
    paying = [(i, p) for i, p in enumerate(payments) if p.method is PaymentMethod.VOUCHER]
    if not paying and not rules:  # most sales: nothing to redeem or earn
        return NOTHING
    basket = [BasketLine(line, amounts[line.line_no]) for line in lines]
    codes = [p.voucher_code or "" for _, p in paying]
    outcomes = apply_vouchers(codes, found, templates, basket, who, groups, now)
    for (i, payment), outcome in zip(paying, outcomes, strict=True):
        if outcome.discount is None:
            raise _refused(i, outcome)
        if payment.amount != outcome.amount:
            raise Invalid(
                "voucher_amount_mismatch",
                "Voucher {voucher} takes {expected} CNY off this basket, not {amount}.",
                field=f"payments[{i}].amount",
                extra={"expected": str(outcome.amount)},
                voucher=outcome.code,
                expected=outcome.amount,
                amount=payment.amount,
            )
    # In the order they were applied: a return applies them again in that order.
    order = sorted(
        range(len(outcomes)),
        key=lambda n: (KIND_ORDER[outcomes[n].template.kind], n),  # type: ignore[union-attr]
    )
    applied = [outcomes[n] for n in order]
    redeemed = []
    stored = []
    for outcome in applied:
        discount, voucher, template = outcome.discount, outcome.voucher, outcome.template
        assert discount is not None and voucher is not None and template is not None
        redeemed.append(
            VoucherRedemption(
                outcome.code,
                voucher.holder,
                sale_id,
                who.store_code,
                receipt_no,
                discount.amount,
                discount.store_borne,
                discount.supplier_borne,
            )
        )
        stored.append(
            {
                "code": outcome.code,
                "holder": voucher.holder,
                "amount": str(discount.amount),
                "shares": {str(no): str(s) for no, s in discount.shares.items()},
                "store_borne": str(discount.store_borne),
                "supplier_borne": str(discount.supplier_borne),
                "valid_to": voucher.valid_to.isoformat(),
                "terms": _terms_json(template),
            }
        )
    shares = voucher_shares(applied)
    net = net_of_vouchers(basket, shares)
    issued, earned = [], []
    counts = earned_vouchers(rules, net, who.store_code, card_class, occurred_at)
    for rule in rules:
        count = counts.get(rule.code, 0)
        template = templates.get(rule.template)
        if not count or template is None:
            continue
        valid_from, valid_to = validity(template, now)
        new = [
            NewVoucher(
                draw_code(),
                template.code,
                who.member_id or "",
                valid_from,
                valid_to,
                Source.SALE,
                str(sale_id),
            )
            for _ in range(count)
        ]
        issued.extend(new)
        include, exclude = rule.scope.as_json()
        earned.append(
            {
                "rule": rule.code,
                "per_amount": str(rule.per_amount),
                "max_per_receipt": rule.max_per_receipt,
                "include": include,
                "exclude": exclude,
                "codes": [v.code for v in new],
            }
        )
    detail: dict = {}
    if stored:
        detail["vouchers"] = stored
        detail["voucher_shares"] = {str(no): str(s) for no, s in shares.items()}
    if earned:
        detail["vouchers_earned"] = earned
    answer = {
        "vouchers_redeemed": [{"code": x["code"], "amount": x["amount"]} for x in stored],
        "vouchers_earned": [
            {"code": v.code, "template": v.template, "valid_to": v.valid_to.isoformat()}
            for v in issued
        ],
    }
    return SaleVouchers(shares, tuple(redeemed), tuple(issued), detail, answer)


def shares_of(detail: Mapping) -> dict[int, Decimal]:
    return {int(no): Decimal(s) for no, s in detail.get("voucher_shares", {}).items()}


# --- returns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnVouchers:
    deduction: Decimal  # taken off the refund
    voided: tuple[VoucherChange, ...]
    restored: tuple[VoucherChange, ...]

    def answer(self) -> dict:
        return {
            "voucher_deduction": str(self.deduction),
            "vouchers_voided": [v.code for v in self.voided],
            "vouchers_restored": [v.code for v in self.restored],
        }


def _basket(
    lines: Sequence[Goods], amounts: Mapping[int, Decimal], left: Mapping[int, Fraction]
) -> list[BasketLine]:
    return [BasketLine(x, fen(Fraction(amounts[x.line_no]) * left[x.line_no])) for x in lines]


def return_vouchers(
    *,
    detail: Mapping,
    lines: Sequence[Goods],
    amounts: Mapping[int, Decimal],  # line_no → final amount at sale
    left_before: Mapping[int, Fraction],  # line_no → share of the qty left before the return
    left_after: Mapping[int, Fraction],
    earned: Mapping[str, Voucher],  # the vouchers the sale earned, by code, as read
    member_id: str,
    on_return: OnReturn,
    sale_id: int,
    return_no: str,
    now: datetime,
) -> ReturnVouchers:
    deduction = ZERO
    restored: list[VoucherChange] = []
    paid_with = detail.get("vouchers", [])
    if paid_with and on_return is OnReturn.DEDUCT:
        applied = [_terms_of(x["terms"]) for x in paid_with]
        before = replay_discounts(applied, _basket(lines, amounts, left_before), {})
        after = replay_discounts(applied, _basket(lines, amounts, left_after), {})
        deduction += max(ZERO, sum(before, ZERO) - sum(after, ZERO))
    if paid_with and on_return is OnReturn.RESTORE and not any(left_after.values()):
        restored = [
            VoucherChange(x["code"], x["holder"], sale_id=sale_id)
            for x in paid_with
            if now < datetime.fromisoformat(x["valid_to"])
        ]
    voided: list[VoucherChange] = []
    shares = shares_of(detail)
    net = {no: amount - shares.get(no, ZERO) for no, amount in amounts.items()}
    for entry in detail.get("vouchers_earned", []):
        rule = VoucherRule(
            entry["rule"],
            "",
            Decimal(entry["per_amount"]),
            entry["max_per_receipt"],
            scope=Scope.of(entry["include"], entry["exclude"]),
        )
        count_before = earned_count(rule, _basket(lines, net, left_before))
        take = count_before - earned_count(rule, _basket(lines, net, left_after))
        held = sorted((earned[c] for c in entry["codes"] if c in earned), key=lambda v: v.code)
        # Unused ones are voided first; then used ones' value is deducted. Earlier returns
        # voided theirs, and deducted the rest of what they took.
        unused = [v for v in held if v.status in (Status.ISSUED, Status.EXPIRED)]
        used = [v for v in held if v.status is Status.REDEEMED]
        gone = sum(1 for v in held if v.status is Status.VOIDED)
        deducted = max(0, len(entry["codes"]) - count_before - gone)
        for voucher in unused[:take]:
            voided.append(VoucherChange(voucher.code, member_id, reason=f"return {return_no}"))
        for voucher in used[deducted : deducted + max(0, take - len(unused))]:
            deduction += voucher.redeemed_amount or ZERO
    return ReturnVouchers(deduction, tuple(voided), tuple(restored))
