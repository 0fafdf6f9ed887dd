"""Unsubscribe tokens for links and `List-Unsubscribe` headers: `base64url(payload).base64url(HMAC-SHA256)`.

The payload is `channel NUL address` (UTF-8). Tokens carry no expiry on purpose: RFC 8058 one-click links
(https://www.rfc-editor.org/rfc/rfc8058) sit in old e-mails and must keep working. The MAC covers a fixed
purpose label as well, so the same secret can never produce a token that is valid for another use. Verification
compares MACs in constant time and refuses anything malformed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

__all__ = ["HmacUnsubscribeTokens"]

_PURPOSE = b"renewals/unsubscribe/v1\x00"
_SEPARATOR = "\x00"
_MIN_SECRET_BYTES = 16
_MAX_TOKEN_CHARS = 2048
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    if _BASE64URL.fullmatch(text) is None:  # the decoder would skip stray characters: refuse them
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


class HmacUnsubscribeTokens:
    """Signs and checks unsubscribe tokens with one secret (at least 16 bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < _MIN_SECRET_BYTES:
            raise ValueError(f"the unsubscribe secret must be at least {_MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _PURPOSE + payload, hashlib.sha256).digest()

    def sign(self, channel: str, address: str) -> str:
        """The url-safe token for `address` on `channel`."""
        if _SEPARATOR in channel or _SEPARATOR in address:
            raise ValueError("channel and address cannot contain NUL")
        payload = f"{channel}{_SEPARATOR}{address}".encode()
        return f"{_encode(payload)}.{_encode(self._mac(payload))}"

    def verify(self, token: str) -> tuple[str, str] | None:
        """`(channel, address)` for a token this secret signed, else None."""
        if len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        encoded_payload, encoded_mac = token.split(".")
        payload, mac = _decode(encoded_payload), _decode(encoded_mac)
        if payload is None or mac is None or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None
        channel, separator, address = text.partition(_SEPARATOR)
        if not separator or not channel or not address or _SEPARATOR in address:
            return None
        return channel, address
