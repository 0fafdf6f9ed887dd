"""Password policy: 12-128 code points after NFKC, any characters, common and context words refused."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from domain.identity.passwords import MAX_LENGTH, MIN_LENGTH, check_password, normalise_password
from domain.shared.errors import ValidationFailed


class ListedPasswords:
    def __init__(self, *words: str) -> None:
        self._words = frozenset(w.lower() for w in words)

    def __contains__(self, password: str) -> bool:
        return password.lower() in self._words


COMMON = ListedPasswords("password1234", "qwertyuiop123")


def refused(password: str, *, field: str = "password", context_words: Iterable[str] = ()) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        check_password(password, common=COMMON, field=field, context_words=context_words)
    return caught.value


def test_bounds_are_12_and_128() -> None:
    assert (MIN_LENGTH, MAX_LENGTH) == (12, 128)


def test_eleven_characters_are_refused_and_twelve_accepted() -> None:
    assert "at least 12" in str(refused("a" * 4 + "b" * 7))
    check_password("a" * 4 + "b" * 8, common=COMMON)


def test_128_characters_are_accepted_and_129_refused() -> None:
    check_password("x" * 128, common=COMMON)
    error = refused("x" * 129)
    assert error.details[0].field == "password"
    assert "at most 128" in str(error)


def test_emoji_count_as_one_code_point_each() -> None:
    check_password("🔒" * 12, common=COMMON)
    refused("🔒" * 11)  # 44 bytes of UTF-8, still only 11 characters
    refused("🔒" * 129)


def test_combining_characters_are_counted_after_nfkc_composition() -> None:
    decomposed = "e\u0301" * 12  # 24 code points as typed, 12 once composed to é
    assert len(normalise_password(decomposed)) == 12
    check_password(decomposed, common=COMMON)
    refused("e\u0301" * 11)
    check_password("e\u0301" * 128, common=COMMON)
    refused("e\u0301" * 129)


def test_compatibility_characters_are_folded_by_nfkc() -> None:
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in "password1234")  # full-width forms (U+FF50...)
    assert full_width != "password1234"
    assert normalise_password(full_width) == "password1234"
    refused(full_width)


def test_a_common_password_is_refused_case_insensitively() -> None:
    assert "too common" in str(refused("Password1234"))
    refused("QWERTYUIOP123")


def test_a_context_word_is_refused_case_insensitively() -> None:
    error = refused("Asha.Rao.1990", context_words=["asha.rao.1990", "Asha Rao"], field="new_password")
    assert error.details[0].field == "new_password"
    check_password("Asha.Rao.1990!", common=COMMON, context_words=["asha.rao.1990", ""])


def test_a_long_passphrase_with_spaces_is_accepted() -> None:
    check_password("  the renewal desk opens at nine on mondays  ", common=COMMON)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "alllowercaseletters", "123456789012345", "नमस्ते दुनिया सबको", "tab\tand\nnewline!"],
)
def test_no_composition_rules(password: str) -> None:
    check_password(password, common=COMMON)
