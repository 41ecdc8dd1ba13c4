"""Stored CLV models (docs/domain §6, issue 6): BG/NBD and Gamma-Gamma fitted by maximum likelihood
on the tenant's purchases up to a calibration day, with every member's predictions.

The per-member summary (frequency, recency, T, mean repeat spend) is SQL; the fits and the
predictions are the pure functions of app/domain/clv.py over whole arrays; the predictions go
back with one COPY. Data the models can't fit is refused with a 422 naming why
(``insufficient_data``, ``clv_fit_failed``), and nothing is stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from app.domain import clv
from app.domain.access import Principal
from app.domain.errors import Invalid, NotFound
from app.domain.ids import parse_id
from app.domain.pagination import Page, id_cursor, id_page, member_cursor, page_of
from app.domain.periods import day_end, local_date
from app.repositories.clv_models import QUADRANTS, ClvMember, ClvModel
from app.services.analytics import check_as_of, zone_of
from app.uow import UnitOfWork


@dataclass(frozen=True)
class Thresholds:
    current: Decimal | None = None
    potential: Decimal | None = None
    quantile: Decimal = Decimal("0.5")


def _fit_json(fit) -> dict:
    common = {
        "log_likelihood": fit.log_likelihood,
        "converged": fit.converged,
        "iterations": fit.iterations,
        "message": fit.message,
        "customers": fit.customers,
    }
    if isinstance(fit, clv.BgNbdFit):
        return {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b, **common}
    return {"p": fit.p, "q": fit.q, "v": fit.v, **common}


def _check_margin(gross_margin: Decimal) -> None:
    if not Decimal(0) < gross_margin <= Decimal(1) or gross_margin != round(gross_margin, 4):
        raise Invalid(
            "invalid_clv_input",
            "gross_margin is above 0 and at most 1, with at most 4 decimals.",
            field="gross_margin",
        )


def _thresholds(given: Thresholds) -> clv.ValueThresholds:
    if not Decimal(0) < given.quantile < Decimal(1):
        raise Invalid(
            "invalid_value_thresholds",
            "value_thresholds.quantile is between 0 and 1.",
            field="value_thresholds.quantile",
        )
    return clv.ValueThresholds(given.current, given.potential, float(given.quantile))


async def create_model(
    uow: UnitOfWork,
    who: Principal,
    *,
    time_unit: str,
    calibration_end: date,
    annual_discount_rate: Decimal,
    horizon_periods: int,
    gross_margin: Decimal,
    thresholds: Thresholds,
    now: datetime,
) -> ClvModel:
    clock = time.monotonic()
    _check_margin(gross_margin)
    rate = clv.period_discount_rate(float(annual_discount_rate), time_unit)
    if not 1 <= horizon_periods <= clv.MAX_HORIZON_PERIODS:
        raise Invalid(
            "invalid_clv_input",
            "horizon_periods is 1 to {max_horizon_periods}.",
            field="horizon_periods",
            max_horizon_periods=clv.MAX_HORIZON_PERIODS,
        )
    value_thresholds = _thresholds(thresholds)
    async with uow:
        tz = await zone_of(uow, who.tenant_id)
        check_as_of(calibration_end, local_date(now, tz), field="calibration_end")
        s = await uow.clv_models.summarise(
            who.tenant_id, day_end(calibration_end, tz), calibration_end, tz.key
        )
        unit = clv.PERIOD_DAYS[time_unit]
        recency, age = s.recency_days / unit, s.t_days / unit
        bgnbd = clv.fit_bgnbd(s.frequency, recency, age)
        gamma_gamma = clv.fit_gamma_gamma(s.frequency, s.monetary)
        values = clv.member_values(
            bgnbd,
            gamma_gamma,
            s.frequency,
            recency,
            age,
            s.monetary,
            s.total,
            horizon_periods,
            rate,
            margin=float(gross_margin),
        )
        quadrants = clv.value_quadrants(values.current, values.potential, value_thresholds)
        codes = np.zeros(len(quadrants.labels), dtype=np.int16)
        for i, name in enumerate(QUADRANTS):
            codes[quadrants.labels == name] = i
        model_id = await uow.clv_models.next_id()
        await uow.clv_models.store_members(
            model_id,
            unit,
            {
                "p_alive": values.p_alive,
                "expected": values.expected_purchases,
                "average": values.expected_average_value,
                "historical": values.historical,
                "current_value": values.current,
                "potential": values.potential,
                "total": values.total,
            },
            codes,
        )
        model = await uow.clv_models.add(
            who.tenant_id,
            model_id,
            time_unit=time_unit,
            calibration_end=calibration_end,
            annual_discount_rate=annual_discount_rate,
            horizon_periods=horizon_periods,
            gross_margin=gross_margin,
            value_thresholds={
                "current": round(quadrants.current_threshold, 2),
                "potential": round(quadrants.potential_threshold, 2),
                "quantile": float(thresholds.quantile),
                "given": {
                    "current": None if thresholds.current is None else str(thresholds.current),
                    "potential": None
                    if thresholds.potential is None
                    else str(thresholds.potential),
                },
            },
            customers=len(s.frequency),
            fit={"bgnbd": _fit_json(bgnbd), "gamma_gamma": _fit_json(gamma_gamma)},
            duration_ms=round((time.monotonic() - clock) * 1000),
        )
        await uow.commit()
    return model


async def get_model(uow: UnitOfWork, who: Principal, model_id: str) -> ClvModel:
    key = parse_id(model_id)
    async with uow:
        model = None if key is None else await uow.clv_models.get(who.tenant_id, key)
    if model is None:
        raise NotFound("clv_model_not_found", "No CLV model {model_id}.", model_id=model_id)
    return model


async def list_models(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[ClvModel]:
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.clv_models.list(who.tenant_id, before, limit)
    return id_page(rows, limit)


async def model_members(
    uow: UnitOfWork,
    who: Principal,
    model_id: str,
    quadrant: str | None,
    cursor: str | None,
    limit: int,
) -> Page[ClvMember]:
    if quadrant is not None and quadrant not in QUADRANTS:
        raise Invalid(
            "invalid_quadrant",
            "quadrant is one of {value}.",
            field="quadrant",
            value=", ".join(QUADRANTS),
        )
    after_id = member_cursor(cursor)
    async with uow:
        key = parse_id(model_id)
        if key is None or await uow.clv_models.get(who.tenant_id, key) is None:
            raise NotFound("clv_model_not_found", "No CLV model {model_id}.", model_id=model_id)
        rows = await uow.clv_models.members(who.tenant_id, key, quadrant, after_id, limit)
    return page_of(rows, limit, lambda m: [m.member_id])
