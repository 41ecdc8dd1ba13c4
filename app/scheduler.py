"""In-process scheduler for periodic per-tenant jobs (infrastructure, like observability).

Every worker of every host runs one: each tick it lists the tenants and, for each job whose
period is due in the tenant's time zone (app/domain/schedule.py), runs it in a transaction
that first claims the run in ``job_runs`` (INSERT … ON CONFLICT DO NOTHING) and commits the
claim together with the job's effect. So a (job, tenant, period) runs exactly once however
many schedulers tick; a run that fails or crashes before its commit leaves no claim, and
the next tick retries it. A failing job is logged and does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.domain.access import Principal, Scope
from app.domain.schedule import Schedule, daily_at, monthly_at
from app.services.analytics import scheduled_rfm
from app.services.idempotency import purge_keys
from app.services.points import expire_points
from app.services.vouchers import expire_vouchers
from app.uow import Busy, UnitOfWork

log = logging.getLogger(__name__)

# An inner function (runs in the open unit of work, does not commit); its result is stored.
JobFn = Callable[[UnitOfWork, Principal, datetime], Awaitable[dict | None]]


@dataclass(frozen=True)
class Job:
    name: str
    schedule: Schedule
    run: JobFn


def system_principal(tenant_id: str) -> Principal:
    return Principal(tenant_id, "scheduler", "scheduler", frozenset({Scope.ADMIN}))


async def _expire_points(uow: UnitOfWork, who: Principal, now: datetime) -> dict:
    run = await expire_points(uow, who, now)
    return {k: int(v) for k, v in dataclasses.asdict(run).items()}  # sums come as Decimal


def default_jobs() -> list[Job]:
    return [
        Job("expire-points", daily_at(3, 0), _expire_points),
        Job("expire-vouchers", daily_at(3, 10), expire_vouchers),
        Job("purge-idempotency-keys", daily_at(4, 0), purge_keys),
        # RFM snapshot as of the month just ended (docs/domain §5: 每月自动计算一次).
        Job("rfm", monthly_at(1, 2, 0), scheduled_rfm),
    ]


class Scheduler:
    def __init__(
        self, new_uow: Callable[[], UnitOfWork], interval: float, jobs: list[Job] | None = None
    ) -> None:
        self.new_uow = new_uow
        self.interval = interval
        self.jobs = default_jobs() if jobs is None else jobs
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # e.g. the database is down: try again next tick
                log.exception("scheduler tick failed")
            await asyncio.sleep(self.interval)

    async def tick(self, now: datetime | None = None) -> None:
        """Run every job due now for every tenant (each at most once per period)."""
        now = now or datetime.now(UTC)
        async with self.new_uow() as uow:
            tenants = await uow.job_runs.tenant_zones()
        for tenant_id, zone in tenants:
            for job in self.jobs:
                context = {"job": job.name, "tenant_id": tenant_id}
                try:
                    slot = job.schedule(now, ZoneInfo(zone))
                    if slot.due:
                        await self._run(job, tenant_id, slot.period, now)
                except Busy:
                    log.info("scheduled job hit a conflict; retried next tick", extra=context)
                except Exception:
                    log.exception("scheduled job failed", extra=context)

    async def _run(self, job: Job, tenant_id: str, period: str, now: datetime) -> None:
        async with self.new_uow() as uow:
            runs = uow.job_runs
            if not await runs.claim(job.name, tenant_id, period, datetime.now(UTC)):
                return  # done already (by this or another worker)
            result = await job.run(uow, system_principal(tenant_id), now)
            await runs.finish(job.name, tenant_id, period, datetime.now(UTC), result)
            await uow.commit()
        log.info(
            "scheduled job ran",
            extra={"job": job.name, "tenant_id": tenant_id, "period": period, "result": result},
        )
