"""Vouchers under real parallel requests against the real server process (two workers)."""

import asyncio
import os

import httpx


def _code(prefix: str) -> str:
    return prefix + os.urandom(4).hex().upper()


async def _setup(c: httpx.AsyncClient, **template) -> tuple[str, str]:
    code = _code("R")
    body = {"code": code, "name": "race", "kind": "amount_off", "face_value": "5", **template}
    r = await c.post("/v1/voucher-templates", json={"valid_days": 30, **body})
    assert r.status_code == 201, r.text
    r = await c.post("/v1/members", json={"name": "race"})
    assert r.status_code == 201, r.text
    return code, r.json()["id"]


async def test_racing_issues_respect_the_per_member_limit(live_server):
    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers, timeout=30) as c:
        template, member = await _setup(c, per_member_limit=1)
        body = {"template": template, "member_id": member}
        results = await asyncio.gather(*[c.post("/v1/vouchers", json=body) for _ in range(20)])
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201] + [409] * 19, [r.text for r in results if r.status_code >= 500]
        assert {r.json()["code"] for r in results if r.status_code == 409} == {
            "voucher_limit_reached"
        }
        listed = await c.get(f"/v1/vouchers?member_id={member}")
        assert len(listed.json()["items"]) == 1


async def test_racing_voids_have_one_winner(live_server):
    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers, timeout=30) as c:
        template, member = await _setup(c)
        r = await c.post("/v1/vouchers", json={"template": template, "member_id": member})
        code = r.json()["code"]
        results = await asyncio.gather(
            *[c.post(f"/v1/vouchers/{code}/void", json={"reason": f"r{i}"}) for i in range(10)]
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200] + [409] * 9
        winner = next(r.json() for r in results if r.status_code == 200)
        shown = (await c.get(f"/v1/vouchers/{code}")).json()
        assert shown["status"] == "voided" and shown["void_reason"] == winner["void_reason"]


async def test_a_template_deleted_while_issuing_leaves_no_orphan(live_server):
    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers, timeout=30) as c:
        template, member = await _setup(c)
        body = {"template": template, "member_id": member}
        results = await asyncio.gather(
            *[c.post("/v1/vouchers", json=body) for _ in range(8)],
            c.delete(f"/v1/voucher-templates/{template}"),
        )
        *issues, deleted = results
        issued = [r for r in issues if r.status_code == 201]
        assert all(r.status_code in (201, 422) for r in issues)
        if deleted.status_code == 204:
            assert issued == []  # every issue after the delete found no template
        else:
            assert deleted.status_code == 409 and issued
        listed = await c.get(f"/v1/vouchers?member_id={member}")
        assert len(listed.json()["items"]) == len(issued)
