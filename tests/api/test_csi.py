"""The satisfaction index (docs/domain §9) through the HTTP API: models and the ACSI template,
weights per node by any method (kept for audit), responses, the index with missing answers,
the satisfaction × loyalty quadrants, every refusal, scopes and tenant isolation.

The end-to-end example is the README's: three responses to a small store model give a CSI
of 182/3 = 60.67."""

import pytest

from tests.factories.members import key_for

ISOLATION_COVERS = {
    ("GET", "/v1/csi/templates/acsi"),
    ("POST", "/v1/csi/models"),
    ("GET", "/v1/csi/models"),
    ("GET", "/v1/csi/models/{code}"),
    ("PUT", "/v1/csi/models/{code}/nodes/{node}/weights"),
    ("GET", "/v1/csi/models/{code}/nodes/{node}/weights"),
    ("POST", "/v1/csi/models/{code}/responses"),
    ("GET", "/v1/csi/models/{code}/score"),
    ("GET", "/v1/csi/models/{code}/satisfaction-loyalty"),
}


def item(code, name=None):
    return {"code": code, "name": name or code}


def node(code, *children, name=None):
    return {"code": code, "name": name or code, "children": list(children)}


STORE = {
    "code": "STORE",
    "name": "Store satisfaction",
    "scale_points": 5,
    "satisfaction_node": "SAT",
    "loyalty_node": "LOY",
    "nodes": [
        node(
            "PQ",
            node("PQ1", item("PQ1_1", "Quality of the goods"), item("PQ1_2", "Freshness")),
            node("PQ2", item("PQ2_1", "Staff attitude")),
            name="Perceived quality",
        ),
        node("SAT", node("SAT1", item("SAT1_1", "Overall satisfaction")), name="Satisfaction"),
        node("LOY", node("LOY1", item("LOY1_1", "Will shop here again")), name="Loyalty"),
    ],
}


async def create_model(client, headers, body=None, status=201):
    r = await client.post("/v1/csi/models", json=body or STORE, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def put_weights(client, headers, node_code, body, status=200, model="STORE"):
    r = await client.put(
        f"/v1/csi/models/{model}/nodes/{node_code}/weights", json=body, headers=headers
    )
    assert r.status_code == status, r.text
    return r.json()


async def respond(client, headers, ref, answers, status=201, model="STORE", **extra):
    body = {
        "respondent_ref": ref,
        "answered_at": "2026-11-02T10:00:00+08:00",
        "answers": answers,
        **extra,
    }
    r = await client.post(f"/v1/csi/models/{model}/responses", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r


async def get(client, headers, path, status=200, **params):
    r = await client.get(path, params=params, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


async def members(client, headers, n):
    out = []
    for i in range(n):
        r = await client.post("/v1/members", json={"name": f"m{i}"}, headers=headers)
        out.append(r.json()["id"])
    return out


async def store_with_responses(client, headers):
    """The README's example: weights by direct comparison and expert average, 3 responses."""
    await client.post("/v1/stores", json={"code": "S01", "name": "Flagship"}, headers=headers)
    m1, m2 = await members(client, headers, 2)
    await create_model(client, headers)
    await put_weights(
        client,
        headers,
        "root",
        {
            "method": "direct",
            "indicators": ["PQ", "SAT", "LOY"],
            "multiples": {"PQ": "2", "SAT": "2", "LOY": "1"},
        },
    )
    await put_weights(
        client,
        headers,
        "PQ",
        {
            "method": "expert_average",
            "indicators": ["PQ1", "PQ2"],
            "experts": [{"PQ1": "0.7", "PQ2": "0.3"}, {"PQ1": "0.5", "PQ2": "0.5"}],
        },
    )
    answers = [
        ("Q-1", {"PQ1_1": 5, "PQ1_2": 4, "PQ2_1": 5, "SAT1_1": 5, "LOY1_1": 5}, m1),
        ("Q-2", {"PQ1_1": 4, "PQ2_1": 2, "SAT1_1": 4, "LOY1_1": 2}, m2),  # PQ1_2 missing
        ("Q-3", {"PQ1_1": 2, "PQ1_2": 2, "PQ2_1": 1, "SAT1_1": 2, "LOY1_1": 4}, None),
    ]
    for ref, a, member in answers:
        extra = {"member_id": member} if member else {}
        await respond(client, headers, ref, a, store_code="S01", **extra)
    return m1, m2


# --- the end-to-end example ---------------------------------------------------------------------


async def test_csi_end_to_end(client, tenant):
    m1, m2 = await store_with_responses(client, tenant.headers)
    got = await get(client, tenant.headers, "/v1/csi/models/STORE/score")
    # Items on 0–100: PQ1_1 (5+4+2)/3 → 66.67; PQ1_2 (4+2)/2 → 50 (one missing answer is
    # excluded); PQ2_1 8/3 → 41.67; SAT1_1 and LOY1_1 11/3 → 66.67.
    # PQ1 = (66.67 + 50)/2 = 58.33; PQ = 0.6 × 58.33 + 0.4 × 41.67 = 51.67;
    # CSI = 0.4 × 51.67 + 0.4 × 66.67 + 0.2 × 66.67 = 182/3 = 60.67.
    assert (got["csi"], got["responses"]) == ("60.67", 3)
    nodes = {n["code"]: n for n in got["nodes"]}
    assert [n["code"] for n in got["nodes"]] == [
        "PQ",
        "PQ1",
        "PQ1_1",
        "PQ1_2",
        "PQ2",
        "PQ2_1",
        "SAT",
        "SAT1",
        "SAT1_1",
        "LOY",
        "LOY1",
        "LOY1_1",
    ]
    assert nodes["PQ"] == {
        "code": "PQ",
        "name": "Perceived quality",
        "level": 2,
        "parent": "root",
        "weight": "0.4000",
        "weighted_by": "direct",
        "score": "51.67",
        "responses": 3,
    }
    assert (nodes["PQ1"]["weight"], nodes["PQ1"]["weighted_by"], nodes["PQ1"]["score"]) == (
        "0.6000",
        "expert_average",
        "58.33",
    )
    assert (nodes["PQ1_2"]["score"], nodes["PQ1_2"]["responses"]) == ("50.00", 2)
    assert (nodes["PQ1_1"]["weight"], nodes["PQ1_1"]["weighted_by"]) == ("0.5000", "equal")
    assert (nodes["LOY"]["weight"], nodes["LOY"]["score"]) == ("0.2000", "66.67")

    quadrants = await get(client, tenant.headers, "/v1/csi/models/STORE/satisfaction-loyalty")
    # satisfaction 100, loyalty 100; Q-2: 75, 25; Q-3: 25, 75.
    assert quadrants == {
        "model_code": "STORE",
        "from": None,
        "to": None,
        "store_code": None,
        "satisfaction_node": "SAT",
        "loyalty_node": "LOY",
        "threshold": "50.00",
        "respondents": 3,
        "unclassified": 0,
        "loyalist": {"count": 1, "members": [m1]},
        "mercenary": {"count": 1, "members": [m2]},
        "hostage": {"count": 1, "members": []},
        "defector": {"count": 0, "members": []},
    }
    strict = await get(
        client, tenant.headers, "/v1/csi/models/STORE/satisfaction-loyalty", threshold="75"
    )
    # Only Q-1 is above 75 on anything.
    assert [strict[q]["count"] for q in ("loyalist", "mercenary", "hostage", "defector")] == [
        1,
        0,
        0,
        2,
    ]


async def test_filters_by_period_and_store(client, tenant):
    await store_with_responses(client, tenant.headers)
    await client.post("/v1/stores", json={"code": "S02", "name": "Mall"}, headers=tenant.headers)
    await respond(
        client,
        tenant.headers,
        "Q-4",
        {"SAT1_1": 1, "LOY1_1": 1},
        store_code="S02",
        answered_at="2026-10-31T23:30:00+08:00",
    )
    path = "/v1/csi/models/STORE/score"
    assert (await get(client, tenant.headers, path))["responses"] == 4
    november = await get(client, tenant.headers, path, **{"from": "2026-11-01"})
    assert (november["csi"], november["responses"]) == ("60.67", 3)
    s02 = await get(client, tenant.headers, path, store_code="S02")
    assert (s02["csi"], s02["responses"]) == ("0.00", 1)
    nodes = {n["code"]: n for n in s02["nodes"]}
    assert nodes["PQ"]["score"] is None and nodes["PQ"]["responses"] == 0
    october = await get(client, tenant.headers, path, **{"to": "2026-10-31"})
    assert october["responses"] == 1
    empty = await get(client, tenant.headers, path, **{"from": "2026-12-01"})
    assert (empty["csi"], empty["responses"]) == (None, 0)
    assert all(n["score"] is None for n in empty["nodes"])
    bad = await get(client, tenant.headers, path, 422, **{"from": "2026-11-02", "to": "2026-11-01"})
    assert bad["code"] == "invalid_period"
    q = await get(
        client, tenant.headers, "/v1/csi/models/STORE/satisfaction-loyalty", store_code="S02"
    )
    assert (q["respondents"], q["defector"]["count"]) == (1, 1)


async def test_quadrants_use_each_respondents_latest_response(client, tenant):
    await create_model(client, tenant.headers)
    [m] = await members(client, tenant.headers, 1)
    await respond(
        client,
        tenant.headers,
        "R",
        {"SAT1_1": 1, "LOY1_1": 1},
        member_id=m,
        answered_at="2026-11-01T10:00:00Z",
    )
    await respond(
        client,
        tenant.headers,
        "R",
        {"SAT1_1": 5, "LOY1_1": 4},
        member_id=m,
        answered_at="2026-11-05T10:00:00Z",
    )
    await respond(client, tenant.headers, "only-quality", {"PQ1_1": 3})
    q = await get(client, tenant.headers, "/v1/csi/models/STORE/satisfaction-loyalty")
    assert (q["respondents"], q["unclassified"]) == (2, 1)
    assert q["loyalist"] == {"count": 1, "members": [m]}
    before = await get(
        client,
        tenant.headers,
        "/v1/csi/models/STORE/satisfaction-loyalty",
        **{"to": "2026-11-02"},
    )
    assert before["defector"] == {"count": 1, "members": [m]}
    for bad in ("100", "-1", "abc", "50.123"):
        r = await get(
            client, tenant.headers, "/v1/csi/models/STORE/satisfaction-loyalty", 422, threshold=bad
        )
        assert r["code"] in ("invalid_threshold", "validation_error")


async def test_quadrants_need_the_two_nodes(client, tenant):
    await create_model(
        client,
        tenant.headers,
        {**STORE, "code": "NOQ", "satisfaction_node": None, "loyalty_node": None},
    )
    r = await get(client, tenant.headers, "/v1/csi/models/NOQ/satisfaction-loyalty", 409)
    assert r["code"] == "quadrant_nodes_not_set"


# --- models and the template -----------------------------------------------------------------


async def test_acsi_template_posts_as_a_model(client, tenant):
    pos = await key_for(client, tenant, "pos")
    template = await get(client, pos, "/v1/csi/templates/acsi")
    assert [n["code"] for n in template["nodes"]] == ["EXP", "PQ", "PV", "SAT", "CMP", "LOY"]
    assert (template["satisfaction_node"], template["loyalty_node"]) == ("SAT", "LOY")
    created = await create_model(client, tenant.headers, template)
    assert created["code"] == "ACSI" and created["scale_points"] == 5
    assert [n["weight"] for n in created["nodes"]] == ["0.1667"] * 4 + ["0.1666"] * 2
    assert all(n["weighted_by"] == "equal" for n in created["nodes"])
    pq = created["nodes"][1]
    assert (pq["level"], [c["code"] for c in pq["children"]]) == (2, ["PQ1", "PQ2", "PQ3"])
    assert pq["children"][0]["children"][0]["level"] == 4
    listed = await get(client, tenant.headers, "/v1/csi/models")
    assert [m["code"] for m in listed["items"]] == ["ACSI"]
    again = await get(client, tenant.headers, "/v1/csi/models/ACSI")
    assert again == created


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"scale_points": 6}, "invalid_scale", "scale_points"),
        ({"code": "a b"}, "invalid_code", "code"),
        ({"satisfaction_node": "NOPE"}, "unknown_node", "satisfaction_node"),
        ({"loyalty_node": "SAT"}, "invalid_quadrant_nodes", "loyalty_node"),
        ({"threshold": "100"}, "invalid_threshold", "threshold"),
        ({"nodes": []}, "no_nodes", "nodes"),
        ({"nodes": [node("PQ")]}, "invalid_tree", "nodes[0].children"),
        ({"nodes": [node("PQ", node("PQ1"))]}, "invalid_tree", "nodes[0].children[0].children"),
        (
            {"nodes": [node("PQ", node("PQ1", node("x", item("y"))))]},
            "invalid_tree",
            "nodes[0].children[0].children[0].children",
        ),
        (
            {"nodes": [node("PQ", node("PQ", item("a")))]},
            "duplicate_node",
            "nodes[0].children[0].code",
        ),
        ({"nodes": [node("root", node("PQ1", item("a")))]}, "reserved_code", "nodes[0].code"),
        ({"nodes": [node("P Q", node("PQ1", item("a")))]}, "invalid_code", "nodes[0].code"),
        ({"name": ""}, "validation_error", "name"),
        ({"scale_points": "5"}, "validation_error", "scale_points"),
        ({"colour": "red"}, "validation_error", "colour"),
    ],
)
async def test_model_refusals(client, tenant, change, code, field):
    got = await create_model(client, tenant.headers, {**STORE, **change}, 422)
    assert got["code"] == code
    assert field in [e["field"] for e in got["errors"]]


async def test_model_codes_are_unique_and_writes_need_admin(client, tenant):
    await create_model(client, tenant.headers)
    dup = await create_model(client, tenant.headers, {**STORE, "name": "again"}, 409)
    assert (dup["code"], dup["errors"][0]["field"]) == ("csi_model_exists", "code")
    analytics = await key_for(client, tenant, "analytics")
    assert (await create_model(client, analytics, {**STORE, "code": "X"}, 403))["code"] == (
        "insufficient_scope"
    )
    body = {
        "method": "direct",
        "indicators": ["PQ", "SAT", "LOY"],
        "multiples": {"PQ": "1", "SAT": "1", "LOY": "1"},
    }
    await put_weights(client, analytics, "root", body, 403)
    assert (await get(client, analytics, "/v1/csi/models/STORE"))["code"] == "STORE"
    pos = await key_for(client, tenant, "pos")
    await get(client, pos, "/v1/csi/models/STORE/score", 403)
    await respond(client, pos, "by-pos", {"SAT1_1": 3})  # the till may collect answers
    await respond(client, analytics, "by-analytics", {"SAT1_1": 3}, 403)


async def test_unknown_model_is_404_everywhere(client, tenant):
    for path in (
        "/v1/csi/models/NOPE",
        "/v1/csi/models/NOPE/score",
        "/v1/csi/models/NOPE/satisfaction-loyalty",
        "/v1/csi/models/NOPE/nodes/root/weights",
    ):
        assert (await get(client, tenant.headers, path, 404))["code"] == "csi_model_not_found"
    r = await respond(client, tenant.headers, "x", {"a": 1}, 404, model="NOPE")
    assert r.json()["code"] == "csi_model_not_found"
    body = {"method": "direct", "indicators": ["A"], "multiples": {"A": "1"}}
    assert (await put_weights(client, tenant.headers, "root", body, 404, model="NOPE"))[
        "code"
    ] == "csi_model_not_found"


# --- weights ---------------------------------------------------------------------------------


async def test_weights_by_ahp_and_the_audit_trail(client, tenant):
    await create_model(client, tenant.headers)
    ahp = {
        "method": "ahp",
        "indicators": ["PQ", "SAT", "LOY"],
        "matrix": [[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]],
    }
    set_ = await put_weights(client, tenant.headers, "root", ahp)
    assert set_["weights"] == {"PQ": "0.6370", "SAT": "0.2583", "LOY": "0.1047"}
    assert (set_["cr"], set_["lambda_max"], set_["node"], set_["method"]) == (
        "0.0332",
        "3.0385",
        "root",
        "ahp",
    )
    assert set_["inputs"] == ahp and set_["set_by"]
    direct = {
        "method": "direct",
        "indicators": ["LOY", "SAT", "PQ"],  # any order
        "multiples": {"PQ": "1", "SAT": "1", "LOY": "2"},
    }
    second = await put_weights(client, tenant.headers, "root", direct)
    assert second["weights"] == {"PQ": "0.2500", "SAT": "0.2500", "LOY": "0.5000"}
    model = await get(client, tenant.headers, "/v1/csi/models/STORE")
    assert [(n["code"], n["weight"], n["weighted_by"]) for n in model["nodes"]] == [
        ("PQ", "0.2500", "direct"),
        ("SAT", "0.2500", "direct"),
        ("LOY", "0.5000", "direct"),
    ]
    history = await get(client, tenant.headers, "/v1/csi/models/STORE/nodes/root/weights")
    assert [w["method"] for w in history["items"]] == ["direct", "ahp"]
    assert history["items"][1]["cr"] == "0.0332" and history["items"][1]["inputs"] == ahp
    page = await get(client, tenant.headers, "/v1/csi/models/STORE/nodes/root/weights", limit=1)
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = await get(
        client,
        tenant.headers,
        "/v1/csi/models/STORE/nodes/root/weights",
        cursor=page["next_cursor"],
    )
    assert [w["method"] for w in rest["items"]] == ["ahp"] and rest["next_cursor"] is None
    assert (await get(client, tenant.headers, "/v1/csi/models/STORE/nodes/PQ/weights"))[
        "items"
    ] == []


async def test_weight_refusals(client, tenant):
    await create_model(client, tenant.headers)
    h = tenant.headers
    direct = {"method": "direct", "multiples": {"PQ1": "1", "PQ2": "1"}}
    got = await put_weights(
        client,
        h,
        "PQ",
        {"method": "direct", "indicators": ["PQ1", "PQ2"], "multiples": {"PQ1": "1"}},
        422,
    )
    assert (got["code"], got["errors"][0]["field"]) == ("missing_multiple", "multiples.PQ2")
    got = await put_weights(
        client, h, "PQ", {"method": "direct", "indicators": ["PQ1"], "multiples": {"PQ1": "1"}}, 422
    )
    assert (got["code"], got["children"]) == ("indicators_mismatch", ["PQ1", "PQ2"])
    got = await put_weights(client, h, "NOPE", {**direct, "indicators": ["PQ1", "PQ2"]}, 404)
    assert got["code"] == "csi_node_not_found"
    got = await put_weights(
        client, h, "PQ1_1", {"method": "direct", "indicators": ["x"], "multiples": {"x": "1"}}, 422
    )
    assert got["code"] == "not_a_parent"
    bad_ahp = {
        "method": "ahp",
        "indicators": ["PQ", "SAT", "LOY"],
        "matrix": [[1, 3, "1/5"], ["1/3", 1, 3], [5, "1/3", 1]],
    }
    got = await put_weights(client, h, "root", bad_ahp, 422)
    assert got["code"] == "inconsistent_matrix" and "CR = " in got["detail"]
    unsettled = [{"PQ1": "0.9", "PQ2": "0.1"}, {"PQ1": "0.3", "PQ2": "0.7"}]
    delphi = {"method": "delphi", "indicators": ["PQ1", "PQ2"], "rounds": [unsettled]}
    got = await put_weights(client, h, "PQ", delphi, 422)
    assert got["code"] == "delphi_not_converged" and set(got["cv"]) == {"PQ1", "PQ2"}
    done = await put_weights(client, h, "PQ", {**delphi, "max_rounds": 1})
    assert (done["converged"], done["round_limit_reached"]) == (False, True)
    assert done["weights"] == {"PQ1": "0.6000", "PQ2": "0.4000"}
    # Nothing refused was kept.
    history = await get(client, h, "/v1/csi/models/STORE/nodes/PQ/weights")
    assert [w["method"] for w in history["items"]] == ["delphi"]
    assert (await get(client, h, "/v1/csi/models/STORE/nodes/root/weights"))["items"] == []


# --- responses -------------------------------------------------------------------------------


async def test_responses_replay_and_conflict(client, tenant):
    await create_model(client, tenant.headers)
    [m] = await members(client, tenant.headers, 1)
    first = (
        await respond(client, tenant.headers, "Q-9", {"SAT1_1": 4, "PQ1_1": 5}, member_id=m)
    ).json()
    assert first["answers"] == {"PQ1_1": 5, "SAT1_1": 4}
    assert (first["model_code"], first["member_id"]) == ("STORE", m)
    again = await respond(
        client, tenant.headers, "Q-9", {"PQ1_1": 5, "SAT1_1": 4}, 200, member_id=m
    )
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first
    other = await respond(client, tenant.headers, "Q-9", {"SAT1_1": 1}, 409, member_id=m)
    assert (other.json()["code"], other.json()["response_id"]) == ("response_conflict", first["id"])
    later = await respond(
        client, tenant.headers, "Q-9", {"SAT1_1": 1}, answered_at="2026-11-20T10:00:00Z"
    )
    assert later.json()["id"] != first["id"]


@pytest.mark.parametrize(
    ("answers", "extra", "code", "field"),
    [
        ({}, {}, "no_answers", "answers"),
        ({"NOPE": 3}, {}, "unknown_item", "answers.NOPE"),
        ({"SAT1": 3}, {}, "unknown_item", "answers.SAT1"),
        ({"SAT1_1": 6}, {}, "score_out_of_scale", "answers.SAT1_1"),
        ({"SAT1_1": 0}, {}, "score_out_of_scale", "answers.SAT1_1"),
        ({"SAT1_1": 3.5}, {}, "validation_error", "answers.SAT1_1"),
        ({"SAT1_1": "3"}, {}, "validation_error", "answers.SAT1_1"),
        ({"SAT1_1": 3}, {"member_id": "nobody"}, "member_not_found", "member_id"),
        ({"SAT1_1": 3}, {"store_code": "S77"}, "store_not_found", "store_code"),
        (
            {"SAT1_1": 3},
            {"answered_at": "2099-01-01T00:00:00Z"},
            "answered_in_future",
            "answered_at",
        ),
        ({"SAT1_1": 3}, {"answered_at": "2026-11-01T00:00:00"}, "validation_error", "answered_at"),
        ({"SAT1_1": 3}, {"respondent_ref": ""}, "validation_error", "respondent_ref"),
    ],
)
async def test_response_refusals(client, tenant, answers, extra, code, field):
    await create_model(client, tenant.headers)
    got = (await respond(client, tenant.headers, "Q", answers, 422, **extra)).json()
    assert got["code"] == code
    assert field in [e["field"] for e in got["errors"]]


async def test_seven_point_scale(client, tenant):
    await create_model(client, tenant.headers, {**STORE, "code": "SEVEN", "scale_points": 7})
    await respond(client, tenant.headers, "a", {"SAT1_1": 7, "LOY1_1": 4}, model="SEVEN")
    got = (await respond(client, tenant.headers, "b", {"SAT1_1": 8}, 422, model="SEVEN")).json()
    assert got["code"] == "score_out_of_scale"
    score = await get(client, tenant.headers, "/v1/csi/models/SEVEN/score")
    nodes = {n["code"]: n["score"] for n in score["nodes"]}
    assert (nodes["SAT"], nodes["LOY"], nodes["PQ"]) == ("100.00", "50.00", None)
    assert score["csi"] == "75.00"  # PQ unanswered: SAT and LOY share its weight


# --- isolation -------------------------------------------------------------------------------


async def test_other_tenant_sees_and_changes_nothing(client, tenant, other_tenant):
    await store_with_responses(client, tenant.headers)
    thief = other_tenant.headers
    for path in (
        "/v1/csi/models/STORE",
        "/v1/csi/models/STORE/score",
        "/v1/csi/models/STORE/satisfaction-loyalty",
        "/v1/csi/models/STORE/nodes/root/weights",
    ):
        assert (await get(client, thief, path, 404))["code"] == "csi_model_not_found"
    body = {
        "method": "direct",
        "indicators": ["PQ", "SAT", "LOY"],
        "multiples": {"PQ": "1", "SAT": "1", "LOY": "9"},
    }
    await put_weights(client, thief, "root", body, 404)
    await respond(client, thief, "Q-1", {"SAT1_1": 1}, 404)
    assert (await get(client, thief, "/v1/csi/models"))["items"] == []
    # Same code in its own tenant: its own model, its own responses.
    await create_model(client, thief)
    await respond(client, thief, "Q-1", {"SAT1_1": 1, "LOY1_1": 1})
    theirs = await get(client, thief, "/v1/csi/models/STORE/score")
    assert (theirs["csi"], theirs["responses"]) == ("0.00", 1)
    mine = await get(client, tenant.headers, "/v1/csi/models/STORE/score")
    assert (mine["csi"], mine["responses"]) == ("60.67", 3)
    assert (await get(client, thief, "/v1/csi/templates/acsi"))["code"] == "ACSI"
