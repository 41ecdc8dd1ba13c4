from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    StrictBool,
    StrictInt,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema
from typing_extensions import TypeAliasType

from app.domain.errors import N_
from app.domain.ids import ID_PATTERN

T = TypeVar("T")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("string_nul", N_("must not contain the NUL character (U+0000)"))
    return value


# Core-schema keys whose dicts are not validators of the input.
_NOT_VALIDATION = frozenset({"metadata", "serialization"})


def _refuse_nul(schema: Any) -> Any:
    """``schema`` with every string validator in it (fields, list items, dict keys, union
    members) also refusing NUL: PostgreSQL can't store it in text, and the error then names
    the exact place (``lines[0].sku``, ``tags[2]``)."""
    if isinstance(schema, dict):
        if schema.get("type") == "str":
            return core_schema.no_info_after_validator_function(_no_nul, schema)
        return {k: v if k in _NOT_VALIDATION else _refuse_nul(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_refuse_nul(item) for item in schema]
    return schema


class Strict(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped, and no
    string anywhere in the body may hold a NUL character."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return _refuse_nul(handler(source))


class FieldErrorOut(BaseModel):
    field: str = Field(description="The offending field, e.g. `lines[0].qty`.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine ``code``."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)

    type: str = Field(description="URI reference naming the problem type.")
    title: str
    status: int
    detail: str
    # A string here (a code the registry missed still leaves as a problem); the document
    # lists the codes as the ErrorCode enum (app/main.py, from problems.ERROR_CODES).
    code: str = Field(
        description="Stable machine-readable error code: match on it, not on the title or "
        "detail. New codes may be added; treat an unknown one by its `status`."
    )
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
                raise refused(N_("{name} cannot be null"), name=name)
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
    raise ValueError(N_('must be a decimal number written as a JSON string, e.g. "0.90"'))


# Money, rates and quantities travel as JSON strings ("0.90") so no client parses them as
# binary floats. Range and precision rules belong to the domain, which reports the field.
_DECIMAL_IN = BeforeValidator(_decimal_from_string)
_DECIMAL_OUT = PlainSerializer(lambda d: format(d, "f"), return_type=str)


def _string_schema(schema: dict) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **schema})


def _decimal_string(schema: dict) -> Any:
    return Annotated[Decimal, _DECIMAL_IN, _DECIMAL_OUT, _string_schema(schema)]


DecimalString = _decimal_string({"pattern": DECIMAL_PATTERN, "examples": ["0.90"]})


def fixed(places: int) -> Callable[[Decimal], str]:
    """``value`` written with exactly ``places`` decimals (trailing zeros kept)."""
    step = Decimal(1).scaleb(-places)
    return lambda value: format(value.quantize(step), "f")


rate4, rate6 = fixed(4), fixed(6)


def _rate(write: Callable[[Decimal], str], example: str) -> Any:
    return Annotated[
        Decimal,
        BeforeValidator(_decimal_from_string),
        PlainSerializer(write, return_type=str),
        WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": [example]}),
    ]


# Rates, shares and multipliers a tenant sets (discount and points rates, the identity
# multiple, store shares, k, the point price, a gross margin, the decline ratio) take up to 4
# decimals, and responses always give all 4 ("0.9000"), in whatever form they were sent
# ("0.9"). A CLV model's annual discount rate is stored to 6. README, "API conventions".
Rate4 = _rate(rate4, "0.9000")
Rate6 = _rate(rate6, "0.100000")

# Amounts of CNY, as the domain takes them (app/domain/money.py: 2 decimals, below 10^12).
# Documented by what they may be, each a named schema; validated like any DecimalString, so
# a value out of range still gets the domain's own code (e.g. 422 `invalid_amount`).
# Spelled out, not _decimal_string(), so that type checkers read them as Decimal.
MONEY_PATTERN = r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
POSITIVE_MONEY_PATTERN = r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$"
SIGNED_MONEY_PATTERN = r"^-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"
Money = TypeAliasType(
    "Money",
    Annotated[
        Decimal,
        _DECIMAL_IN,
        _DECIMAL_OUT,
        _string_schema(
            {
                "pattern": MONEY_PATTERN,
                "description": "CNY ≥ 0 with at most 2 decimals, as a string.",
                "examples": ["12.40"],
            }
        ),
    ],
)
PositiveMoney = TypeAliasType(
    "PositiveMoney",
    Annotated[
        Decimal,
        _DECIMAL_IN,
        _DECIMAL_OUT,
        _string_schema(
            {
                "pattern": POSITIVE_MONEY_PATTERN,
                "description": "CNY > 0 with at most 2 decimals, as a string.",
                "examples": ["12.40"],
            }
        ),
    ],
)
SignedMoney = TypeAliasType(
    "SignedMoney",
    Annotated[
        Decimal,
        _DECIMAL_IN,
        _DECIMAL_OUT,
        _string_schema(
            {
                "pattern": SIGNED_MONEY_PATTERN,
                "description": "CNY with at most 2 decimals, negative for money out, as a string.",
                "examples": ["-0.60"],
            }
        ),
    ],
)

# Ids of rows the database numbers, as the README promises: opaque strings ("42"). Built
# from the row's int (or from such a string, e.g. a stored response replayed).
IntId = Annotated[
    int,
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ID_PATTERN,
            "description": "An opaque id (a string of digits today; compare it whole).",
            "examples": ["42"],
        }
    ),
]

# JSON integers and booleans as sent. FastAPI validates bodies in pydantic's lax Python mode,
# which would take true for 1, 1.0 or "1" for an int, and "yes" or 1 for a bool.
JsonInt = StrictInt  # Annotated[int, Strict()]
JsonBool = StrictBool

# Business timestamps: an instant far enough from the ends of Python's and PostgreSQL's
# ranges that no time zone conversion or date arithmetic on it can overflow.
INSTANT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
INSTANT_END = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
MAX_OFFSET = timedelta(hours=14)  # the widest UTC offset in use (Kiribati, +14:00)
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})"
)
INSTANT_RULE = N_(
    "an ISO-8601 date and time with a UTC offset (Z or ±hh:mm, at most ±14:00) as a string, "
    "e.g. 2026-11-23T08:00:00+08:00, from 2000-01-01T00:00:00Z to before 2100-01-01T00:00:00Z"
)

# Calendar days (birthdays too, so before 2000).
DAY_MIN = date(1900, 1, 1)
DAY_END = date(2100, 1, 1)  # exclusive
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DAY_RULE = N_("a date YYYY-MM-DD as a string, from 1900-01-01 to 2099-12-31")

# Validation context for values read back from storage, which were judged when they were
# written (by rules that may have been wider then): they are not refused on the way out.
STORED = {"stored": True}


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def refused(template: str, **texts: str) -> PydanticCustomError:
    """A refusal whose message is ``template`` filled with ``texts``; both are kept in its
    context, so the edge can translate each (app/routers/pydantic_messages.py)."""
    # No "Value error, " before the message, as a ValueError would put.
    return PydanticCustomError("value_error", template, {**texts, "template": template})


def parse_instant(value: object, info: ValidationInfo) -> datetime:
    """A business timestamp (``Instant``): a string of a date and time with its offset."""
    if isinstance(value, datetime):  # built in Python, not sent as JSON
        moment = value
    elif isinstance(value, str) and _INSTANT.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows t and z
        except ValueError:
            raise refused(
                N_("is not a valid date and time: it must be {rule}"), rule=INSTANT_RULE
            ) from None
    else:
        raise refused(N_("must be {rule}"), rule=INSTANT_RULE)
    offset = moment.utcoffset()
    if offset is None:
        raise refused(N_("must carry a UTC offset: it must be {rule}"), rule=INSTANT_RULE)
    if _stored(info):
        return moment
    if abs(offset) > MAX_OFFSET:
        raise refused(N_("has a UTC offset beyond ±14:00"))
    # Aware datetimes compare without converting, so this can't overflow near year 1 or 9999.
    if not INSTANT_MIN <= moment < INSTANT_END:
        raise refused(N_("must be from 2000-01-01T00:00:00Z to before 2100-01-01T00:00:00Z"))
    return moment


def parse_day(value: object, info: ValidationInfo) -> date:
    """A calendar date (``Day``): a string YYYY-MM-DD."""
    if isinstance(value, date) and not isinstance(value, datetime):  # built in Python
        day = value
    elif isinstance(value, str) and _DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise refused(N_("is not a valid date: it must be {rule}"), rule=DAY_RULE) from None
    else:
        raise refused(N_("must be {rule}"), rule=DAY_RULE)
    if not _stored(info) and not DAY_MIN <= day < DAY_END:
        raise refused(N_("must be from 1900-01-01 to 2099-12-31"))
    return day


Instant = Annotated[
    datetime,
    BeforeValidator(parse_instant),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": f"A date and time: {INSTANT_RULE}.",
            "examples": ["2026-11-23T08:00:00+08:00"],
        }
    ),
]
Day = Annotated[
    date,
    BeforeValidator(parse_day),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": f"A calendar date: {DAY_RULE}.",
            "examples": ["2026-11-23"],
        }
    ),
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
