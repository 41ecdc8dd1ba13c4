"""Repairing stored timestamps and dates that can't be read back: ±infinity (PostgreSQL takes
them; migration 202612021000's CHECKs refuse new ones) and years before 1 or after 9999
(PostgreSQL's range is wider than Python's, so the driver can't decode the row).

The rule for a bad value keeps what it meant where it meant something, and otherwise puts the
row's own time in its place:

* an **end bound** whose null means "no end" (``ends_at``, ``effective_to``, ``expires_at``):
  too late → null (open-ended) where the column takes null;
* **start and end bounds** (``starts_at``, ``effective_from``, ``available_at``, those above
  and ``locked_until``): too early → 2000-01-01T00:00:00Z ("since always", or "ended long
  ago"), too late → 2100-01-01T00:00:00Z ("not yet", "not before long"): the ends of the
  range the API takes;
* any other column (when something happened): the row's own ``created_at`` if the table has
  one (repaired first), else 2000-01-01T00:00:00Z when too early and the repair's time when
  too late (a row can't have happened after it).

Dates get the same rules, as dates (the UTC date of ``created_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NULL_MEANS_NO_END = frozenset({"ends_at", "effective_to", "expires_at"})
BOUNDS = frozenset({"starts_at", "effective_from", "available_at", "locked_until"})
BOUNDS |= NULL_MEANS_NO_END
CREATED_AT = "created_at"


class Fix(StrEnum):
    """What a bad value becomes."""

    NULL = "null"
    EARLIEST = "2000-01-01T00:00:00Z"
    LATEST = "2100-01-01T00:00:00Z"
    CREATED_AT = "the row's created_at"
    NOW = "the time of the repair"


@dataclass(frozen=True)
class Rule:
    too_early: Fix  # -infinity, or before year 1
    too_late: Fix  # +infinity, or after year 9999


def rule_for(column: str, *, nullable: bool, has_created_at: bool) -> Rule:
    """How a column's bad values are repaired (see the module's docstring)."""
    if column in BOUNDS:
        late = Fix.NULL if column in NULL_MEANS_NO_END and nullable else Fix.LATEST
        return Rule(Fix.EARLIEST, late)
    if has_created_at and column != CREATED_AT:
        return Rule(Fix.CREATED_AT, Fix.CREATED_AT)
    return Rule(Fix.EARLIEST, Fix.NOW)


@dataclass(frozen=True)
class Repaired:
    """Rows of one column that were repaired in one direction."""

    table: str
    column: str
    too_late: bool
    rows: int
    fix: Fix

    def __str__(self) -> str:
        what = "+infinity or after year 9999" if self.too_late else "-infinity or before year 1"
        return f"{self.table}.{self.column}: {self.rows} row(s) {what} → {self.fix}"
