"""`loyalty serve` as an operator starts it: a clean start, a port in use, the secret, and the
metrics on a port of their own. Real processes, as in tests/integration/test_cli.py."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.db import plain_url
from tests.conftest import SMALL_POOLS, free_port

DEMO_KEY = "lk_demo-key-of-an-embedded-run"


def loyalty_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        # A fresh shell: no runtime directory (containers, cron, CI), no database, no secret.
        if k not in ("XDG_RUNTIME_DIR", "LOYALTY_DATABASE_URL", "LOYALTY_SECRET_KEY")
    }
    env |= {"LOYALTY_DATA_DIR": str(data_dir), "LOYALTY_LOG_FORMAT": "text", **extra}
    if database_url:
        env["LOYALTY_DATABASE_URL"] = plain_url(database_url)
    return env


def loyalty(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_ready(server: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


def stop(server: subprocess.Popen) -> tuple[str, str]:
    server.terminate()
    out, err = server.communicate(timeout=30)
    return out, err


def test_a_fresh_start_on_the_embedded_database_prints_no_warning(tmp_path):
    # What `make run` does, from a shell without XDG_RUNTIME_DIR and a new temporary directory
    # (where platformdirs' fallback runtime directory does not exist yet).
    (tmp_path / "tmp").mkdir()
    env = loyalty_env(tmp_path / "data", TMPDIR=str(tmp_path / "tmp"), **SMALL_POOLS)
    env.pop("LOYALTY_SECRET_KEY")  # the built-in one is fine for the embedded database
    for command in (["migrate"], ["seed-demo"]):
        done = loyalty(env, *command)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stderr.lower(), done.stderr
    key = re.search(r"admin API key: (\S+)", done.stdout).group(1)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(server, f"http://127.0.0.1:{port}")
    finally:
        out, err = stop(server)
    assert "warning" not in err.lower(), err
    assert server.returncode == 0  # a graceful stop on SIGTERM ...
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists()  # ... stops PostgreSQL
    assert f"demo API key: {key}" in out  # the embedded database's own demo tenant
    runtime_dir = tmp_path / "tmp" / f"runtime-{os.geteuid()}"
    assert runtime_dir.stat().st_mode & 0o777 == 0o700


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = loyalty(loyalty_env(tmp_path), "serve", "--port", str(port))
    assert done.returncode != 0
    assert done.stderr == f"cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert done.stdout == ""
    assert not (tmp_path / "pg").exists()  # no embedded PostgreSQL was started
    assert time.monotonic() - started < 20


def test_the_metrics_port_in_use_is_refused_too(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = loyalty_env(tmp_path, LOYALTY_METRICS_PORT=str(port))
        done = loyalty(env, "serve", "--port", str(free_port()))
    assert done.returncode != 0
    assert done.stderr == f"cannot listen on 127.0.0.1:{port}: Address already in use\n"
    assert not (tmp_path / "pg").exists()


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["seed-demo"]])
def test_the_development_secret_is_refused_on_an_external_database(database_url, tmp_path, command):
    (tmp_path / "demo-key").write_text(DEMO_KEY + "\n")
    done = loyalty(loyalty_env(tmp_path, database_url), *command)
    assert done.returncode != 0
    assert "LOYALTY_SECRET_KEY is the built-in development value" in done.stderr
    assert DEMO_KEY not in done.stdout + done.stderr
    assert "admin API key" not in done.stdout


@pytest.mark.parametrize("workers", [1, 2])
def test_serving_an_external_database_with_metrics_on_their_own_port(
    database_url, tmp_path, workers
):
    # A demo key remembered from an embedded run is not this database's: never shown.
    (tmp_path / "demo-key").write_text(DEMO_KEY + "\n")
    port, metrics_port = free_port(), free_port()
    env = loyalty_env(
        tmp_path,
        database_url,
        LOYALTY_METRICS_PORT=str(metrics_port),
        LOYALTY_METRICS_TOKEN="scrape-token",
        **SMALL_POOLS,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    api, metrics = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    try:
        wait_ready(server, api)
        for _ in range(6):
            httpx.get(f"{api}/healthz")
        assert httpx.get(f"{api}/metrics").status_code == 404  # not on the API's port
        assert httpx.get(metrics).status_code == 401
        refused = httpx.get(metrics, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"
        scraped = httpx.get(metrics, headers={"Authorization": "Bearer scrape-token"})
        assert scraped.status_code == 200
        line = next(
            ln
            for ln in scraped.text.splitlines()
            if ln.startswith('http_requests_total{method="GET",route="/healthz",status="200"}')
        )
        assert float(line.rsplit(" ", 1)[1]) == 6  # from every worker, added up
    finally:
        out, err = stop(server)
    assert DEMO_KEY not in out + err
    assert "demo API key" not in out
