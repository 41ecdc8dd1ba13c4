"""The history import as a job: 202 with the job's Location, its progress while the body is
still coming, its report at the end, its problem when the file is refused, a cancel that lands
mid-import (nothing imported), a job whose process died, refusals and isolation."""

import asyncio
import uuid

import pytest

from tests.factories.database import sql
from tests.factories.problems import assert_problem

ISOLATION_COVERS = {
    ("GET", "/v1/imports/jobs/{job_id}"),
    ("POST", "/v1/imports/jobs/{job_id}/cancel"),
}

IMPORTS = "/v1/imports/transactions"
HEADER = b"member_ref,occurred_at,amount,receipt_no,store_code\n"
CSV = {"content-type": "text/csv"}


def rows(first: int, n: int) -> bytes:
    return b"".join(
        b"J%d,2025-03-01,10.00,R%d,S01\n" % (i % 50, i) for i in range(first, first + n)
    )


async def job_of(client, headers, location):
    r = await client.get(location, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def until(client, headers, location, done, seconds=20.0):
    """The job once ``done(job)`` holds, polling as a client would."""
    for _ in range(int(seconds / 0.05)):
        job = await job_of(client, headers, location)
        if done(job):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job never got there: {job}")


def finished(job):
    return job["status"] != "running"


async def test_202_then_progress_then_the_report(client, tenant, database_url):
    body = HEADER + rows(0, 2000)
    r = await client.post(IMPORTS, content=body, headers={**tenant.headers, **CSV})
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    accepted = r.json()
    assert location == f"/v1/imports/jobs/{accepted['id']}"
    assert accepted["bytes_total"] == len(body) and accepted["format"] == "csv"
    assert accepted["cancel_requested"] is False
    job = await until(client, tenant.headers, location, finished)
    assert job["status"] == "succeeded", job
    assert (job["bytes_read"], job["rows_read"], job["rejected"]) == (len(body), 2000, 0)
    assert (job["imported"], job["duplicates"], job["percent"]) == (2000, 0, 100.0)
    report = job["report"]
    assert (report["rows"], report["imported"], report["members_created"]) == (2000, 2000, 50)
    assert job["problem"] is None and job["finished_at"] is not None
    [(count,)] = await sql(
        database_url,
        "SELECT count(*) FROM imported_transactions WHERE import_id = :i",
        i=int(report["id"]),
    )
    assert count == 2000
    # The import is listed like a synchronous one; the same file again: all duplicates.
    listed = (await client.get(IMPORTS, headers=tenant.headers)).json()["items"]
    assert [i["id"] for i in listed] == [report["id"]]
    r = await client.post(IMPORTS, content=body, headers={**tenant.headers, **CSV})
    again = await until(client, tenant.headers, r.headers["location"], finished)
    assert (again["status"], again["imported"], again["duplicates"]) == ("succeeded", 0, 2000)


async def test_a_refused_file_fails_the_job_with_its_problem(client, tenant, database_url):
    body = HEADER + rows(0, 10) + b"J1,2025-03-01,-5,RX,S01\n"
    r = await client.post(IMPORTS, content=body, headers={**tenant.headers, **CSV})
    assert r.status_code == 202, r.text
    job = await until(client, tenant.headers, r.headers["location"], finished)
    assert job["status"] == "failed" and job["report"] is None
    problem = job["problem"]
    assert (problem["status"], problem["code"]) == (422, "invalid_rows")
    assert problem["type"] == "urn:loyalty:problem:invalid_rows"
    assert problem["bad_rows"] == [
        {
            "line": 12,
            "field": "amount",
            "reason": "amount is negative: import each receipt's net amount (≥ 0)",
        }
    ]
    assert (job["rows_read"], job["rejected"], job["imported"]) == (11, 1, None)
    assert (
        await sql(
            database_url,
            "SELECT 1 FROM imported_transactions WHERE tenant_id = :t",
            t=uuid.UUID(tenant.id),
        )
        == []
    )
    # A bad header fails it the same way (the rest of the body is read and dropped).
    r = await client.post(
        IMPORTS, content=b"who,when\n" + rows(0, 5000), headers={**tenant.headers, **CSV}
    )
    assert r.status_code == 202
    job = await until(client, tenant.headers, r.headers["location"], finished)
    assert (job["status"], job["problem"]["code"]) == ("failed", "invalid_header")


async def test_a_cancel_mid_import_stops_it_and_nothing_is_imported(client, tenant, database_url):
    """The body comes in two halves; the test cancels between them, while the job has read
    the first half (its progress says so) and waits for the rest."""
    first, second = HEADER + rows(0, 3000), rows(3000, 3000)
    more = asyncio.Event()

    async def body():
        yield first
        await more.wait()
        yield second

    headers = {**tenant.headers, **CSV, "content-length": str(len(first) + len(second))}
    post = asyncio.create_task(client.post(IMPORTS, content=body(), headers=headers))
    location = await first_job(database_url, tenant.id)
    job = await until(client, tenant.headers, location, lambda j: j["rows_read"] >= 2999)
    assert job["status"] == "running" and job["bytes_read"] == len(first)
    assert job["percent"] == round(100 * len(first) / (len(first) + len(second)), 1)
    assert job["imported"] is None

    r = await client.post(f"{location}/cancel", headers=tenant.headers)
    assert r.status_code == 202, r.text
    assert r.json()["cancel_requested"] is True
    job = await until(client, tenant.headers, location, finished, seconds=5)
    assert job["status"] == "cancelled"  # before the rest of the body came
    assert job["problem"]["code"] == "import_cancelled" and job["report"] is None
    more.set()
    accepted = await post
    assert accepted.status_code == 202, accepted.text
    assert (
        await sql(
            database_url,
            "SELECT 1 FROM imported_transactions WHERE tenant_id = :t",
            t=uuid.UUID(tenant.id),
        )
        == []
    )
    assert (await client.get(IMPORTS, headers=tenant.headers)).json()["items"] == []
    r = await client.post(f"{location}/cancel", headers=tenant.headers)
    assert_problem(r, 409, "import_job_finished")


async def first_job(database_url, tenant_id):
    """The tenant's first job, once its row exists (the POST is still uploading)."""
    for _ in range(400):
        found = await sql(
            database_url, "SELECT id FROM import_jobs WHERE tenant_id = :t", t=uuid.UUID(tenant_id)
        )
        if found:
            return f"/v1/imports/jobs/{found[0][0]}"
        await asyncio.sleep(0.05)
    raise AssertionError("no job")


async def test_a_server_shutting_down_fails_its_running_jobs(app, client, tenant, database_url):
    stall = asyncio.Event()

    async def body():
        yield HEADER + rows(0, 10)
        await stall.wait()  # a slow upload

    post = asyncio.create_task(
        client.post(IMPORTS, content=body(), headers={**tenant.headers, **CSV})
    )
    location = await first_job(database_url, tenant.id)
    await until(client, tenant.headers, location, lambda j: j["rows_read"] == 10)
    await app.state.import_tasks.close()  # what the lifespan does on shutdown
    job = await job_of(client, tenant.headers, location)
    assert (job["status"], job["problem"]["code"]) == ("failed", "import_interrupted")
    stall.set()
    assert (await post).status_code == 202


async def test_a_job_whose_process_died_is_failed(client, tenant, database_url):
    r = await client.post(IMPORTS, content=HEADER + rows(0, 5), headers={**tenant.headers, **CSV})
    job = await until(client, tenant.headers, r.headers["location"], finished)
    # As a process that died mid-import leaves it: running, its progress a minute old.
    await sql(
        database_url,
        "UPDATE import_jobs SET status = 'running', report = NULL, finished_at = NULL, "
        "updated_at = now() - interval '1 minute' WHERE tenant_id = :t AND id = :i",
        t=uuid.UUID(tenant.id),
        i=int(job["id"]),
    )
    stale = await job_of(client, tenant.headers, r.headers["location"])
    assert stale["status"] == "failed"
    assert (stale["problem"]["status"], stale["problem"]["code"]) == (503, "import_interrupted")


async def test_wait_answers_201_with_the_job_location(client, tenant):
    r = await client.post(
        IMPORTS,
        content=HEADER + rows(0, 3),
        headers={**tenant.headers, **CSV},
        params={"wait": "true"},
    )
    assert r.status_code == 201, r.text
    job = await job_of(client, tenant.headers, r.headers["location"])
    assert job["status"] == "succeeded" and job["report"] == r.json()


@pytest.mark.parametrize("method", ["get", "cancel"])
async def test_unknown_and_other_tenants_jobs_are_404(client, tenant, other_tenant, method):
    r = await client.post(IMPORTS, content=HEADER + rows(0, 1), headers={**tenant.headers, **CSV})
    location = r.headers["location"]
    for headers, path in (
        (other_tenant.headers, location),
        (tenant.headers, "/v1/imports/jobs/999999999"),
    ):
        if method == "get":
            r = await client.get(path, headers=headers)
        else:
            r = await client.post(f"{path}/cancel", headers=headers)
        assert_problem(r, 404, "import_job_not_found")
    await until(client, tenant.headers, location, finished)
