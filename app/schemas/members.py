from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from app.domain.members import Gender
from app.schemas.common import Day, JsonBool, Patch, Strict

Tag = Annotated[str, StringConstraints(min_length=1, max_length=32)]

PHONE_RULE = (
    "Spaces and dashes are ignored. A mainland mobile (`1[3-9]` + 9 digits, optional `+86`) "
    "is stored as its 11 digits; any other number must be E.164 (`+` and 8-15 digits)."
)

_EXAMPLE: JsonDict = {
    "external_ref": "CRM-000123",
    "name": "王芳",
    "phone": "+86 138-1234-5678",
    "birthday": "1990-05-17",
    "gender": "female",
    "region": "上海",
    "occupation": "teacher",
    "source_channel": "store",
    "tags": ["vip", "cosmetics"],
    "consent": {"marketing": True},
}


def _domain_fields(data: dict) -> dict:
    """Body fields under the names the domain uses (consent travels as a nested object)."""
    consent = data.pop("consent", None)
    if consent is not None:
        data["marketing_consent"] = consent.marketing
    return data


class ConsentChoice(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marketing": True}]})

    marketing: JsonBool = Field(description="May the member be contacted for marketing?")


class MemberCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    external_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The retailer's own id for the member; unique in the tenant.",
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32, description=PHONE_RULE)
    birthday: Day | None = Field(default=None, description="Between 1900-01-01 and today.")
    gender: Gender = Gender.UNKNOWN
    region: str | None = Field(default=None, min_length=1, max_length=64)
    occupation: str | None = Field(default=None, min_length=1, max_length=64)
    source_channel: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Where the member signed up, e.g. store, app, wechat, partner, import.",
    )
    tags: list[Tag] = Field(default_factory=list, max_length=50, description="Deduplicated.")
    consent: ConsentChoice | None = Field(
        default=None, description="Marketing consent; the server stamps when it was given."
    )

    def fields(self) -> dict:
        return _domain_fields({name: getattr(self, name) for name in type(self).model_fields})


class MemberUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "13900001111", "consent": {"marketing": False}}]}
    )
    nullable = frozenset(
        {"external_ref", "name", "phone", "birthday", "region", "occupation", "source_channel"}
    )

    external_ref: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32, description=PHONE_RULE)
    birthday: Day | None = None
    gender: Gender | None = None
    region: str | None = Field(default=None, min_length=1, max_length=64)
    occupation: str | None = Field(default=None, min_length=1, max_length=64)
    source_channel: str | None = Field(default=None, min_length=1, max_length=32)
    tags: list[Tag] | None = Field(default=None, max_length=50, description="Replaces the tags.")
    consent: ConsentChoice | None = None

    def fields(self) -> dict:
        return _domain_fields(self.changes())


class ConsentState(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"marketing": True, "updated_at": "2026-11-23T08:00:00Z"}]},
    )

    marketing: bool
    updated_at: datetime | None = Field(description="When the member last gave or changed it.")


class MemberRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_EXAMPLE,
                    "id": "3f1c7a52-5b8e-4c1e-9a57-2d4f0b6e8c21",
                    "phone": "13812345678",
                    "consent": {"marketing": True, "updated_at": "2026-11-23T08:00:00Z"},
                    "created_at": "2026-11-23T08:00:00Z",
                    "updated_at": "2026-11-23T08:00:00Z",
                    "erased_at": None,
                },
                {
                    **_EXAMPLE,
                    "id": "3f1c7a52-5b8e-4c1e-9a57-2d4f0b6e8c21",
                    "phone": "138****5678",
                    "birthday": None,
                    "consent": {"marketing": True, "updated_at": "2026-11-23T08:00:00Z"},
                    "created_at": "2026-11-23T08:00:00Z",
                    "updated_at": "2026-11-23T08:00:00Z",
                    "erased_at": None,
                },
            ]
        },
    )

    id: str
    external_ref: str | None
    name: str | None
    phone: str | None = Field(
        description="Normalised. Masked (`138****5678`; other numbers keep the first 3 and "
        "last 2 characters) in lists and for scopes other than admin and app."
    )
    birthday: date | None = Field(
        description="Null in lists and for scopes other than admin and app."
    )
    gender: Gender
    region: str | None
    occupation: str | None
    source_channel: str | None
    tags: list[str]
    consent: ConsentState
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = Field(
        description="Set when the member's personal data was erased; the fields are then null."
    )
