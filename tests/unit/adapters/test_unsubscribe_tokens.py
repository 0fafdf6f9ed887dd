"""HMAC unsubscribe tokens: they round-trip, stay url-safe, and refuse anything forged or damaged."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.crypto.unsubscribe_tokens import HmacUnsubscribeTokens

SECRET = b"0123456789abcdef0123456789abcdef"
TOKENS = HmacUnsubscribeTokens(SECRET)
URL_SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")

addresses = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=80)


@given(st.sampled_from(["email", "sms", "whatsapp"]), addresses)
def test_tokens_round_trip_and_are_url_safe(channel: str, address: str) -> None:
    token = TOKENS.sign(channel, address)
    assert set(token) <= URL_SAFE
    assert TOKENS.verify(token) == (channel, address)


def test_the_token_is_the_payload_and_its_mac_both_in_base64url() -> None:
    token = TOKENS.sign("email", "asha@example.in")
    payload, mac = token.split(".")
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) == b"email\x00asha@example.in"
    raw_mac = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    assert len(raw_mac) == hashlib.sha256().digest_size
    # the MAC is not a bare HMAC of the payload: a purpose label keeps the secret from signing anything else
    assert raw_mac != hmac.new(SECRET, b"email\x00asha@example.in", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("forge", [
    lambda t: t.replace(t.split(".")[0], _b64(b"email\x00someone@else.example")),  # another address, same MAC
    lambda t: t.replace("." + t.split(".")[1][0], "." + ("B" if t.split(".")[1][0] == "A" else "A")),  # damaged MAC
    lambda t: t.split(".")[0],  # no MAC
    lambda t: t + ".extra",
    lambda t: t.replace(".", "!"),
    lambda t: t[:5] + "*" + t[5:],  # a character outside base64url (a lax decoder would skip it)
    lambda t: "",
    lambda t: "." + t.split(".")[1],
    lambda t: t * 200,  # absurdly long
])
def test_forged_or_damaged_tokens_are_refused(forge: object) -> None:
    token = TOKENS.sign("email", "asha@example.in")
    assert callable(forge)
    assert TOKENS.verify(forge(token)) is None


def test_another_secret_refuses_the_token() -> None:
    token = TOKENS.sign("sms", "+919876543210")
    assert HmacUnsubscribeTokens(b"another-secret-of-32-bytes-long!").verify(token) is None


def test_payloads_without_an_address_are_refused_even_when_signed() -> None:
    payload = b"email"  # no NUL separator
    mac = hmac.new(SECRET, b"renewals/unsubscribe/v1\x00" + payload, hashlib.sha256).digest()
    assert TOKENS.verify(f"{_b64(payload)}.{_b64(mac)}") is None


def test_short_secrets_and_nul_in_values_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        HmacUnsubscribeTokens(b"short")
    with pytest.raises(ValueError, match="NUL"):
        TOKENS.sign("email", "a\x00b@example.in")
