"""The `loyalty` command against the test database, as an operator would run it."""

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import httpx

from app.db import plain_url
from app.services.demo import DEMO_CARD_NUMBER


def run(database_url: str, *args: str, data_dir=None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": plain_url(database_url),
        "LOYALTY_LOG_LEVEL": "WARNING",
    }
    if data_dir:
        env["LOYALTY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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


def test_seed_demo_is_idempotent_and_remembers_its_key(database_url, live_server, tmp_path):
    first = loyalty(database_url, "seed-demo", data_dir=tmp_path)
    second = loyalty(database_url, "seed-demo", data_dir=tmp_path)
    key = re.search(r"admin API key: (\S+)", first).group(1)
    card = re.search(r"GOLD card: (\S+)", first).group(1)
    assert key in second and card in second  # same key, same card: nothing duplicated
    assert card == DEMO_CARD_NUMBER  # the number the OpenAPI examples use
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
