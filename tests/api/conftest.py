"""Fixtures of the API tests: every one of them is guarded by the points ledger's invariant."""

import pytest

from tests.factories.ledger import ledger_report


@pytest.fixture(autouse=True)
async def ledger_is_consistent(database_url):
    """After every API test the whole points ledger is checked: for every member, the
    account's totals equal the sums of the entries, the lots hold the balance (each lot the
    sum of its entries) and available + pending = balance."""
    yield
    assert await ledger_report(database_url) == {}
