"""What the load benchmarks share: a database, the `loyalty` command, a running server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db import embedded_postgres, plain_url  # noqa: E402

BIN = ROOT / ".venv" / "bin"


def ensure_wrk() -> None:
    """wrk, from Debian's packages if it is missing."""
    if not shutil.which("wrk"):
        print("installing wrk from Debian's packages...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)


def run_wrk(script: Path, url: str, connections: str, seconds: str, threads: int = 2) -> dict:
    """wrk with a Lua script whose ``done()`` writes its figures as one line ``JSON {...}``
    and each failed response worth showing as a line ``FAIL ...``: the figures, with those
    lines (without ``FAIL ``) as ``failures``."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
        errors="replace",  # a response body cut short may end inside a UTF-8 sequence
    ).stdout.splitlines()
    figures = json.loads(next(line[5:] for line in out if line.startswith("JSON ")))
    return {**figures, "failures": [line[5:] for line in out if line.startswith("FAIL ")]}


def database_url(stack: contextlib.ExitStack, data_dir: Path | None = None) -> str:
    """LOYALTY_DATABASE_URL, else an embedded PostgreSQL under ``data_dir`` (default: a
    temporary directory) for as long as ``stack`` lasts."""
    url = os.environ.get("LOYALTY_DATABASE_URL")
    if url:
        return url
    if data_dir is None:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lb-")))
    return stack.enter_context(embedded_postgres(data_dir))


def server_env(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LOYALTY_DATABASE_URL": plain_url(url),
        "LOYALTY_LOG_LEVEL": os.environ.get("LOYALTY_LOG_LEVEL", "WARNING"),
        # `loyalty serve` refuses its built-in development secret on a database given by URL.
        "LOYALTY_SECRET_KEY": os.environ.get("LOYALTY_SECRET_KEY") or "bench-only-secret",
        **extra,
    }


def loyalty(env: dict[str, str], *args: str) -> str:
    """Run the `loyalty` command; its standard output."""
    return subprocess.run(
        [BIN / "loyalty", *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def new_tenant(env: dict[str, str], name: str) -> str:
    """A tenant of its own (so earlier runs cannot interfere); its admin key."""
    out = loyalty(env, "create-tenant", f"{name}-{time.time_ns()}")
    return next(x.split(": ")[1] for x in out.splitlines() if x.startswith("admin key"))


def serve(
    stack: contextlib.ExitStack, env: dict[str, str], port: int, workers: int, **popen
) -> tuple[str, subprocess.Popen]:
    """`loyalty serve` until ``stack`` closes; its base URL (once ready) and process."""
    server = subprocess.Popen(
        [BIN / "loyalty", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        **popen,
    )
    stack.callback(server.wait, 30)
    stack.callback(server.terminate)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return base, server
        if server.poll() is not None:
            break
        time.sleep(0.2)
    # Workers that fail to import the app are restarted by the supervisor, which stays up.
    raise RuntimeError(f"the server on {base} is not ready after 30 s; its output says why")
