"""Card number → member: every statement on a card names its member, found here first.

On Citus (README "Running on Citus") the member is what routes a statement to one shard, and
``card_numbers`` is distributed by the number, so a card is found in two steps: its member in
the lookup, then the card on the member's shard. A number never changes hands (the lookup's
rows are written once, with the card, and never updated or deleted), so each worker keeps
what it looked up and the hot paths (a quote, a sale) skip the first step after a card's first
use: on one node they cost what they did before the lookup existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable

# By the tenant (a unit of work's paths) and by the caller's key (the quote's and the sale's
# one read, which authenticate the key themselves).
BY_TENANT = "SELECT member_id FROM card_numbers WHERE tenant_id = $1 AND number = $2"
BY_KEY = """
SELECT n.member_id FROM api_keys AS k
JOIN card_numbers AS n ON n.tenant_id = k.tenant_id AND n.number = $2
WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""


class KeptMembers:
    """The members of the keys (card numbers, voucher codes) this worker has looked up, oldest
    dropped first beyond ``size`` (a dict keeps insertion order; an entry is a few hundred
    bytes). A key never changes its member."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._members: dict[Hashable, uuid.UUID] = {}

    def get(self, key: Hashable) -> uuid.UUID | None:
        return self._members.get(key)

    def put(self, key: Hashable, member: uuid.UUID) -> None:
        if len(self._members) >= self.size:
            del self._members[next(iter(self._members))]
        self._members[key] = member

    def forget(self, key: Hashable) -> None:
        self._members.pop(key, None)

    async def lookup(
        self, key: Hashable, fetch: Callable[[], Awaitable[uuid.UUID | None]]
    ) -> uuid.UUID | None:
        """The member kept for ``key``, else ``fetch()``'s (kept when found)."""
        member = self._members.get(key)
        if member is None:
            member = await fetch()
            if member is not None:
                self.put(key, member)
        return member


CARD_MEMBERS = KeptMembers()
