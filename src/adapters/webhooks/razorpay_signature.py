"""Check the `X-Razorpay-Signature` header of a Razorpay webhook.

Followed: https://razorpay.com/docs/webhooks/validate-test/ : the header is the hex HMAC-SHA256 of the raw request
body keyed with the webhook secret set in the Dashboard (not the API key secret, which signs Checkout callbacks).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "razorpay_signature", "verify_razorpay"]

SIGNATURE_HEADER = "X-Razorpay-Signature"


def razorpay_signature(webhook_secret: str, raw_body: bytes) -> str:
    """Return the `X-Razorpay-Signature` value Razorpay sends with `raw_body`."""
    return hmac.new(webhook_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify_razorpay(webhook_secret: str, raw_body: bytes, signature: str | None) -> bool:
    """Whether `signature` signs `raw_body` with `webhook_secret`."""
    if not signature or not webhook_secret:
        return False
    expected = razorpay_signature(webhook_secret, raw_body)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode("utf-8"))
