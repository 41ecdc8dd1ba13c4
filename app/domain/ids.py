"""Ids of rows numbered by the database (BIGINT identities), which clients see as opaque
strings of digits ("42")."""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1  # the largest BIGINT
ID_PATTERN = "^[0-9]{1,19}$"
_ID = re.compile(ID_PATTERN)


def parse_id(text: str) -> int | None:
    """The row id ``text`` names, or None when it is not one of ours (not digits, 0, or
    beyond BIGINT): such an id matches nothing, so its lookup answers "not found"."""
    if not _ID.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
