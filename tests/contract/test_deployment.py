"""What deploys the service: the Dockerfile (read with dockerfile-parse, since a machine may have
no Docker daemon; its health check and command are then run as the image would run them), the
hashed lock files it and `make` install from, and the Makefile's choices."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from app.db import PROJECT_ROOT, plain_url
from tests.conftest import free_port

DEV_ONLY = {"pgserver", "pytest", "ruff", "uv", "hypothesis", "schemathesis", "import-linter"}


def _stages() -> list[list[dict]]:
    """The Dockerfile's instructions, one list per FROM."""
    stages: list[list[dict]] = []
    for instruction in DockerfileParser(str(PROJECT_ROOT / "Dockerfile")).structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages and instruction["instruction"] != "COMMENT":
            stages[-1].append(instruction)
    return stages


def _only(stage: list[dict], name: str) -> dict:
    found = [i for i in stage if i["instruction"] == name]
    assert len(found) == 1, f"expected one {name} in the image's stage, found {len(found)}"
    return found[0]


def _pins(lock: str) -> dict[str, set[str]]:
    """Name -> pinned versions in a lock file (one per Python version when they differ)."""
    pins: dict[str, set[str]] = {}
    for line in (PROJECT_ROOT / lock).read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line):
            pins.setdefault(canonicalize_name(match[1]), set()).add(match[2])
    return pins


def _project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]


def _runtime_env(port: int, database_url: str) -> dict[str, str]:
    """The image's ENV (ARG-free), with the test's venv first on PATH and the given port."""
    env = {**os.environ, **DockerfileParser(str(PROJECT_ROOT / "Dockerfile")).envs}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PORT=str(port),
        WORKERS="1",
        LOYALTY_DATABASE_URL=plain_url(database_url),
        LOYALTY_SECRET_KEY="test-secret-key",
        LOYALTY_LOG_LEVEL="WARNING",
        LOYALTY_SCHEDULER_INTERVAL_SECONDS="0",
    )
    return env


def test_image_runs_as_a_user_without_dev_tools_or_embedded_postgres():
    build, image = _stages()
    user = _only(image, "USER")["value"]
    assert user not in ("root", "0") and not user.startswith("0:")
    runs = [i["value"] for stage in (build, image) for i in stage if i["instruction"] == "RUN"]
    installs = [r for r in runs if "pip install" in r]
    assert installs, "the image installs nothing?"
    # Dependencies only from the runtime lock, checked against its hashes; the project itself
    # without dependencies and without extras ("[embedded]", "[dev]").
    assert any("--require-hashes" in r and "-r requirements/runtime.txt" in r for r in installs)
    for command in installs:
        assert "[" not in command and "pgserver" not in command, command
        assert "--require-hashes" in command or "--no-deps" in command, command
    copied = [i["value"] for i in build if i["instruction"] == "COPY"]
    assert "requirements/runtime.txt ./requirements/" in copied
    # What building the project reads: pyproject.toml names LICENSE in license-files.
    assert "pyproject.toml LICENSE ./" in copied
    assert _project()["license-files"] == ["LICENSE"] and (PROJECT_ROOT / "LICENSE").exists()


def test_runtime_lock_has_every_runtime_dependency_and_nothing_for_development():
    runtime = _pins("requirements/runtime.txt")
    assert not DEV_ONLY & runtime.keys(), DEV_ONLY & runtime.keys()
    for line in _project()["dependencies"]:
        assert canonicalize_name(Requirement(line).name) in runtime, line


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("requirements/runtime.txt", ()), ("requirements/dev.txt", ("dev", "embedded"))],
)
def test_locks_satisfy_pyproject(lock, groups):
    """A dependency added to pyproject.toml without `make lock` fails here, by name."""
    project = _project()
    wanted = [*project["dependencies"]]
    for group in groups:
        wanted += project["optional-dependencies"][group]
    pins = _pins(lock)
    text = (PROJECT_ROOT / lock).read_text()
    assert "--hash=sha256:" in text
    for line in wanted:
        requirement = Requirement(line)
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in {lock}: run `make lock`"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (
            f"{lock} pins {requirement.name} {versions}, outside {requirement.specifier}: "
            "run `make lock`"
        )


def test_locks_are_valid_from_python_3_11_on():
    header = (PROJECT_ROOT / "requirements/dev.txt").read_text().splitlines()[1]
    assert "--universal" in header and "--python-version 3.11" in header
    assert _project()["requires-python"] == ">=3.11"


def test_image_listens_on_port_and_its_health_check_follows_readiness(database_url):
    """The image's CMD and HEALTHCHECK, run as the image would run them (minus the container):
    the server comes up on $PORT after migrating, and the check passes once it is ready and
    fails once it is gone."""
    image = _stages()[-1]
    check = _only(image, "HEALTHCHECK")["value"]
    assert "--interval=" in check and "--timeout=" in check
    check_command = json.loads(check.split("CMD", 1)[1])
    assert any("/readyz" in part and "PORT" in part for part in check_command)
    command = json.loads(_only(image, "CMD")["value"])
    assert '"$PORT"' in command[-1] and "loyalty migrate &&" in command[-1]
    assert DockerfileParser(str(PROJECT_ROOT / "Dockerfile")).envs["PORT"] == "8000"

    env = _runtime_env(free_port(), database_url)
    python = shutil.which("python", path=env["PATH"])

    def healthy() -> bool:
        done = subprocess.run(
            [python, *check_command[1:]], env=env, capture_output=True, timeout=10, check=False
        )
        return done.returncode == 0

    assert not healthy()  # nothing listens yet
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not healthy():
            assert server.poll() is None, "the image's command exited"
            assert time.monotonic() < deadline, "never healthy"
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert not healthy()


def test_dockerignore_keeps_local_state_out_of_the_build():
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".venvs", ".data", ".git", "tests"} <= set(ignored)


def _make(*args: str, path: str | None = None, cwd: Path = PROJECT_ROOT):
    env = {**os.environ, "MAKEFLAGS": ""}
    if path is not None:
        env["PATH"] = path
    env.pop("PYTHON", None)
    return subprocess.run(
        ["make", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_make_run_passes_host_and_port_to_serve():
    out = _make("-n", "run", "PORT=9000", "HOST=0.0.0.0").stdout
    assert ".venv/bin/loyalty serve --host 0.0.0.0 --port 9000" in out


def test_make_picks_the_newest_python_that_runs(tmp_path):
    """Like pyenv's shim of a version it has not enabled, a python3.13 that does not run is
    passed over; a python3 older than 3.11 is refused with a message."""
    shutil.copy(PROJECT_ROOT / "Makefile", tmp_path / "Makefile")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "make"):
        (bin_dir / tool).symlink_to(shutil.which(tool))

    def fake(name: str, body: str) -> None:
        (bin_dir / name).write_text(f"#!{shutil.which('sh')}\n{body}\n")
        (bin_dir / name).chmod(0o755)

    fake("python3.13", "exit 127")
    fake("python3.12", f'exec "{sys.executable}" "$@"')
    out = _make("-n", ".venv/bin/python", path=str(bin_dir), cwd=tmp_path).stdout
    assert f"{bin_dir}/python3.12 -m venv .venv" in out

    (bin_dir / "python3.12").unlink()
    fake("python3", "exit 1")  # answers the version check as Python 3.10 would
    done = _make(".venv/bin/python", path=str(bin_dir), cwd=tmp_path)
    assert done.returncode != 0
    assert "error: Python 3.11 or newer is needed" in done.stderr
    assert not (tmp_path / ".venv").exists()
