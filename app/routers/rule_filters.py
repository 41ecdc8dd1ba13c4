"""The list filters of rule documents: discount rules and points rules share them."""

from typing import Annotated

from fastapi import Query

from app.domain.discount_rules import MAX_CLASS_CODE_LENGTH, MAX_TARGET_LENGTH, RuleStatus
from app.domain.pricing import Level

StatusFilter = Annotated[RuleStatus | None, Query(description="Only this status.")]
LevelFilter = Annotated[Level | None, Query(description="Only this level.")]
ClassFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CLASS_CODE_LENGTH,
        description="Only documents with an entry for this class.",
    ),
]
TargetFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_TARGET_LENGTH,
        description="Only documents with an entry for this target (exact).",
    ),
]
