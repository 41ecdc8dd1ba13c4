"""The guard of every API test (``ledger_is_consistent``, tests/api/conftest.py) runs here too,
and the check it makes names a member whose stored balance is not what its entries add up to."""

from tests.factories.database import sql
from tests.factories.ledger import ledger_report
from tests.factories.points import adjust, new_member


def test_every_api_test_is_guarded(request):
    assert "ledger_is_consistent" in request.fixturenames


async def test_a_balance_its_entries_do_not_add_up_to_is_reported(client, tenant, database_url):
    member = await new_member(client, tenant.headers)
    await adjust(client, tenant.headers, member, 100)
    assert await ledger_report(database_url) == {}
    # One point more in D (and so in the balance) than the entries hold; CHECK balance_is_sum
    # still holds.
    drift = "UPDATE points_accounts SET d = d + :n, balance = balance + :n WHERE member_id = :m"
    await sql(database_url, drift, n=1, m=member)
    try:
        report = await ledger_report(database_url)
    finally:
        await sql(database_url, drift, n=-1, m=member)  # the guard must pass after this test
    assert list(report) == [(tenant.id, member)]
    assert "D: account 101 ≠ entries 100" in report[(tenant.id, member)]
