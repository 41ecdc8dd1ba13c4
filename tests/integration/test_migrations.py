"""The 'stairway': every migration upgrades, downgrades and upgrades again cleanly."""

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.db import alembic_config, create_engine, downgrade, migrate
from app.models import Base
from tests.conftest import scratch_database


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_stairway(server_url):
    revisions = list(reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions())))
    with scratch_database(server_url) as url:
        for revision in revisions:
            migrate(url, revision.revision)
            downgrade(url, revision.down_revision or "base")
            migrate(url, revision.revision)
        tables = asyncio.run(_tables(url))
        assert set(Base.metadata.tables) <= tables
        downgrade(url, "base")
        assert asyncio.run(_tables(url)) == {"alembic_version"}


def test_revision_files_are_timestamped():
    script = ScriptDirectory.from_config(alembic_config())
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        assert name[:4].isdigit() and name[4] == "_" and name[10] == "_", name
