from app.domain.errors import Unavailable
from app.uow import UnitOfWork


async def readiness(uow: UnitOfWork, head: str | None) -> str | None:
    """The database's migration if it is reachable and at ``head``; else Unavailable."""
    async with uow:
        current = await uow.health.current_migration()
    if current != head:
        raise Unavailable(
            "migrations_pending",
            f"The database is at migration {current or 'none'}, the code expects {head}. "
            "Run `loyalty migrate`.",
        )
    return current
