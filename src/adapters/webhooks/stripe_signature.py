"""Check the `Stripe-Signature` header of a Stripe webhook.

Followed: https://docs.stripe.com/webhooks#verify-manually (and stripe-python's `WebhookSignature`).
The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`. The signed payload is the timestamp, a `.`, and
the raw request body; each `v1` is the hex HMAC-SHA256 of it keyed with the endpoint's signing secret (several `v1`
appear while a secret is being rolled). Any matching `v1` passes; `v0` (test-mode legacy scheme) and unknown
elements are ignored. A timestamp more than `tolerance_seconds` away from `now` (either way) fails, which bounds
replays; Stripe's libraries default to 300 seconds.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "SIGNATURE_HEADER", "stripe_signature_header", "verify_stripe"]

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE_SECONDS = 300
_SCHEME = "v1"


def _signature(secret: str, body: bytes, timestamp: int) -> str:
    signed_payload = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed_payload, hashlib.sha256).hexdigest()


def stripe_signature_header(secret: str, body: bytes, timestamp: int | datetime) -> str:
    """Return a `Stripe-Signature` value for `body` signed at `timestamp` (unix seconds or an aware datetime)."""
    unix = int(timestamp.timestamp()) if isinstance(timestamp, datetime) else timestamp
    return f"t={unix},{_SCHEME}={_signature(secret, body, unix)}"


def verify_stripe(
    secret: str, raw_body: bytes, header: str | None, now: datetime, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
) -> bool:
    """Whether `header` signs `raw_body` with `secret` at a time within `tolerance_seconds` of `now`.

    Raises:
        ValueError: `now` is a naive datetime.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not header or not secret:
        return False
    parsed = _parse(header)
    if parsed is None:
        return False
    timestamp, signatures = parsed
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        return False
    expected = _signature(secret, raw_body, timestamp).encode("ascii")
    matches = [hmac.compare_digest(expected, candidate.encode("utf-8")) for candidate in signatures]
    return any(matches)


def _parse(header: str) -> tuple[int, list[str]] | None:
    """The timestamp and the `v1` signatures of a header, or None when it has not exactly one numeric `t`."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for element in header.split(","):
        key, _, value = element.strip().partition("=")
        if key == "t":
            timestamps.append(value.strip())
        elif key == _SCHEME:
            signatures.append(value.strip())
    if len(timestamps) != 1 or not timestamps[0].isascii() or not timestamps[0].isdigit() or not signatures:
        return None
    return int(timestamps[0]), signatures
