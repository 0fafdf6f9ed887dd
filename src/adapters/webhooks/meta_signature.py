"""Check Meta (WhatsApp Cloud API, Messenger, Instagram) webhooks: the payload signature and the subscribe handshake.

Followed: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
- Event notifications carry `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw request body keyed with
  the app secret. It must be computed over the bytes received, before any JSON parsing.
- Verification requests are a GET with `hub.mode=subscribe`, `hub.verify_token` (the token entered in the App
  Dashboard) and `hub.challenge`; the endpoint answers 200 with the challenge when the token matches.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "meta_signature_header", "verify_meta", "verify_subscription"]

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def meta_signature_header(app_secret: str, raw_body: bytes) -> str:
    """Return the `X-Hub-Signature-256` value Meta sends with `raw_body`."""
    return _PREFIX + hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify_meta(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Whether `header` (the `X-Hub-Signature-256` value) signs `raw_body` with `app_secret`."""
    if not header or not app_secret or not header.startswith(_PREFIX):
        return False
    expected = meta_signature_header(app_secret, raw_body)
    received = _PREFIX + header[len(_PREFIX):].lower()
    return hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8"))


def verify_subscription(
    mode: str | None, token: str | None, challenge: str | None, expected_token: str
) -> str | None:
    """Return the challenge to echo for a valid `hub.*` subscribe handshake, else None (answer 403)."""
    if mode != "subscribe" or token is None or not challenge or not expected_token:
        return None
    if not hmac.compare_digest(token.encode("utf-8"), expected_token.encode("utf-8")):
        return None
    return challenge
