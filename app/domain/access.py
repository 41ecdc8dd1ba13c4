"""Tenants, API keys and scopes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.errors import Forbidden, Invalid

KEY_PREFIX = "lk_"


class Scope(StrEnum):
    ADMIN = "admin"
    POS = "pos"
    APP = "app"
    PARTNER = "partner"
    ANALYTICS = "analytics"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    time_zone: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant_id: str
    name: str
    scopes: tuple[Scope, ...]
    display_prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the bearer key on every request."""

    tenant_id: str
    key_id: str
    key_name: str
    scopes: frozenset[Scope]

    def require(self, allowed: frozenset[Scope]) -> None:
        if not self.scopes & allowed:
            needed = ", ".join(sorted(allowed))
            raise Forbidden(
                "insufficient_scope",
                "This operation needs one of the scopes: {needed}.",
                needed=needed,
            )


def new_api_key() -> str:
    """A fresh secret key: 256 bits of randomness, recognisable by its prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # Keys are high-entropy random strings, so a fast hash is enough (no brute force possible)
    # and keeps authentication to one indexed lookup per request.
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:10]


def parse_scopes(values: list[str]) -> tuple[Scope, ...]:
    if not values:
        raise Invalid("invalid_scopes", "At least one scope is required.", field="scopes")
    try:
        return tuple(sorted({Scope(v) for v in values}))
    except ValueError:
        allowed = ", ".join(s.value for s in Scope)
        raise Invalid(
            "invalid_scopes", "Scopes must be among: {allowed}.", field="scopes", allowed=allowed
        ) from None
