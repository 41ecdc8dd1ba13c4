"""History import (issue 6) through the HTTP API: CSV and NDJSON streamed in, row-by-row checks
with line numbers, reject and skip, deduplication on re-import, members created for unknown
refs, the tenant's time zone, gzip, and nothing of it reaching the points ledger."""

import asyncio
import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.db import create_engine
from tests.factories.imports import CSV, HEADER, post_import
from tests.factories.points import key_with
from tests.factories.problems import assert_problem
from tests.factories.sales import member_with_card, post_sale, sale_body

ISOLATION_COVERS = {("POST", "/v1/imports/transactions"), ("GET", "/v1/imports/transactions")}

NDJSON = {"content-type": "application/x-ndjson"}
IMPORTS = "/v1/imports/transactions"
SYNC = "/v1/imports/transactions?wait=true"


async def sql(database_url, query, **params):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(query), params)).all()
    finally:
        await engine.dispose()


async def imported(database_url, tenant_id):
    """(external_ref, occurred_at, amount, receipt_no, store_code) of the tenant's history."""
    return await sql(
        database_url,
        "SELECT m.external_ref, i.occurred_at, i.amount, i.receipt_no, i.store_code "
        "FROM imported_transactions i JOIN members m ON m.id = i.member_id "
        "WHERE i.tenant_id = :t ORDER BY m.external_ref, i.occurred_at",
        t=uuid.UUID(tenant_id),
    )


async def member_count(database_url, tenant_id):
    rows = await sql(
        database_url, "SELECT count(*) FROM members WHERE tenant_id = :t", t=uuid.UUID(tenant_id)
    )
    return rows[0][0]


# --- CSV ----------------------------------------------------------------------------------------


async def test_csv_creates_members_and_reimport_adds_nothing(client, tenant, database_url):
    body = HEADER + (
        "C001,2025-11-02T14:31:00+08:00,388.00,R-1,S01\n"
        "C001,2025-11-03,59.9,R-2,S01\n"
        "C002,2025-11-03 10:00,100,,\n"
    )
    first = await post_import(client, tenant.headers, body)
    assert first["format"] == "csv" and first["on_error"] == "reject"
    assert (first["rows"], first["imported"], first["duplicates"], first["rejected"]) == (
        3,
        3,
        0,
        0,
    )
    assert first["members_created"] == 2 and first["bad_rows"] == []
    assert first["duration_ms"] >= 0 and first["id"].isdigit()
    rows = await imported(database_url, tenant.id)
    shanghai = timedelta(hours=8)
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (
            "C001",
            datetime(2025, 11, 2, 14, 31, tzinfo=UTC) - shanghai,
            Decimal("388.00"),
            "R-1",
            "S01",
        ),
        ("C001", datetime(2025, 11, 3, tzinfo=UTC) - shanghai, Decimal("59.90"), "R-2", "S01"),
        ("C002", datetime(2025, 11, 3, 10, tzinfo=UTC) - shanghai, Decimal("100.00"), None, None),
    ]

    again = await post_import(client, tenant.headers, body)
    assert (again["imported"], again["duplicates"], again["members_created"]) == (0, 3, 0)
    assert len(await imported(database_url, tenant.id)) == 3
    made = await client.get("/v1/members", params={"external_ref": "C002"}, headers=tenant.headers)
    [c002] = made.json()["items"]
    assert c002["source_channel"] == "import" and c002["name"] is None


async def test_concurrent_imports_of_one_file_store_it_once(client, tenant, database_url):
    body = HEADER + "".join(
        f"K{i % 40},2025-06-{i % 28 + 1:02d},{i}.25,R{i},S01\n" for i in range(400)
    )
    first, second = await asyncio.gather(
        post_import(client, tenant.headers, body), post_import(client, tenant.headers, body)
    )
    assert sorted([first["imported"], second["imported"]]) == [0, 400]
    assert first["duplicates"] + second["duplicates"] == 400
    assert first["members_created"] + second["members_created"] == 40
    assert len(await imported(database_url, tenant.id)) == 400


async def test_existing_member_by_external_ref_gets_the_history(client, tenant, database_url):
    r = await client.post(
        "/v1/members", json={"name": "李雷", "external_ref": "EXT-9"}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    member_id = r.json()["id"]
    done = await post_import(client, tenant.headers, HEADER + "EXT-9,2025-01-05,10.00,R-9,S01\n")
    assert done["members_created"] == 0 and done["imported"] == 1
    owners = await sql(
        database_url,
        "SELECT member_id FROM imported_transactions WHERE tenant_id = :t",
        t=uuid.UUID(tenant.id),
    )
    assert [str(o[0]) for o in owners] == [member_id]


async def test_columns_in_any_order_quotes_crlf_and_bom(client, tenant, database_url):
    body = (
        "\ufeffamount,member_ref,occurred_at\r\n"
        '"1,000.00",C1,2025-01-01\r\n'  # a quoted amount with a comma is still not an amount
        '12.50," C, Ltd ",2025-01-02\r\n'
        "7,C2,2025-01-03\r\n"
    )
    r = await client.post(
        SYNC,
        content=body.encode(),
        headers={**tenant.headers, **CSV},
        params={"on_error": "skip", "wait": "true"},
    )
    done = r.json()
    assert r.status_code == 201, r.text
    assert (done["rows"], done["imported"], done["rejected"]) == (3, 2, 1)
    assert done["bad_rows"] == [
        {
            "line": 2,
            "field": "amount",
            "reason": "amount is not an amount in CNY ≥ 0 with at most 2 decimals, e.g. 128.50",
        }
    ]
    refs = sorted(r[0] for r in await imported(database_url, tenant.id))
    assert refs == ["C, Ltd", "C2"]


async def test_reject_lists_bad_rows_and_imports_nothing(client, tenant, database_url):
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    body = HEADER + (
        "C1,2025-01-01,10.00,R1,S01\n"  # line 2: good
        ",2025-01-01,10.00,R2,S01\n"  # 3: no member_ref
        "C3,2025-02-30,10.00,R3,S01\n"  # 4: no such date
        "C4,2025-01-01,-5.00,R4,S01\n"  # 5: negative
        "C5,2025-01-01,1.234,R5,S01\n"  # 6: three decimals
        "C6,2025-01-01,10.00\n"  # 7: too few fields
        "\n"  # 8: blank, skipped
        f"C7,{tomorrow},10.00,R7,S01\n"  # 9: in the future (checked by the database)
        f"{'X' * 65},2025-01-01,1,R8,S01\n"  # 10: ref too long
        "C9,2025-01-01,1,R9,STORE-CODE-TOO-LONG\n"  # 11
        "C10,2025-13-01T10:00:00Z,1,R10,S01\n"  # 12: month 13
        "C11,1899-12-31,1,R11,S01\n"  # 13: before 1900
    )
    before = await member_count(database_url, tenant.id)
    r = await client.post(SYNC, content=body.encode(), headers={**tenant.headers, **CSV})
    problem = assert_problem(r, 422, "invalid_rows")
    assert problem["rejected"] == 10
    lines = [(b["line"], b["field"]) for b in problem["bad_rows"]]
    assert lines == [
        (3, "member_ref"),
        (4, "occurred_at"),
        (5, "amount"),
        (6, "amount"),
        (7, None),
        (9, "occurred_at"),
        (10, "member_ref"),
        (11, "store_code"),
        (12, "occurred_at"),
        (13, "occurred_at"),
    ]
    reasons = {b["line"]: b["reason"] for b in problem["bad_rows"]}
    assert reasons[5] == "amount is negative: import each receipt's net amount (≥ 0)"
    assert reasons[7] == "expected 5 fields, found 3"
    assert reasons[9] == "occurred_at is after today (tenant time zone)"
    assert problem["errors"][0] == {"field": "line[3].member_ref", "message": reasons[3]}
    assert problem["errors"][4]["field"] == "line[7]"
    assert await imported(database_url, tenant.id) == []
    assert await member_count(database_url, tenant.id) == before


async def test_skip_imports_good_rows_and_reports_the_rest(client, tenant, database_url):
    body = HEADER + "C1,2025-01-01,10.00,R1,S01\nC2,yesterday,10.00,R2,S01\nC3,2025-01-02,3,,\n"
    done = await post_import(client, tenant.headers, body, on_error="skip")
    assert (done["rows"], done["imported"], done["rejected"], done["members_created"]) == (
        3,
        2,
        1,
        2,
    )
    assert [b["line"] for b in done["bad_rows"]] == [3]
    assert [r[0] for r in await imported(database_url, tenant.id)] == ["C1", "C3"]


async def test_only_the_first_100_bad_rows_are_listed(client, tenant):
    body = HEADER + "".join(f"C{i},not-a-date,1,R{i},S01\n" for i in range(250))
    r = await client.post(SYNC, content=body.encode(), headers={**tenant.headers, **CSV})
    problem = assert_problem(r, 422, "invalid_rows")
    assert problem["rejected"] == 250
    assert [b["line"] for b in problem["bad_rows"]] == list(range(2, 102))
    assert len(problem["errors"]) == 100


async def test_duplicates_inside_a_file_and_rows_without_receipt(client, tenant, database_url):
    body = HEADER + (
        "C1,2025-01-01,10.00,R1,S01\n"
        "C1,2025-01-01,10.00,R1,S01\n"  # the same receipt twice
        "C1,2025-01-02,5.00,,\n"
        "C1,2025-01-02,5.00,,\n"  # identical rows without receipt: one receipt
        "C1,2025-01-02,5.01,,\n"  # another amount: another receipt
        "C1,2025-01-01,10.00,R1,S02\n"  # the same number in another store
    )
    done = await post_import(client, tenant.headers, body)
    assert (done["imported"], done["duplicates"]) == (4, 2)
    assert len(await imported(database_url, tenant.id)) == 4


async def test_receipt_recorded_as_a_sale_is_not_imported_again(client, tenant, database_url):
    _, card = await member_with_card(client, tenant.headers)
    await post_sale(client, tenant.headers, sale_body(card, receipt="R-77"))
    body = HEADER + "C1,2025-01-01,388.00,R-77,S01\nC1,2025-01-01,388.00,R-77,S02\n"
    done = await post_import(client, tenant.headers, body)
    assert (done["imported"], done["duplicates"]) == (1, 1)
    assert [r[4] for r in await imported(database_url, tenant.id)] == ["S02"]


async def test_imports_earn_no_points(client, tenant, database_url):
    await post_import(client, tenant.headers, HEADER + "C1,2025-01-01,1000.00,R1,S01\n")
    entries = await sql(
        database_url,
        "SELECT count(*) FROM points_entries WHERE tenant_id = :t",
        t=uuid.UUID(tenant.id),
    )
    assert entries[0][0] == 0


async def test_naive_times_are_read_in_the_tenant_time_zone(client, tenant, database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE tenants SET time_zone = 'Europe/Berlin' WHERE id = :t"),
                {"t": uuid.UUID(tenant.id)},
            )
    finally:
        await engine.dispose()
    body = HEADER + "C1,2025-07-01T12:00,1,R1,\nC1,2025-01-15,1,R2,\nC1,2025-07-01T12:00Z,1,R3,\n"
    await post_import(client, tenant.headers, body)
    times = sorted(r[1] for r in await imported(database_url, tenant.id))
    assert times == [
        datetime(2025, 1, 14, 23, tzinfo=UTC),  # midnight in Berlin (winter, +01:00)
        datetime(2025, 7, 1, 10, tzinfo=UTC),  # noon in Berlin (summer, +02:00)
        datetime(2025, 7, 1, 12, tzinfo=UTC),
    ]


async def test_a_body_far_over_the_json_limit_streams_in(client, tenant, settings, database_url):
    rows = 8000  # ~270 KB, several times the suite's 64 KB body limit
    body = HEADER + "".join(
        f"M{i % 700:05d},2025-03-{i % 28 + 1:02d},{i % 997}.5,R{i},S01\n" for i in range(rows)
    )
    assert len(body) > 3 * settings.max_body_bytes

    async def chunks():
        data = body.encode()
        for start in range(0, len(data), 7919):  # chunks cutting lines anywhere
            yield data[start : start + 7919]

    r = await client.post(SYNC, content=chunks(), headers={**tenant.headers, **CSV})
    assert r.status_code == 201, r.text
    done = r.json()
    assert (done["rows"], done["imported"], done["members_created"]) == (rows, rows, 700)
    total = await sql(
        database_url,
        "SELECT sum(amount), count(*) FROM member_transactions WHERE tenant_id = :t",
        t=uuid.UUID(tenant.id),
    )
    assert total[0] == (sum(Decimal(f"{i % 997}.5") for i in range(rows)), rows)


async def test_gzip_body(client, tenant, database_url):
    body = gzip.compress((HEADER + "C1,2025-01-01,10.00,R1,S01\nC2,2025-01-02,2,R2,S01").encode())
    r = await client.post(
        SYNC,
        content=body,
        headers={**tenant.headers, **CSV, "content-encoding": "gzip"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 2  # the last line had no line break


async def test_broken_gzip_is_422(client, tenant):
    r = await client.post(
        SYNC,
        content=b"not gzip at all",
        headers={**tenant.headers, **CSV, "content-encoding": "gzip"},
    )
    assert_problem(r, 422, "invalid_encoding")


# --- NDJSON -------------------------------------------------------------------------------------


async def test_ndjson(client, tenant, database_url):
    lines = [
        {"member_ref": "N1", "occurred_at": "2025-05-01T09:30:00+08:00", "amount": "12.30"},
        {"member_ref": "N1", "occurred_at": "2025-05-02", "amount": 7.5, "receipt_no": "X1"},
        {"member_ref": "N2", "occurred_at": "2025-05-02", "amount": "1", "store_code": None},
    ]
    body = "\n".join(json.dumps(x) for x in lines) + "\n"
    done = await post_import(client, tenant.headers, body, media=NDJSON)
    assert (done["format"], done["rows"], done["imported"], done["members_created"]) == (
        "ndjson",
        3,
        3,
        2,
    )
    amounts = sorted(r[2] for r in await imported(database_url, tenant.id))
    assert amounts == [Decimal("1.00"), Decimal("7.50"), Decimal("12.30")]


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("[1, 2]", None, "the line is not a JSON object"),
        ("{not json", None, "the line is not a JSON object"),
        ('{"member_ref": "N1", "occurred_at": "2025-05-01", "amount": "1", "x": 1}', "x", None),
        ('{"member_ref": 5, "occurred_at": "2025-05-01", "amount": "1"}', "member_ref", None),
        ('{"member_ref": "N1", "amount": "1"}', "occurred_at", "occurred_at is required"),
        ('{"member_ref": "N1", "occurred_at": "2025-05-01", "amount": 1e3}', "amount", None),
        ('{"member_ref": "N1", "occurred_at": "2025-05-01", "amount": NaN}', None, None),
    ],
)
async def test_ndjson_bad_lines(client, tenant, line, field, reason):
    body = '{"member_ref": "N0", "occurred_at": "2025-05-01", "amount": "1"}\n' + line + "\n"
    r = await client.post(SYNC, content=body.encode(), headers={**tenant.headers, **NDJSON})
    problem = assert_problem(r, 422, "invalid_rows")
    [bad] = problem["bad_rows"]
    assert bad["line"] == 2 and bad["field"] == field
    if reason:
        assert bad["reason"] == reason


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "The body is empty"),
        ("member_ref,amount\nC1,1\n", "The header lacks occurred_at"),
        ("member_ref,occurred_at,amount,colour\n", "Unknown column 'colour'"),
        ("member_ref,occurred_at,amount,amount\n", "Column 'amount' appears twice"),
    ],
)
async def test_bad_header(client, tenant, body, message):
    r = await client.post(SYNC, content=body.encode(), headers={**tenant.headers, **CSV})
    problem = assert_problem(r, 422, "invalid_header")
    assert problem["detail"].startswith(message)
    assert problem["errors"][0]["field"] == "header"


async def test_header_only_imports_nothing(client, tenant):
    done = await post_import(client, tenant.headers, HEADER)
    assert (done["rows"], done["imported"]) == (0, 0)


async def test_line_too_long(client, tenant):
    async def chunks():  # one line that never ends, in 64 KiB chunks as a server reads it
        yield (HEADER + "C1,2025-01-01,1,R").encode()
        for _ in range(20):
            yield b"9" * 65536

    r = await client.post(SYNC, content=chunks(), headers={**tenant.headers, **CSV})
    body = assert_problem(r, 422, "line_too_long")
    assert body["detail"] == "Line 2 is longer than 1048576 bytes."


async def test_a_long_line_within_a_chunk_is_a_bad_row(client, tenant):
    body = HEADER + "C1,2025-01-01,1,R" + "9" * 70 + ",S01\n"
    r = await client.post(SYNC, content=body.encode(), headers={**tenant.headers, **CSV})
    problem = assert_problem(r, 422, "invalid_rows")
    assert problem["bad_rows"][0]["reason"] == "receipt_no is longer than 64 characters"


async def test_invalid_utf8_is_a_bad_row(client, tenant):
    body = HEADER.encode() + b"C1,2025-01-01,1,R\xff1,S01\n"
    r = await client.post(SYNC, content=body, headers={**tenant.headers, **CSV})
    problem = assert_problem(r, 422, "invalid_rows")
    assert problem["bad_rows"] == [
        {"line": 2, "field": None, "reason": "the line is not valid UTF-8"}
    ]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"content-type": "application/json"}, "unsupported_media_type"),
        ({"content-type": "text/csv", "content-encoding": "br"}, "unsupported_media_type"),
    ],
)
async def test_unsupported_media_type_or_encoding(client, tenant, headers, code):
    r = await client.post(SYNC, content=b"{}", headers={**tenant.headers, **headers})
    assert_problem(r, 415, code)


async def test_bad_on_error_value(client, tenant):
    r = await client.post(
        SYNC,
        content=HEADER.encode(),
        headers={**tenant.headers, **CSV},
        params={"on_error": "ignore", "wait": "true"},
    )
    body = assert_problem(r, 422, "validation_error")
    assert body["errors"][0]["field"] == "on_error"


@pytest.mark.parametrize("scope", ["pos", "analytics", "app", "partner"])
async def test_only_admin_imports(client, tenant, scope):
    headers = await key_with(client, tenant.headers, scope)
    r = await client.post(SYNC, content=HEADER.encode(), headers={**headers, **CSV})
    assert_problem(r, 403, "insufficient_scope")


async def test_without_key_is_401(client):
    r = await client.post(SYNC, content=HEADER.encode(), headers=CSV)
    assert_problem(r, 401, "missing_credentials")


async def test_tenants_are_isolated(client, tenant, other_tenant, database_url):
    r = await client.post(
        "/v1/members", json={"name": "甲", "external_ref": "SAME"}, headers=tenant.headers
    )
    assert r.status_code == 201
    done = await post_import(client, other_tenant.headers, HEADER + "SAME,2025-01-01,1.00,R1,S01\n")
    assert done["members_created"] == 1  # the other tenant's SAME is not this one's
    assert await imported(database_url, tenant.id) == []
    assert len(await imported(database_url, other_tenant.id)) == 1
    # ... and the same receipt in the victim's tenant is a new one there
    mine = await post_import(client, tenant.headers, HEADER + "SAME,2025-01-01,1.00,R1,S01\n")
    assert (mine["imported"], mine["members_created"]) == (1, 0)


# --- the list of imports --------------------------------------------------------------------------

REPORTED = (
    "id",
    "format",
    "on_error",
    "rows",
    "imported",
    "duplicates",
    "rejected",
    "members_created",
    "started_at",
    "finished_at",
)


async def all_imports(client, headers, limit):
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await client.get(IMPORTS, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


async def test_list_imports_newest_first_in_pages(client, tenant):
    admin = await key_with(client, tenant.headers, "admin")  # named "k"
    done = [
        await post_import(client, tenant.headers, HEADER + "L1,2025-01-01,1.00,R1,S01\n"),
        await post_import(
            client,
            admin,
            '{"member_ref": "L2", "occurred_at": "2025-01-02", "amount": "2"}\n'
            '{"member_ref": "L3", "occurred_at": "2025-01-02", "amount": "-1"}\n',
            media=NDJSON,
            on_error="skip",
        ),
        await post_import(client, tenant.headers, HEADER + "L1,2025-01-01,1.00,R1,S01\n"),
    ]
    # A refused import loads nothing and is not recorded.
    await post_import(client, tenant.headers, HEADER + "L4,2025-01-01,-5,R9,S01\n", status=422)

    items, pages = await all_imports(client, tenant.headers, limit=2)
    assert pages == 2
    assert [i["id"] for i in items] == [d["id"] for d in reversed(done)]
    for item, report in zip(items, reversed(done), strict=True):
        assert {k: item[k] for k in REPORTED} == {k: report[k] for k in REPORTED}
        assert "bad_rows" not in item
    newest, skipped, oldest = items
    assert (newest["imported"], newest["duplicates"]) == (0, 1)
    assert (skipped["format"], skipped["on_error"], skipped["rejected"]) == ("ndjson", "skip", 1)
    assert (skipped["imported"], skipped["members_created"], skipped["actor"]) == (1, 1, "k")
    assert (oldest["imported"], oldest["members_created"]) == (1, 1)
    assert oldest["actor"] == newest["actor"] != "k"

    one, _ = await all_imports(client, tenant.headers, limit=500)
    assert one == items


async def test_list_imports_scopes_cursor_and_isolation(client, tenant, other_tenant):
    mine = await post_import(client, tenant.headers, HEADER + "I1,2025-01-01,1.00,R1,S01\n")
    theirs = (await client.get(IMPORTS, headers=other_tenant.headers)).json()
    assert theirs == {"items": [], "next_cursor": None}
    done = await post_import(client, other_tenant.headers, HEADER + "I1,2025-01-01,1.00,R1,S01\n")
    theirs = (await client.get(IMPORTS, headers=other_tenant.headers)).json()["items"]
    assert [i["id"] for i in theirs] == [done["id"]]
    ours = (await client.get(IMPORTS, headers=tenant.headers)).json()["items"]
    assert [i["id"] for i in ours] == [mine["id"]]

    for scope in ("analytics", "pos", "app", "partner"):
        headers = await key_with(client, tenant.headers, scope)
        assert_problem(await client.get(IMPORTS, headers=headers), 403, "insufficient_scope")
    assert_problem(await client.get(IMPORTS), 401, "missing_credentials")
    r = await client.get(IMPORTS, params={"cursor": "!!"}, headers=tenant.headers)
    assert_problem(r, 422, "invalid_cursor")
    r = await client.get(IMPORTS, params={"limit": 0}, headers=tenant.headers)
    assert_problem(r, 422, "validation_error")


async def test_finished_at_is_when_the_rows_were_loaded(client, tenant):
    """Not when the transaction began (before the body was streamed): the span from
    ``started_at`` to ``finished_at`` covers the work the import reports it took."""

    async def slowly():  # a body that takes a measurable time to arrive
        yield HEADER.encode()
        for i in range(4):
            await asyncio.sleep(0.1)
            yield f"SLOW{i},2026-01-0{i + 1},10.00,S-{i},S01\n".encode()

    r = await client.post(SYNC, content=slowly(), headers={**tenant.headers, **CSV})
    assert r.status_code == 201, r.text
    done = r.json()
    span = datetime.fromisoformat(done["finished_at"]) - datetime.fromisoformat(done["started_at"])
    assert span.total_seconds() >= 0.35  # the four pauses, at least
    assert done["duration_ms"] >= 350
