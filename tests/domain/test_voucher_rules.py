"""返券 rule terms (app/domain/voucher_rules.py): every bad field in one refusal, references
included."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.domain.errors import Invalid
from app.domain.voucher_rules import VoucherRuleTerms, check_voucher_rule
from app.domain.voucher_terms import References
from tests.domain.conftest import NOW

KNOWN = References(
    templates=frozenset({"CNY20"}),
    card_classes=frozenset({"GOLD"}),
    stores=frozenset({"S01", "S02"}),
)
GOOD = {
    "code": "EVERY200",
    "name": "每满200返20",
    "template": "CNY20",
    "per_amount": Decimal("200.00"),
    "max_per_receipt": 5,
    "card_classes": ("GOLD",),
    "stores": ("S01",),
    "include": {"major_category": ("COSMETICS",)},
    "exclude": {"brand": ("LAMER",), "sku": ("SKU-1",)},
    "starts_at": NOW,
    "ends_at": NOW + timedelta(days=30),
}


def test_good_terms_pass():
    check_voucher_rule(VoucherRuleTerms(**GOOD), KNOWN)


def test_bad_terms_are_one_refusal_naming_every_field():
    terms = VoucherRuleTerms(
        **{
            **GOOD,
            "code": "x" * 33,
            "template": "CNY99",
            "per_amount": Decimal("0.001"),
            "max_per_receipt": 0,
            "card_classes": ("GOLD", "BRONZE"),
            "stores": ("S09", "S01"),
            "include": {"colour": ("RED",), "brand": ("",)},
            "ends_at": NOW - timedelta(days=1),
        }
    )
    with pytest.raises(Invalid) as refused:
        check_voucher_rule(terms, KNOWN)
    assert refused.value.code == "invalid_voucher_rule"
    assert [e.field for e in refused.value.errors] == [
        "code",
        "template",
        "per_amount",
        "max_per_receipt",
        "card_classes[1]",
        "stores[0]",
        "include.colour",
        "include.brand[0]",
        "ends_at",
    ]


@pytest.mark.parametrize("amount", ["0", "-200", "10000000000.00", "NaN", "200.005"])
def test_per_amount_is_money_above_zero(amount):
    with pytest.raises(Invalid) as refused:
        check_voucher_rule(VoucherRuleTerms(**{**GOOD, "per_amount": Decimal(amount)}), KNOWN)
    assert [e.field for e in refused.value.errors] == ["per_amount"]
