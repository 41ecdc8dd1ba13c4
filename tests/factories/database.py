"""SQL run by hand on the test database (to age rows, or to break them on purpose)."""

from sqlalchemy import text

from app.db import create_engine


async def sql(url: str, statement: str, **params) -> list:
    """Run one statement in its own transaction; the rows it returns, if any."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        await engine.dispose()
