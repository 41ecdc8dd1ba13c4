"""SQLAlchemy tables: persistence only, no business rules."""

from app.models.analytics import (
    AnalyticsSettingsRow,
    ClvModelMemberRow,
    ClvModelRow,
    ImportedTransactionRow,
    ImportJobRow,
    MemberGroupMemberRow,
    MemberGroupRow,
    RfmRunRow,
    RfmScoreRow,
    TransactionImportRow,
)
from app.models.audit import AuditRow
from app.models.base import Base, add_finite_checks
from app.models.card_classes import CardClassRow, SharingGroupRow
from app.models.cards import CardEventRow, CardNumberRow, CardRow
from app.models.change_account import ChangeAccountRow, ChangeEntryRow
from app.models.complaints import ComplaintRow, ComplaintStepRow
from app.models.csi import (
    CsiAnswerRow,
    CsiModelRow,
    CsiNodeRow,
    CsiResponseRow,
    CsiWeightingRow,
)
from app.models.idempotency import IdempotencyKeyRow
from app.models.jobs import JobRunRow
from app.models.members import MemberRefRow, MemberRow
from app.models.nps import NpsResponseRow
from app.models.points import (
    PointsAccountRow,
    PointsEntryRow,
    PointsLotRow,
    PointsRedemptionRow,
    PointsSettingsRow,
)
from app.models.points_rules import MultiplierEventRow, WarmRuleRow
from app.models.pricing import (
    DiscountRuleEntryRow,
    DiscountRuleRow,
    PricingSettingsRow,
    PricingVersionRow,
)
from app.models.sales import SaleReceiptRow, SaleReturnRow, SaleRow, SaleSettingsRow
from app.models.spend import MemberSpendRow
from app.models.tenancy import ApiKeyRow, StoreRow, TenantRow
from app.models.vouchers import (
    CampaignMemberRow,
    CampaignRow,
    RewardRow,
    VoucherCodeRow,
    VoucherRow,
    VoucherRuleRow,
    VoucherSettingsRow,
    VoucherTemplateRow,
)

add_finite_checks(Base.metadata)  # every table is imported above

__all__ = [
    "AnalyticsSettingsRow",
    "ApiKeyRow",
    "AuditRow",
    "Base",
    "CampaignMemberRow",
    "CampaignRow",
    "CardClassRow",
    "CardEventRow",
    "CardNumberRow",
    "CardRow",
    "ChangeAccountRow",
    "ChangeEntryRow",
    "ClvModelMemberRow",
    "ClvModelRow",
    "ComplaintRow",
    "ComplaintStepRow",
    "CsiAnswerRow",
    "CsiModelRow",
    "CsiNodeRow",
    "CsiResponseRow",
    "CsiWeightingRow",
    "DiscountRuleEntryRow",
    "DiscountRuleRow",
    "IdempotencyKeyRow",
    "ImportJobRow",
    "ImportedTransactionRow",
    "JobRunRow",
    "MemberGroupMemberRow",
    "MemberGroupRow",
    "MemberRefRow",
    "MemberRow",
    "MemberSpendRow",
    "MultiplierEventRow",
    "NpsResponseRow",
    "PointsAccountRow",
    "PointsEntryRow",
    "PointsLotRow",
    "PointsRedemptionRow",
    "PointsSettingsRow",
    "PricingSettingsRow",
    "PricingVersionRow",
    "RewardRow",
    "RfmRunRow",
    "RfmScoreRow",
    "SaleReceiptRow",
    "SaleReturnRow",
    "SaleRow",
    "SaleSettingsRow",
    "SharingGroupRow",
    "StoreRow",
    "TenantRow",
    "TransactionImportRow",
    "VoucherCodeRow",
    "VoucherRow",
    "VoucherRuleRow",
    "VoucherSettingsRow",
    "VoucherTemplateRow",
    "WarmRuleRow",
]
