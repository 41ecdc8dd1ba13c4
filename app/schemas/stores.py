from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.domain.stores import STORE_CODE
from app.schemas.common import Patch, Strict

_EXAMPLE: JsonDict = {"code": "S01", "name": "Nanjing Road flagship", "time_zone": "Asia/Shanghai"}


class StoreCreate(Strict):
    # A code the demo tenant (`make run`) doesn't have yet, so that "Try it out" creates it.
    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_EXAMPLE, "code": "S03", "name": "Jing'an counter"}]}
    )

    code: str = Field(
        pattern=STORE_CODE.pattern,
        description="Immutable; uppercase letters and digits, printed inside card numbers.",
    )
    name: str = Field(min_length=1, max_length=200)
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA zone; defaults to the tenant's (Asia/Shanghai).",
    )


class StoreUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Nanjing Road (East)"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)


class StoreRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "created_at": "2026-11-23T08:00:00Z",
                    "updated_at": "2026-11-23T08:00:00Z",
                }
            ]
        },
    )

    code: str
    name: str
    time_zone: str
    created_at: datetime
    updated_at: datetime
