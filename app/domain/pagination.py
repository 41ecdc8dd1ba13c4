"""Opaque keyset cursors: the sort key of the last item of a page, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from app.domain.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: list) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> Invalid:
    return Invalid("invalid_cursor", "The cursor is not one this API issued.", field="cursor")


def decode_cursor(cursor: str | None, arity: int, types: tuple[type, ...] = (str,)) -> list | None:
    """The sort key a cursor carries, or None for the first page. Each element must be of one
    of ``types``, so a forged cursor can't reach the database with the wrong type."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(k, types) and not isinstance(k, bool) for k in key)
    ):
        raise _invalid()
    return key


def page_of(rows: list[T], limit: int, key_of) -> Page[T]:
    """Build a page from up to ``limit + 1`` rows fetched in sort order."""
    has_more = len(rows) > limit
    items = rows[:limit]
    return Page(items, encode_cursor(key_of(items[-1])) if has_more and items else None)


# Most lists run newest first by a numeric id: their cursor is that id.


def id_cursor(cursor: str | None) -> int | None:
    """The id after which (in descending order) a newest-first page continues; None: first."""
    key = decode_cursor(cursor, 1, (int,))
    return key[0] if key else None


def id_page(rows: list[T], limit: int) -> Page[T]:
    """A newest-first page of rows carrying ``id``."""
    return page_of(rows, limit, lambda row: [row.id])


# A member's ledgers run newest first by (time, id): their cursor is both.


def time_id_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    key = decode_cursor(cursor, 2, (str, int))
    if not key:
        return None
    at, row_id = key
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or not isinstance(row_id, int):
        raise _invalid()
    return when, row_id


def time_id_page(rows: list[T], limit: int, time_of: Callable[[T], datetime]) -> Page[T]:
    """A newest-first page of rows carrying ``id`` and a time (``time_of``)."""
    return page_of(rows, limit, lambda row: [time_of(row).isoformat(), row.id])


def member_cursor(cursor: str | None) -> uuid.UUID | None:
    """The member id after which a page of members (in id order) continues; None: first."""
    key = decode_cursor(cursor, 1, (str,))
    if not key:
        return None
    try:
        return uuid.UUID(key[0])
    except ValueError:
        raise _invalid() from None


# A member's vouchers run newest first by (issue time, code): their cursor is both.


def time_code_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    key = decode_cursor(cursor, 2, (str,))
    if not key:
        return None
    at, code = key
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _invalid()
    return when, code
