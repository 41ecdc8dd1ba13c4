"""kill -9 the server mid-load, several times, then retry what got no answer: every request
that got a 2xx is in the ledger exactly once, and every member's ledger adds up."""

import asyncio
import signal
import time
import uuid

import httpx
from sqlalchemy import text

from app.db import create_engine
from tests.conftest import free_port
from tests.factories.cards import GOLD
from tests.factories.ledger import ledger_report
from tests.factories.server import start_server

ROUNDS = 3
CLIENTS = 12


def sale(card: str, receipt: str) -> dict:
    return {
        "store_code": "S01",
        "receipt_no": receipt,
        "card_number": card,
        "occurred_at": "2026-11-23T10:00:00+08:00",
        "lines": [{"line_no": 1, "sku": "X", "qty": "1", "final_amount": "100.00"}],
        "payments": [{"method": "cash", "amount": "100.00"}],
    }


async def test_kill_9_mid_load_loses_and_doubles_nothing(database_url, tenant):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, port)
    h = tenant.headers
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=10) as c:
        await c.post("/v1/stores", json={"code": "S01", "name": "Crash"})
        await c.post("/v1/card-classes", json={**GOLD, "default_points_rate": "0.1"})
        cards, members = [], []
        for i in range(8):
            member = (await c.post("/v1/members", json={"name": f"c{i}"})).json()["id"]
            card = await c.post(
                "/v1/cards", json={"card_class": "GOLD", "store_code": "S01", "member_id": member}
            )
            await c.post(
                "/v1/points/adjustments",
                json={"member_id": member, "points": 100_000, "reason": "float"},
            )
            members.append(member)
            cards.append(card.json()["number"])

    sent: list[tuple[str, str, dict]] = []  # (idempotency key, path, body)
    answered: dict[str, int] = {}

    async def client(number: int, stop: float) -> None:
        async with httpx.AsyncClient(base_url=base, headers=h, timeout=5) as c:
            n = 0
            while time.monotonic() < stop:
                n += 1
                key = uuid.uuid4().hex
                if n % 2:
                    path, body = "/v1/sales", sale(cards[(number + n) % 8], key)
                else:
                    path = "/v1/points/redemptions"
                    body = {
                        "member_id": members[(number + n) % 8],
                        "points": 7,
                        "purpose": "gift",
                        "reference": key,
                    }
                sent.append((key, path, body))
                try:
                    r = await c.post(path, json=body, headers={"Idempotency-Key": key})
                    answered[key] = r.status_code
                except httpx.TransportError:
                    return  # the server died under us

    for _ in range(ROUNDS):
        if server.poll() is not None:
            server = start_server(database_url, port)
        stop = time.monotonic() + 3
        load = asyncio.gather(*[client(i, stop) for i in range(CLIENTS)])
        await asyncio.sleep(0.8)
        server.send_signal(signal.SIGKILL)
        await load
        server.wait()
    assert len(answered) < len(sent), "some requests should have been cut off"

    # Retry whatever got no answer, with the same key, as a till would.
    server = start_server(database_url, port)
    try:
        async with httpx.AsyncClient(base_url=base, headers=h, timeout=10) as c:
            for key, path, body in sent:
                if key not in answered:
                    r = await c.post(path, json=body, headers={"Idempotency-Key": key})
                    answered[key] = r.status_code
    finally:
        server.terminate()
        server.wait()

    assert set(answered.values()) <= {200, 201}, answered
    sale_keys = [key for key, path, _ in sent if path == "/v1/sales"]
    redemption_keys = [key for key, path, _ in sent if path != "/v1/sales"]
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            sales = dict(
                (
                    await conn.execute(
                        text(
                            "SELECT receipt_no, count(*) FROM sales "
                            "WHERE tenant_id = :t GROUP BY receipt_no"
                        ),
                        {"t": tenant.id},
                    )
                ).all()
            )
            redemptions = dict(
                (
                    await conn.execute(
                        text(
                            "SELECT reference, count(*) FROM points_redemptions "
                            "WHERE tenant_id = :t GROUP BY reference"
                        ),
                        {"t": tenant.id},
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert sales == dict.fromkeys(sale_keys, 1)
    assert redemptions == dict.fromkeys(redemption_keys, 1)
    assert await ledger_report(database_url) == {}
