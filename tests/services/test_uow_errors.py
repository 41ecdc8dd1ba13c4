"""Errors raised straight by the driver (COPY and other raw-connection work inside a unit of
work) come out as domain errors, like those raised through SQLAlchemy: never a 500. And the
unit of work's session: opened on first use, only inside ``async with``, new on each entry."""

import uuid

import pytest

from app.db import create_engine, create_sessionmaker
from app.domain.errors import Conflict, Invalid, Unavailable
from app.repositories.bulk import driver_connection
from app.uow import UnitOfWork


@pytest.fixture
async def sessionmaker(database_url):
    engine = create_engine(database_url, pool_size=2, max_overflow=0)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def raw(sessionmaker, statement: str, *args, times: int = 1) -> None:
    async with UnitOfWork(sessionmaker) as uow:
        conn = await driver_connection(uow.session)
        for _ in range(times):
            await conn.execute(statement, *args)


async def test_a_raw_unique_violation_is_the_constraints_conflict(sessionmaker, tenant):
    insert = "INSERT INTO stores (tenant_id, code, name, time_zone) VALUES ($1, 'RAW', 'x', 'UTC')"
    with pytest.raises(Conflict) as refused:
        await raw(sessionmaker, insert, uuid.UUID(tenant.id), times=2)
    assert refused.value.code == "store_exists"
    assert [e.field for e in refused.value.errors] == ["code"]


async def test_a_raw_data_exception_is_the_clients_input(sessionmaker):
    with pytest.raises(Invalid) as refused:
        await raw(sessionmaker, "SELECT 'not a number'::int")
    assert refused.value.code == "unstorable_value"


async def test_a_connection_lost_mid_work_is_unavailable(sessionmaker):
    with pytest.raises(Unavailable) as refused:
        await raw(sessionmaker, "SELECT pg_terminate_backend(pg_backend_pid())")
    assert refused.value.code == "database_unavailable"


async def test_the_session_is_opened_on_first_use_and_new_on_each_entry(sessionmaker, tenant):
    uow = UnitOfWork(sessionmaker)
    async with uow:
        assert uow._session is None  # nothing used yet: no session was made
        first = uow.stores
        assert (await first.get(tenant.id, "NONE")) is None
        assert uow.stores is first  # built once per entry
        session = uow.session
    async with uow:  # a retry gets a fresh session and fresh repositories
        assert uow.stores is not first
        assert uow.session is not session


async def test_a_unit_of_work_is_used_inside_async_with_only(sessionmaker):
    uow = UnitOfWork(sessionmaker)
    with pytest.raises(RuntimeError):
        uow.stores  # noqa: B018 (the access is the test)
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        uow.session  # noqa: B018
    with pytest.raises(AttributeError):
        uow.no_such_repository  # noqa: B018
