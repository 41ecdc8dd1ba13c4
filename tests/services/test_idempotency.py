"""run_once on a real database: one effect per key, stored refusals, reuse and races."""

import asyncio
import json
import uuid

import pytest
from sqlalchemy import text

from app.db import create_engine, create_sessionmaker
from app.domain.access import Principal, Scope
from app.domain.errors import Conflict, Invalid
from app.routers.problems import render
from app.services.idempotency import run_once
from app.uow import UnitOfWork


@pytest.fixture
async def sessionmaker(database_url):
    engine = create_engine(database_url, pool_size=25, max_overflow=0)
    yield create_sessionmaker(engine)
    await engine.dispose()


def principal(tenant) -> Principal:
    return Principal(tenant.id, str(uuid.uuid4()), "till", frozenset({Scope.POS}))


def create_store(tenant_id: str, code: str):
    async def operation(uow: UnitOfWork):
        store = await uow.stores.add(tenant_id, code, "Idempotent", "Asia/Shanghai")
        return 201, {"code": store.code}

    return operation


async def stores(sessionmaker, tenant_id) -> int:
    async with sessionmaker() as session:
        return await session.scalar(
            text("SELECT count(*) FROM stores WHERE tenant_id = :t"), {"t": tenant_id}
        )


async def test_one_effect_per_key_and_replays(sessionmaker, tenant):
    who = principal(tenant)
    first = await run_once(
        UnitOfWork(sessionmaker), who, "k1", "fp", create_store(tenant.id, "I01"), render
    )
    again = await run_once(
        UnitOfWork(sessionmaker), who, "k1", "fp", create_store(tenant.id, "I01"), render
    )
    assert (first.status_code, json.loads(first.body), first.replayed) == (
        201,
        {"code": "I01"},
        False,
    )
    assert (again.status_code, again.body, again.replayed) == (201, first.body, True)
    assert await stores(sessionmaker, tenant.id) == 1

    other_key_holder = Principal(tenant.id, str(uuid.uuid4()), "other", who.scopes)
    # Keys are per API key: another key's "k1" is a different request.
    fresh = await run_once(
        UnitOfWork(sessionmaker),
        other_key_holder,
        "k1",
        "fp",
        create_store(tenant.id, "I02"),
        render,
    )
    assert fresh.replayed is False and await stores(sessionmaker, tenant.id) == 2


async def test_same_key_other_body_is_refused(sessionmaker, tenant):
    who = principal(tenant)
    await run_once(
        UnitOfWork(sessionmaker), who, "k", "fp-1", create_store(tenant.id, "J01"), render
    )
    with pytest.raises(Invalid) as refused:
        await run_once(
            UnitOfWork(sessionmaker), who, "k", "fp-2", create_store(tenant.id, "J02"), render
        )
    assert refused.value.code == "idempotency_key_reused"
    assert await stores(sessionmaker, tenant.id) == 1


async def test_a_refusal_is_stored_and_replayed_and_undoes_its_work(sessionmaker, tenant):
    who = principal(tenant)

    async def half_then_refuse(uow: UnitOfWork):
        await uow.stores.add(tenant.id, "K01", "half done", "Asia/Shanghai")
        raise Conflict("insufficient_points", "Not enough points.", extra={"shortfall": 20})

    first = await run_once(UnitOfWork(sessionmaker), who, "r", "fp", half_then_refuse, render)
    assert first.status_code == 409 and json.loads(first.body)["shortfall"] == 20
    assert await stores(sessionmaker, tenant.id) == 0  # nothing half-applied

    # The retry is refused identically even though it would now succeed.
    retry = await run_once(
        UnitOfWork(sessionmaker), who, "r", "fp", create_store(tenant.id, "K01"), render
    )
    assert (retry.status_code, retry.body, retry.replayed) == (409, first.body, True)
    assert await stores(sessionmaker, tenant.id) == 0


async def test_without_a_key_every_call_runs(sessionmaker, tenant):
    who = principal(tenant)
    await run_once(
        UnitOfWork(sessionmaker), who, None, "fp", create_store(tenant.id, "L01"), render
    )
    await run_once(
        UnitOfWork(sessionmaker), who, None, "fp", create_store(tenant.id, "L02"), render
    )
    assert await stores(sessionmaker, tenant.id) == 2


async def test_racing_duplicates_make_one_effect(sessionmaker, tenant):
    who = principal(tenant)

    async def slow_store(uow: UnitOfWork):
        await asyncio.sleep(0.05)  # still in flight while the others arrive
        store = await uow.stores.add(tenant.id, "M01", "raced", "Asia/Shanghai")
        return 201, {"code": store.code}

    outcomes = await asyncio.gather(
        *[
            run_once(UnitOfWork(sessionmaker), who, "race", "fp", slow_store, render)
            for _ in range(20)
        ]
    )
    assert sorted(o.replayed for o in outcomes) == [False] + [True] * 19
    assert {(o.status_code, o.body) for o in outcomes} == {(201, '{"code":"M01"}')}
    assert await stores(sessionmaker, tenant.id) == 1
