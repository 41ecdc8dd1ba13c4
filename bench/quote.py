"""Checkout-quote load benchmark (issue 4).

A server with 1 worker, 5 card classes and 2,000 approved rule entries over all six levels;
wrk with 32 connections posts 10-line baskets for DURATION seconds to /v1/checkout/quote, then
the same body to a bare echo route of the same app. Prints both throughputs, their ratio,
p50/p99 and errors. Targets: ratio >= 45 %, p99 <= 35 ms (issue 14), no errors.

    .venv/bin/python bench/quote.py            # embedded PostgreSQL in a temp dir
    LOYALTY_DATABASE_URL=postgresql://... .venv/bin/python bench/quote.py
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PORT = int(os.environ.get("PORT", "8766"))
DURATION = os.environ.get("DURATION", "20")
CONNECTIONS = os.environ.get("CONNECTIONS", "32")
LEVELS = ["major_category", "mid_category", "minor_category", "counter", "brand", "product"]
CLASSES = ["C1", "C2", "C3", "C4", "C5"]
BIN = ROOT / ".venv" / "bin"


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk from Debian's packages...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)


def codes(level: str, i: int) -> str:
    return f"{level[:2].upper()}{i:04d}"


def setup(base: str, admin: str) -> tuple[str, str, dict]:
    h = {"Authorization": f"Bearer {admin}"}
    c = httpx.Client(base_url=base, headers=h, timeout=60)
    c.post("/v1/stores", json={"code": "S01", "name": "Bench"}).raise_for_status()
    for n, code in enumerate(CLASSES):
        c.post(
            "/v1/card-classes",
            json={
                "code": code,
                "name": code,
                "usage": "member",
                "prefix": str(n + 1),
                "serial_length": 7,
                "serial_start": 1,
                "serial_end": 9999999,
                "default_discount_rate": "0.95",
                "stack_threshold_rate": "0.8",
                "stack_rate": "0.95",
            },
        ).raise_for_status()
    rng = random.Random(7)
    # 2,000 entries: per level, 4 documents of ~83 entries over the 5 classes.
    for level in LEVELS:
        for doc in range(4):
            entries = [
                {
                    "target": codes(level, rng.randrange(100)),
                    "card_class": rng.choice(CLASSES),
                    "rate": f"0.{rng.randrange(70, 99)}",
                    "stackable": rng.random() < 0.7,
                }
                for _ in range(84 if doc < 2 else 83)
            ]
            unique = {(e["target"], e["card_class"]): e for e in entries}
            r = c.post(
                "/v1/discount-rules", json={"level": level, "entries": list(unique.values())}
            )
            r.raise_for_status()
            c.post(f"/v1/discount-rules/{r.json()['id']}/approve").raise_for_status()
    member = c.post("/v1/members", json={"name": "Bench"}).json()["id"]
    card = c.post(
        "/v1/cards", json={"card_class": "C3", "store_code": "S01", "member_id": member}
    ).json()["number"]
    pos = c.post("/v1/api-keys", json={"name": "bench-till", "scopes": ["pos"]}).json()["key"]
    lines = [
        {
            "line_no": i + 1,
            "sku": codes("product", rng.randrange(100)),
            "major_category": codes("major_category", rng.randrange(100)),
            "mid_category": codes("mid_category", rng.randrange(100)),
            "minor_category": codes("minor_category", rng.randrange(100)),
            "counter": codes("counter", rng.randrange(100)),
            "brand": codes("brand", rng.randrange(100)),
            "original_price": "100.00",
            "existing_price": rng.choice(["100.00", "90.00", "75.00"]),
            "qty": "1",
        }
        for i in range(10)
    ]
    basket = {"store_code": "S01", "card_number": card, "lines": lines}
    r = httpx.post(
        f"{base}/v1/checkout/quote",
        json=basket,
        headers={"Authorization": f"Bearer {pos}"},
        timeout=30,
    )
    r.raise_for_status()
    return pos, card, basket


def wrk(url: str, key: str, body: dict, workdir: Path) -> dict:
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("JSON {\\"rps\\": %f, \\"p50\\": %d, \\"p99\\": %d, '
        '\\"errors\\": %d, \\"non2xx\\": %d}\\n", summary.requests / (summary.duration / 1e6), '
        "latency:percentile(50), latency:percentile(99), "
        "summary.errors.connect + summary.errors.read + summary.errors.write + "
        "summary.errors.timeout, summary.errors.status))\n"
        "end\n"
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))


def main() -> int:
    ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="loyalty-quote-bench-"))
    env = {
        **os.environ,
        "LOYALTY_DATA_DIR": str(workdir),
        "LOYALTY_LOG_LEVEL": "WARNING",
        "LOYALTY_BOOTSTRAP_KEY": "lk_bench-admin-key-not-secret",
    }
    # Without LOYALTY_DATABASE_URL both commands use the embedded server under workdir.
    subprocess.run([BIN / "loyalty", "migrate"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [
            BIN / "python",
            "-m",
            "uvicorn",
            "--factory",
            "echo_app:create_app",
            "--app-dir",
            str(ROOT / "bench"),
            "--port",
            str(PORT),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pos, _, basket = setup(base, env["LOYALTY_BOOTSTRAP_KEY"])
        print(
            f"machine: {os.cpu_count()} cores; 1 server worker; wrk {CONNECTIONS} connections, "
            f"{DURATION} s; 5 classes, 2,000 rule entries; 10-line baskets",
            flush=True,
        )
        q = wrk(f"{base}/v1/checkout/quote", pos, basket, workdir)
        e = wrk(f"{base}/bench/echo", pos, basket, workdir)
        for name, r in (("quote", q), ("echo", e)):
            print(
                f"{name:6} {r['rps']:9.0f} req/s   p50 {r['p50'] / 1000:6.2f} ms   "
                f"p99 {r['p99'] / 1000:6.2f} ms   errors {r['errors']}   non-2xx {r['non2xx']}"
            )
        ratio = q["rps"] / e["rps"]
        ok = ratio >= 0.45 and q["p99"] <= 35_000 and q["errors"] == 0 and q["non2xx"] == 0
        print(
            f"quote/echo throughput: {ratio:.0%}  (targets: >= 45 %, p99 <= 35 ms, no errors: "
            f"{'met' if ok else 'NOT met'})"
        )
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
