from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Strict
from app.schemas.enums import ApiKeyScope


class ApiKeyCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "till-S01-03", "scopes": ["pos"]}]}
    )

    name: str = Field(min_length=1, max_length=100, description="Who uses it; shown in audit logs.")
    scopes: list[ApiKeyScope] = Field(min_length=1, max_length=5)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5d0c2c1e-8f3b-4a51-9d0e-6f1b8f3c9a10",
                    "name": "till-S01-03",
                    "scopes": ["pos"],
                    "display_prefix": "lk_Zk3q9Xa",
                    "tenant_id": "0b6a4c58-2f53-4a57-8f3a-1f7d2f9e8b11",
                    "created_at": "2026-11-23T08:00:00Z",
                    "revoked_at": None,
                }
            ]
        },
    )

    id: str
    tenant_id: str
    name: str
    scopes: list[ApiKeyScope]
    display_prefix: str = Field(description="The first characters of the key, to recognise it.")
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5d0c2c1e-8f3b-4a51-9d0e-6f1b8f3c9a10",
                    "name": "till-S01-03",
                    "scopes": ["pos"],
                    "display_prefix": "lk_Zk3q9Xa",
                    "tenant_id": "0b6a4c58-2f53-4a57-8f3a-1f7d2f9e8b11",
                    "created_at": "2026-11-23T08:00:00Z",
                    "revoked_at": None,
                    "key": "lk_Zk3q9Xa…",
                }
            ]
        },
    )

    key: str = Field(description="The secret key. Shown only in this response; store it now.")
