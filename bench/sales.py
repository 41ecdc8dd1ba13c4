"""Sales load benchmark (issue 5): distinct 5-line sales earning A + E, against pgbench.

A server with 2 workers; wrk with 32 connections posts distinct sales over 256 members' cards:
first for WARM_UP seconds, not measured, then ANALYZE; then for DURATION seconds, measured.
Then pgbench (TPC-B-like, same client count, same PostgreSQL, its own database) for the same
time. Prints sales/s, p50/p99, errors, pgbench's transactions/s and the ratio. Targets:
sales/s >= 30 % of pgbench's tps, p99 <= 50 ms, no errors.

The mixed workload, on the same server and tenant (its own WARM_UP and ANALYZE, then
DURATION seconds measured): of every 10 requests, 8 cash sales as above, 1 sale paid 100.00
of its 388.00 with points (10,000 points; every member is given 100,000,000 first) and 1
partial return (1 unit of line 1) of a sale recorded for that purpose at setup. Printed
after the cash line, with its ratio to the same pgbench tps. Every request must answer 2xx.

The voucher workload (issue 17): the same sales, each paid 18.00 with a voucher of its own
and cash for the rest: `voucher`, vouchers held by the paying card's member (as a campaign,
返券 or a reward issues them); `bearer`, vouchers all held by one member and paid with by
every card. Target: ≥ 0.9 × the cash sales/s of the same run. WORKLOAD=cash,voucher,mixed
(the default; any subset of cash, voucher, bearer, mixed) chooses what runs.

    .venv/bin/python bench/sales.py            # embedded PostgreSQL in a temp dir
    WORKLOAD=cash,voucher DURATION=5 WARM_UP=2 .venv/bin/python bench/sales.py
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
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from string import Template

import httpx
from harness import (
    database_url,
    ensure_wrk,
    loyalty,
    new_tenant,
    plain_url,
    run_wrk,
    serve,
    server_env,
)
from sqlalchemy.engine import make_url

from app.schemas.points import MAX_POINTS

PORT = int(os.environ.get("PORT", "8767"))
DURATION = os.environ.get("DURATION", "20")
WARM_UP = os.environ.get("WARM_UP", "5")
CONNECTIONS = os.environ.get("CONNECTIONS", "32")
WORKLOAD = os.environ.get("WORKLOAD", "cash,voucher,mixed").split(",")
WORKLOADS = ("cash", "voucher", "bearer", "mixed")
MEMBERS = 256
STORE = "S01"
OCCURRED_AT = "2026-11-23T10:00:00+08:00"

# The kind of each request, in turn (a thread's request counter modulo their number).
CASH_ONLY = ["cash"]
# Vouchers per wrk thread and run: more than a run can spend at this machine's rates.
VOUCHERS_PER_THREAD = int(os.environ.get("VOUCHERS_PER_THREAD", "30000"))
WRK_THREADS = 2
MIXED = ["cash"] * 8 + ["points", "return"]
# Every member's points for the mixed run: a points sale spends 10,000 (100.00 CNY at the
# default 100 points per CNY), so this is 10,000 of them per member.
GIVEN_POINTS = 100_000_000
# Line 1 of each sale the mixed run returns from: that many units, 1 returned at a time.
RETURNABLE = 100_000


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


# 5 lines of 77.60: 388.00 a sale.
LINES = [
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
PAYMENTS = {
    "cash": [{"method": "cash", "amount": "388.00"}],
    "points": [
        {"method": "bank_card", "amount": "288.00"},
        {"method": "points", "amount": "100.00"},
    ],
    "voucher": [
        {"method": "voucher", "voucher_code": "%s", "amount": "18.00"},
        {"method": "cash", "amount": "370.00"},
    ],
}


def sale(receipt_no: str, card: str, payments: list[dict], lines: list[dict] = LINES) -> dict:
    return {
        "store_code": STORE,
        "receipt_no": receipt_no,
        "card_number": card,
        "occurred_at": OCCURRED_AT,
        "lines": lines,
        "payments": payments,
    }


def setup(c: httpx.Client) -> tuple[str, list[str], list[str]]:
    """A store, a card class, MEMBERS members with a card each; (a till key, the members'
    ids, their cards)."""
    c.post("/v1/stores", json={"code": STORE, "name": "Bench"}).raise_for_status()
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
    members, cards = [], []
    for i in range(MEMBERS):
        member = c.post("/v1/members", json={"name": f"m{i}"}).json()["id"]
        card = c.post(
            "/v1/cards", json={"card_class": "BENCH", "store_code": STORE, "member_id": member}
        )
        members.append(member)
        cards.append(card.json()["number"])
    pos = c.post("/v1/api-keys", json={"name": "bench-till", "scopes": ["pos"]}).json()["key"]
    return pos, members, cards


def setup_mixed(c: httpx.Client, members: list[str], cards: list[str]) -> list[str]:
    """GIVEN_POINTS for every member (in adjustments of at most MAX_POINTS, the schema's
    bound) and, per card, a sale whose line 1 has RETURNABLE units; those sales' receipt
    numbers, in the cards' order."""
    for member in members:
        left = GIVEN_POINTS
        while left:
            points = min(left, MAX_POINTS)
            c.post(
                "/v1/points/adjustments",
                json={"member_id": member, "points": points, "reason": "sales benchmark"},
            ).raise_for_status()
            left -= points
    lines = [
        {**LINES[0], "qty": str(RETURNABLE), "final_amount": f"{RETURNABLE}.00"},
        *LINES[1:],
    ]
    total = sum(Decimal(x["final_amount"]) for x in lines)
    receipts = []
    for n, card in enumerate(cards, 1):
        receipt = f"RET-{n}"
        payments = [{"method": "cash", "amount": str(total)}]
        c.post("/v1/sales", json=sale(receipt, card, payments, lines)).raise_for_status()
        receipts.append(receipt)
    return receipts


def issue_vouchers(
    url: str, members: list[str], cards: list[str], count: int, bearer: bool
) -> tuple[list[str], list[str]]:
    """``count`` vouchers of 18.00 and the card that pays with each: bound vouchers are held
    by that card's member, bearer ones all by the first member. (codes, cards)."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    import asyncpg

    from app.domain.voucher_codes import new_codes

    codes = new_codes(count)
    paying = [cards[j % len(cards)] for j in range(count)]
    holders = [uuid.UUID(members[0 if bearer else j % len(members)]) for j in range(count)]
    template = "B18" if bearer else "V18"
    now = datetime.now(UTC)

    async def run() -> None:
        conn = await asyncpg.connect(plain_url(url))
        tenant_id = await conn.fetchval("SELECT tenant_id FROM members WHERE id = $1", holders[0])
        await conn.execute(
            "INSERT INTO voucher_templates (tenant_id, code, name, kind, face_value, bearer, "
            "valid_days) VALUES ($1, $2, 'Bench', 'amount_off', 18, $3, 30) "
            "ON CONFLICT DO NOTHING",
            tenant_id,
            template,
            bearer,
        )
        await conn.execute(
            "UPDATE pricing_versions SET version = version + 1 WHERE tenant_id = $1", tenant_id
        )
        await conn.copy_records_to_table(
            "voucher_codes",
            records=[(tenant_id, c, m) for c, m in zip(codes, holders, strict=True)],
            columns=["tenant_id", "code", "member_id"],
        )
        end = now + timedelta(days=30)
        await conn.copy_records_to_table(
            "vouchers",
            records=[
                (tenant_id, m, c, template, "issued", now, end, "manual")
                for c, m in zip(codes, holders, strict=True)
            ],
            columns=[
                "tenant_id",
                "member_id",
                "code",
                "template_code",
                "status",
                "valid_from",
                "valid_to",
                "source",
            ],
        )
        await conn.close()

    asyncio.run(run())
    return codes, paying


# Per request: its kind (``kinds``), then a card by a fixed stride; a sale posts that card's
# body of its kind, formatted with (thread id, counter, card); a return posts 1 unit of
# line 1 of that card's return sale, formatted with (thread id, counter). response() counts
# the answers by kind (read from their bodies) and keeps the first failures of each thread.
LUA = Template(r"""
local cards = $cards
local receipts = $receipts
local kinds = $kinds
local bodies = $bodies
local codes = $codes
local code_cards = $code_cards
local counter = 0
local threads = {}
n_cash, n_points, n_voucher, n_return, n_other, failed, failures = 0, 0, 0, 0, 0, 0, ""
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer $key"
end
function request()
  counter = counter + 1
  local i = (counter * 7 + id * 131) % #cards + 1
  local kind = kinds[counter % #kinds + 1]
  if kind == "return" then
    local path = "/v1/sales/$store/" .. receipts[i] .. "/returns"
    return wrk.format(nil, path, nil, string.format(bodies[kind], id, counter))
  end
  local card, code = cards[i], ""
  if kind == "voucher" or kind == "bearer" then
    local j = id * $per_thread + counter
    card, code = code_cards[j], codes[j]
  end
  return wrk.format(nil, "/v1/sales", nil, string.format(bodies[kind], id, counter, card, code))
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    failed = failed + 1
    if failed <= 3 then
      failures = failures .. "FAIL " .. status .. " " .. body:sub(1, 300):gsub("%s+", " ") .. "\n"
    end
  elseif body:find('"return_id"', 1, true) then
    n_return = n_return + 1
  elseif body:find('"vouchers_redeemed":[{', 1, true) then
    n_voucher = n_voucher + 1
  elseif body:find('"points_spent": ?0[,}]') then
    n_cash = n_cash + 1
  elseif body:find('"points_spent": ?[1-9]') then
    n_points = n_points + 1
  else
    n_other = n_other + 1
  end
end
function done(summary, latency, requests)
  local n = {cash = 0, points = 0, voucher = 0, ["return"] = 0, other = 0}
  local failed = 0
  for _, t in ipairs(threads) do
    for kind in pairs(n) do n[kind] = n[kind] + t:get("n_" .. kind) end
    failed = failed + t:get("failed")
    io.write(t:get("failures"))
  end
  local e = summary.errors
  io.write(string.format("JSON {\"rps\": %f, \"p50\": %d, \"p99\": %d, " ..
    "\"errors\": %d, \"non2xx\": %d, \"cash\": %d, \"points\": %d, \"voucher\": %d, " ..
    "\"return\": %d, \"other\": %d, " ..
    "\"socket\": \"connect %d, read %d, write %d, timeout %d\"}\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, failed, n.cash, n.points, n.voucher, n["return"],
    n.other,
    e.connect, e.read, e.write, e.timeout))
end
""")


def lua(value) -> str:
    """``value`` as a Lua literal: a string (JSON's escapes are Lua's), or a table of them."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(lua(v) for v in value) + "}"


def bodies(run: str) -> dict[str, str]:
    """Each kind's body as a string.format template; ``run`` prefixes receipt and return
    numbers, made distinct by the thread id and its counter."""
    number = f"{run}-%d-%d"
    return {
        "cash": json.dumps(sale(number, "%s", PAYMENTS["cash"])),
        "points": json.dumps(sale(number, "%s", PAYMENTS["points"])),
        "voucher": json.dumps(sale(number, "%s", PAYMENTS["voucher"])),
        "bearer": json.dumps(sale(number, "%s", PAYMENTS["voucher"])),
        "return": json.dumps({"return_no": number, "lines": [{"line_no": 1, "qty": "1"}]}),
    }


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


def wrk(
    base: str,
    key: str,
    cards: list[str],
    workdir: Path,
    run: str,
    seconds: str,
    kinds: list[str],
    receipts: Sequence[str] = (),
    vouchers: Callable[[], tuple[list[str], list[str]]] | None = None,
) -> dict:
    """Distinct requests of ``kinds`` for ``seconds``; ``run`` prefixes their receipt and
    return numbers. Prints the socket errors and the failures it saw (the first few of each
    wrk thread)."""
    pool = vouchers() if vouchers else ([], [])
    script = workdir / f"{run}.lua"
    script.write_text(
        LUA.substitute(
            cards=lua(cards),
            receipts=lua(receipts),
            kinds=lua(kinds),
            bodies=lua({kind: body for kind, body in bodies(run).items() if kind in kinds}),
            key=key,
            store=STORE,
            codes=lua(pool[0]),
            code_cards=lua(pool[1]),
            per_thread=VOUCHERS_PER_THREAD,
        )
    )
    result = run_wrk(script, base, CONNECTIONS, seconds)
    if result["errors"]:
        print(f"  {run}: socket errors: {result['socket']}", flush=True)
    for failure in result["failures"]:
        print(f"  {run}: {failure}", flush=True)
    return result


def measured(label: str, url: str, run: str, go: Callable[[str, str], dict]) -> dict:
    """WARM_UP seconds of ``go`` not measured, ANALYZE, then DURATION seconds measured; the
    figures, printed under ``label``."""
    go(f"{run}W", WARM_UP)
    analyze(url)
    r = go(f"{run}R", DURATION)
    print(
        f"{label:7} {r['rps']:8.0f} /s   p50 {r['p50'] / 1000:6.2f} ms   "
        f"p99 {r['p99'] / 1000:6.2f} ms   errors {r['errors']}   non-2xx {r['non2xx']}",
        flush=True,
    )
    return r


def main() -> int:
    if not set(WORKLOAD) <= set(WORKLOADS):
        print(f"WORKLOAD must be some of {','.join(WORKLOADS)}", file=sys.stderr)
        return 2
    ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="loyalty-sales-bench-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        url = database_url(stack, workdir)
        env = server_env(url, LOYALTY_DATA_DIR=str(workdir))
        loyalty(env, "migrate")
        admin = new_tenant(env, "bench")
        base, _ = serve(stack, env, PORT, 2)
        c = stack.enter_context(
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
        )
        pos, members, cards = setup(c)
        print(
            f"machine: {os.cpu_count()} cores; 2 server workers; {CONNECTIONS} clients, "
            f"{DURATION} s; 5-line sales over {MEMBERS} cards",
            flush=True,
        )
        results = {}
        go = partial(wrk, base, pos, cards, workdir)
        if "cash" in WORKLOAD:
            results["sales"] = measured("sales", url, "", partial(go, kinds=CASH_ONLY))
        count = VOUCHERS_PER_THREAD * WRK_THREADS
        for kind, run in (("voucher", "V"), ("bearer", "B")):
            if kind in WORKLOAD:
                pool = partial(issue_vouchers, url, members, cards, count, kind == "bearer")
                results[kind] = measured(kind, url, run, partial(go, kinds=[kind], vouchers=pool))
        if "sales" in results and {"voucher", "bearer"} & set(results):
            # Cash again: the tables have grown since the first cash run; each voucher run is
            # compared with the mean of the two.
            results["sales2"] = measured("sales", url, "C", partial(go, kinds=CASH_ONLY))
        if "mixed" in WORKLOAD:
            receipts = setup_mixed(c, members, cards)
            mixed = partial(go, kinds=MIXED, receipts=receipts)
            m = results["mixed"] = measured("mixed", url, "M", mixed)
            answered = m["cash"] + m["points"] + m["return"] + m["other"]
            print(
                "        2xx: "
                + ", ".join(
                    f"{m[kind] / max(answered, 1):.1%} {what}"
                    for kind, what in (
                        ("cash", "cash sales"),
                        ("points", "sales paid 100.00 with points"),
                        ("return", "returns of 1 unit"),
                        ("other", "other"),
                    )
                ),
                flush=True,
            )
        tps = pgbench(url)
        print(f"pgbench {tps:8.0f} tps (TPC-B-like, scale 10, same server)")
        if s := results.get("sales"):
            ratio = s["rps"] / tps
            ok = ratio >= 0.30 and s["p99"] <= 50_000 and s["errors"] == 0 and s["non2xx"] == 0
            print(
                f"sales/pgbench: {ratio:.0%}  (targets: >= 30 %, p99 <= 50 ms, no errors: "
                f"{'met' if ok else 'NOT met'})"
            )
        cash = [r["rps"] for k, r in results.items() if k in ("sales", "sales2")]
        for kind in ("voucher", "bearer"):
            if not ((v := results.get(kind)) and cash):
                continue
            ratio = v["rps"] / (sum(cash) / len(cash))
            ok = ratio >= 0.9 and v["errors"] == 0 and v["non2xx"] == 0
            print(
                f"{kind}/cash: {ratio:.0%}  (target: >= 90 %, every request 2xx: "
                f"{'met' if ok else 'NOT met'}; {v['voucher']} vouchers redeemed)"
            )
        if m := results.get("mixed"):
            clean = m["errors"] == 0 and m["non2xx"] == 0
            print(
                f"mixed/pgbench: {m['rps'] / tps:.0%}  (no target; every request 2xx: "
                f"{'yes' if clean else 'NO'})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
