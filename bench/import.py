"""History import benchmark (issue 6): a big CSV streamed to POST /v1/imports/transactions.

Generates ROWS rows (default 10,000,000) over ROWS/10 members once (cached in /tmp), starts a
server with one worker, posts the file in 1 MiB chunks, polls the import job to its end and
prints rows/s (first byte sent to the job's end; WAIT=1: the synchronous `wait=true` mode) and
the server process's peak RSS (VmHWM; sampled VmRSS too). REIMPORT=1 posts the same file
again (every row a duplicate). Targets: ≥ 100,000 rows/s, RSS ≤ 500 MB throughout.

    .venv/bin/python bench/import.py                       # embedded PostgreSQL in a temp dir
    ROWS=2000000 LOYALTY_DATABASE_URL=postgresql://... .venv/bin/python bench/import.py
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from harness import database_url, loyalty, new_tenant, serve, server_env

ROWS = int(os.environ.get("ROWS", "10000000"))
MEMBERS = max(1, ROWS // 10)
PORT = int(os.environ.get("PORT", "8768"))
CHUNK = 1 << 20


def generate(path: Path) -> None:
    """member_ref,occurred_at,amount,receipt_no,store_code over the last three years."""
    rnd = random.Random(6)
    start = date(2023, 1, 1)
    days = [(start + timedelta(days=d)).isoformat() for d in range(3 * 365)]
    tmp = path.with_suffix(".part")
    with tmp.open("w") as f:
        f.write("member_ref,occurred_at,amount,receipt_no,store_code\n")
        batch = []
        for i in range(ROWS):
            batch.append(
                f"C{rnd.randrange(MEMBERS):08d},{rnd.choice(days)}T{rnd.randrange(9, 22):02d}:"
                f"{rnd.randrange(60):02d}:00+08:00,{rnd.randrange(100, 200000) / 100:.2f},"
                f"R{i:010d},S{rnd.randrange(40):02d}\n"
            )
            if len(batch) == 100_000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))
    tmp.rename(path)


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stop = threading.Event()

    def _status(self) -> dict[str, int]:
        out = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM")):
                    key, value = line.split(":")
                    out[key] = int(value.split()[0])
        return out

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError):
                self.peak_kb = max(self.peak_kb, self._status()["VmRSS"])
            time.sleep(0.1)

    def hwm_kb(self) -> int:
        return self._status()["VmHWM"]


def post(url: str, key: str, path: Path) -> tuple[dict, float]:
    """The import's report and the seconds from the first byte sent to the job's end (WAIT=1:
    to the synchronous answer)."""

    def chunks():
        with path.open("rb") as f:
            while block := f.read(CHUNK):
                yield block

    auth = {"Authorization": f"Bearer {key}"}
    wait = bool(os.environ.get("WAIT"))
    started = time.perf_counter()
    r = httpx.post(
        f"{url}/v1/imports/transactions",
        content=chunks(),
        params={"wait": "true"} if wait else {},
        headers={**auth, "content-type": "text/csv", "content-length": str(path.stat().st_size)},
        timeout=httpx.Timeout(60.0, read=3600.0),
    )
    r.raise_for_status()
    if wait:
        return r.json(), time.perf_counter() - started
    print(f"  202 after {time.perf_counter() - started:.1f} s; polling the job", flush=True)
    while True:
        job = httpx.get(url + r.headers["location"], headers=auth, timeout=60.0).json()
        if job["status"] != "running":
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    if job["status"] != "succeeded":
        raise SystemExit(f"import job {job['status']}: {job['problem']}")
    return job["report"], elapsed


def main() -> None:
    path = Path(tempfile.gettempdir()) / f"loyalty-bench-import-{ROWS}.csv"
    if not path.exists():
        print(f"generating {ROWS:,} rows over {MEMBERS:,} members in {path} ...", flush=True)
        t = time.perf_counter()
        generate(path)
        print(f"  {time.perf_counter() - t:.0f} s, {path.stat().st_size / 1e6:.0f} MB", flush=True)
    with contextlib.ExitStack() as stack:
        url = database_url(stack)
        env = server_env(url, LOYALTY_SCHEDULER_INTERVAL_SECONDS="0")
        loyalty(env, "migrate")
        key = new_tenant(env, "bench-import")
        stderr = stack.enter_context(open(os.environ.get("SERVER_LOG", os.devnull), "w"))
        base, server = serve(stack, env, PORT, 1, stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = RssSampler(server.pid)
        print(f"server RSS before: {sampler._status()['VmRSS'] / 1024:.0f} MB", flush=True)
        sampler.start()
        runs = [("import", path)] + ([("re-import", path)] if os.environ.get("REIMPORT") else [])
        for label, file in runs:
            report, elapsed = post(base, key, file)
            print(
                f"{label}: {report['rows']:,} rows in {elapsed:.1f} s = "
                f"{report['rows'] / elapsed:,.0f} rows/s (server {report['duration_ms'] / 1000:.1f}"
                f" s); imported {report['imported']:,}, duplicates {report['duplicates']:,}, "
                f"members created {report['members_created']:,}",
                flush=True,
            )
        sampler.stop.set()
        sampler.join()
        print(
            f"server peak RSS: {sampler.hwm_kb() / 1024:.0f} MB (VmHWM), "
            f"sampled max {sampler.peak_kb / 1024:.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
