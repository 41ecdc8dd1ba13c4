from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

T = TypeVar("T")


class Strict(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FieldErrorOut(BaseModel):
    field: str = Field(description="The offending field, e.g. `lines[0].qty`.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI reference naming the problem type.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")
    errors: list[FieldErrorOut] = Field(default_factory=list)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class Patch(Strict):
    """Base of PATCH bodies: absent fields stay as they are, and ``null`` is only accepted
    for fields listed in ``nullable`` (so a typo can't blank a required column)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        for name in self.model_fields_set - self.nullable:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict:
        """The fields sent, as Python values (model_dump would turn decimals into strings)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


DECIMAL_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$"


def _decimal_from_string(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and re.fullmatch(DECIMAL_PATTERN, value):
        return Decimal(value)
    raise ValueError('must be a decimal number written as a JSON string, e.g. "0.90"')


# Money, rates and quantities travel as JSON strings ("0.90") so no client parses them as
# binary floats. Range and precision rules belong to the domain, which reports the field.
DecimalString = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_string),
    PlainSerializer(lambda d: format(d, "f"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["0.90"]}),
]


class ChangeRead(BaseModel):
    """One field of one change in an object's change log (修改日志)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "1042",
                    "action": "update",
                    "field": "default_discount_rate",
                    "old": "0.9",
                    "new": "0.88",
                    "actor": "admin",
                    "at": "2026-11-23T08:00:00Z",
                }
            ]
        }
    )

    id: str = Field(description="Opaque; later entries have later ids.")
    action: str = Field(description="What was done: create, update, delete, approve, void.")
    field: str
    old: str | None = Field(
        description="The value before, as text (lists as compact JSON); null on create."
    )
    new: str | None = Field(description="The value after, as text; null on delete.")
    actor: str = Field(description="Name of the API key that made the change.")
    at: datetime

    @classmethod
    def page(cls, page) -> Page[ChangeRead]:
        return Page[ChangeRead](
            items=[
                cls(
                    id=str(c.id),
                    action=c.action,
                    field=c.field,
                    old=c.old,
                    new=c.new,
                    actor=c.actor,
                    at=c.at,
                )
                for c in page.items
            ],
            next_cursor=page.next_cursor,
        )
