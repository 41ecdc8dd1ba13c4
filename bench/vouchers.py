"""Campaign bulk issue benchmark (issue 17): one voucher to each of 1,000,000 members.

Creates MEMBERS members (default 1,000,000) with SQL (generate_series, straight into members
and a generated member group of all of them: setup, not what is measured) and a voucher
template, starts a server with one worker, creates a campaign with a 10 % control group, and
times `POST /v1/campaigns/{code}/issue` while sampling the server process's RSS every 0.1 s.
Then it times the same call again (every member served: the idempotent re-run) and
`GET …/results`. Targets: the issue ≤ 30 s at 1,000,000 members, flat server memory.

    .venv/bin/python bench/vouchers.py                        # embedded PostgreSQL in a temp dir
    MEMBERS=200000 LOYALTY_DATABASE_URL=postgresql://... .venv/bin/python bench/vouchers.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
from harness import database_url, loyalty, serve, server_env
from sqlalchemy import text

from app.db import create_engine

MEMBERS = int(os.environ.get("MEMBERS", "1000000"))
PORT = int(os.environ.get("PORT", "8769"))


class RssSampler(threading.Thread):
    """The server process's resident set, every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[int] = []
        self.stop = threading.Event()

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmRSS"))

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError, StopIteration):
                self.samples.append(self.rss_kb())
            time.sleep(0.1)


async def setup(url: str, tenant: str) -> None:
    """MEMBERS members, the generated group ALL of them, the template BACK18 (18 CNY off,
    valid 30 days from issue)."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    params = {"tenant": tenant, "n": MEMBERS}
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "WITH m AS (INSERT INTO members (id, tenant_id, name)"
                    " SELECT gen_random_uuid(), CAST(:tenant AS uuid), 'bench ' || i"
                    " FROM generate_series(1, :n) AS i RETURNING id)"
                    " INSERT INTO member_group_members (tenant_id, group_code, member_id)"
                    " SELECT CAST(:tenant AS uuid), 'ALL', m.id FROM m"
                ),
                params,
            )
            await conn.execute(
                text(
                    "INSERT INTO member_groups (tenant_id, code, name, criteria, status,"
                    " member_count, generated_at, generated_as_of) VALUES (CAST(:tenant AS uuid),"
                    " 'ALL', 'all', '{}', 'generated', :n, now(), current_date)"
                ),
                params,
            )
            await conn.execute(
                text(
                    "INSERT INTO voucher_templates (tenant_id, code, name, kind, face_value,"
                    " valid_days) VALUES (CAST(:tenant AS uuid), 'BACK18', '18 CNY back',"
                    " 'amount_off', 18, 30)"
                ),
                params,
            )
        async with engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE members, member_group_members"))
    finally:
        await engine.dispose()


async def tenant_id(url: str, name: str) -> str:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            row = await conn.execute(
                text("SELECT id::text FROM tenants WHERE name = :n"), {"n": name}
            )
            return row.scalar_one()
    finally:
        await engine.dispose()


def main() -> None:
    with contextlib.ExitStack() as stack:
        url = database_url(stack)
        env = server_env(url, LOYALTY_SCHEDULER_INTERVAL_SECONDS="0")
        loyalty(env, "migrate")
        name = f"bench-vouchers-{time.time_ns()}"
        out = loyalty(env, "create-tenant", name)
        key = next(x.split(": ")[1] for x in out.splitlines() if x.startswith("admin key"))
        tenant = asyncio.run(tenant_id(url, name))
        print(f"creating {MEMBERS:,} members and their group ...", flush=True)
        started = time.perf_counter()
        asyncio.run(setup(url, tenant))
        print(f"  {time.perf_counter() - started:.1f} s", flush=True)

        stderr = stack.enter_context(open(os.environ.get("SERVER_LOG", os.devnull), "w"))
        base, server = serve(stack, env, PORT, 1, stdout=subprocess.DEVNULL, stderr=stderr)
        auth = {"Authorization": f"Bearer {key}"}
        client = stack.enter_context(httpx.Client(base_url=base, headers=auth, timeout=3600))
        now = datetime.now(UTC)
        r = client.post(
            "/v1/campaigns",
            json={
                "code": "BENCH",
                "name": "bench",
                "template": "BACK18",
                "member_group": "ALL",
                "control_share": "0.1",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(days=30)).isoformat(),
            },
        )
        r.raise_for_status()
        sampler = RssSampler(server.pid)
        before = sampler.rss_kb()
        print(f"server RSS before: {before / 1024:.0f} MB", flush=True)
        sampler.start()
        for label in ("issue", "re-run"):
            started = time.perf_counter()
            r = client.post("/v1/campaigns/BENCH/issue")
            r.raise_for_status()
            elapsed = time.perf_counter() - started
            body = r.json()
            print(
                f"{label}: {elapsed:.1f} s for {MEMBERS:,} members = "
                f"{MEMBERS / elapsed:,.0f} members/s; issued {body['issued']:,}, "
                f"control {body['control']:,}, skipped {body['skipped']:,}",
                flush=True,
            )
        sampler.stop.set()
        sampler.join()
        started = time.perf_counter()
        r = client.get("/v1/campaigns/BENCH/results")
        r.raise_for_status()
        print(
            f"results: {time.perf_counter() - started:.1f} s (issued {r.json()['issued']:,})",
            flush=True,
        )
        samples = sampler.samples
        print(
            f"server RSS during the issues: min {min(samples) / 1024:.0f} MB, "
            f"max {max(samples) / 1024:.0f} MB ({len(samples)} samples; before "
            f"{before / 1024:.0f} MB)",
            flush=True,
        )


if __name__ == "__main__":
    main()
