"""Exactly once: requests that move points or money run through ``run_once``.

With an Idempotency-Key (scoped to the tenant and the API key) the key is claimed, the
operation runs in a savepoint and its response — success or business refusal — is stored, all
in the one transaction that makes the effect: a crash before the commit leaves neither, so a
retry simply runs again; after it, a retry gets the stored response. The same key with another
body is refused; a retry racing the first request waits briefly and is then told to retry.
Serialization failures and deadlocks are retried here a few times, never shown to the client.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.access import Principal
from app.domain.errors import Conflict, DomainError, Invalid
from app.uow import Busy, UnitOfWork

ATTEMPTS = 3
# Keys are kept at least 7 days (a till may replay an offline sale late); a daily job forgets
# them after 30.
KEEP_KEYS = timedelta(days=30)

Operation = Callable[[UnitOfWork], Awaitable[tuple[int, dict]]]
RenderError = Callable[[DomainError], tuple[int, dict]]


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: str  # JSON, exactly as first sent
    replayed: bool


def _json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


async def run_once(
    uow: UnitOfWork,
    who: Principal,
    key: str | None,
    fingerprint: str,
    operation: Operation,
    render_error: RenderError,
) -> Outcome:
    for _ in range(ATTEMPTS):
        try:
            return await _attempt(uow, who, key, fingerprint, operation, render_error)
        except Busy:
            continue
    raise Conflict("busy", "The ledger is busy with concurrent changes; retry shortly.")


async def _attempt(
    uow: UnitOfWork,
    who: Principal,
    key: str | None,
    fingerprint: str,
    operation: Operation,
    render_error: RenderError,
) -> Outcome:
    async with uow:
        if key is not None:
            stored = await uow.idempotency.claim(who.tenant_id, who.key_id, key, fingerprint)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise Invalid(
                        "idempotency_key_reused",
                        "This Idempotency-Key was used for a different request.",
                        field="Idempotency-Key",
                    )
                return Outcome(stored.status_code, stored.body, replayed=True)
        try:
            async with uow.savepoint():
                status_code, payload = await operation(uow)
        except DomainError as refusal:
            status_code, payload = render_error(refusal)
        body = _json(payload)
        if key is not None:
            await uow.idempotency.complete(who.tenant_id, who.key_id, key, status_code, body)
        await uow.commit()
    return Outcome(status_code, body, replayed=False)


async def purge_keys(uow: UnitOfWork, who: Principal, now: datetime) -> dict:
    """Inner (the scheduler commits): forget the tenant's keys older than KEEP_KEYS."""
    return {"keys": await uow.idempotency.purge(who.tenant_id, now - KEEP_KEYS)}
