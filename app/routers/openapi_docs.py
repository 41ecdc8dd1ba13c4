"""Documented error responses, so every operation lists the problems it can answer."""

from __future__ import annotations

from pydantic import BaseModel

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# Response headers, defined once in components.headers (app/main.py puts them there).
REPLAYED_HEADER = {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}


def ref(schema: str) -> dict:
    return {"$ref": f"#/components/schemas/{schema}"}


def replayed(model: type[BaseModel], description: str) -> dict:
    """The 200 of a request sent again: the first answer, typed like the 201 it was, so a
    generated client parses a replay as it parses the first answer."""
    return {200: {"description": description, "model": model, "headers": REPLAYED_HEADER}}


_EXAMPLES = {
    400: ("malformed_json", "Bad Request", "The body is not valid JSON: Expecting value."),
    401: (
        "missing_credentials",
        "Authentication required",
        "Send an API key as 'Authorization: Bearer <key>'.",
    ),
    403: ("insufficient_scope", "Forbidden", "This operation needs one of the scopes: admin."),
    404: ("not_found", "Not found", "No such resource."),
    409: ("conflict", "Conflict", "The change conflicts with the current state."),
    413: (
        "payload_too_large",
        "Payload Too Large",
        "The request body exceeds the limit of 1048576 bytes.",
    ),
    415: (
        "unsupported_media_type",
        "Unsupported Media Type",
        "Send the body as application/json, not text/plain.",
    ),
    422: ("validation_error", "Invalid input", "The request is invalid. name: Field required"),
    429: ("too_many_attempts", "Too many attempts", "Try again later."),
    503: ("database_unavailable", "Service unavailable", "The database cannot be reached."),
}

_DESCRIPTIONS = {
    400: "Malformed JSON, or the Authorization header sent more than once.",
    401: "Missing, unknown or revoked API key.",
    403: "The key lacks the scope this operation needs.",
    404: "Not found (including anything that belongs to another tenant).",
    409: "Conflict with the current state.",
    413: "The body is too large.",
    415: "The body's media type or content encoding is not one this operation takes.",
    422: "Validation failed; `errors` lists the offending fields.",
    429: "Too many attempts.",
    503: "Not ready.",
}


IDEMPOTENT_NOTE = (
    "Send an `Idempotency-Key` to make a retry safe: the first response, refusals included, "
    "is replayed."
)
# Every write to a member's ledger (services/ledger.py) may answer this under contention.
BUSY_NOTE = (
    "Concurrent changes to the same member are applied one after the other; if this one still "
    "finds the member's ledger changed after three attempts it is 409 `busy` with "
    "`Retry-After: 1`, with nothing written: send it again."
)


def problems(*statuses: int, examples: dict[int, tuple[str, str]] | None = None) -> dict:
    """``responses=`` entries for the given statuses; ``examples`` overrides (code, detail)."""
    out = {}
    for status in statuses:
        code, title, detail = _EXAMPLES[status]
        if examples and status in examples:
            code, detail = examples[status]
        example = {
            "type": f"urn:loyalty:problem:{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
            "errors": [],
        }
        if status == 422:
            example["errors"] = [{"field": "name", "message": "Field required"}]
        out[status] = {
            "description": _DESCRIPTIONS[status],
            "content": {"application/problem+json": {"schema": PROBLEM_REF, "example": example}},
        }
    return out


# Every authenticated JSON operation can answer these.
AUTH_ERRORS = problems(
    400,
    401,
    403,
    422,
    examples={400: ("duplicate_authorization", "Send the Authorization header once.")},
)
BODY_ERRORS = problems(400, 413, 415)
