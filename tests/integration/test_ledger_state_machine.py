"""A hypothesis state machine drives the real server (earn, return, redeem, cancel, adjust,
expire, retries with the same key, retries with a changed body) and checks the member's
points against an in-memory model after every step."""

import asyncio
import itertools
import uuid
from datetime import UTC, datetime

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import new_tenant
from tests.factories.cards import GOLD
from tests.factories.ledger import ledger_report

RATE = 10  # points rate 0.1: one A point per 10 CNY, and the identity multiple 1 doubles it
receipts = itertools.count()


def earned(amount_fen: int) -> int:
    """A + E for an amount: floor(amount × 0.1), twice (the model's own arithmetic)."""
    return 2 * (amount_fen // (100 * RATE))


def remaining(sale: dict, units_left: int) -> int:
    """What is left of a sale's amount, in fen, rounded half up."""
    return (2 * sale["amount"] * units_left + sale["units"]) // (2 * sale["units"])


class Ledger(RuleBasedStateMachine):
    client: httpx.Client  # set by the test

    sales = Bundle("sales")
    redemptions = Bundle("redemptions")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        c = self.client
        member = c.post("/v1/members", json={"name": "model"}).json()["id"]
        card = c.post(
            "/v1/cards", json={"card_class": "GOLD", "store_code": "S01", "member_id": member}
        )
        self.member, self.card = member, card.json()["number"]
        self.balance = 0

    def post(self, path: str, body: dict, key: str) -> httpx.Response:
        return self.client.post(path, json=body, headers={"Idempotency-Key": key})

    @rule(target=sales, units=st.integers(1, 5), unit_fen=st.integers(1, 40_000))
    def earn(self, units, unit_fen):
        amount = units * unit_fen
        body = {
            "store_code": "S01",
            "receipt_no": f"SM-{next(receipts)}-{uuid.uuid4().hex[:6]}",
            "card_number": self.card,
            "occurred_at": datetime.now(UTC).isoformat(),
            "lines": [
                {"line_no": 1, "sku": "X", "qty": str(units), "final_amount": f"{amount / 100:.2f}"}
            ],
            "payments": [{"method": "cash", "amount": f"{amount / 100:.2f}"}],
        }
        r = self.post("/v1/sales", body, uuid.uuid4().hex)
        assert r.status_code == 201, r.text
        assert r.json()["points_earned_total"] == earned(amount)
        self.balance += earned(amount)
        return {"receipt": body["receipt_no"], "units": units, "amount": amount, "returned": 0}

    @rule(sale=sales, units=st.integers(1, 5))
    def give_back(self, sale, units):
        units = min(units, sale["units"] - sale["returned"])
        if units == 0:
            return
        body = {
            "return_no": uuid.uuid4().hex[:12],
            "lines": [{"line_no": 1, "qty": str(units)}],
            "shortfall": "purchase",
        }
        r = self.post(f"/v1/sales/S01/{sale['receipt']}/returns", body, uuid.uuid4().hex)
        assert r.status_code == 201, r.text
        left = sale["units"] - sale["returned"]
        before = earned(remaining(sale, left))
        after = earned(remaining(sale, left - units))
        clawed = r.json()["points_clawed_back"]
        assert clawed["A"] + clawed["E"] == before - after
        # A shortfall is bought first, then clawed back: the balance can't go below zero.
        self.balance += r.json()["points_purchased"] - (before - after)
        sale["returned"] += units

    @rule(target=redemptions, points=st.integers(1, 300))
    def redeem(self, points):
        body = {"member_id": self.member, "points": points, "purpose": "gift", "reference": "m"}
        key = uuid.uuid4().hex
        r = self.post("/v1/points/redemptions", body, key)
        if points > self.balance:
            assert r.status_code == 409 and r.json()["code"] == "insufficient_points"
            return {
                "id": None,
                "points": 0,
                "cancelled": True,
                "key": key,
                "body": body,
                "status": 409,
            }
        assert r.status_code == 201, r.text
        self.balance -= points
        return {
            "id": r.json()["id"],
            "points": points,
            "cancelled": False,
            "key": key,
            "body": body,
            "status": 201,
        }

    @rule(redemption=consumes(redemptions))
    def cancel(self, redemption):
        if redemption["id"] is None:
            return
        r = self.post(f"/v1/points/redemptions/{redemption['id']}/cancel", {}, uuid.uuid4().hex)
        assert r.status_code == 200, r.text
        self.balance += redemption["points"]

    @rule(target=requests, points=st.integers(-200, 200).filter(bool))
    def adjust(self, points):
        body = {"member_id": self.member, "points": points, "reason": "model"}
        key = uuid.uuid4().hex
        r = self.post("/v1/points/adjustments", body, key)
        if points < 0 and -points > self.balance:
            assert r.status_code == 409
        else:
            assert r.status_code == 201, r.text
            self.balance += points
        return {
            "path": "/v1/points/adjustments",
            "body": body,
            "key": key,
            "response": (r.status_code, r.json()),
        }

    @rule(request=requests)
    def retry_same(self, request):
        r = self.post(request["path"], request["body"], request["key"])
        assert (r.status_code, r.json()) == request["response"]
        assert r.headers["Idempotent-Replayed"] == "true"

    @rule(request=requests)
    def retry_changed(self, request):
        changed = {**request["body"], "reason": "changed"}
        r = self.post(request["path"], changed, request["key"])
        assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"

    @rule()
    def expire(self):
        r = self.client.post("/v1/jobs/expire-points")
        assert r.status_code == 200, r.text  # the policy is "none": nothing may change

    @invariant()
    def points_match_the_model(self):
        got = self.client.get(f"/v1/members/{self.member}/points").json()
        assert got["balance"] == self.balance
        assert got["available"] + got["pending"] == got["balance"]


def test_ledger_follows_the_model(live_server, database_url):
    tenant = asyncio.run(new_tenant(database_url))
    with httpx.Client(base_url=live_server.url, headers=tenant.headers, timeout=30) as client:
        client.post("/v1/stores", json={"code": "S01", "name": "Model"})
        klass = {**GOLD, "default_points_rate": "0.1", "identity_points_multiple": "1"}
        assert client.post("/v1/card-classes", json=klass).status_code == 201
        Ledger.client = client
        run_state_machine_as_test(
            Ledger,
            settings=settings(
                max_examples=12,
                stateful_step_count=15,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    assert asyncio.run(ledger_report(database_url)) == {}
