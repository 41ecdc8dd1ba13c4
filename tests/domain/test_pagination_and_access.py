import uuid
from collections import namedtuple
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.access import Principal, Scope, hash_api_key, new_api_key, parse_scopes
from app.domain.errors import Forbidden, Invalid
from app.domain.pagination import (
    decode_cursor,
    encode_cursor,
    member_cursor,
    page_of,
    time_id_cursor,
    time_id_page,
)

keys = st.lists(st.one_of(st.text(max_size=20), st.integers()), min_size=1, max_size=3)


@given(keys)
def test_cursor_round_trip(key):
    assert decode_cursor(encode_cursor(key), len(key), (str, int)) == key


def test_cursor_element_types_are_enforced():
    with pytest.raises(Invalid):
        decode_cursor(encode_cursor([5]), 1)  # str expected
    assert decode_cursor(encode_cursor([5]), 1, (int,)) == [5]


@pytest.mark.parametrize("bad", ["%%%", "bm90IGpzb24", encode_cursor(["a", "b"]), "e30"])
def test_foreign_cursors_are_invalid(bad):
    with pytest.raises(Invalid) as err:
        decode_cursor(bad, 1)
    assert err.value.code == "invalid_cursor" and err.value.errors[0].field == "cursor"


@given(st.lists(st.integers(), max_size=30), st.integers(min_value=1, max_value=10))
def test_page_of_has_cursor_only_when_more(rows, limit):
    page = page_of(rows[: limit + 1], limit, lambda r: [r])
    assert page.items == rows[:limit]
    assert (page.next_cursor is not None) == (len(rows) > limit)


def test_member_cursors_carry_a_member_id():
    member = uuid.uuid4()
    assert member_cursor(encode_cursor([str(member)])) == member
    assert member_cursor(None) is None
    for bad in (encode_cursor(["not-a-uuid"]), encode_cursor([7])):
        with pytest.raises(Invalid) as caught:
            member_cursor(bad)
        assert caught.value.code == "invalid_cursor"


def test_time_id_cursors_carry_an_aware_time_and_an_id():
    at = datetime(2026, 12, 3, 8, 30, 0, 123456, tzinfo=UTC)
    Row = namedtuple("Row", "id at")
    page = time_id_page([Row(9, at), Row(4, at)], 1, lambda row: row.at)
    assert time_id_cursor(page.next_cursor) == (at, 9)
    assert time_id_cursor(None) is None
    bad_ones = (
        encode_cursor(["2026-12-03T08:30:00", 9]),  # no offset
        encode_cursor(["yesterday", 9]),
        encode_cursor([9, 9]),
        encode_cursor(["2026-12-03T08:30:00+00:00", "9"]),
        encode_cursor([9]),
    )
    for bad in bad_ones:
        with pytest.raises(Invalid) as caught:
            time_id_cursor(bad)
        assert caught.value.code == "invalid_cursor"


def test_keys_are_random_and_hashed():
    a, b = new_api_key(), new_api_key()
    assert a != b and a.startswith("lk_") and len(a) > 40
    assert hash_api_key(a) != hash_api_key(b) and a not in hash_api_key(a)
    assert len(hash_api_key(a)) == 64


def test_scopes():
    assert parse_scopes(["pos", "admin", "pos"]) == (Scope.ADMIN, Scope.POS)
    for bad in ([], ["root"]):
        with pytest.raises(Invalid):
            parse_scopes(bad)
    p = Principal("t", "k", "till", frozenset({Scope.POS}))
    p.require(frozenset({Scope.POS, Scope.ADMIN}))
    with pytest.raises(Forbidden):
        p.require(frozenset({Scope.ADMIN}))
