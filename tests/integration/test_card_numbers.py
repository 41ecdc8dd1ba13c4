"""The worker's card number → member lookups (app/repositories/card_numbers.py)."""

from __future__ import annotations

import uuid

from app.repositories.card_numbers import KeptMembers


async def test_a_member_is_fetched_once_and_kept_and_an_unknown_number_is_not_kept():
    kept = KeptMembers(size=10)
    member = uuid.uuid4()
    fetched: list[str] = []

    async def fetch(number: str, found: uuid.UUID | None):
        fetched.append(number)
        return found

    assert await kept.lookup(("t", "N1"), lambda: fetch("N1", member)) == member
    assert await kept.lookup(("t", "N1"), lambda: fetch("N1", None)) == member
    assert await kept.lookup(("t", "N2"), lambda: fetch("N2", None)) is None
    assert await kept.lookup(("t", "N2"), lambda: fetch("N2", None)) is None
    assert fetched == ["N1", "N2", "N2"]  # a number not found is asked again


def test_beyond_its_size_the_oldest_number_goes_first():
    kept = KeptMembers(size=3)
    members = [uuid.uuid4() for _ in range(4)]
    for i, member in enumerate(members):
        kept.put(i, member)
    assert kept.get(0) is None
    assert [kept.get(i) for i in (1, 2, 3)] == members[1:]
    kept.forget(2)
    assert kept.get(2) is None
