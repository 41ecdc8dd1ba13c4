"""Stores (门店): where sales happen; their code is part of every card number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.domain.errors import Invalid

STORE_CODE = re.compile(r"^[A-Z0-9]{1,12}$")
DEFAULT_TIME_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Store:
    tenant_id: str
    code: str
    name: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(name: str, field: str = "time_zone") -> str:
    """An IANA zone name such as ``Asia/Shanghai``."""
    try:
        if name in _zones():
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise Invalid("invalid_time_zone", "'{name}' is not an IANA time zone.", field=field, name=name)
