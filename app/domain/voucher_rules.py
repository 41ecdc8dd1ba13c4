"""返券 rules as a tenant keeps them (docs/domain §12). Pure.

A rule makes a sale earn vouchers of a template: one per full ``per_amount`` of the eligible
amount (每满200返20: per_amount 200.00 and a template worth 20), at most ``max_per_receipt``,
for the listed card classes and stores (none listed: any) and goods scope, in its window,
while it is active. The sale loads the active rules as ``VoucherRule`` (app/domain/vouchers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from app.domain.errors import N_, FieldError, refuse_any
from app.domain.money import decimal_places
from app.domain.voucher_terms import (
    MAX_INT,
    References,
    header_errors,
    is_count,
    list_errors,
    window_errors,
)
from app.domain.vouchers import SCOPE_LEVELS

MAX_PER_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12, 2)


@dataclass(frozen=True, kw_only=True)
class VoucherRuleTerms:
    code: str
    name: str
    template: str
    per_amount: Decimal
    max_per_receipt: int | None = None
    card_classes: tuple[str, ...] = ()  # empty: any
    stores: tuple[str, ...] = ()  # empty: every store
    include: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # {level: [codes]}
    exclude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class StoredVoucherRule(VoucherRuleTerms):
    created_at: datetime
    updated_at: datetime


def _scope_errors(name: str, scope: Mapping[str, tuple[str, ...]]) -> list[FieldError]:
    errors = []
    for level, codes in scope.items():
        if level not in SCOPE_LEVELS:
            errors.append(
                FieldError(
                    f"{name}.{level}",
                    "not a level: one of {levels}",
                    levels=", ".join(SCOPE_LEVELS),
                )
            )
        else:
            errors += list_errors(f"{name}.{level}", codes, None, "")
    return errors


def check_voucher_rule(terms: VoucherRuleTerms, known: References) -> None:
    """422 ``invalid_voucher_rule`` naming every bad field, references included."""
    errors = header_errors(terms.code, terms.name, terms.template, known)
    amount = terms.per_amount
    if not (amount.is_finite() and 0 < amount <= MAX_PER_AMOUNT and decimal_places(amount) <= 2):
        errors.append(
            FieldError(
                "per_amount",
                "an amount > 0 with at most 2 decimals, up to {max}",
                max=str(MAX_PER_AMOUNT),
            )
        )
    if terms.max_per_receipt is not None and not is_count(terms.max_per_receipt, 1):
        errors.append(FieldError("max_per_receipt", "a whole number from 1 to {max}", max=MAX_INT))
    errors += list_errors(
        "card_classes", terms.card_classes, known.card_classes, N_("no card class {code_name}")
    )
    errors += list_errors("stores", terms.stores, known.stores, N_("no store {code_name}"))
    errors += _scope_errors("include", terms.include)
    errors += _scope_errors("exclude", terms.exclude)
    errors += window_errors(terms.starts_at, terms.ends_at)
    refuse_any(errors, "invalid_voucher_rule", N_("The voucher rule"))
