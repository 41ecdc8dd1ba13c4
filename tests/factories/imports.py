"""Transaction history imports through the API."""

HEADER = "member_ref,occurred_at,amount,receipt_no,store_code\n"


CSV = {"content-type": "text/csv"}


async def post_import(client, headers, body, status=200, media=CSV, **params):
    data = body.encode() if isinstance(body, str) else body
    r = await client.post(
        "/v1/imports/transactions", content=data, headers={**headers, **media}, params=params
    )
    assert r.status_code == status, r.text
    return r.json()
