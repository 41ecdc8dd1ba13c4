"""Alembic environment (async). The URL comes from the config or LOYALTY_DATABASE_URL."""

import asyncio
import os

from alembic import context
from alembic_utils.replaceable_entity import register_entities
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import async_url
from app.models import Base
from app.models.functions import APPLY_LEDGER_PLAN

register_entities([APPLY_LEDGER_PLAN])  # so autogenerate sees changes to its body

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("LOYALTY_DATABASE_URL")
    if not url:
        raise SystemExit("No database URL: use `loyalty migrate` or set LOYALTY_DATABASE_URL.")
    return async_url(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
