"""Read → decide → apply (ARCHITECTURE), for every write that moves points or money.

A write reads what its decision needs, decides a plan in app/domain, and applies the plan
with one guarded write (app/repositories/ledger.py). When a guard no longer holds (the
member's points or change account moved since the read, a card moved up meanwhile) nothing is
written, and the write reads and decides again. From its second attempt on it runs in a
transaction that keeps the rows its last write locked, so the third finds them as it read
them: contention is a short wait, never an error (``busy`` only if that still fails).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.domain.errors import Conflict
from app.domain.ledger import Decided
from app.repositories.ledger import LedgerStore

ATTEMPTS = 3

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")


async def decide_and_apply(
    store: LedgerStore,
    read: Callable[[], Awaitable[C]],
    decide: Callable[[C], Decided[T] | R],
) -> T | R:
    """The decision's result once its plan is applied, or what it answered without writing
    (a replay, a read-only answer). Refusals (domain errors) propagate, nothing written."""
    for _ in range(ATTEMPTS):
        decision = decide(await read())
        if not isinstance(decision, Decided):
            return decision
        if await store.apply(decision.plan):
            return decision.result
        await store.hold_locks()
    raise Conflict("busy", "The ledger is busy with concurrent changes; retry shortly.")
