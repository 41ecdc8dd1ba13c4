"""The CLI in its own process."""

import os
import subprocess
import sys

from app.db import plain_url


def run(database_url: str, *args: str, data_dir=None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "LOYALTY_DATABASE_URL": plain_url(database_url),
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_SECRET_KEY": "test-secret-key",  # serve and seed-demo refuse the built-in one
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
