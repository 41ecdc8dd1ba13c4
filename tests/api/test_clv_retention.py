"""POST /v1/analytics/clv/retention: the retention-model CLV calculator (docs/domain §6) through
the HTTP API — every exercise of the rules to the fen, the schedule, scopes and refusals."""

from decimal import Decimal

import pytest

from tests.conftest import bearer
from tests.domain.test_clv import DOMAIN_EXERCISES

URL = "/v1/analytics/clv/retention"

# A calculator: it reads and writes no tenant data. Its isolation test shows that two tenants
# get the same answer and that nothing of one tenant is needed or touched.
ISOLATION_COVERS = {("POST", URL)}

SEED = {"annual_spend": "2000", "gross_margin": "0.5", "retention": "0.8", "discount_rate": "0.08"}


async def key_with(client, headers, *scopes):
    r = await client.post(
        "/v1/api-keys", json={"name": "clv", "scopes": list(scopes)}, headers=headers
    )
    assert r.status_code == 201, r.text
    return bearer(r.json()["key"])


@pytest.fixture
async def analyst(client, tenant):
    return await key_with(client, tenant.headers, "analytics")


@pytest.mark.parametrize(
    ("spend", "margin", "retention", "rate", "years", "convention", "expected"),
    DOMAIN_EXERCISES,
)
async def test_domain_exercises(
    client, analyst, spend, margin, retention, rate, years, convention, expected
):
    body = {
        "annual_spend": spend,
        "gross_margin": margin,
        "retention": retention,
        "discount_rate": rate,
        "years": years,
        "convention": convention.value,
    }
    r = await client.post(URL, json=body, headers=analyst)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["clv"] == expected
    assert out["convention"] == convention.value
    assert out["years"] == years
    assert len(out["schedule"]) == (years or 100)


async def test_defaults_and_the_schedule(client, analyst):
    r = await client.post(URL, json={**SEED, "years": 5}, headers=analyst)
    assert r.status_code == 200
    out = r.json()
    assert out["convention"] == "end_of_year"  # the default
    assert out["clv"] == "2774.95"
    assert out["annual_margin"] == "1000.00"
    assert out["schedule"][0] == {
        "year": 1,
        "margin": "1000.00",
        "survival": "1.0000000000",
        "discount_factor": "0.9259259259",
        "present_value": "925.93",
    }
    assert [row["present_value"] for row in out["schedule"]] == [
        "925.93",
        "685.87",
        "508.05",
        "376.34",
        "278.77",
    ]
    unbounded = (await client.post(URL, json=SEED, headers=analyst)).json()
    assert unbounded["years"] is None
    assert unbounded["clv"] == "3571.43"
    assert [row["year"] for row in unbounded["schedule"]] == list(range(1, 101))
    total = sum(Decimal(row["present_value"]) for row in unbounded["schedule"])
    assert abs(total - Decimal("3571.43")) < Decimal("0.10")


async def test_huge_values_stay_exact_strings(client, analyst):
    body = {
        "annual_spend": "999999999999.99",
        "gross_margin": "1",
        "retention": "1",
        "discount_rate": "0.000001",
        "convention": "start_of_year",
    }
    r = await client.post(URL, json=body, headers=analyst)
    assert r.status_code == 200, r.text
    # m(1+d)/(1+d−r) = 999999999999.99 × 1.000001 / 0.000001
    assert r.json()["clv"] == "1000000999999989999.99"


async def test_scopes(client, tenant):
    assert (await client.post(URL, json=SEED, headers=tenant.headers)).status_code == 200
    pos = await key_with(client, tenant.headers, "pos")
    r = await client.post(URL, json=SEED, headers=pos)
    assert r.status_code == 403
    assert r.json()["code"] == "insufficient_scope"
    assert (await client.post(URL, json=SEED)).status_code == 401


@pytest.mark.parametrize(
    ("change", "code", "fields"),
    [
        ({"annual_spend": "-1"}, "invalid_clv_input", ["annual_spend"]),
        ({"gross_margin": "1.2"}, "invalid_clv_input", ["gross_margin"]),
        ({"gross_margin": "-0.2"}, "invalid_clv_input", ["gross_margin"]),
        ({"retention": "1.5"}, "invalid_clv_input", ["retention"]),
        ({"discount_rate": "-0.01"}, "invalid_clv_input", ["discount_rate"]),
        ({"discount_rate": "1.5"}, "invalid_clv_input", ["discount_rate"]),
        ({"years": 0}, "invalid_clv_input", ["years"]),
        ({"years": 101}, "invalid_clv_input", ["years"]),
        (
            {"annual_spend": "-5", "retention": "2"},
            "invalid_clv_input",
            ["annual_spend", "retention"],
        ),
        ({"retention": "1", "discount_rate": "0"}, "clv_diverges", ["retention"]),
        ({"convention": "mid_year"}, "validation_error", ["convention"]),
        ({"annual_spend": 2000}, "validation_error", ["annual_spend"]),
        ({"annual_spend": "1e3"}, "validation_error", ["annual_spend"]),
        ({"years": "forever"}, "validation_error", ["years"]),
        ({"horizon": 5}, "validation_error", ["horizon"]),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(client, analyst, change, code, fields):
    r = await client.post(URL, json={**SEED, **change}, headers=analyst)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == code
    assert [e["field"] for e in problem["errors"]] == fields


async def test_missing_fields_and_bounded_divergent_series(client, analyst):
    r = await client.post(URL, json={"annual_spend": "2000"}, headers=analyst)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {
        "gross_margin",
        "retention",
        "discount_rate",
    }
    # r = 1 with d = 0 diverges only without a horizon: over 10 years it is m × 10.
    body = {**SEED, "retention": "1", "discount_rate": "0", "years": 10}
    r = await client.post(URL, json=body, headers=analyst)
    assert r.status_code == 200
    assert r.json()["clv"] == "10000.00"


async def test_same_answer_for_every_tenant(client, tenant, other_tenant):
    """Stateless: two fresh tenants, with no data of their own, get the very same result."""
    mine = await client.post(URL, json={**SEED, "years": 7}, headers=tenant.headers)
    theirs = await client.post(URL, json={**SEED, "years": 7}, headers=other_tenant.headers)
    assert mine.status_code == theirs.status_code == 200
    assert mine.json() == theirs.json()
    assert mine.json()["clv"] == "3134.40"  # Σ_{t=1..7} 1000·0.8^(t−1)/1.08^t
