"""The change log (修改日志) every audited object shares: who changed which field, when, from
what to what. Values are stored as text in the API's own spelling."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Change:
    """One field of one change, as the log keeps it."""

    id: int
    action: str
    field: str
    old: str | None
    new: str | None
    actor: str
    at: datetime


def as_text(value: object) -> str | None:
    """A value as the log stores it: the API's spelling, as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def changed_fields(
    before: object | None,
    after: object | None,
    fields: Iterable[str],
    text: Callable[[object], str | None] = as_text,
) -> list[FieldChange]:
    """One entry per field that differs; ``None`` stands for "not there" (create, delete)."""
    out = []
    for name in fields:
        old = getattr(before, name) if before is not None else None
        new = getattr(after, name) if after is not None else None
        if old != new:
            out.append(FieldChange(name, text(old), text(new)))
    return out
