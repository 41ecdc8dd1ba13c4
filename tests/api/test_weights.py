"""Indicator weights (docs/domain §9.2) through the HTTP API: every method on its examples,
diagnostics beside the weights, and every refusal as a 422 naming the field."""

from decimal import Decimal

import pytest

from tests.api.test_members import key_for

ISOLATION_COVERS = {("POST", "/v1/analytics/weights")}

ABC = ["A", "B", "C"]


async def weigh(client, headers, body, status=200):
    r = await client.post("/v1/analytics/weights", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def total(weights: dict) -> Decimal:
    return sum(Decimal(w) for w in weights.values())


async def test_expert_average_reproduces_the_exercise(client, tenant):
    got = await weigh(
        client,
        tenant.headers,
        {
            "method": "expert_average",
            "indicators": ABC,
            "experts": [
                {"A": "0.5", "B": "0.3", "C": "0.2"},
                {"A": "0.6", "B": "0.2", "C": "0.2"},
                {"A": "0.4", "B": "0.4", "C": "0.2"},
            ],
        },
    )
    assert got == {
        "method": "expert_average",
        "weights": {"A": "0.5000", "B": "0.3000", "C": "0.2000"},
    }


async def test_direct_comparison(client, tenant):
    got = await weigh(
        client,
        tenant.headers,
        {"method": "direct", "indicators": ABC, "multiples": {"A": "3", "B": "2", "C": "1"}},
    )
    assert got["weights"] == {"A": "0.5000", "B": "0.3333", "C": "0.1667"}
    assert total(got["weights"]) == 1


async def test_pairwise_comparison(client, tenant):
    got = await weigh(
        client,
        tenant.headers,
        {
            "method": "pairwise",
            "indicators": ABC,
            "judgements": [
                {"more": "A", "less": "B"},
                {"tie": ["B", "C"]},
                {"more": "C", "less": "A"},
            ],
        },
    )
    # A 1, B ½, C 1½ of 3 points.
    assert got["weights"] == {"A": "0.3333", "B": "0.1667", "C": "0.5000"}
    assert got["points"] == {"A": "1", "B": "0.5", "C": "1.5"}


async def test_delphi_reports_each_round_and_convergence(client, tenant):
    rounds = [
        [
            {"A": "0.7", "B": "0.2", "C": "0.1"},
            {"A": "0.4", "B": "0.4", "C": "0.2"},
            {"A": "0.5", "B": "0.3", "C": "0.2"},
        ],
        [
            {"A": "0.55", "B": "0.3", "C": "0.15"},
            {"A": "0.5", "B": "0.3", "C": "0.2"},
            {"A": "0.5", "B": "0.32", "C": "0.18"},
        ],
    ]
    body = {"method": "delphi", "indicators": ABC, "rounds": rounds[:1]}
    first = await weigh(client, tenant.headers, body)
    assert first["converged"] is False and first["round_limit_reached"] is False
    assert first["rounds"] == [
        {
            "mean": {"A": "0.5333", "B": "0.3000", "C": "0.1667"},
            "cv": {"A": "0.2864", "B": "0.3333", "C": "0.3464"},
        }
    ]
    both = await weigh(client, tenant.headers, {**body, "rounds": rounds})
    assert both["converged"] is True and len(both["rounds"]) == 2
    assert both["weights"] == {"A": "0.5167", "B": "0.3067", "C": "0.1766"}
    loose = await weigh(client, tenant.headers, {**body, "cv_threshold": "0.5"})
    assert loose["converged"] is True
    limited = await weigh(client, tenant.headers, {**body, "max_rounds": 1})
    assert (limited["converged"], limited["round_limit_reached"]) == (False, True)


async def test_ahp_reproduces_the_example(client, tenant):
    got = await weigh(
        client,
        tenant.headers,
        {
            "method": "ahp",
            "indicators": ABC,
            "matrix": [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
        },
    )
    # docs/domain §9.2: weights 0.637, 0.258, 0.105, λmax 3.039, CR 0.033.
    assert got == {
        "method": "ahp",
        "weights": {"A": "0.6370", "B": "0.2583", "C": "0.1047"},
        "lambda_max": "3.0385",
        "ci": "0.0193",
        "cr": "0.0332",
        "ri": "0.58",
    }


async def test_inconsistent_ahp_matrix_states_the_cr(client, tenant):
    got = await weigh(
        client,
        tenant.headers,
        {
            "method": "ahp",
            "indicators": ABC,
            "matrix": [[1, 3, "1/5"], ["1/3", 1, 3], [5, "1/3", 1]],
        },
        422,
    )
    assert got["code"] == "inconsistent_matrix"
    assert Decimal(got["cr"]) > Decimal("0.10")
    assert f"CR = {got['cr']}" in got["detail"]
    assert got["errors"][0]["field"] == "matrix"


async def test_any_scope_may_weigh(client, tenant):
    partner = await key_for(client, tenant, "partner")
    body = {"method": "direct", "indicators": ["A"], "multiples": {"A": "1"}}
    assert (await weigh(client, partner, body))["weights"] == {"A": "1.0000"}
    r = await client.post("/v1/analytics/weights", json=body)
    assert r.status_code == 401


EXPERTS = {"method": "expert_average", "indicators": ABC}
MATRIX = [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"method": "entropy", "indicators": ABC}, "validation_error", "method"),
        ({"indicators": ABC}, "validation_error", "method"),
        ({**EXPERTS}, "missing_input", "experts"),
        (
            {**EXPERTS, "experts": [{"A": "1", "B": "0", "C": "0"}], "matrix": [[1]]},
            "unexpected_input",
            "matrix",
        ),
        (
            {"method": "pairwise", "indicators": ABC, "judgements": [{"more": "A"}]},
            "validation_error",
            "judgements[0]",
        ),
        (
            {**EXPERTS, "experts": [{"A": "0.5", "B": "0.3", "C": "0.3"}]},
            "weights_not_summing_to_one",
            "experts[0]",
        ),
        ({**EXPERTS, "experts": [{"A": "0.5", "B": "0.5"}]}, "missing_weight", "experts[0].C"),
        (
            {**EXPERTS, "experts": [{"A": 0.5, "B": "0.3", "C": "0.2"}]},
            "validation_error",
            "experts[0].A",
        ),
        ({**EXPERTS, "experts": []}, "validation_error", "experts"),
        (
            {**EXPERTS, "indicators": ["A", "A"], "experts": [{"A": "1"}]},
            "duplicate_indicator",
            "indicators[1]",
        ),
        (
            {"method": "direct", "indicators": ABC, "multiples": {"A": "3", "B": "-1", "C": "1"}},
            "invalid_multiple",
            "multiples.B",
        ),
        (
            {
                "method": "direct",
                "indicators": ABC,
                "multiples": {"A": "3", "B": "1", "C": "1", "D": "1"},
            },
            "unknown_indicator",
            "multiples",
        ),
        (
            {"method": "pairwise", "indicators": ABC, "judgements": [{"more": "A", "less": "B"}]},
            "missing_pair",
            "judgements",
        ),
        (
            {
                "method": "pairwise",
                "indicators": ABC,
                "judgements": [
                    {"more": "A", "less": "B"},
                    {"tie": ["B", "A"]},
                    {"more": "A", "less": "C"},
                    {"more": "B", "less": "C"},
                ],
            },
            "duplicate_pair",
            "judgements[1]",
        ),
        (
            {"method": "pairwise", "indicators": ABC, "judgements": [{"tie": ["A"]}]},
            "validation_error",
            "judgements[0]",
        ),
        (
            {
                "method": "delphi",
                "indicators": ABC,
                "rounds": [[{"A": "0.5", "B": "0.3", "C": "0.2"}]],
            },
            "too_few_experts",
            "rounds[0]",
        ),
        (
            {
                "method": "delphi",
                "indicators": ABC,
                "rounds": [
                    [{"A": "0.5", "B": "0.3", "C": "0.2"}, {"A": "0.5", "B": "0.3", "C": "0.3"}]
                ],
            },
            "weights_not_summing_to_one",
            "rounds[0][1]",
        ),
        (
            {
                "method": "delphi",
                "indicators": ABC,
                "cv_threshold": "0",
                "rounds": [[{"A": "0.5", "B": "0.3", "C": "0.2"}] * 2],
            },
            "invalid_cv_threshold",
            "cv_threshold",
        ),
        ({"method": "ahp", "indicators": ABC, "matrix": MATRIX[:2]}, "invalid_matrix", "matrix"),
        (
            {
                "method": "ahp",
                "indicators": ABC,
                "matrix": [[1, 3, 5], ["1/2", 1, 3], ["1/5", "1/3", 1]],
            },
            "matrix_not_reciprocal",
            "matrix[1][0]",
        ),
        (
            {
                "method": "ahp",
                "indicators": ABC,
                "matrix": [[1, 0, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
            },
            "invalid_matrix",
            "matrix[0][1]",
        ),
        (
            {
                "method": "ahp",
                "indicators": ABC,
                "matrix": [[1, "three", 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
            },
            "invalid_matrix",
            "matrix[0][1]",
        ),
        (
            {
                "method": "ahp",
                "indicators": ABC,
                "matrix": [[1, None, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
            },
            "invalid_matrix",
            "matrix[0][1]",
        ),
        (
            {
                "method": "ahp",
                "indicators": [f"I{i}" for i in range(11)],
                "matrix": [[1] * 11] * 10,
            },
            "too_many_indicators",
            "indicators",
        ),
    ],
)
async def test_refusals_name_the_field(client, tenant, body, code, field):
    got = await weigh(client, tenant.headers, body, 422)
    assert got["code"] == code, got
    assert any(e["field"].startswith(field) for e in got["errors"]), got["errors"]
