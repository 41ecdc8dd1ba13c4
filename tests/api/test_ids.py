"""Ids are opaque strings (README, "API conventions"): responses give them as strings, and
a path id that names nothing of the tenant's, well formed or not, is that resource's 404."""

import pytest

from tests.factories.problems import assert_problem

# (method, path with {id}, body, the resource's not-found code)
BY_ID = [
    ("GET", "/v1/complaints/{id}", None, "complaint_not_found"),
    (
        "POST",
        "/v1/complaints/{id}/steps/nature",
        {"justified": True, "severity": "medium"},
        "complaint_not_found",
    ),
    ("GET", "/v1/analytics/clv/models/{id}", None, "clv_model_not_found"),
    ("GET", "/v1/analytics/clv/models/{id}/members", None, "clv_model_not_found"),
    ("GET", "/v1/analytics/rfm/runs/{id}", None, "rfm_run_not_found"),
    ("GET", "/v1/analytics/rfm/runs/{id}/members", None, "rfm_run_not_found"),
    ("GET", "/v1/imports/jobs/{id}", None, "import_job_not_found"),
    ("POST", "/v1/imports/jobs/{id}/cancel", None, "import_job_not_found"),
    ("GET", "/v1/points/redemptions/{id}", None, "redemption_not_found"),
    ("POST", "/v1/points/redemptions/{id}/cancel", None, "redemption_not_found"),
    ("GET", "/v1/discount-rules/{id}", None, "rule_not_found"),
    ("GET", "/v1/points-rules/{id}", None, "rule_not_found"),
    ("GET", "/v1/points/multiplier-events/{id}", None, "multiplier_event_not_found"),
    ("GET", "/v1/points/warm-rules/{id}", None, "warm_rule_not_found"),
]

# Not ids of ours: letters, zero, signs, decimals, spaces, beyond BIGINT, too long.
MALFORMED = ["abc", "0", "-1", "+1", "1.5", "1e3", "%201", "9223372036854775808", "1" * 40]


@pytest.mark.parametrize(("method", "path", "body", "code"), BY_ID)
async def test_a_malformed_path_id_is_the_resources_404(client, tenant, method, path, body, code):
    for bad in MALFORMED:
        r = await client.request(method, path.format(id=bad), json=body, headers=tenant.headers)
        assert_problem(r, 404, code)


async def test_an_unknown_well_formed_id_is_the_same_404(client, tenant):
    r = await client.get("/v1/points/redemptions/9223372036854775807", headers=tenant.headers)
    body = assert_problem(r, 404, "redemption_not_found")
    assert body["detail"] == "No redemption 9223372036854775807."


async def test_ids_come_as_strings_and_name_their_resource(client, tenant):
    created = await client.post(
        "/v1/analytics/rfm/runs", json={"as_of": "2026-06-30"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    assert isinstance(run_id, str) and run_id.isdigit()
    got = await client.get(f"/v1/analytics/rfm/runs/{run_id}", headers=tenant.headers)
    assert got.status_code == 200 and got.json()["id"] == run_id
    listed = await client.get("/v1/analytics/rfm/runs", headers=tenant.headers)
    assert [run["id"] for run in listed.json()["items"]] == [run_id]
