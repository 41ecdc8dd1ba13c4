"""Sales load benchmark (issue 5): distinct 5-line sales earning A + E, against pgbench.

A server with 2 workers; wrk with 32 connections posts distinct sales over 256 members' cards:
first for WARM_UP seconds, not measured, then ANALYZE; then for DURATION seconds, measured.
Then pgbench (TPC-B-like, same client count, same PostgreSQL, its own database) for the same
time. Prints sales/s, p50/p99, errors, pgbench's transactions/s and the ratio. Targets:
sales/s >= 25 % of pgbench's tps, p99 <= 50 ms, no errors.

    .venv/bin/python bench/sales.py            # embedded PostgreSQL in a temp dir
    LOYALTY_DATABASE_URL=postgresql://... .venv/bin/python bench/sales.py
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from harness import database_url, loyalty, new_tenant, plain_url, serve, server_env
from sqlalchemy.engine import make_url

PORT = int(os.environ.get("PORT", "8767"))
DURATION = os.environ.get("DURATION", "20")
WARM_UP = os.environ.get("WARM_UP", "5")
CONNECTIONS = os.environ.get("CONNECTIONS", "32")
MEMBERS = 256


def ensure_wrk() -> None:
    if not shutil.which("wrk"):
        print("installing wrk from Debian's packages...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)


def pgbench_binary() -> str:
    """The system's pgbench, else the one the embedded server (pgserver) ships."""
    import pgserver

    found = shutil.which("pgbench")
    return found or str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench")


def psql_url(url: str, database: str) -> str:
    return make_url(plain_url(url)).set(database=database).render_as_string(False)


def pgbench(url: str) -> float:
    """TPC-B-like transactions/s on a fresh pgbench database of the same server."""
    import asyncio

    import asyncpg

    async def recreate() -> None:
        conn = await asyncpg.connect(plain_url(url))
        await conn.execute("DROP DATABASE IF EXISTS loyalty_bench_pgbench WITH (FORCE)")
        await conn.execute("CREATE DATABASE loyalty_bench_pgbench")
        await conn.close()

    asyncio.run(recreate())
    target = psql_url(url, "loyalty_bench_pgbench")
    binary = pgbench_binary()
    subprocess.run([binary, "-i", "-q", "-s", "10", target], check=True, capture_output=True)
    out = subprocess.run(
        [binary, "-c", CONNECTIONS, "-j", "2", "-T", DURATION, target],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


def setup(base: str, admin: str) -> tuple[str, list[str]]:
    c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
    c.post("/v1/stores", json={"code": "S01", "name": "Bench"}).raise_for_status()
    c.post(
        "/v1/card-classes",
        json={
            "code": "BENCH",
            "name": "Bench",
            "usage": "member",
            "prefix": "9",
            "serial_length": 7,
            "serial_start": 1,
            "serial_end": 9999999,
            "default_points_rate": "0.1",
            "identity_points_multiple": "1",
        },
    ).raise_for_status()
    cards = []
    for i in range(MEMBERS):
        member = c.post("/v1/members", json={"name": f"m{i}"}).json()["id"]
        card = c.post(
            "/v1/cards", json={"card_class": "BENCH", "store_code": "S01", "member_id": member}
        )
        cards.append(card.json()["number"])
    pos = c.post("/v1/api-keys", json={"name": "bench-till", "scopes": ["pos"]}).json()["key"]
    return pos, cards


LUA = """
local cards = %(cards)s
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer %(key)s"
end
function request()
  counter = counter + 1
  local card = cards[(counter * 7 + id * 131) %% #cards + 1]
  local body = string.format(%(template)s, id, counter, card)
  return wrk.format(nil, "/v1/sales", nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("JSON {\\"rps\\": %%f, \\"p50\\": %%d, \\"p99\\": %%d, " ..
    "\\"errors\\": %%d, \\"non2xx\\": %%d}\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def sale_template(run: str) -> str:
    lines = [
        {
            "line_no": i + 1,
            "sku": f"SKU{i}",
            "counter": "C01",
            "brand": "B1",
            "qty": "1",
            "final_amount": "77.60",
        }
        for i in range(5)
    ]
    body = {
        "store_code": "S01",
        "receipt_no": f"{run}-%d-%d",
        "card_number": "%s",
        "occurred_at": "2026-11-23T10:00:00+08:00",
        "lines": lines,
        "payments": [{"method": "cash", "amount": "388.00"}],
    }
    return json.dumps(json.dumps(body))


def analyze(url: str) -> None:
    """Table statistics, as autovacuum keeps them on a live database. Without any (this
    machine's PostgreSQL runs with autovacuum off) the planner looked a card up through
    (tenant_id, member_id), scanning the tenant's cards; with statistics of still-empty tables
    it scans the growing sales and points_lots (foreign-key checks) instead of their indexes.
    Hence statistics taken after the warm-up's few thousand sales."""
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(plain_url(url))
        await conn.execute("ANALYZE")
        await conn.close()

    asyncio.run(run())


def wrk(base: str, key: str, cards: list[str], workdir: Path, run: str, seconds: str) -> dict:
    """Distinct sales for ``seconds``; ``run`` prefixes their receipt numbers."""
    script = workdir / f"{run}.lua"
    script.write_text(
        LUA
        % {
            "cards": "{" + ",".join(json.dumps(c) for c in cards) + "}",
            "key": key,
            "template": sale_template(run),
        }
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))


def main() -> int:
    ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="loyalty-sales-bench-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        url = database_url(stack, workdir)
        env = server_env(url, LOYALTY_DATA_DIR=str(workdir))
        loyalty(env, "migrate")
        admin = new_tenant(env, "bench")
        base, _ = serve(stack, env, PORT, 2)
        pos, cards = setup(base, admin)
        wrk(base, pos, cards, workdir, "W", WARM_UP)
        analyze(url)
        print(
            f"machine: {os.cpu_count()} cores; 2 server workers; {CONNECTIONS} clients, "
            f"{DURATION} s; 5-line sales over {MEMBERS} cards",
            flush=True,
        )
        s = wrk(base, pos, cards, workdir, "R", DURATION)
        print(
            f"sales   {s['rps']:8.0f} /s   p50 {s['p50'] / 1000:6.2f} ms   "
            f"p99 {s['p99'] / 1000:6.2f} ms   errors {s['errors']}   non-2xx {s['non2xx']}",
            flush=True,
        )
        tps = pgbench(url)
        print(f"pgbench {tps:8.0f} tps (TPC-B-like, scale 10, same server)")
        ratio = s["rps"] / tps
        ok = ratio >= 0.25 and s["p99"] <= 50_000 and s["errors"] == 0 and s["non2xx"] == 0
        print(
            f"sales/pgbench: {ratio:.0%}  (targets: >= 25 %, p99 <= 50 ms, no errors: "
            f"{'met' if ok else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
