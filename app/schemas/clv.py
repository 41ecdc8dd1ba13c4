"""Customer lifetime value (docs/domain §6): requests and responses. Money and rates travel as
decimal strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.config import JsonDict

from app.schemas.common import DecimalString, JsonInt, Strict
from app.schemas.enums import RetentionConvention

# Results can exceed the 12 integer digits and 6 decimals of DecimalString inputs (an
# unbounded CLV with 1 + d − r close to 0), so they have a pattern of their own.
DecimalResult = Annotated[
    Decimal,
    PlainSerializer(lambda d: format(d, "f"), return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["3571.43"]}
    ),
]


_SEED: JsonDict = {
    "annual_spend": "2000.00",
    "gross_margin": "0.5",
    "retention": "0.8",
    "discount_rate": "0.08",
}


class RetentionClvCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {**_SEED, "years": None, "convention": "end_of_year"},
                {**_SEED, "years": 5, "convention": "retained_only"},
                {
                    "annual_spend": "5000",
                    "gross_margin": "0.25",
                    "retention": "0.7",
                    "discount_rate": "0.06",
                },
            ]
        }
    )

    annual_spend: DecimalString = Field(description="CNY a customer spends per year, ≥ 0.")
    gross_margin: DecimalString = Field(
        description="Gross margin as a fraction, 0..1 (0.5 = 50 %): margin m = spend × this."
    )
    retention: DecimalString = Field(
        description="Yearly retention rate r, 0..1: the chance a customer stays another year."
    )
    discount_rate: DecimalString = Field(description="Yearly discount rate d, 0..1 (0.08 = 8 %).")
    years: JsonInt | None = Field(
        default=None,
        description="Horizon T in years, 1..100; null (the default) = unbounded, which needs "
        "r < 1 + d.",
    )
    convention: RetentionConvention = Field(
        default="end_of_year",
        description="`end_of_year`: Σ m·r^(t−1)/(1+d)^t (year 1 certain, paid at its end); "
        "`retained_only`: Σ m·r^t/(1+d)^t (only retained years); `start_of_year`: "
        "Σ m·r^(t−1)/(1+d)^(t−1) (paid at the start of each year).",
    )


_ROW: JsonDict = {
    "year": 1,
    "margin": "1000.00",
    "survival": "1.0000000000",
    "discount_factor": "0.9259259259",
    "present_value": "925.93",
}


class ScheduleRowRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ROW]})

    year: int
    margin: DecimalResult = Field(description="m, the margin of a year the customer is kept.")
    survival: DecimalResult = Field(
        description="Chance the year's margin is earned: r^(t−1), or r^t for `retained_only`; "
        "10 decimals."
    )
    discount_factor: DecimalResult = Field(
        description="1/(1+d)^t, or 1/(1+d)^(t−1) for `start_of_year`; 10 decimals."
    )
    present_value: DecimalResult = Field(
        description="m × survival × discount_factor (from the unrounded factors), to the fen."
    )


class RetentionClvRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "clv": "2774.95",
                    "annual_margin": "1000.00",
                    "convention": "end_of_year",
                    "years": 5,
                    "schedule": [
                        _ROW,
                        {
                            "year": 2,
                            "margin": "1000.00",
                            "survival": "0.8000000000",
                            "discount_factor": "0.8573388203",
                            "present_value": "685.87",
                        },
                    ],
                }
            ]
        }
    )

    clv: DecimalResult = Field(
        description="CNY to the fen (half up): the exact sum over `years`, or the closed form "
        "when unbounded. Rows are rounded one by one, so their sum may differ by a few fen."
    )
    annual_margin: DecimalResult = Field(description="m = annual_spend × gross_margin.")
    convention: RetentionConvention
    years: int | None = Field(description="The horizon; null = unbounded.")
    schedule: list[ScheduleRowRead] = Field(
        description="One row per year: all `years` of them, or the first 100 when unbounded."
    )
