"""Voucher codes drawn a batch at a time (a campaign's bulk issue): the same codes as one at a
time, each valid, distinct and typed-in as it reads."""

from collections import Counter

from app.domain.voucher_codes import ALPHABET, LENGTH, canonical, check_character, new_codes


def test_a_batch_of_codes_are_valid_distinct_codes_of_our_alphabet():
    codes = new_codes(20_000)
    assert len(codes) == 20_000 and len(set(codes)) == 20_000
    for code in codes:
        assert len(code) == LENGTH and set(code) <= set(ALPHABET)
        assert check_character(code[:-1]) == code[-1]
        assert canonical(code.lower()) == code


def test_every_character_is_drawn_evenly():
    counts = Counter("".join(code[:-1] for code in new_codes(20_000)))
    expected = 20_000 * 13 / 32
    assert set(counts) == set(ALPHABET)
    assert all(0.9 * expected < n < 1.1 * expected for n in counts.values())


def test_none_asked_none_given():
    assert new_codes(0) == []
