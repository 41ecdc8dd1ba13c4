"""The problem+json answer every refusal gives."""

PROBLEM = "application/problem+json"


def assert_problem(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:loyalty:problem:{code}"
    assert body["title"] and body["detail"]
    assert "Traceback" not in r.text
    return body
