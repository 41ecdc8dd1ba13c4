"""Problems in the client's language (Accept-Language): title, detail and field messages in
Simplified Chinese or English; the machine ``code`` the same in both."""

import re
import uuid

import pytest

from app.routers.i18n import negotiate

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh-CN"}


def texts(body: dict) -> list[str]:
    return [body["title"], body["detail"], *(e["message"] for e in body["errors"])]


def assert_chinese(r) -> dict:
    assert r.headers["content-language"] == "zh-Hans"
    assert "accept-language" in r.headers["vary"].lower()
    body = r.json()
    assert all(CJK.search(t) for t in texts(body)), body
    return body


def assert_english(r) -> dict:
    assert r.headers["content-language"] == "en"
    body = r.json()
    assert not any(CJK.search(t) for t in texts(body)), body
    return body


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("zh-CN", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("ZH-cn", "zh_Hans"),
        ("zh-CN;q=0.9,en;q=0.8", "zh_Hans"),
        ("en;q=0.5, zh-CN;q=0.9", "zh_Hans"),
        ("fr-FR, zh;q=0.3", "zh_Hans"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("zh-TW", "en"),  # Traditional Chinese is not offered: English, not Simplified
        ("zh-Hant, zh-CN;q=0.5", "zh_Hans"),
        ("zh-CN;q=0, en", "en"),  # q=0: not acceptable
        ("*", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("zh-CN;q=oops", "en"),
        (";;,,", "en"),
    ],
)
def test_negotiation_follows_q_values(header, locale):
    assert negotiate(header) == locale


async def test_validation_error_in_both_languages(client, tenant):
    async def post(extra):
        return await client.post(
            "/v1/stores", json={"code": "S01"}, headers={**tenant.headers, **extra}
        )

    english, chinese = await post({}), await post(ZH)
    assert english.status_code == chinese.status_code == 422
    en, zh = assert_english(english), assert_chinese(chinese)
    assert en["code"] == zh["code"] == "validation_error"
    assert en["type"] == zh["type"]
    assert en["title"] == "Invalid input" and zh["title"] == "输入无效"
    assert en["errors"] == [{"field": "name", "message": "Field required"}]
    assert zh["errors"] == [{"field": "name", "message": "缺少必填字段"}]
    assert zh["detail"] == "请求无效。name: 缺少必填字段"
    # A constraint of pydantic's own with its value (ctx) filled into the translation.
    r = await client.post(
        "/v1/stores", json={"code": "S01", "name": "x" * 300}, headers={**tenant.headers, **ZH}
    )
    limit = re.search(r"\d+", r.json()["errors"][0]["message"])
    assert limit and r.json()["errors"][0]["message"] == f"最多只能有 {limit[0]} 个字符"


async def test_not_found_in_both_languages(client, tenant):
    member_id = str(uuid.uuid4())
    english = await client.get(
        f"/v1/members/{member_id}", headers={**tenant.headers, "Accept-Language": "en"}
    )
    chinese = await client.get(f"/v1/members/{member_id}", headers={**tenant.headers, **ZH})
    assert english.status_code == chinese.status_code == 404
    en, zh = assert_english(english), assert_chinese(chinese)
    assert en["code"] == zh["code"] == "member_not_found"
    assert en["detail"] == f"No member with id {member_id}."
    assert zh["detail"] == f"找不到 ID 为 {member_id} 的会员。"  # the value kept as sent
    # A path no route matches: the framework's 404, translated too.
    r = await client.get("/v1/nowhere", headers=ZH)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert assert_chinese(r)["detail"] == "没有与 GET /v1/nowhere 匹配的接口。"


async def test_domain_conflict_in_both_languages(client, tenant):
    body = {"code": "L01", "name": "One"}
    assert (await client.post("/v1/stores", json=body, headers=tenant.headers)).status_code == 201
    english = await client.post("/v1/stores", json=body, headers=tenant.headers)
    chinese = await client.post(
        "/v1/stores", json=body, headers={**tenant.headers, "Accept-Language": "zh-Hans"}
    )
    assert english.status_code == chinese.status_code == 409
    en, zh = assert_english(english), assert_chinese(chinese)
    assert en["code"] == zh["code"] == "store_exists"
    assert (en["title"], zh["title"]) == ("Conflict", "冲突")
    assert zh["detail"] == "该编码的门店已存在。"
    assert zh["errors"] == [{"field": "code", "message": zh["detail"]}]


async def test_a_lane_answers_in_the_language_asked(client):
    """The till's quote is answered before FastAPI's routing: its refusals are translated too."""
    basket = {
        "store_code": "S01",
        "card_number": "S01GD0000001",
        "lines": [{"line_no": 1, "sku": "A", "original_price": "1.00", "qty": "1"}],
    }
    r = await client.post("/v1/checkout/quote", json=basket, headers=ZH)
    assert r.status_code == 401 and r.json()["code"] == "missing_credentials"
    assert assert_chinese(r)["title"] == "需要身份验证"


async def test_successful_answers_carry_no_language(client, tenant):
    r = await client.get("/v1/stores", headers={**tenant.headers, **ZH})
    assert r.status_code == 200 and "content-language" not in r.headers


async def test_our_own_validators_are_translated_with_their_rules(client, tenant):
    basket = {
        "store_code": "S01",
        "card_number": "S01GD0000001",
        "at": "yesterday",
        "lines": [{"line_no": 1, "sku": "A", "original_price": "1.00", "qty": 1}],
    }
    for language, decimal, instant in (
        (
            "en",
            'Value error, must be a decimal number written as a JSON string, e.g. "0.90"',
            "must be an ISO-8601",
        ),
        ("zh-CN", '须为以 JSON 字符串表示的十进制数，例如 "0.90"', "须为带 UTC 时差"),
    ):
        r = await client.post(
            "/v1/checkout/quote",
            json=basket,
            headers={**tenant.headers, "Accept-Language": language},
        )
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
        messages = {e["field"]: e["message"] for e in r.json()["errors"]}
        assert messages["lines[0].qty"] == decimal
        assert messages["at"].startswith(instant), messages


async def test_a_replayed_refusal_is_the_stored_one_and_claims_no_language(client, tenant):
    path = "/v1/points/redemptions/999999/cancel"
    keyed = {**tenant.headers, "Idempotency-Key": f"lang-{uuid.uuid4()}"}
    first = await client.post(path, headers={**keyed, **ZH})
    assert first.status_code == 404 and first.json()["code"] == "redemption_not_found"
    assert_chinese(first)
    again = await client.post(path, headers={**keyed, "Accept-Language": "en"})
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # as stored, in Chinese
    assert "content-language" not in again.headers
