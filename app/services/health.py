from app.domain.errors import Unavailable
from app.uow import UnitOfWork


async def readiness(uow: UnitOfWork, head: str | None) -> str | None:
    """The database's migration if it is reachable and at ``head``; else Unavailable."""
    async with uow:
        current = await uow.health.current_migration()
    if current != head:
        raise Unavailable(
            "migrations_pending",
            "The database is at migration {value}, the code expects {head}. Run `loyalty migrate`.",
            value=current or "none",
            head=head,
        )
    return current
