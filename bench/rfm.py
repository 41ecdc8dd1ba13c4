"""RFM run benchmark (issue 6): MEMBERS members (default 1,000,000) with ROWS purchases
(default 10,000,000) over the last three years, then POST /v1/analytics/rfm/runs timed
against a server with one worker. Target: ≤ 60 s for 1M members / 10M transactions.

The data is written straight into the database with set-based SQL (the import has its own
benchmark, bench/import.py) under a tenant named after the sizes, so a second run of the
script reuses it. RUNS (default 2) runs are timed.

    .venv/bin/python bench/rfm.py                       # embedded PostgreSQL in a temp dir
    MEMBERS=100000 ROWS=1000000 LOYALTY_DATABASE_URL=postgresql://... .venv/bin/python bench/rfm.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from datetime import date

import asyncpg
import httpx
from harness import database_url, loyalty, plain_url, serve, server_env

MEMBERS = int(os.environ.get("MEMBERS", "1000000"))
ROWS = int(os.environ.get("ROWS", "10000000"))
RUNS = int(os.environ.get("RUNS", "2"))
PORT = int(os.environ.get("PORT", "8769"))

MEMBERS_SQL = """
INSERT INTO members (id, tenant_id, external_ref)
SELECT gen_random_uuid(), $1, 'B' || lpad(g::text, 8, '0') FROM generate_series(1, $2) AS g
"""
# Purchases over the last 3 years; each member's share skewed (some buy often, most rarely).
ROWS_SQL = """
WITH m AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM members WHERE tenant_id = $1),
     picks AS MATERIALIZED (SELECT g, 1 + floor(power(random(), 2) * $2)::bigint AS n
                            FROM generate_series(1, $3) AS g)
INSERT INTO imported_transactions (tenant_id, member_id, dedup_key, occurred_at, amount,
                                   receipt_no, store_code, import_id)
SELECT $1, m.id, p.g, now() - (random() * 1095) * interval '1 day',
       round((20 + random() * random() * 8000)::numeric, 2), 'R' || p.g, 'S01', 0
FROM picks AS p JOIN m ON m.n = p.n
"""


async def ensure_data(url: str, name: str) -> str:
    conn = await asyncpg.connect(plain_url(url))
    try:
        found = await conn.fetchval("SELECT id FROM tenants WHERE name = $1", name)
        if found:
            return str(found)
        print(f"writing {MEMBERS:,} members and {ROWS:,} purchases ...", flush=True)
        started = time.perf_counter()
        tid = await conn.fetchval(
            "INSERT INTO tenants (id, name, time_zone) VALUES (gen_random_uuid(), $1, "
            "'Asia/Shanghai') RETURNING id",
            name,
        )
        async with conn.transaction():
            await conn.execute("SET LOCAL work_mem = '512MB'")
            await conn.execute(MEMBERS_SQL, tid, MEMBERS)
            await conn.execute(ROWS_SQL, tid, MEMBERS, ROWS)
        await conn.execute("ANALYZE members")
        await conn.execute("ANALYZE imported_transactions")
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
        return str(tid)
    finally:
        await conn.close()


def main() -> None:
    with contextlib.ExitStack() as stack:
        url = database_url(stack)
        env = server_env(url, LOYALTY_SCHEDULER_INTERVAL_SECONDS="0")
        loyalty(env, "migrate")
        tenant = asyncio.run(ensure_data(url, f"bench-rfm-{MEMBERS}-{ROWS}"))
        out = loyalty(env, "create-key", "--tenant", tenant, "--scopes", "analytics")
        key = next(x.split(": ")[1] for x in out.splitlines() if x.startswith("key:"))
        base, _ = serve(stack, env, PORT, 1, stdout=subprocess.DEVNULL)
        for i in range(RUNS):
            started = time.perf_counter()
            r = httpx.post(
                f"{base}/v1/analytics/rfm/runs",
                json={"as_of": date.today().isoformat()},
                headers={"Authorization": f"Bearer {key}"},
                timeout=httpx.Timeout(60.0, read=3600.0),
            )
            elapsed = time.perf_counter() - started
            r.raise_for_status()
            run = r.json()
            print(
                f"run {i + 1}: {run['members_scored']:,} members scored in {elapsed:.1f} s "
                f"(server {run['duration_ms'] / 1000:.1f} s); segments {run['segments']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
