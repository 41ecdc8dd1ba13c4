"""Clients generated from the committed OpenAPI document, as a partner makes them, and a member
with a card on the suite's live server for them to check out with.

The npm packages (tests/clients/typescript/package-lock.json) are installed once per lock file
into a cache outside the repository; the clients themselves are generated afresh each session.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.factories.cards import GOLD

pytest.register_assert_rewrite("tests.clients.python_flow")

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
HERE = Path(__file__).parent
TYPESCRIPT = HERE / "typescript"
# CI sets it: there the TypeScript half must run, never skip.
REQUIRE_NODE = "LOYALTY_CLIENTS_REQUIRE_NODE"


@dataclass
class Generated:
    path: Path  # the client's directory
    output: str  # what the generator printed, stdout and stderr


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command's output, uncoloured, so that the checks can read it."""
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", **(env or {})},
    )


@pytest.fixture(scope="session")
def python_client(tmp_path_factory) -> Generated:
    """The `loyalty_client` package, generated with tests/clients/python-client.yaml."""
    out = tmp_path_factory.mktemp("python-client")
    command = [
        str(Path(sys.executable).with_name("openapi-python-client")),
        "generate",
        "--path",
        str(DOCUMENT),
        "--config",
        str(HERE / "python-client.yaml"),
        "--meta",
        "none",
        "--output-path",
        str(out / "loyalty_client"),
    ]
    done = run(command, cwd=out)
    assert done.returncode == 0, done.stdout + done.stderr
    return Generated(out, done.stdout + done.stderr)


def _node_or_skip() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    version = run([node, "--version"], cwd=HERE).stdout.strip() if node else ""
    if node and npm and int(version.lstrip("v").split(".")[0]) >= 20:
        return node
    reason = f"the TypeScript client check needs node >= 20 and npm (found {version or 'none'})"
    if os.environ.get(REQUIRE_NODE):
        pytest.fail(f"{reason}, and {REQUIRE_NODE} is set")
    pytest.skip(reason)


def _node_modules() -> Path:
    """npm ci of the lock file, once per lock file, into the user's cache directory."""
    manifest = [TYPESCRIPT / "package.json", TYPESCRIPT / "package-lock.json"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in manifest)).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loyalty"
    target = cache / f"client-check-npm-{digest}"
    if not target.exists():
        staging = cache / f"client-check-npm-{digest}.{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        for path in manifest:
            shutil.copy(path, staging)
        done = run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=staging)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"npm ci failed:\n{done.stdout}{done.stderr}")
        try:
            staging.rename(target)  # atomic: a run that stops half way leaves no target
        except OSError:  # another run installed it first
            shutil.rmtree(staging, ignore_errors=True)
    return target / "node_modules"


@pytest.fixture(scope="session")
def redocly_lint(tmp_path_factory) -> dict:
    """What `redocly lint` (its recommended rules) reports on the committed document, as JSON."""
    node = _node_or_skip()
    work = tmp_path_factory.mktemp("redocly")
    cli = _node_modules() / "@redocly" / "cli" / "bin" / "cli.js"
    command = [node, str(cli), "lint", str(DOCUMENT), "--format", "json"]
    # No telemetry or update check: stores' networks (and CI's) are closed.
    env = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    done = run(command, cwd=work, env=env)
    assert done.stdout.lstrip().startswith("{"), done.stdout + done.stderr
    return json.loads(done.stdout[done.stdout.index("{") :])


@pytest.fixture(scope="session")
def typescript_client(tmp_path_factory) -> Generated:
    """A directory with the flow, its tsconfig, the installed packages and `schema.ts`, the
    types openapi-typescript generates with the flags the README gives partners."""
    node = _node_or_skip()
    work = tmp_path_factory.mktemp("typescript-client")
    for name in ("package.json", "tsconfig.json", "flow.ts"):
        shutil.copy(TYPESCRIPT / name, work)
    (work / "node_modules").symlink_to(_node_modules(), target_is_directory=True)
    cli = "node_modules/openapi-typescript/bin/cli.js"
    options = ["--default-non-nullable", "false"]
    done = run([node, cli, str(DOCUMENT), "--output", "schema.ts", *options], cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    return Generated(work, done.stdout + done.stderr)


@dataclass
class Checkout:
    url: str
    key: str
    store: str
    card: str
    member: str
    receipt: str


@pytest.fixture
async def checkout(live_server, tenant) -> Checkout:
    """On the live server, in a tenant of the test's own: store S01, class GOLD (rate 0.90,
    0.1 point per yuan), a member and a card."""
    async with httpx.AsyncClient(base_url=live_server.url, headers=tenant.headers) as c:
        r = await c.post("/v1/stores", json={"code": "S01", "name": "Flagship"})
        assert r.status_code == 201, r.text
        klass = {**GOLD, "default_discount_rate": "0.90", "default_points_rate": "0.1"}
        r = await c.post("/v1/card-classes", json=klass)
        assert r.status_code == 201, r.text
        r = await c.post("/v1/members", json={"name": "王芳"})
        assert r.status_code == 201, r.text
        member = r.json()["id"]
        body = {"card_class": "GOLD", "store_code": "S01", "member_id": member}
        r = await c.post("/v1/cards", json=body)
        assert r.status_code == 201, r.text
    receipt = f"S01-{uuid.uuid4().hex[:10]}"
    return Checkout(live_server.url, tenant.admin_key, "S01", r.json()["number"], member, receipt)
