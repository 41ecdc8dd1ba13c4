"""Transaction history imports through the API."""

HEADER = "member_ref,occurred_at,amount,receipt_no,store_code\n"


CSV = {"content-type": "text/csv"}


async def post_import(client, headers, body, status=201, media=CSV, **params):
    """An import within the request (``wait=true``): its report, or its problem."""
    data = body.encode() if isinstance(body, str) else body
    r = await client.post(
        "/v1/imports/transactions",
        content=data,
        headers={**headers, **media},
        params={"wait": "true", **params},
    )
    assert r.status_code == status, r.text
    if status == 201:
        assert r.headers["location"].startswith("/v1/imports/jobs/")
    return r.json()
