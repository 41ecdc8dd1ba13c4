"""Stored CLV models (BG/NBD + Gamma-Gamma): the request, the fit, the members' values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.schemas.common import Day, DecimalString, IntId, JsonInt, Rate4, Rate6, Strict
from app.schemas.enums import ClvQuadrant, ClvTimeUnit

_FIT: JsonDict = {
    "r": 0.243,
    "alpha": 4.414,
    "a": 0.793,
    "b": 2.426,
    "log_likelihood": -9582.43,
    "converged": True,
    "iterations": 31,
    "message": "Optimization terminated successfully.",
    "customers": 2357,
}
_MODEL: JsonDict = {
    "id": "7",
    "time_unit": "week",
    "calibration_end": "2026-09-30",
    "annual_discount_rate": "0.100000",
    "horizon_periods": 52,
    "gross_margin": "1.0000",
    "customers": 2357,
    "bgnbd": _FIT,
    "gamma_gamma": {
        "p": 6.25,
        "q": 3.74,
        "v": 15.44,
        "log_likelihood": -4051.2,
        "converged": True,
        "iterations": 19,
        "message": "Optimization terminated successfully.",
        "customers": 946,
    },
    "log_likelihood": -9582.43,
    "value_thresholds": {"current": "35.20", "potential": "8.75", "quantile": 0.5},
    "duration_ms": 412,
    "created_at": "2026-11-23T08:00:00Z",
}


class ValueThresholdsIn(Strict):
    current: DecimalString | None = Field(
        default=None, description="Cut of the current value (CNY); default: the quantile."
    )
    potential: DecimalString | None = Field(
        default=None, description="Cut of the potential value (CNY); default: the quantile."
    )
    quantile: DecimalString = Field(
        default=Decimal("0.5"),
        description="Where an axis has no cut, the quantile of the tenant's customers used "
        "(0.5 = the median), strictly between 0 and 1.",
    )


class ClvModelCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "time_unit": "week",
                    "calibration_end": "2026-09-30",
                    "annual_discount_rate": "0.10",
                    "horizon_periods": 52,
                }
            ]
        }
    )

    time_unit: ClvTimeUnit = Field(description="A week is 7 days, a month 365.25/12 days.")
    calibration_end: Day = Field(
        description="Purchases up to the end of this day (tenant time zone) are fitted; today "
        "or earlier."
    )
    annual_discount_rate: Rate6 = Field(
        default=Decimal("0.10"), description="Compounded into a rate per period; 0 to 10."
    )
    horizon_periods: JsonInt = Field(
        default=52, description="Periods of the future value (CLV) and expected purchases."
    )
    gross_margin: Rate4 = Field(
        default=Decimal("1"),
        description="Values are spend × this margin (1: spend), above 0 and at most 1.",
    )
    value_thresholds: ValueThresholdsIn | None = Field(
        default=None, description="Cuts of the value quadrant (current × potential)."
    )


class BgNbdRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_FIT]})

    r: float
    alpha: float = Field(description="In the model's time unit.")
    a: float
    b: float
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    customers: int


class GammaGammaRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_MODEL["gamma_gamma"]]})

    p: float
    q: float
    v: float = Field(description="γ, in CNY.")
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    customers: int = Field(description="Customers with a repeat purchase (the fit's data).")


class ThresholdsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_MODEL["value_thresholds"]]})

    current: DecimalString = Field(description="The cut used on the current value.")
    potential: DecimalString = Field(description="The cut used on the potential value.")
    quantile: float


class ClvModelRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_MODEL]})

    id: IntId
    time_unit: ClvTimeUnit
    calibration_end: dt.date
    annual_discount_rate: Rate6
    horizon_periods: int
    gross_margin: Rate4
    customers: int = Field(description="Members with a purchase up to calibration_end.")
    bgnbd: BgNbdRead
    gamma_gamma: GammaGammaRead
    log_likelihood: float = Field(description="The BG/NBD fit's total log-likelihood.")
    value_thresholds: ThresholdsRead
    duration_ms: int
    created_at: dt.datetime


class ValueBreakdownRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "historical": "240.00",
                    "current": "79.85",
                    "potential": "11.93",
                    "total": "331.78",
                }
            ]
        }
    )

    historical: DecimalString = Field(description="Spend to date × margin.")
    current: DecimalString = Field(description="Discounted future value if behaviour stays.")
    potential: DecimalString = Field(
        description="What keeping the customer surely alive would add (retention, win-back)."
    )
    total: DecimalString


class ClvMemberRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10",
                    "member_ref": "C000123",
                    "frequency": 4,
                    "recency": 30.43,
                    "T": 38.57,
                    "monetary_value": "48.20",
                    "p_alive": 0.87,
                    "expected_purchases": 1.92,
                    "expected_average_value": "45.10",
                    "clv": "79.85",
                    "breakdown": {
                        "historical": "240.00",
                        "current": "79.85",
                        "potential": "11.93",
                        "total": "331.78",
                    },
                    "quadrant": "vip",
                }
            ]
        }
    )

    member_id: str
    member_ref: str | None
    frequency: int = Field(description="Repeat purchase days.")
    recency: float = Field(description="First to last purchase day, in the model's unit.")
    T: float = Field(description="First purchase day to calibration_end, in the model's unit.")
    monetary_value: DecimalString = Field(description="Mean of the repeat days' amounts.")
    p_alive: float = Field(description="Probability the member is still a customer (流失预警).")
    expected_purchases: float = Field(description="Expected purchases over the horizon.")
    expected_average_value: DecimalString = Field(description="Expected spend per purchase.")
    clv: DecimalString = Field(description="Discounted CLV over the horizon (= current value).")
    breakdown: ValueBreakdownRead
    quadrant: ClvQuadrant = Field(
        description="Current × potential value: vip (贵宾型), improve (改进型), maintain (维持型), "
        "abandon (放弃型)."
    )
