"""A real server process of its own (one worker), for tests that kill it."""

import os
import subprocess
import sys
import time

import httpx

from app.db import plain_url
from tests.conftest import SMALL_POOLS


def start_server(database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": plain_url(database_url),
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_LOG_FORMAT": "text",
        **SMALL_POOLS,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"], env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")
