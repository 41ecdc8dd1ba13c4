from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession


class HealthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current_migration(self) -> str | None:
        """The alembic revision the database is at; None when it was never migrated."""
        try:
            return await self.session.scalar(text("SELECT version_num FROM alembic_version"))
        except ProgrammingError as exc:
            if "alembic_version" in str(exc.orig):
                return None
            raise
