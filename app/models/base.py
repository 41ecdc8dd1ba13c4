from datetime import datetime

from sqlalchemy import CheckConstraint, Date, DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import conv

# Constraint names are stable so that integrity errors can be mapped to domain errors by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def finite_name(table: str, column: str) -> str:
    """The CHECK that keeps ±infinity out of a timestamp or date column (its name follows
    the naming convention, ck_<table>_<name>)."""
    return f"ck_{table}_{column}_finite"


def add_finite_checks(metadata: MetaData) -> None:
    """CHECK isfinite(column) on every timestamp and date column (migration 202612021000
    adds them to the database): PostgreSQL takes ±infinity there, Python can't read it back,
    and no rule means it. Done here once for all tables, so a new column gets one too."""
    for table in metadata.tables.values():
        existing = {c.name for c in table.constraints}
        for column in table.columns:
            name = finite_name(table.name, column.name)
            if isinstance(column.type, Date | DateTime) and name not in existing:
                check = CheckConstraint(f"isfinite({column.name})", name=conv(name))
                table.append_constraint(check)
