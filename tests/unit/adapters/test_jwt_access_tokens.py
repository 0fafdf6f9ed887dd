"""HS256 access tokens with a key ring: round trip, times on the injected clock, purposes, forgeries, rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from adapters.jwt.pyjwt_access_tokens import PyJwtAccessTokens, parse_key_ring
from adapters.system.clock import FixedClock
from application.identity.ports import AccessClaims, AccessTokenIssuer, InvalidToken

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SECRET_A = "a" * 32 + "-current-key-material"
SECRET_B = "b" * 32 + "-previous-key-material"
SECRET_C = "c" * 40
ISSUER = "renewals"
AUDIENCE = "renewals-api"


def make_tokens(
    clock: FixedClock,
    keys: dict[str, str] | None = None,
    current_kid: str = "2026-11",
    *,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    leeway: int = 30,
) -> PyJwtAccessTokens:
    counter = itertools.count(1)
    return PyJwtAccessTokens(
        keys if keys is not None else {"2026-11": SECRET_A, "2026-10": SECRET_B},
        current_kid=current_kid,
        issuer=issuer,
        audience=audience,
        clock=clock,
        token_ids=lambda: f"jti-{next(counter)}",
        default_ttl=900,
        leeway=leeway,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def tokens(clock: FixedClock) -> PyJwtAccessTokens:
    return make_tokens(clock)


def issue(tokens: PyJwtAccessTokens, **overrides: Any) -> str:
    arguments: dict[str, Any] = {"user_id": 42, "session_id": "sess-1", "session_version": 3, **overrides}
    token, _ = tokens.issue(**arguments)
    return token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def hs256(signing_input: str, secret: str) -> str:
    return b64(hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest())


def payload_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def reason(tokens: PyJwtAccessTokens, token: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidToken) as caught:
        tokens.verify(token, **kwargs)
    return caught.value.reason


# --- round trip and contents ------------------------------------------------------------------------------

def test_adapter_satisfies_the_port(tokens: PyJwtAccessTokens) -> None:
    port: AccessTokenIssuer = tokens
    assert port is tokens


def test_round_trip(tokens: PyJwtAccessTokens) -> None:
    token, claims = tokens.issue(user_id=42, session_id="sess-1", session_version=3)
    start = int(START.timestamp())
    assert claims == AccessClaims(
        user_id=42, session_id="sess-1", session_version=3, purpose="access", issued_at=start,
        expires_at=start + 900, token_id="jti-1",
    )
    assert tokens.verify(token) == claims


def test_ttl_override(tokens: PyJwtAccessTokens) -> None:
    _, claims = tokens.issue(user_id=1, session_id="s", session_version=0, ttl_seconds=120)
    assert claims.expires_at - claims.issued_at == 120
    with pytest.raises(ValueError):
        tokens.issue(user_id=1, session_id="s", session_version=0, ttl_seconds=0)


def test_token_names_user_session_and_key_id(tokens: PyJwtAccessTokens) -> None:
    token = issue(tokens)
    header = jwt.get_unverified_header(token)
    payload = payload_of(token)
    assert header["kid"] == "2026-11"
    assert header["alg"] == "HS256"
    assert payload["sub"] == "42"
    assert payload["sid"] == "sess-1"
    assert payload["sv"] == 3
    assert payload["pur"] == "access"
    assert payload["iss"] == ISSUER
    assert payload["aud"] == AUDIENCE
    assert payload["jti"] == "jti-1"
    assert SECRET_A not in token


def test_each_token_gets_a_fresh_id(tokens: PyJwtAccessTokens) -> None:
    assert payload_of(issue(tokens))["jti"] != payload_of(issue(tokens))["jti"]


# --- times --------------------------------------------------------------------------------------------------

def test_expiry_exactly_at_exp_plus_leeway(tokens: PyJwtAccessTokens, clock: FixedClock) -> None:
    token = issue(tokens)
    clock.advance(timedelta(seconds=900))  # at exp: still inside the leeway
    assert tokens.verify(token).user_id == 42
    clock.advance(timedelta(seconds=29))  # exp + leeway - 1
    assert tokens.verify(token).user_id == 42
    clock.advance(timedelta(seconds=1))  # exp + leeway
    assert reason(tokens, token) == "expired"


def test_expiry_without_leeway(clock: FixedClock) -> None:
    tokens = make_tokens(clock, leeway=0)
    token = issue(tokens)
    clock.advance(timedelta(seconds=899, microseconds=999_999))
    assert tokens.verify(token).user_id == 42
    clock.advance(timedelta(microseconds=1))
    assert reason(tokens, token) == "expired"


def test_token_from_the_future_is_refused(clock: FixedClock) -> None:
    future = make_tokens(FixedClock(START + timedelta(seconds=31)))
    token = issue(future)
    assert reason(make_tokens(clock), token) == "not_yet_valid"
    clock.advance(timedelta(seconds=1))  # now iat is within the leeway
    assert make_tokens(clock).verify(token).user_id == 42


def test_not_before_in_the_future_is_refused(tokens: PyJwtAccessTokens) -> None:
    payload = payload_of(issue(tokens)) | {"nbf": int(START.timestamp()) + 60}
    token = jwt.encode(payload, SECRET_A, algorithm="HS256", headers={"kid": "2026-11"})
    assert reason(tokens, token) == "not_yet_valid"


# --- purposes -------------------------------------------------------------------------------------------------

def test_mfa_setup_token_is_not_an_access_token(tokens: PyJwtAccessTokens) -> None:
    token = issue(tokens, purpose="mfa_setup")
    assert reason(tokens, token) == "wrong_purpose"
    assert reason(tokens, token, purpose="mfa_challenge") == "wrong_purpose"
    assert tokens.verify(token, purpose="mfa_setup").purpose == "mfa_setup"


def test_access_token_is_not_an_mfa_challenge(tokens: PyJwtAccessTokens) -> None:
    assert reason(tokens, issue(tokens), purpose="mfa_challenge") == "wrong_purpose"


def test_unknown_purpose_claim_is_malformed(tokens: PyJwtAccessTokens) -> None:
    payload = payload_of(issue(tokens)) | {"pur": "admin"}
    token = jwt.encode(payload, SECRET_A, algorithm="HS256", headers={"kid": "2026-11"})
    assert reason(tokens, token) == "malformed"


# --- forgeries and damage ---------------------------------------------------------------------------------------

def test_tampered_payload_is_refused(tokens: PyJwtAccessTokens) -> None:
    header, _, signature = issue(tokens).split(".")
    forged_payload = payload_of(issue(tokens)) | {"sub": "1"}
    assert reason(tokens, f"{header}.{b64_json(forged_payload)}.{signature}") == "bad_signature"


def test_tampered_signature_is_refused(tokens: PyJwtAccessTokens) -> None:
    header, payload, signature = issue(tokens).split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert reason(tokens, f"{header}.{payload}.{flipped}") == "bad_signature"
    assert reason(tokens, f"{header}.{payload}.") == "bad_signature"


def test_alg_none_is_refused(tokens: PyJwtAccessTokens) -> None:
    payload = payload_of(issue(tokens))
    unsigned = f"{b64_json({'alg': 'none', 'typ': 'JWT', 'kid': '2026-11'})}.{b64_json(payload)}."
    assert reason(tokens, unsigned) == "bad_signature"
    also_unsigned = jwt.encode(payload, "", algorithm="none", headers={"kid": "2026-11"})
    assert reason(tokens, also_unsigned) == "bad_signature"


def test_other_hmac_algorithm_is_refused(clock: FixedClock) -> None:
    long_secret = "h" * 64  # long enough for HS512, so only the algorithm is wrong
    tokens = make_tokens(clock, {"2026-11": long_secret}, "2026-11")
    token = jwt.encode(payload_of(issue(tokens)), long_secret, algorithm="HS512", headers={"kid": "2026-11"})
    assert reason(tokens, token) == "bad_signature"


def test_rs256_header_with_hmac_signature_is_refused(tokens: PyJwtAccessTokens) -> None:
    # the classic key-confusion forgery: header claims RS256, signature is an HMAC with a key the server knows
    header = {"alg": "RS256", "typ": "JWT", "kid": "2026-11"}
    signing_input = f"{b64_json(header)}.{b64_json(payload_of(issue(tokens)))}"
    assert reason(tokens, f"{signing_input}.{hs256(signing_input, SECRET_A)}") == "bad_signature"


def test_hand_made_hs256_token_is_accepted_so_the_forgery_tests_are_meaningful(tokens: PyJwtAccessTokens) -> None:
    header = {"alg": "HS256", "typ": "JWT", "kid": "2026-11"}
    signing_input = f"{b64_json(header)}.{b64_json(payload_of(issue(tokens)))}"
    assert tokens.verify(f"{signing_input}.{hs256(signing_input, SECRET_A)}").user_id == 42


def test_unknown_kid_is_refused(tokens: PyJwtAccessTokens, clock: FixedClock) -> None:
    stranger = make_tokens(clock, {"2025-01": SECRET_C}, "2025-01")
    assert reason(tokens, issue(stranger)) == "unknown_key"


def test_kid_pointing_at_another_key_is_refused(tokens: PyJwtAccessTokens) -> None:
    token = jwt.encode(payload_of(issue(tokens)), SECRET_A, algorithm="HS256", headers={"kid": "2026-10"})
    assert reason(tokens, token) == "bad_signature"


def test_missing_kid_is_malformed(tokens: PyJwtAccessTokens) -> None:
    token = jwt.encode(payload_of(issue(tokens)), SECRET_A, algorithm="HS256")
    assert reason(tokens, token) == "malformed"


@pytest.mark.parametrize("claim", ["sub", "sid", "sv", "pur", "jti", "iat", "exp"])
def test_missing_claim_is_malformed(tokens: PyJwtAccessTokens, claim: str) -> None:
    payload = payload_of(issue(tokens))
    del payload[claim]
    token = jwt.encode(payload, SECRET_A, algorithm="HS256", headers={"kid": "2026-11"})
    assert reason(tokens, token) == "malformed"


@pytest.mark.parametrize(
    "change", [{"sub": 42}, {"sub": "abc"}, {"sub": "-1"}, {"sv": "3"}, {"sv": True}, {"sid": ""}, {"exp": "later"}],
)
def test_badly_typed_claims_are_malformed(tokens: PyJwtAccessTokens, change: dict[str, Any]) -> None:
    token = jwt.encode(payload_of(issue(tokens)) | change, SECRET_A, algorithm="HS256", headers={"kid": "2026-11"})
    assert reason(tokens, token) == "malformed"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "...", "x" * 5000])
def test_garbage_is_malformed(tokens: PyJwtAccessTokens, garbage: str) -> None:
    assert reason(tokens, garbage) == "malformed"


def test_wrong_audience_and_issuer_are_refused(tokens: PyJwtAccessTokens, clock: FixedClock) -> None:
    assert reason(tokens, issue(make_tokens(clock, audience="other-api"))) == "wrong_audience"
    assert reason(tokens, issue(make_tokens(clock, issuer="someone-else"))) == "wrong_issuer"


# --- rotation -----------------------------------------------------------------------------------------------------

def test_rotation_keeps_old_tokens_while_the_key_is_in_the_ring(clock: FixedClock) -> None:
    before = make_tokens(clock, {"2026-10": SECRET_B}, "2026-10")
    old_token = issue(before)

    rotated = make_tokens(clock, {"2026-11": SECRET_A, "2026-10": SECRET_B}, "2026-11")
    new_token = issue(rotated)
    assert jwt.get_unverified_header(new_token)["kid"] == "2026-11"
    assert rotated.verify(old_token).user_id == 42
    assert rotated.verify(new_token).user_id == 42
    assert reason(before, new_token) == "unknown_key"  # an instance not yet rotated refuses the new key

    retired = make_tokens(clock, {"2026-11": SECRET_A}, "2026-11")
    assert reason(retired, old_token) == "unknown_key"
    assert retired.verify(new_token).user_id == 42


def test_old_key_tokens_still_expire(clock: FixedClock) -> None:
    old_token = issue(make_tokens(clock, {"2026-10": SECRET_B}, "2026-10"))
    rotated = make_tokens(clock)
    clock.advance(timedelta(seconds=930))
    assert reason(rotated, old_token) == "expired"


def test_the_ring_is_copied(clock: FixedClock) -> None:
    ring = {"2026-11": SECRET_A, "2026-10": SECRET_B}
    tokens = make_tokens(clock, ring)
    old_token = issue(make_tokens(clock, {"2026-10": SECRET_B}, "2026-10"))
    del ring["2026-10"]
    assert tokens.verify(old_token).user_id == 42


# --- construction ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", ["", "short", "x" * 31, "é" * 15])
def test_short_secrets_are_refused(clock: FixedClock, secret: str) -> None:
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        make_tokens(clock, {"2026-11": secret}, "2026-11")
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        make_tokens(clock, {"2026-11": SECRET_A, "2026-10": secret}, "2026-11")


def test_secret_length_counts_bytes(clock: FixedClock) -> None:
    tokens = make_tokens(clock, {"k": "é" * 16}, "k")  # 16 characters, 32 bytes
    assert tokens.verify(issue(tokens)).user_id == 42
    assert make_tokens(clock, {"k": "x" * 32}, "k").current_kid == "k"


def test_invalid_construction_is_refused(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="not in the key ring"):
        make_tokens(clock, {"2026-10": SECRET_B}, "2026-11")
    with pytest.raises(ValueError, match="empty"):
        make_tokens(clock, {}, "2026-11")
    with pytest.raises(ValueError, match="issuer and audience"):
        make_tokens(clock, audience="")
    with pytest.raises(ValueError, match="leeway"):
        make_tokens(clock, leeway=-1)


def test_naive_clock_is_refused() -> None:
    tokens = make_tokens(FixedClock(datetime(2026, 11, 1, 9, 0)))  # naive on purpose
    with pytest.raises(ValueError, match="timezone-aware"):
        issue(tokens)


# --- parse_key_ring -----------------------------------------------------------------------------------------------

def test_parse_key_ring_happy_path() -> None:
    ring, current = parse_key_ring(f"2026-11:{SECRET_A}, 2026-10:{SECRET_B}")
    assert current == "2026-11"
    assert ring == {"2026-11": SECRET_A, "2026-10": SECRET_B}
    assert list(ring) == ["2026-11", "2026-10"]


def test_parse_key_ring_single_key_and_colons_in_secret() -> None:
    secret = "p:q:" + "r" * 40
    assert parse_key_ring(f"k1:{secret}") == ({"k1": secret}, "k1")


def test_parsed_ring_builds_working_tokens(clock: FixedClock) -> None:
    ring, current = parse_key_ring(f"2026-11:{SECRET_A},2026-10:{SECRET_B}")
    tokens = make_tokens(clock, ring, current)
    assert jwt.get_unverified_header(issue(tokens))["kid"] == "2026-11"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (SECRET_A, "entry 1 is not of the form kid:secret"),
        (f":{SECRET_A}", "entry 1: the key id"),
        (f"bad kid!:{SECRET_A}", "entry 1: the key id"),
        (f"k1:{SECRET_A},k1:{SECRET_B}", "entry 2: the key id 'k1' appears twice"),
        ("k1:too-short", "'k1' is shorter than 32 bytes"),
        (f"k1:{SECRET_A},", "entry 2 is not of the form kid:secret"),
        (f"k1:{SECRET_A},,k2:{SECRET_B}", "entry 2 is not of the form kid:secret"),
        ("k1:", "'k1' is shorter than 32 bytes"),
    ],
)
def test_parse_key_ring_errors(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_key_ring(raw)
    assert SECRET_A not in str(caught.value)
    assert SECRET_B not in str(caught.value)
