"""The API's named enumerations. Each is one component of the OpenAPI document (a type alias
becomes a ``$ref``), so a generated client has one type per set of values, under a name that
means something on its own: not one inline copy per field (``RedemptionCreatePurpose``,
``RedemptionReadPurpose``), nor a domain class's short name (``Status``, ``Step``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from typing_extensions import TypeAliasType

from app.domain.access import Scope
from app.domain.complaints import Channel, Severity, Status, Step
from app.domain.points import Category
from app.domain.rfm import SEGMENTS
from app.domain.voucher_till import Reason
from app.domain.vouchers import Kind as VoucherKindEnum
from app.domain.vouchers import OnReturn
from app.domain.vouchers import Source as VoucherSourceEnum
from app.domain.vouchers import Status as VoucherStatusEnum
from app.domain.weights import Method


def _named(name: str, enum: type[StrEnum]) -> Any:
    """A domain enum under its API name: the domain's names are read in their module
    (``complaints.Status``), the document's in one global namespace."""
    return TypeAliasType(name, enum)


ApiKeyScope = _named("ApiKeyScope", Scope)
ComplaintStatus = _named("ComplaintStatus", Status)
ComplaintStep = _named("ComplaintStep", Step)
ComplaintChannel = _named("ComplaintChannel", Channel)
ComplaintSeverity = _named("ComplaintSeverity", Severity)
WeightingMethod = _named("WeightingMethod", Method)
PointsCategory = _named("PointsCategory", Category)
VoucherOnReturn = _named("VoucherOnReturn", OnReturn)
VoucherKind = _named("VoucherKind", VoucherKindEnum)
VoucherStatus = _named("VoucherStatus", VoucherStatusEnum)
VoucherSource = _named("VoucherSource", VoucherSourceEnum)
# The goods levels a voucher's scope names (app.domain.vouchers.SCOPE_LEVELS).
VoucherScopeLevel = TypeAliasType(
    "VoucherScopeLevel",
    Literal["major_category", "mid_category", "minor_category", "counter", "brand", "sku"],
)

RfmSegment = TypeAliasType("RfmSegment", Literal[SEGMENTS])  # type: ignore[valid-type]
RfmMethod = TypeAliasType("RfmMethod", Literal["thresholds", "quantile"])
RfmRunTrigger = TypeAliasType("RfmRunTrigger", Literal["api", "schedule"])
LifecycleStage = TypeAliasType(
    "LifecycleStage", Literal["exploration", "formation", "stability", "decline", "lost"]
)
ClvTimeUnit = TypeAliasType("ClvTimeUnit", Literal["day", "week", "month"])
# A yes/no query parameter: exactly "true" or "false" (pydantic's bool would also take "on", "1").
QueryFlag = TypeAliasType("QueryFlag", Literal["true", "false"])
ImportJobStatus = TypeAliasType(
    "ImportJobStatus", Literal["running", "succeeded", "failed", "cancelled"]
)
ClvQuadrant = TypeAliasType("ClvQuadrant", Literal["vip", "improve", "maintain", "abandon"])
RetentionConvention = TypeAliasType(
    "RetentionConvention", Literal["end_of_year", "retained_only", "start_of_year"]
)
NpsGroup = TypeAliasType("NpsGroup", Literal["promoter", "passive", "detractor"])
NpsGroupBy = TypeAliasType("NpsGroupBy", Literal["store", "month"])
RedemptionPurpose = TypeAliasType("RedemptionPurpose", Literal["cash_off", "gift", "rebate"])
RedemptionStatus = TypeAliasType("RedemptionStatus", Literal["done", "cancelled"])
ChangeMovementKind = TypeAliasType(
    "ChangeMovementKind", Literal["deposit", "spend", "sale_payment", "sale_refund"]
)
CardEventKind = TypeAliasType("CardEventKind", Literal["issued", "status", "tier"])
ReturnShortfall = TypeAliasType("ReturnShortfall", Literal["reject", "purchase"])
GroupRankingBy = TypeAliasType("GroupRankingBy", Literal["amount", "count"])
MemberGroupStatus = TypeAliasType("MemberGroupStatus", Literal["new", "generated", "stale"])
VoucherReason = _named("VoucherReason", Reason)
CampaignArm = TypeAliasType("CampaignArm", Literal["treated", "control"])
