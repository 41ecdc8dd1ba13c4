"""SQLAlchemy tables: persistence only, no business rules."""

from app.models.base import Base
from app.models.card_classes import CardClassChangeRow, CardClassRow, SharingGroupRow
from app.models.cards import CardEventRow, CardRow
from app.models.members import MemberRow
from app.models.pricing import (
    DiscountRuleChangeRow,
    DiscountRuleEntryRow,
    DiscountRuleRow,
    PricingSettingsRow,
    PricingVersionRow,
)
from app.models.spend import MemberSpendRow
from app.models.tenancy import ApiKeyRow, StoreRow, TenantRow

__all__ = [
    "ApiKeyRow",
    "Base",
    "CardClassChangeRow",
    "CardClassRow",
    "CardEventRow",
    "CardRow",
    "DiscountRuleChangeRow",
    "DiscountRuleEntryRow",
    "DiscountRuleRow",
    "MemberRow",
    "MemberSpendRow",
    "PricingSettingsRow",
    "PricingVersionRow",
    "SharingGroupRow",
    "StoreRow",
    "TenantRow",
]
