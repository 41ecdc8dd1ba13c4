"""Clients generated from the committed OpenAPI document work first time: each generator reads
the whole document without a warning, and a typed checkout flow written with each client runs
against a live server: quote, sale, its replay, points, entries, a redemption and a 409 read
as a typed problem (tests/clients/python_flow.py, tests/clients/typescript/flow.ts)."""

from __future__ import annotations

import importlib

from tests.clients.conftest import run


def headlines(output: str) -> list[str]:
    """The generator's messages without the schema excerpts it prints under them."""
    return [line for line in output.splitlines() if line.strip() and line[0] not in ' {}[]"']


def test_the_python_client_is_generated_without_warnings(python_client):
    lines = headlines(python_client.output)
    assert lines == [f"Generating {python_client.path / 'loyalty_client'}"], "\n".join(lines)


async def test_the_python_client_runs_the_checkout_flow(python_client, checkout, monkeypatch):
    monkeypatch.syspath_prepend(str(python_client.path))
    flow = importlib.import_module("tests.clients.python_flow")
    c = checkout
    flow.run(c.url, c.key, c.store, c.card, c.member, c.receipt)


def test_the_typescript_types_are_generated_without_warnings(typescript_client):
    lines = [line for line in typescript_client.output.splitlines() if line.strip()]
    assert len(lines) == 2, typescript_client.output
    assert lines[0].startswith("✨ openapi-typescript 7.") and lines[1].startswith("🚀 ")


async def test_the_typescript_client_type_checks_and_runs_the_checkout_flow(
    typescript_client, checkout
):
    work = typescript_client.path
    # One tsc run: the types are checked, and nothing is emitted unless they are sound.
    tsc = run(["node", "node_modules/typescript/bin/tsc", "--project", "."], cwd=work)
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr
    env = {
        "LOYALTY_URL": checkout.url,
        "LOYALTY_KEY": checkout.key,
        "STORE": checkout.store,
        "CARD": checkout.card,
        "MEMBER": checkout.member,
        "RECEIPT": checkout.receipt,
    }
    flow = run(["node", "dist/flow.js"], cwd=work, env=env)
    assert flow.returncode == 0, flow.stdout + flow.stderr
    assert flow.stdout.strip() == "checkout flow ok"


def test_redocly_finds_no_error_and_no_invalid_example(redocly_lint):
    problems = [
        (p["severity"], p["ruleId"], p["location"][0]["pointer"]) for p in redocly_lint["problems"]
    ]
    assert [p for p in problems if p[0] == "error"] == []
    assert [p for p in problems if "example" in p[1]] == []
    # The only warnings: the health probes answer no 4xx, which redocly asks every operation for.
    assert sorted(p[2] for p in problems) == [
        "#/paths/~1healthz/get/responses",
        "#/paths/~1readyz/get/responses",
    ]
