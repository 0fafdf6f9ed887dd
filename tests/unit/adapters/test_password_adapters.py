"""argon2id hasher at OWASP's minimum with rehash on weaker parameters; the shipped common-password list."""

from __future__ import annotations

import secrets

import argon2
import pytest

from adapters.passwords.argon2_password_hasher import Argon2PasswordHasher
from adapters.passwords.common_password_list import ShippedCommonPasswords, _shipped_words
from domain.identity.passwords import MAX_LENGTH, MIN_LENGTH, CommonPasswords, PasswordHasher, check_password
from domain.shared.errors import ValidationFailed

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher()


@pytest.fixture(scope="module")
def common() -> ShippedCommonPasswords:
    return ShippedCommonPasswords()


def test_adapters_satisfy_the_ports(hasher: Argon2PasswordHasher, common: ShippedCommonPasswords) -> None:
    port: PasswordHasher = hasher
    listed: CommonPasswords = common
    assert port is hasher
    assert listed is common


def test_hash_is_argon2id_with_owasp_parameters(hasher: Argon2PasswordHasher) -> None:
    encoded = hasher.hash(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in encoded
    assert hasher.hash(PASSWORD) != encoded  # salted


def test_verify_true_and_false(hasher: Argon2PasswordHasher) -> None:
    encoded = hasher.hash(PASSWORD)
    assert hasher.verify(encoded, PASSWORD) is True
    assert hasher.verify(encoded, PASSWORD.upper()) is False
    assert hasher.verify(encoded, "") is False


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$2b$12$abcdefghijklmnopqrstuuVwxyz0123456789ABCDEFGHIJKLMNO",
    ],
)
def test_malformed_hash_verifies_false_without_raising(hasher: Argon2PasswordHasher, malformed: str) -> None:
    assert hasher.verify(malformed, PASSWORD) is False
    assert hasher.needs_rehash(malformed) is True


def test_needs_rehash_false_for_current_parameters(hasher: Argon2PasswordHasher) -> None:
    assert hasher.needs_rehash(hasher.hash(PASSWORD)) is False


def test_needs_rehash_true_for_a_hash_made_with_lower_parameters(hasher: Argon2PasswordHasher) -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=argon2.Type.ID).hash(PASSWORD)
    assert hasher.verify(weak, PASSWORD) is True
    assert hasher.needs_rehash(weak) is True


def test_needs_rehash_true_when_the_parameters_rise(hasher: Argon2PasswordHasher) -> None:
    encoded = hasher.hash(PASSWORD)
    stronger = Argon2PasswordHasher(time_cost=3, memory_cost=19456, parallelism=1)
    assert stronger.verify(encoded, PASSWORD) is True
    assert stronger.needs_rehash(encoded) is True


def test_needs_rehash_true_for_argon2i(hasher: Argon2PasswordHasher) -> None:
    other_type = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=argon2.Type.I)
    assert hasher.needs_rehash(other_type.hash(PASSWORD)) is True


@pytest.mark.parametrize(
    ("time_cost", "memory_cost", "parallelism"),
    [(1, 19456, 1), (2, 19455, 1), (2, 19456, 0), (1, 4096, 1)],
)
def test_constructor_refuses_parameters_below_the_owasp_minimum(
    time_cost: int, memory_cost: int, parallelism: int
) -> None:
    with pytest.raises(ValueError):
        Argon2PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def test_common_list_has_at_least_ten_thousand_entries(common: ShippedCommonPasswords) -> None:
    assert len(common) >= 10_000


def test_common_list_is_loaded_once_and_shared() -> None:
    assert len(ShippedCommonPasswords()) == len(ShippedCommonPasswords())
    assert _shipped_words() is _shipped_words()


@pytest.mark.parametrize("word", ["password", "123456", "PASSWORD", "Password", "qwerty"])
def test_common_list_contains_well_known_passwords_in_any_case(common: ShippedCommonPasswords, word: str) -> None:
    assert word in common


@pytest.mark.parametrize(
    "word",
    [
        "1qaz2wsx3edc",
        "QAZWSXEDCRFV",
        "LeaveMeAlone",
        "FinalFantasy",
        "123456789987654321",
        "ghbdtnrfrltkf",
        "SonyEricsson",
        "iloveyouforever",
    ],
)
def test_common_list_contains_long_leaked_passwords_in_any_case(common: ShippedCommonPasswords, word: str) -> None:
    assert len(word) >= MIN_LENGTH
    assert word in common
    assert word.upper() in common


def test_common_list_has_thousands_of_passwords_the_length_rule_does_not_already_refuse() -> None:
    assert sum(len(word) >= MIN_LENGTH for word in _shipped_words()) >= 10_000


def test_common_list_entries_are_lower_case_and_within_the_length_limit() -> None:
    words = _shipped_words()
    assert all(word == word.lower() and 0 < len(word) <= MAX_LENGTH for word in words)


def test_common_list_misses_an_uncommon_passphrase(common: ShippedCommonPasswords) -> None:
    assert PASSWORD not in common
    assert "renewal desk opens at nine" not in common
    assert secrets.token_urlsafe(24) not in common
    assert "-".join(secrets.choice(("amber", "quartz", "lantern", "meadow", "pylon")) for _ in range(6)) not in common


@pytest.mark.parametrize("value", [None, 123456, b"password", ["password"], 1.5])
def test_common_list_never_contains_a_non_string(common: ShippedCommonPasswords, value: object) -> None:
    assert value not in common


def test_policy_with_the_shipped_list(common: ShippedCommonPasswords) -> None:
    assert "qwerty123456" in common
    with pytest.raises(ValidationFailed):
        check_password("QWERTY123456", common=common)
    check_password(PASSWORD, common=common)
