"""Errors the business rules raise. Each carries a stable machine ``code`` and no HTTP status:
``app/routers/problems.py`` decides how a kind of error is shown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base class; subclasses name the kind of failure (not found, conflict, ...)."""

    title = "Request failed"

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors or ([FieldError(field, detail)] if field else [])
        self.extra = extra or {}


class Invalid(DomainError):
    title = "Invalid input"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class Unauthenticated(DomainError):
    title = "Authentication required"


class Forbidden(DomainError):
    title = "Forbidden"


class TooManyAttempts(DomainError):
    title = "Too many attempts"


class Unavailable(DomainError):
    title = "Service unavailable"
