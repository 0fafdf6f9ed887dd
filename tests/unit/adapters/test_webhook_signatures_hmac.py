"""Shared-secret webhook signatures: Twilio, Meta, Razorpay and Stripe, each as the provider documents it."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from adapters.webhooks.meta_signature import meta_signature_header, verify_meta, verify_subscription
from adapters.webhooks.razorpay_signature import razorpay_signature, verify_razorpay
from adapters.webhooks.stripe_signature import stripe_signature_header, verify_stripe
from adapters.webhooks.twilio_signature import (
    twilio_body_sha256,
    twilio_signature,
    verify_twilio,
    verify_twilio_any,
    verify_twilio_json,
    verify_twilio_json_any,
)


def _flip(text: str, index: int = 5) -> str:
    """`text` with one character changed."""
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1:]


# --- Twilio -----------------------------------------------------------------------------------------------------

# https://www.twilio.com/docs/usage/webhooks/webhooks-security (worked example)
TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilios_published_vector_verifies() -> None:
    assert twilio_signature(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS) == TWILIO_EXPECTED
    assert verify_twilio(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, TWILIO_EXPECTED)
    shuffled = dict(reversed(list(TWILIO_PARAMS.items())))
    assert verify_twilio(TWILIO_TOKEN, TWILIO_URL, shuffled, TWILIO_EXPECTED)  # order of arrival does not matter


def test_repeated_parameters_sign_every_value_sorted() -> None:
    # twilio-python's own test vector for a name sent twice (tests/unit/test_request_validator.py)
    params = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234"]}
    assert twilio_signature(TWILIO_TOKEN, TWILIO_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert not verify_twilio(TWILIO_TOKEN, TWILIO_URL, {**params, "Digits": ["5678"]}, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


@pytest.mark.parametrize(("url", "signature"), [
    # twilio-python's vectors (same params as the docs' PHP example): Twilio may sign with or without the port
    ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443
    ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # signed with :80
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),  # signed with :1234
])
def test_port_variants_twilio_signs_with_are_accepted(url: str, signature: str) -> None:
    params = {**TWILIO_PARAMS, "Caller": "+14158675309", "From": "+14158675309"}
    assert verify_twilio(TWILIO_TOKEN, url, params, signature)
    assert not verify_twilio(TWILIO_TOKEN, url.replace("myapp", "other"), params, signature)


@pytest.mark.parametrize("url", [
    "https://mycompany.com/myapp.php?foo=1&bar=3",
    "https://mycompany.com/myapp.php?foo=1",
    "https://mycompany.com/myapp.php",
    "https://mycompany.com/other.php?foo=1&bar=2",
    "https://evil.com/myapp.php?foo=1&bar=2",
    "http://mycompany.com/myapp.php?foo=1&bar=2",
    "https://mycompany.com/myapp.php?foo=1&bar=2&extra=1",
])
def test_a_twilio_signature_is_refused_for_another_url(url: str) -> None:
    assert not verify_twilio(TWILIO_TOKEN, url, TWILIO_PARAMS, TWILIO_EXPECTED)


@pytest.mark.parametrize("name", sorted(TWILIO_PARAMS))
def test_a_twilio_signature_is_refused_when_any_parameter_changes(name: str) -> None:
    changed = {**TWILIO_PARAMS, name: TWILIO_PARAMS[name] + "0"}
    removed = {key: value for key, value in TWILIO_PARAMS.items() if key != name}
    renamed = {**removed, name.lower(): TWILIO_PARAMS[name]}
    for params in (changed, removed, renamed):
        assert not verify_twilio(TWILIO_TOKEN, TWILIO_URL, params, TWILIO_EXPECTED)
    assert not verify_twilio(TWILIO_TOKEN, TWILIO_URL, {**TWILIO_PARAMS, "Extra": ""}, TWILIO_EXPECTED)


@pytest.mark.parametrize("signature", [
    _flip(TWILIO_EXPECTED, 0), _flip(TWILIO_EXPECTED, 13), TWILIO_EXPECTED[:-1], TWILIO_EXPECTED + "=", "", None, "é",
])
def test_a_changed_or_missing_twilio_signature_is_refused(signature: str | None) -> None:
    assert not verify_twilio(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, signature)


def test_twilio_rotation_accepts_the_primary_or_the_secondary_token_only() -> None:
    signed_with_old = twilio_signature("old-token", TWILIO_URL, TWILIO_PARAMS)
    assert not verify_twilio("new-token", TWILIO_URL, TWILIO_PARAMS, signed_with_old)
    assert verify_twilio_any(["new-token", "old-token"], TWILIO_URL, TWILIO_PARAMS, signed_with_old)
    assert verify_twilio_any(["new-token", "old-token"], TWILIO_URL, TWILIO_PARAMS,
                             twilio_signature("new-token", TWILIO_URL, TWILIO_PARAMS))
    assert not verify_twilio_any(["new-token", "other"], TWILIO_URL, TWILIO_PARAMS, signed_with_old)
    assert not verify_twilio_any([], TWILIO_URL, TWILIO_PARAMS, signed_with_old)
    assert not verify_twilio_any([""], TWILIO_URL, TWILIO_PARAMS, twilio_signature("", TWILIO_URL, TWILIO_PARAMS))


# twilio-python's JSON-body vector: the URL carries bodySHA256, the URL alone is signed
TWILIO_JSON_BODY = b'{"property": "value", "boolean": true}'
TWILIO_JSON_URL = TWILIO_URL + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
TWILIO_JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="


def test_a_twilio_json_webhook_verifies_its_body_hash_and_url() -> None:
    assert twilio_body_sha256(TWILIO_JSON_BODY) == hashlib.sha256(TWILIO_JSON_BODY).hexdigest()
    assert verify_twilio_json(TWILIO_TOKEN, TWILIO_JSON_URL, TWILIO_JSON_BODY, TWILIO_JSON_SIGNATURE)
    assert verify_twilio_json_any(["new", TWILIO_TOKEN], TWILIO_JSON_URL, TWILIO_JSON_BODY, TWILIO_JSON_SIGNATURE)
    assert not verify_twilio_json_any(["new"], TWILIO_JSON_URL, TWILIO_JSON_BODY, TWILIO_JSON_SIGNATURE)


def test_a_twilio_json_webhook_is_refused_when_body_url_or_signature_change() -> None:
    tampered_body = TWILIO_JSON_BODY.replace(b"true", b"false")
    assert not verify_twilio_json(TWILIO_TOKEN, TWILIO_JSON_URL, tampered_body, TWILIO_JSON_SIGNATURE)
    assert not verify_twilio_json(TWILIO_TOKEN, TWILIO_JSON_URL, TWILIO_JSON_BODY + b" ", TWILIO_JSON_SIGNATURE)
    # a forger who re-hashes the body cannot re-sign the URL
    forged_url = TWILIO_URL + "&bodySHA256=" + twilio_body_sha256(tampered_body)
    assert not verify_twilio_json(TWILIO_TOKEN, forged_url, tampered_body, TWILIO_JSON_SIGNATURE)
    assert not verify_twilio_json(TWILIO_TOKEN, TWILIO_URL, TWILIO_JSON_BODY, TWILIO_JSON_SIGNATURE)  # no hash
    doubled = TWILIO_JSON_URL + "&bodySHA256=" + twilio_body_sha256(TWILIO_JSON_BODY)
    assert not verify_twilio_json(TWILIO_TOKEN, doubled, TWILIO_JSON_BODY, twilio_signature(TWILIO_TOKEN, doubled, {}))
    assert not verify_twilio_json(TWILIO_TOKEN, TWILIO_JSON_URL, TWILIO_JSON_BODY, _flip(TWILIO_JSON_SIGNATURE))


# --- Meta -------------------------------------------------------------------------------------------------------

META_SECRET = "app-secret-123"
META_BODY = b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}'


def _meta_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_meta_signature_over_the_raw_body_is_accepted() -> None:
    header = _meta_header(META_SECRET, META_BODY)
    assert meta_signature_header(META_SECRET, META_BODY) == header
    assert verify_meta(META_SECRET, META_BODY, header)
    assert verify_meta(META_SECRET, META_BODY, "sha256=" + header[7:].upper())


def test_a_meta_signature_is_refused_when_body_header_or_secret_change() -> None:
    header = _meta_header(META_SECRET, META_BODY)
    assert not verify_meta(META_SECRET, META_BODY.replace(b'"1"', b'"2"'), header)
    assert not verify_meta(META_SECRET, META_BODY + b"\n", header)
    assert not verify_meta(META_SECRET, META_BODY, header[:-1] + ("0" if header[-1] != "0" else "1"))
    assert not verify_meta(META_SECRET, META_BODY, header[:-1])
    assert not verify_meta(META_SECRET, META_BODY, header[7:])  # no sha256= prefix
    assert not verify_meta(META_SECRET, META_BODY, "sha1=" + header[7:])
    assert not verify_meta(META_SECRET, META_BODY, None)
    assert not verify_meta(META_SECRET, META_BODY, "")
    assert not verify_meta("other-secret", META_BODY, header)
    assert not verify_meta("", META_BODY, _meta_header("", META_BODY))


def test_the_meta_subscribe_handshake_echoes_the_challenge_only_for_the_right_token() -> None:
    assert verify_subscription("subscribe", "meatyhamhock", "1158201444", "meatyhamhock") == "1158201444"
    assert verify_subscription("subscribe", "meatyhamhocks", "1158201444", "meatyhamhock") is None
    assert verify_subscription("subscribe", None, "1158201444", "meatyhamhock") is None
    assert verify_subscription("unsubscribe", "meatyhamhock", "1158201444", "meatyhamhock") is None
    assert verify_subscription(None, "meatyhamhock", "1158201444", "meatyhamhock") is None
    assert verify_subscription("subscribe", "meatyhamhock", "", "meatyhamhock") is None
    assert verify_subscription("subscribe", "", "1158201444", "") is None


# --- Razorpay ---------------------------------------------------------------------------------------------------

RAZORPAY_SECRET = "webhook-secret"
RAZORPAY_BODY = b'{"entity":"event","event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_1"}}}}'


def test_a_razorpay_signature_over_the_raw_body_is_accepted() -> None:
    signature = hmac.new(RAZORPAY_SECRET.encode(), RAZORPAY_BODY, hashlib.sha256).hexdigest()
    assert razorpay_signature(RAZORPAY_SECRET, RAZORPAY_BODY) == signature
    assert verify_razorpay(RAZORPAY_SECRET, RAZORPAY_BODY, signature)


def test_a_razorpay_signature_is_refused_when_body_signature_or_secret_change() -> None:
    signature = razorpay_signature(RAZORPAY_SECRET, RAZORPAY_BODY)
    assert not verify_razorpay(RAZORPAY_SECRET, RAZORPAY_BODY.replace(b"pay_1", b"pay_2"), signature)
    assert not verify_razorpay(RAZORPAY_SECRET, RAZORPAY_BODY, signature[:-1] + ("0" if signature[-1] != "0" else "1"))
    assert not verify_razorpay(RAZORPAY_SECRET, RAZORPAY_BODY, signature[:-2])
    assert not verify_razorpay(RAZORPAY_SECRET, RAZORPAY_BODY, "")
    assert not verify_razorpay(RAZORPAY_SECRET, RAZORPAY_BODY, None)
    assert not verify_razorpay("key-secret", RAZORPAY_BODY, signature)


# --- Stripe -----------------------------------------------------------------------------------------------------

STRIPE_SECRET = "whsec_test_secret"
STRIPE_BODY = b'{"id":"evt_1","object":"event","type":"invoice.paid"}'
STRIPE_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STRIPE_T = int(STRIPE_AT.timestamp())


def _stripe_v1(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_stripe_signature_header_is_accepted() -> None:
    header = f"t={STRIPE_T},v1={_stripe_v1(STRIPE_SECRET, STRIPE_T, STRIPE_BODY)}"
    assert stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, STRIPE_T) == header
    assert stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, STRIPE_AT) == header
    assert verify_stripe(STRIPE_SECRET, STRIPE_BODY, header, STRIPE_AT)


def test_any_matching_v1_passes_and_v0_is_ignored() -> None:
    good = _stripe_v1(STRIPE_SECRET, STRIPE_T, STRIPE_BODY)
    other = _stripe_v1("whsec_old", STRIPE_T, STRIPE_BODY)
    assert verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T},v1={other},v1={good}", STRIPE_AT)
    assert verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T},v1={good},v1={other}", STRIPE_AT)
    assert verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T},v1={good},v0={other}", STRIPE_AT)
    assert not verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T},v0={good}", STRIPE_AT)
    assert not verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T},v1={other},v0={good}", STRIPE_AT)


def test_a_stripe_signature_is_refused_when_body_signature_timestamp_or_secret_change() -> None:
    good = _stripe_v1(STRIPE_SECRET, STRIPE_T, STRIPE_BODY)
    header = f"t={STRIPE_T},v1={good}"
    assert not verify_stripe(STRIPE_SECRET, STRIPE_BODY.replace(b"evt_1", b"evt_2"), header, STRIPE_AT)
    assert not verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T},v1={_flip(good)}", STRIPE_AT)
    assert not verify_stripe(STRIPE_SECRET, STRIPE_BODY, f"t={STRIPE_T + 1},v1={good}", STRIPE_AT)
    assert not verify_stripe("whsec_other", STRIPE_BODY, header, STRIPE_AT)


@pytest.mark.parametrize(("offset", "tolerance", "accepted"), [
    (300, 300, True), (-300, 300, True), (301, 300, False), (-301, 300, False), (3600, 300, False),
    (3600, 3600, True), (0, 0, True), (1, 0, False),
])
def test_a_stripe_timestamp_outside_the_tolerance_is_refused(offset: int, tolerance: int, accepted: bool) -> None:
    header = stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, STRIPE_T)
    now = STRIPE_AT + timedelta(seconds=offset)
    assert verify_stripe(STRIPE_SECRET, STRIPE_BODY, header, now, tolerance_seconds=tolerance) is accepted


@pytest.mark.parametrize("header", [
    "", None, "v1=abc", "t=,v1=abc", "t=abc,v1=abc", "t=-5,v1=abc", "t={t}", "t={t},t={t},v1={sig}", "t={t}.5,v1={sig}",
])
def test_a_malformed_stripe_header_is_refused(header: str | None) -> None:
    sig = _stripe_v1(STRIPE_SECRET, STRIPE_T, STRIPE_BODY)
    text = None if header is None else header.format(t=STRIPE_T, sig=sig)
    assert not verify_stripe(STRIPE_SECRET, STRIPE_BODY, text, STRIPE_AT)


def test_stripe_needs_an_aware_now() -> None:
    header = stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, STRIPE_T)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_stripe(STRIPE_SECRET, STRIPE_BODY, header, STRIPE_AT.replace(tzinfo=None))
