"""Points rules by level, multiplier events, warm rules and the birthday multiplier through
the API; what sales earn with them, what returns claw back, and the quote's preview."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.schemas.checkout import QuoteResponse
from tests.factories.cards import issue
from tests.factories.points import key_with, put_settings
from tests.factories.points_rules import FUTURE, event, points_rule, warm
from tests.factories.sales import line, member_with_card, post_return, post_sale, sale_body

ISOLATION_COVERS = {
    ("POST", "/v1/points-rules"),
    ("GET", "/v1/points-rules"),
    ("GET", "/v1/points-rules/{rule_id}"),
    ("PATCH", "/v1/points-rules/{rule_id}"),
    ("POST", "/v1/points-rules/{rule_id}/approve"),
    ("POST", "/v1/points-rules/{rule_id}/void"),
    ("GET", "/v1/points-rules/{rule_id}/changes"),
    ("POST", "/v1/points/multiplier-events"),
    ("GET", "/v1/points/multiplier-events"),
    ("GET", "/v1/points/multiplier-events/{event_id}"),
    ("PATCH", "/v1/points/multiplier-events/{event_id}"),
    ("DELETE", "/v1/points/multiplier-events/{event_id}"),
    ("POST", "/v1/points/warm-rules"),
    ("GET", "/v1/points/warm-rules"),
    ("GET", "/v1/points/warm-rules/{rule_id}"),
    ("PATCH", "/v1/points/warm-rules/{rule_id}"),
    ("DELETE", "/v1/points/warm-rules/{rule_id}"),
}

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the tenants' time zone in tests


async def birthday_today(client, headers, member):
    today = datetime.now(SHANGHAI).date()
    birthday = today.replace(year=1990) if (today.month, today.day) != (2, 29) else today
    r = await client.patch(
        f"/v1/members/{member}", json={"birthday": birthday.isoformat()}, headers=headers
    )
    assert r.status_code == 200, r.text


# --- points rules ----------------------------------------------------------------------------


async def test_points_rule_life_cycle_and_change_log(client, tenant):
    await member_with_card(client, tenant.headers)
    h = tenant.headers
    draft = await points_rule(client, h, "brand", [("OLAY", "0.2"), ("CIG", "0")], approve=False)
    assert (draft["status"], draft["level"]) == ("draft", "brand")
    assert [(e["target"], e["rate"], e["stackable"]) for e in draft["entries"]] == [
        ("OLAY", "0.2000", False),
        ("CIG", "0.0000", False),
    ]
    rid = draft["id"]
    r = await client.patch(f"/v1/points-rules/{rid}", json={"note": "n"}, headers=h)
    assert r.status_code == 200 and r.json()["note"] == "n"
    # A points document is not a discount document, and the other way round.
    assert (await client.get(f"/v1/discount-rules/{rid}", headers=h)).status_code == 404
    listed = (await client.get("/v1/points-rules", headers=h)).json()["items"]
    assert [x["id"] for x in listed] == [rid] and listed[0]["entry_count"] == 2
    assert (await client.get("/v1/discount-rules", headers=h)).json()["items"] == []
    approved = (await client.post(f"/v1/points-rules/{rid}/approve", headers=h)).json()
    assert approved["status"] == "approved" and approved["approved_at"]
    r = await client.patch(f"/v1/points-rules/{rid}", json={"note": "x"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "rule_not_draft"
    voided = (await client.post(f"/v1/points-rules/{rid}/void", headers=h)).json()
    assert voided["status"] == "voided"
    r = await client.post(f"/v1/points-rules/{rid}/void", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "rule_already_voided"
    changes = (await client.get(f"/v1/points-rules/{rid}/changes", headers=h)).json()["items"]
    assert {c["action"] for c in changes} == {"create", "update", "approve", "void"}
    pos = await key_with(client, h, "pos")
    assert (await client.get(f"/v1/points-rules/{rid}", headers=pos)).status_code == 200
    r = await client.post("/v1/points-rules", json={"level": "brand", "entries": []}, headers=pos)
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("rate", "code"),
    [
        ("-0.1", "invalid_points_rule"),
        ("100", "invalid_points_rule"),
        ("0.12345", "invalid_points_rule"),
        ("x", "validation_error"),
    ],
)
async def test_points_rule_rate_is_checked(client, tenant, rate, code):
    await member_with_card(client, tenant.headers)
    body = {"level": "brand", "entries": [{"target": "A", "card_class": "GOLD", "rate": rate}]}
    r = await client.post("/v1/points-rules", json=body, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    if code != "validation_error":
        assert r.json()["errors"][0]["field"] == "entries[0].rate"


async def test_discount_rules_still_refuse_points_rates(client, tenant):
    await member_with_card(client, tenant.headers)
    body = {
        "level": "brand",
        "entries": [{"target": "A", "card_class": "GOLD", "rate": "2", "stackable": True}],
    }
    r = await client.post("/v1/discount-rules", json=body, headers=tenant.headers)
    assert r.status_code == 422 and r.json()["code"] == "invalid_discount_rule"


# --- events and warm rules -------------------------------------------------------------------


async def test_multiplier_event_crud_and_validation(client, tenant):
    h = tenant.headers
    created = await event(client, h, "2", store_codes=["S01"])
    assert (created["k"], created["store_codes"], created["card_classes"]) == (
        "2.0000",
        ["S01"],
        [],
    )
    eid = created["id"]
    r = await client.patch(f"/v1/points/multiplier-events/{eid}", json={"k": "3.5"}, headers=h)
    assert r.status_code == 200 and r.json()["k"] == "3.5000"
    got = (await client.get(f"/v1/points/multiplier-events/{eid}", headers=h)).json()
    assert got == r.json()
    items = (await client.get("/v1/points/multiplier-events", headers=h)).json()["items"]
    assert [x["id"] for x in items] == [eid]
    r = await client.patch(
        f"/v1/points/multiplier-events/{eid}", json={"ends_at": "2019-01-01T00:00:00Z"}, headers=h
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_multiplier_event"
    await event(client, h, "0.9", status=422)
    await event(client, h, "2", status=422, starts_at="2020-01-01T00:00:00")  # no offset
    assert (
        await client.delete(f"/v1/points/multiplier-events/{eid}", headers=h)
    ).status_code == 204
    assert (await client.get(f"/v1/points/multiplier-events/{eid}", headers=h)).status_code == 404
    assert (await client.get("/v1/points/multiplier-events/abc", headers=h)).status_code == 404


async def test_warm_rule_crud_and_validation(client, tenant):
    h = tenant.headers
    created = await warm(client, h, 100, {"kind": "receipt_at_least", "amount": "500"})
    assert created["condition"] == {"kind": "receipt_at_least", "amount": "500"}
    assert created["active"] is True
    wid = created["id"]
    r = await client.patch(
        f"/v1/points/warm-rules/{wid}",
        json={"condition": {"kind": "bought", "level": "brand", "target": "OLAY"}, "active": False},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["condition"] == {"kind": "bought", "level": "brand", "target": "OLAY"}
    assert r.json()["active"] is False
    await warm(client, h, 0, {"kind": "birthday"}, status=422)
    await warm(client, h, 5, {"kind": "receipt_at_least", "amount": "-1"}, status=422)
    await warm(client, h, 5, {"kind": "bought", "level": "shelf", "target": "A"}, status=422)
    await warm(client, h, 5, {"kind": "lunar"}, status=422)
    listed = (await client.get("/v1/points/warm-rules", headers=h)).json()["items"]
    assert [x["id"] for x in listed] == [wid]
    assert (await client.delete(f"/v1/points/warm-rules/{wid}", headers=h)).status_code == 204
    assert (await client.delete(f"/v1/points/warm-rules/{wid}", headers=h)).status_code == 404


async def test_other_tenant_sees_and_changes_nothing(client, tenant, other_tenant):
    await member_with_card(client, tenant.headers)
    h, o = tenant.headers, other_tenant.headers
    rule = await points_rule(client, h, "brand", [("OLAY", "1")], approve=False)
    ev = await event(client, h, "2")
    wr = await warm(client, h, 10, {"kind": "birthday"})
    for method, path, body in (
        ("GET", f"/v1/points-rules/{rule['id']}", None),
        ("PATCH", f"/v1/points-rules/{rule['id']}", {"note": "x"}),
        ("POST", f"/v1/points-rules/{rule['id']}/approve", None),
        ("POST", f"/v1/points-rules/{rule['id']}/void", None),
        ("GET", f"/v1/points-rules/{rule['id']}/changes", None),
        ("GET", f"/v1/points/multiplier-events/{ev['id']}", None),
        ("PATCH", f"/v1/points/multiplier-events/{ev['id']}", {"k": "9"}),
        ("DELETE", f"/v1/points/multiplier-events/{ev['id']}", None),
        ("GET", f"/v1/points/warm-rules/{wr['id']}", None),
        ("PATCH", f"/v1/points/warm-rules/{wr['id']}", {"points": 9}),
        ("DELETE", f"/v1/points/warm-rules/{wr['id']}", None),
    ):
        r = await client.request(method, path, json=body, headers=o)
        assert r.status_code == 404, (method, path, r.text)
    for path in ("/v1/points-rules", "/v1/points/multiplier-events", "/v1/points/warm-rules"):
        assert (await client.get(path, headers=o)).json()["items"] == []
    # The victim's GOLD is unknown to the other tenant; its own creations are its own.
    r = await client.post(
        "/v1/points-rules",
        json={"level": "brand", "entries": [{"target": "A", "card_class": "GOLD", "rate": "1"}]},
        headers=o,
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_card_class"
    await event(client, o, "4")
    await warm(client, o, 5, {"kind": "birthday"})
    assert (await client.get(f"/v1/points-rules/{rule['id']}", headers=h)).json()[
        "status"
    ] == "draft"
    assert (await client.get(f"/v1/points/multiplier-events/{ev['id']}", headers=h)).json()[
        "k"
    ] == "2.0000"
    assert (await client.get(f"/v1/points/warm-rules/{wr['id']}", headers=h)).json()["points"] == 10
    assert len((await client.get("/v1/points/warm-rules", headers=h)).json()["items"]) == 1


# --- sales -----------------------------------------------------------------------------------


async def test_sale_earns_with_rules_events_birthday_and_warm_rules(client, tenant):
    h = tenant.headers
    member, card = await member_with_card(client, h, identity_points_multiple="0")
    await points_rule(client, h, "product", [("SKU1", "0")])  # tobacco: excluded
    await points_rule(client, h, "brand", [("OLAY", "0.2")])
    await event(client, h, "3", store_codes=["S01"])
    await event(client, h, "5", store_codes=["S02"])  # another store
    await put_settings(client, h, birthday_multiplier={"k": "2", "scope": "day"})
    await birthday_today(client, h, member)
    await warm(client, h, 200, {"kind": "birthday"})
    await warm(client, h, 50, {"kind": "bought", "level": "brand", "target": "OLAY"})
    await warm(client, h, 70, {"kind": "receipt_at_least", "amount": "10000"})  # not met
    await warm(client, h, 90, {"kind": "birthday"}, active=False)
    pos = await key_with(client, h, "pos")
    lines = [
        line(1, amount="100.00", brand="OLAY"),  # product rule 0 beats brand 0.2
        line(2, amount="300.00", brand="OLAY"),  # 0.2 → 60
        line(3, amount="105.00", qty="2", brand="OLAY"),  # 0.2 → 21
        line(4, amount="88.00"),  # class default 0.1 → 8.8
    ]
    done = await post_sale(client, pos, sale_body(card, lines=lines))
    # A = floor(0 + 60 + 21 + 8.8) = 89; k = max(3, 2) = 3 → B = 178; C = 200 + 50 once each.
    assert done["points_earned"] == {"A": 89, "B": 178, "C": 250, "E": 0}

    # Returns claw back from what applied then; all returned → exactly what was earned.
    await event(client, h, "10")  # later changes don't matter to returns
    part = await post_return(client, pos, "RT-1", [{"line_no": 2, "qty": "1"}])
    assert part["points_clawed_back"] == {"A": 60, "B": 120, "C": 0, "E": 0}
    rest = await post_return(
        client,
        pos,
        "RT-2",
        [{"line_no": 1, "qty": "1"}, {"line_no": 3, "qty": "2"}, {"line_no": 4, "qty": "1"}],
    )
    assert rest["points_clawed_back"] == {"A": 29, "B": 58, "C": 250, "E": 0}
    assert rest["balance"] == 0


async def test_birthday_multiplier_wins_over_a_smaller_event(client, tenant):
    h = tenant.headers
    member, card = await member_with_card(client, h, identity_points_multiple="0")
    await event(client, h, "1.5")
    await put_settings(client, h, birthday_multiplier={"k": "2", "scope": "month"})
    await birthday_today(client, h, member)
    pos = await key_with(client, h, "pos")
    done = await post_sale(client, pos, sale_body(card, lines=[line(1, amount="100.00")]))
    assert done["points_earned"] == {"A": 10, "B": 10, "C": 0, "E": 0}
    # Without a birthday the event's k applies.
    await client.patch(f"/v1/members/{member}", json={"birthday": None}, headers=h)
    done = await post_sale(client, pos, sale_body(card, "R-2", lines=[line(1, amount="100.00")]))
    assert done["points_earned"] == {"A": 10, "B": 5, "C": 0, "E": 0}


async def test_events_outside_their_window_class_or_store_do_not_apply(client, tenant):
    h = tenant.headers
    _, card = await member_with_card(client, h, identity_points_multiple="0")
    await event(client, h, "4", starts_at=FUTURE, ends_at="2099-02-01T00:00:00Z")
    await event(client, h, "4", card_classes=["OTHER"])
    await event(client, h, "4", store_codes=["S02"])
    pos = await key_with(client, h, "pos")
    done = await post_sale(client, pos, sale_body(card, lines=[line(1, amount="100.00")]))
    assert done["points_earned"]["B"] == 0


# --- the quote's preview ---------------------------------------------------------------------


async def test_quote_previews_points(client, tenant):
    h = tenant.headers
    _, card = await member_with_card(client, h)
    await points_rule(client, h, "brand", [("OLAY", "0.2")])
    await event(client, h, "2")
    await warm(client, h, 30, {"kind": "receipt_at_least", "amount": "100"})
    basket = [
        {"line_no": 1, "sku": "A", "brand": "OLAY", "original_price": "100.00", "qty": "1"},
        {"line_no": 2, "sku": "B", "original_price": "50.00", "qty": "1"},
    ]
    body = {"store_code": "S01", "card_number": card, "lines": basket}
    r = await client.post("/v1/checkout/quote", json=body, headers=h)
    assert r.status_code == 200, r.text
    assert QuoteResponse.model_validate_json(r.text).model_dump(mode="json", by_alias=True) == (
        r.json()
    )
    # Class discount rate 1 by default: A = floor(100 × 0.2 + 50 × 0.1) = 25; k 2; E = A.
    final = sum(float(x["final_amount"]) for x in r.json()["lines"])
    assert final == 150.0
    assert r.json()["points_preview"] == {"A": 25, "B": 25, "C": 30, "E": 25, "total": 105}
    walk_in = await client.post(
        "/v1/checkout/quote", json={"store_code": "S01", "lines": basket}, headers=h
    )
    assert walk_in.json()["points_preview"] is None


async def test_events_for_member_groups_reward_only_their_members(client, tenant):
    """An event naming member groups applies to their members (as last generated), on the
    lean sale path, the general one and in the quote's preview."""
    h = tenant.headers
    vip, vip_card = await member_with_card(client, h)
    other = (await client.post("/v1/members", json={"name": "路人"}, headers=h)).json()["id"]
    other_card = (await issue(client, h, other))["number"]
    r = await client.patch(f"/v1/members/{vip}", json={"tags": ["vip"]}, headers=h)
    assert r.status_code == 200, r.text
    group = {"code": "VIPS", "name": "VIPs", "criteria": {"attributes": {"tags": ["vip"]}}}
    assert (await client.post("/v1/member-groups", json=group, headers=h)).status_code == 201
    r = await client.post("/v1/member-groups/VIPS/generate", headers=h)
    assert (r.status_code, r.json()["member_count"]) == (200, 1)
    made = await event(client, h, "3", member_groups=["VIPS"])
    assert made["member_groups"] == ["VIPS"]
    await event(client, h, "5", member_groups=["NOBODY"])  # a group with no members
    pos = await key_with(client, h, "pos")

    lean = await post_sale(client, pos, sale_body(vip_card, "R-1"))
    assert lean["points_earned"] == {"A": 38, "B": 76, "C": 0, "E": 38}
    r = await client.post(
        "/v1/sales", json=sale_body(vip_card, "R-2"), headers={**pos, "Idempotency-Key": "k-2"}
    )
    assert r.json()["points_earned"]["B"] == 76, r.text
    outsider = await post_sale(client, pos, sale_body(other_card, "R-3"))
    assert outsider["points_earned"]["B"] == 0
    basket = [{"line_no": 1, "sku": "A", "original_price": "388.00", "qty": "1"}]
    for card, b in ((vip_card, 76), (other_card, 0)):
        body = {"store_code": "S01", "card_number": card, "lines": basket}
        r = await client.post("/v1/checkout/quote", json=body, headers=h)
        assert r.json()["points_preview"]["B"] == b, r.text


async def test_changes_reach_the_cached_snapshot(client, tenant):
    """Creating or deleting an event bumps the pricing version: the next sale sees it."""
    h = tenant.headers
    _, card = await member_with_card(client, h, identity_points_multiple="0")
    pos = await key_with(client, h, "pos")
    one = [line(1, amount="100.00")]
    first = await post_sale(client, pos, sale_body(card, "R-1", lines=one))
    assert first["points_earned"]["B"] == 0
    ev = await event(client, h, "2")
    assert (await post_sale(client, pos, sale_body(card, "R-2", lines=one)))["points_earned"][
        "B"
    ] == 10
    await client.delete(f"/v1/points/multiplier-events/{ev['id']}", headers=h)
    assert (await post_sale(client, pos, sale_body(card, "R-3", lines=one)))["points_earned"][
        "B"
    ] == 0
