"""A tenant made outside the app, and a scheduler on a database of the test's choosing."""

from __future__ import annotations

import uuid

from app.db import create_engine, create_sessionmaker
from app.scheduler import Job, Scheduler
from app.services.access import create_tenant
from app.uow import UnitOfWork
from tests.conftest import bearer


async def tenant_in(url: str, time_zone: str = "Asia/Shanghai") -> tuple[str, dict]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        made, key = await create_tenant(
            UnitOfWork(create_sessionmaker(engine)), f"t-{uuid.uuid4().hex}", time_zone
        )
    finally:
        await engine.dispose()
    return made.id, bearer(key.secret)


def scheduler_on(url: str, jobs: list[Job] | None = None) -> tuple[Scheduler, object]:
    engine = create_engine(url, pool_size=2, max_overflow=0)
    return Scheduler(lambda: UnitOfWork(create_sessionmaker(engine)), 0, jobs), engine
