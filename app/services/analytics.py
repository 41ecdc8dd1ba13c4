"""Customer analytics use cases (issue 6): RFM runs and their settings, churn, lifecycle.

The data work is set-based SQL in the analytics repository; the rules are the pure
functions of app/domain (rfm, lifecycle), applied to whole arrays of members at once.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, Self, TypeVar
from zoneinfo import ZoneInfo

from app.domain import churn as churn_rules
from app.domain import lifecycle, rfm
from app.domain.access import Principal
from app.domain.audit import FieldChange
from app.domain.errors import Invalid, NotFound
from app.domain.ids import parse_id
from app.domain.pagination import Page, id_cursor, id_page, member_cursor, page_of
from app.domain.periods import day_end, day_start, local_date
from app.domain.schedule import month_end_before
from app.repositories.analytics import MemberHistory, RfmMemberScore, RfmRun
from app.uow import UnitOfWork

log = logging.getLogger(__name__)

EARLIEST = date(1900, 1, 1)


async def zone_of(uow: UnitOfWork, tenant_id: str) -> ZoneInfo:
    tenant = await uow.tenants.get(tenant_id)
    if tenant is None:  # a key's tenant always exists; only a broken reference gets here
        raise NotFound("tenant_not_found", "No such tenant.")
    return ZoneInfo(tenant.time_zone)


def check_as_of(as_of: date, today: date, field: str = "as_of") -> date:
    if as_of > today:
        raise Invalid(
            "invalid_as_of",
            "{field_name} {as_of} is after today ({today}, tenant time zone).",
            field=field,
            field_name=field,
            as_of=as_of.isoformat(),
            today=today.isoformat(),
        )
    if as_of < EARLIEST:
        raise Invalid(
            "invalid_as_of", "{field_name} is 1900-01-01 or later.", field=field, field_name=field
        )
    return as_of


async def _member(uow: UnitOfWork, who: Principal, member_id: str) -> None:
    if not await uow.analytics.member_exists(who.tenant_id, member_id):
        raise NotFound("member_not_found", "No member with id {member_id}.", member_id=member_id)


# --- RFM settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RfmSettings:
    config: rfm.RfmConfig
    updated_at: datetime | None  # None: never set (the defaults)


async def _replace_settings(
    uow: UnitOfWork, who: Principal, kind: str, old: dict, new: dict, now: datetime
) -> None:
    """Store a tenant's ``kind`` settings, audit what changed (as ``<kind>_settings``) and
    commit."""
    await uow.analytics.put_settings(who.tenant_id, kind, new, now)
    await uow.audit.write(
        who.tenant_id,
        f"{kind}_settings",
        who.tenant_id,
        "update",
        who.key_name,
        [FieldChange(k, _text(old[k]), _text(new[k])) for k in new if old[k] != new[k]],
    )
    await uow.commit()


class _Settings(Protocol):
    def __init__(self) -> None: ...

    @classmethod
    def from_json(cls, data: dict) -> Self: ...


Config = TypeVar("Config", bound=_Settings)


async def _stored(
    uow: UnitOfWork, tenant_id: str, kind: str, config_type: type[Config]
) -> tuple[Config, datetime | None]:
    """The tenant's ``kind`` settings as ``config_type`` and when they were set; the defaults
    (and None) when never set."""
    stored = await uow.analytics.settings(tenant_id, kind)
    return (config_type.from_json(stored[0]), stored[1]) if stored else (config_type(), None)


async def _rfm_config(uow: UnitOfWork, tenant_id: str) -> rfm.RfmConfig:
    return (await _stored(uow, tenant_id, "rfm", rfm.RfmConfig))[0]


async def get_rfm_settings(uow: UnitOfWork, who: Principal) -> RfmSettings:
    async with uow:
        stored = await _stored(uow, who.tenant_id, "rfm", rfm.RfmConfig)
    return RfmSettings(*stored)


async def put_rfm_settings(
    uow: UnitOfWork,
    who: Principal,
    *,
    method: rfm.RfmMethod,
    window_days: int,
    r_days: tuple[int, ...],
    f_counts: tuple[int, ...],
    m_amounts: tuple[Decimal, ...],
    high_score: int,
    now: datetime,
) -> RfmSettings:
    """Replace the settings (audited); runs from now on use them."""
    config = rfm.rfm_config(method, window_days, r_days, f_counts, m_amounts, high_score)
    async with uow:
        old = await _rfm_config(uow, who.tenant_id)
        await _replace_settings(uow, who, "rfm", old.as_json(), config.as_json(), now)
    return RfmSettings(config, now)


def _text(value) -> str:
    """A settings value as the change log keeps it (lists as compact JSON)."""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list) else str(value)


# --- RFM runs -----------------------------------------------------------------------------------


async def run_rfm(uow: UnitOfWork, tenant_id: str, as_of: date, trigger: str) -> RfmRun:
    """Score every member with a purchase in the window ending on ``as_of`` (inner: the
    caller's unit of work is open; nothing here commits)."""
    clock = time.monotonic()
    tz = await zone_of(uow, tenant_id)
    config = await _rfm_config(uow, tenant_id)
    start = day_start(as_of - timedelta(days=config.window_days - 1), tz)
    end = day_end(as_of, tz)
    recency, frequency, monetary = await uow.analytics.rfm_aggregate(
        tenant_id, start, end, as_of, tz.key
    )
    aggregated = time.monotonic()
    scores = rfm.score(recency, frequency, monetary, config)
    scored = time.monotonic()
    run_id = await uow.analytics.next_rfm_run_id()
    await uow.analytics.rfm_store(tenant_id, run_id, scores)
    log.info(
        "rfm scored",
        extra={
            "tenant_id": tenant_id,
            "members": len(recency),
            "aggregate_ms": round((aggregated - clock) * 1000),
            "score_ms": round((scored - aggregated) * 1000),
            "store_ms": round((time.monotonic() - scored) * 1000),
        },
    )
    return await uow.analytics.add_rfm_run(
        tenant_id,
        run_id,
        as_of,
        trigger,
        config.as_json(),
        len(recency),
        rfm.segment_counts(scores.segment),
        round((time.monotonic() - clock) * 1000),
    )


async def create_rfm_run(uow: UnitOfWork, who: Principal, as_of: date, now: datetime) -> RfmRun:
    async with uow:
        tz = await zone_of(uow, who.tenant_id)
        check_as_of(as_of, local_date(now, tz))
        run = await run_rfm(uow, who.tenant_id, as_of, "api")
        await uow.commit()
    return run


async def scheduled_rfm(uow: UnitOfWork, who: Principal, now: datetime) -> dict:
    """The monthly job (1st, 02:00 tenant time): a snapshot as of the last day of the month
    just ended, also when it catches up later in the month (the month is then done)."""
    tz = await zone_of(uow, who.tenant_id)
    as_of = month_end_before(local_date(now, tz))
    run = await run_rfm(uow, who.tenant_id, as_of, "schedule")
    return {"run_id": run.id, "as_of": run.as_of.isoformat(), "members_scored": run.members_scored}


async def get_rfm_run(uow: UnitOfWork, who: Principal, run_id: str) -> RfmRun:
    key = parse_id(run_id)
    async with uow:
        run = None if key is None else await uow.analytics.rfm_run(who.tenant_id, key)
    if run is None:
        raise NotFound("rfm_run_not_found", "No RFM run {run_id}.", run_id=run_id)
    return run


async def list_rfm_runs(
    uow: UnitOfWork, who: Principal, cursor: str | None, limit: int
) -> Page[RfmRun]:
    before = id_cursor(cursor)
    async with uow:
        rows = await uow.analytics.rfm_runs(who.tenant_id, before, limit)
    return id_page(rows, limit)


def _segment(segment: str | None) -> str | None:
    if segment is not None and segment not in rfm.SEGMENTS:
        raise Invalid(
            "invalid_segment",
            "segment is one of {value}.",
            field="segment",
            value=", ".join(rfm.SEGMENTS),
        )
    return segment


async def rfm_run_members(
    uow: UnitOfWork,
    who: Principal,
    run_id: str,
    segment: str | None,
    cursor: str | None,
    limit: int,
) -> Page[RfmMemberScore]:
    segment = _segment(segment)
    after_id = member_cursor(cursor)
    async with uow:
        key = parse_id(run_id)
        if key is None or await uow.analytics.rfm_run(who.tenant_id, key) is None:
            raise NotFound("rfm_run_not_found", "No RFM run {run_id}.", run_id=run_id)
        rows = await uow.analytics.rfm_members(who.tenant_id, key, segment, after_id, limit)
    return page_of(rows, limit, lambda s: [s.member_id])


async def member_rfm(uow: UnitOfWork, who: Principal, member_id: str) -> RfmMemberScore:
    """The member's scores in the tenant's latest run."""
    async with uow:
        await _member(uow, who, member_id)
        run_id = await uow.analytics.latest_rfm_run_id(who.tenant_id)
        if run_id is None:
            raise NotFound("rfm_not_run", "RFM has not been run for this tenant yet.")
        found = await uow.analytics.rfm_member(who.tenant_id, run_id, member_id)
    if found is None:
        raise NotFound(
            "rfm_not_scored",
            "The member was not scored in the latest RFM run ({run_id}): no purchase in its "
            "window.",
            extra={"run_id": str(run_id)},
            run_id=run_id,
        )
    return found


# --- churn ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnReport:
    start: date
    end: date
    inactive_days: int
    windows: churn_rules.ChurnWindows
    figures: churn_rules.Churn


async def churn_report(
    uow: UnitOfWork, who: Principal, start: date, end: date, inactive_days: int, now: datetime
) -> ChurnReport:
    async with uow:
        tz = await zone_of(uow, who.tenant_id)
        windows = churn_rules.churn_windows(start, end, inactive_days, local_date(now, tz))
        counts = await uow.analytics.churn(
            who.tenant_id,
            (day_start(windows.active_start[0], tz), day_end(windows.active_start[1], tz)),
            (day_start(windows.active_end[0], tz), day_end(windows.active_end[1], tz)),
            day_start(windows.value[0], tz),
        )
    figures = churn_rules.churn(counts.active, counts.lost, counts.value_active, counts.value_lost)
    return ChurnReport(start, end, inactive_days, windows, figures)


# --- lifecycle ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleSettings:
    config: lifecycle.LifecycleConfig
    updated_at: datetime | None


async def _lifecycle_config(uow: UnitOfWork, tenant_id: str) -> lifecycle.LifecycleConfig:
    return (await _stored(uow, tenant_id, "lifecycle", lifecycle.LifecycleConfig))[0]


async def get_lifecycle_settings(uow: UnitOfWork, who: Principal) -> LifecycleSettings:
    async with uow:
        stored = await _stored(uow, who.tenant_id, "lifecycle", lifecycle.LifecycleConfig)
    return LifecycleSettings(*stored)


async def put_lifecycle_settings(
    uow: UnitOfWork, who: Principal, now: datetime, **values
) -> LifecycleSettings:
    config = lifecycle.lifecycle_config(**values)
    async with uow:
        old = await _lifecycle_config(uow, who.tenant_id)
        await _replace_settings(uow, who, "lifecycle", old.as_json(), config.as_json(), now)
    return LifecycleSettings(config, now)


def _trend_bounds(as_of: date, config: lifecycle.LifecycleConfig, tz: ZoneInfo):
    recent_from = as_of - timedelta(days=config.trend_days - 1)
    previous_from = recent_from - timedelta(days=config.trend_days)
    return day_end(as_of, tz), day_start(recent_from, tz), day_start(previous_from, tz)


@dataclass(frozen=True)
class LifecycleBreakdown:
    as_of: date
    members: int
    no_purchases: int
    stages: dict[str, int]
    config: lifecycle.LifecycleConfig


async def lifecycle_breakdown(
    uow: UnitOfWork, who: Principal, as_of: date | None, now: datetime
) -> LifecycleBreakdown:
    async with uow:
        tz = await zone_of(uow, who.tenant_id)
        as_of = check_as_of(as_of or local_date(now, tz), local_date(now, tz))
        config = await _lifecycle_config(uow, who.tenant_id)
        end, recent_from, previous_from = _trend_bounds(as_of, config, tz)
        members, arrays = await uow.analytics.lifecycle_arrays(
            who.tenant_id, end, as_of, tz.key, recent_from, previous_from
        )
    codes = lifecycle.stages(*arrays, config)
    counts = lifecycle.breakdown(codes)
    return LifecycleBreakdown(as_of, members, members - sum(counts.values()), counts, config)


@dataclass(frozen=True)
class MemberLifecycle:
    member_id: str
    as_of: date
    stage: str | None
    history: MemberHistory | None


async def member_lifecycle(
    uow: UnitOfWork, who: Principal, member_id: str, as_of: date | None, now: datetime
) -> MemberLifecycle:
    async with uow:
        await _member(uow, who, member_id)
        tz = await zone_of(uow, who.tenant_id)
        as_of = check_as_of(as_of or local_date(now, tz), local_date(now, tz))
        config = await _lifecycle_config(uow, who.tenant_id)
        end, recent_from, previous_from = _trend_bounds(as_of, config, tz)
        history = await uow.analytics.member_history(
            who.tenant_id, member_id, end, as_of, tz.key, recent_from, previous_from
        )
    stage = None
    if history is not None:
        stage = lifecycle.stage_of(
            history.purchases,
            history.recency_days,
            history.tenure_days,
            history.recent,
            history.previous,
            config,
        )
    return MemberLifecycle(member_id, as_of, stage, history)
