"""Recovery codes: ten distinct high-entropy codes, hashed at rest, matched in any case, used once."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest

from domain.identity.recovery_codes import (
    CODE_BITS,
    hash_recovery_code,
    match_recovery_code,
    new_recovery_codes,
)

CODE_SHAPE = re.compile(r"^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){5}$")


def deterministic_random() -> Callable[[int], bytes]:
    """A repeatable byte stream (SHA-256 in counter mode) standing in for secrets.token_bytes."""
    counter = 0

    def take(n: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < n:
            out += hashlib.sha256(counter.to_bytes(8, "big")).digest()
            counter += 1
        return out[:n]

    return take


def test_ten_distinct_well_formed_codes() -> None:
    codes = new_recovery_codes(deterministic_random())
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(CODE_SHAPE.match(code) for code in codes), codes
    assert CODE_BITS >= 112


def test_same_randomness_gives_the_same_codes() -> None:
    assert new_recovery_codes(deterministic_random()) == new_recovery_codes(deterministic_random())


def test_a_repeated_code_is_drawn_again() -> None:
    chunks = iter([bytes(24), bytes(24), bytes([1] * 24)])
    codes = new_recovery_codes(lambda n: next(chunks), count=2)
    assert codes == ["0000-0000-0000-0000-0000-0000", "1111-1111-1111-1111-1111-1111"]


def test_randomness_that_never_changes_is_rejected() -> None:
    with pytest.raises(ValueError):
        new_recovery_codes(lambda n: bytes(n))


def test_hash_is_sha256_hex_and_not_the_code() -> None:
    code = new_recovery_codes(deterministic_random(), count=1)[0]
    digest = hash_recovery_code(code)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert code.replace("-", "") not in digest


def test_a_code_matches_in_upper_case_without_dashes_and_with_spaces() -> None:
    codes = new_recovery_codes(deterministic_random())
    hashes = [hash_recovery_code(c) for c in codes]
    target = codes[3]
    assert match_recovery_code(target, hashes) == hashes[3]
    assert match_recovery_code(target.upper(), hashes) == hashes[3]
    assert match_recovery_code(target.replace("-", ""), hashes) == hashes[3]
    assert match_recovery_code(" " + target.replace("-", " ").upper() + "\n", hashes) == hashes[3]


def test_look_alike_letters_are_read_as_digits() -> None:
    hashes = [hash_recovery_code("0000-1111-0000-1111-0000-1111")]
    assert match_recovery_code("OOOO-IIII-oooo-llll-0000-1L1i", hashes) == hashes[0]


def test_unknown_and_malformed_codes_do_not_match() -> None:
    hashes = [hash_recovery_code(c) for c in new_recovery_codes(deterministic_random())]
    assert match_recovery_code("zzzz-zzzz-zzzz-zzzz-zzzz-zzzz", hashes) is None
    assert match_recovery_code("", hashes) is None
    assert match_recovery_code("uuuu-uuuu-uuuu-uuuu-uuuu-uuuu", hashes) is None
    assert match_recovery_code(hashes[0], hashes) is None


def test_single_use_is_the_caller_removing_the_matched_hash() -> None:
    codes = new_recovery_codes(deterministic_random())
    stored = [hash_recovery_code(c) for c in codes]
    matched = match_recovery_code(codes[0], stored)
    assert matched is not None
    stored.remove(matched)
    assert len(stored) == 9
    assert match_recovery_code(codes[0], stored) is None
    assert match_recovery_code(codes[1], stored) is not None
