"""TOTP: RFC 6238 Appendix B vectors, one step of lateness, no future steps, replay refusal, Key URI."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.totp import decode_secret, match_step, new_secret, otpauth_uri, step_at, totp_code

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238 Appendix B: (time, algorithm, 8-digit TOTP)
RFC_6238_VECTORS = [
    (59, "sha1", "94287082"),
    (59, "sha256", "46119246"),
    (59, "sha512", "90693936"),
    (1111111109, "sha1", "07081804"),
    (1111111109, "sha256", "68084774"),
    (1111111109, "sha512", "25091201"),
    (1111111111, "sha1", "14050471"),
    (1111111111, "sha256", "67062674"),
    (1111111111, "sha512", "99943326"),
    (1234567890, "sha1", "89005924"),
    (1234567890, "sha256", "91819424"),
    (1234567890, "sha512", "93441116"),
    (2000000000, "sha1", "69279037"),
    (2000000000, "sha256", "90698825"),
    (2000000000, "sha512", "38618901"),
    (20000000000, "sha1", "65353130"),
    (20000000000, "sha256", "77737706"),
    (20000000000, "sha512", "47863826"),
]
SECRET = SEEDS["sha1"]
NOW = 1_700_000_015  # inside step 56_666_667
NOW_STEP = NOW // 30


@pytest.mark.parametrize(("at", "algorithm", "expected"), RFC_6238_VECTORS)
def test_rfc_6238_appendix_b_vectors(at: int, algorithm: str, expected: str) -> None:
    assert totp_code(SEEDS[algorithm], at, digits=8, algorithm=algorithm) == expected


@pytest.mark.parametrize(("at", "algorithm", "expected"), RFC_6238_VECTORS)
def test_rfc_vectors_verify_once_then_are_refused_as_a_replay(at: int, algorithm: str, expected: str) -> None:
    step = match_step(SEEDS[algorithm], expected, at, last_used_step=None, digits=8, algorithm=algorithm)
    assert step == at // 30
    assert match_step(SEEDS[algorithm], expected, at, last_used_step=step, digits=8, algorithm=algorithm) is None


def test_six_digit_code_is_the_last_six_of_the_truncated_value() -> None:
    assert totp_code(SECRET, 59) == "287082"


def test_current_step_is_accepted_and_returned() -> None:
    assert match_step(SECRET, totp_code(SECRET, NOW), NOW, last_used_step=None) == NOW_STEP


def test_one_step_late_is_accepted() -> None:
    late = totp_code(SECRET, NOW - 30)
    assert match_step(SECRET, late, NOW, last_used_step=None) == NOW_STEP - 1


def test_two_steps_late_is_refused() -> None:
    assert match_step(SECRET, totp_code(SECRET, NOW - 60), NOW, last_used_step=None) is None


def test_a_future_step_is_refused() -> None:
    assert match_step(SECRET, totp_code(SECRET, NOW + 30), NOW, last_used_step=None) is None


def test_the_same_code_is_refused_the_second_time() -> None:
    code = totp_code(SECRET, NOW)
    used = match_step(SECRET, code, NOW, last_used_step=None)
    assert used == NOW_STEP
    assert match_step(SECRET, code, NOW, last_used_step=used) is None
    assert match_step(SECRET, code, NOW + 29, last_used_step=used) is None


def test_a_code_older_than_the_last_used_step_is_refused() -> None:
    used = match_step(SECRET, totp_code(SECRET, NOW), NOW, last_used_step=None)
    late = totp_code(SECRET, NOW - 30)
    assert match_step(SECRET, late, NOW, last_used_step=used) is None


def test_the_next_step_is_accepted_after_the_current_one_was_used() -> None:
    later = NOW + 30
    assert match_step(SECRET, totp_code(SECRET, later), later, last_used_step=NOW_STEP) == NOW_STEP + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 34 5"])
def test_malformed_codes_are_refused(code: str) -> None:
    assert match_step(SECRET, code, NOW, last_used_step=None) is None


def test_spaces_inside_a_typed_code_are_ignored() -> None:
    code = totp_code(SECRET, NOW)
    assert match_step(SECRET, f" {code[:3]} {code[3:]} ", NOW, last_used_step=None) == NOW_STEP


@given(
    secret=st.binary(min_size=20, max_size=64),
    at=st.integers(min_value=0, max_value=2**40),
)
def test_a_generated_code_verifies_at_its_own_time(secret: bytes, at: int) -> None:
    assert match_step(secret, totp_code(secret, at), at, last_used_step=None) == step_at(at)


def test_new_secret_is_unpadded_base32_and_round_trips() -> None:
    raw = bytes(range(20))
    secret = new_secret(raw)
    assert secret == "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT"
    assert "=" not in new_secret(bytes(21))
    assert decode_secret(secret) == raw
    assert decode_secret(secret.lower()) == raw


def test_new_secret_needs_at_least_160_bits() -> None:
    with pytest.raises(ValueError):
        new_secret(bytes(19))


def test_otpauth_uri_carries_every_parameter_quoted() -> None:
    uri = otpauth_uri("JBSWY3DPEHPK3PXP", "asha.rao+desk@example.in", "Renewal Desk & Co")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert parts.path == "/Renewal%20Desk%20%26%20Co:asha.rao%2Bdesk@example.in"
    assert unquote(parts.path) == "/Renewal Desk & Co:asha.rao+desk@example.in"
    assert parse_qs(parts.query) == {
        "secret": ["JBSWY3DPEHPK3PXP"],
        "issuer": ["Renewal Desk & Co"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    assert " " not in uri


def test_otpauth_uri_simple_form() -> None:
    assert otpauth_uri("JBSWY3DPEHPK3PXP", "asha@example.in", "Renewals") == (
        "otpauth://totp/Renewals:asha@example.in?secret=JBSWY3DPEHPK3PXP&issuer=Renewals"
        "&algorithm=SHA1&digits=6&period=30"
    )


@pytest.mark.parametrize(("account", "issuer"), [("a:b", "Renewals"), ("asha", "Re:newals"), ("", "R"), ("a", "")])
def test_otpauth_uri_refuses_colons_and_blanks(account: str, issuer: str) -> None:
    with pytest.raises(ValueError):
        otpauth_uri("JBSWY3DPEHPK3PXP", account, issuer)
