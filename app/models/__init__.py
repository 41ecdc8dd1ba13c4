"""SQLAlchemy tables: persistence only, no business rules."""

from app.models.base import Base
from app.models.tenancy import ApiKeyRow, StoreRow, TenantRow

__all__ = ["ApiKeyRow", "Base", "StoreRow", "TenantRow"]
