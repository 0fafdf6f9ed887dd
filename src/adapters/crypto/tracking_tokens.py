"""Campaign tracking tokens for the open pixel, click redirects and SMS/WhatsApp short links.

A token is `base64url(payload || mac)` without padding: payload = kind (1 byte) + link index (1 byte) + recipient id
(4 bytes, big-endian); mac = the leftmost 80 bits of HMAC-SHA256 over a fixed purpose label and the payload.
RFC 2104 section 5 (https://www.rfc-editor.org/rfc/rfc2104#section-5) recommends at least 80 bits ("a suitable
lower bound on the number of bits that need to be predicted by an attacker"), and half the hash for the birthday
bound, which concerns collisions, not guessing one valid token online. 16 bytes give 22 characters, short enough
for an SMS. The token names no person: only the number of our recipient row,
which means nothing outside our database. Verification compares MACs in constant time and refuses anything
malformed; tokens carry no expiry (links in old messages keep working).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct

from application.campaigns.tracking import TrackingKind, TrackingToken

__all__ = ["HmacTrackingTokens"]

_PURPOSE = b"renewals/campaign-tracking/v1\x00"
_MIN_SECRET_BYTES = 16
_MAC_BYTES = 10
_PAYLOAD = struct.Struct(">cBI")  # kind, link index, recipient id
_TOKEN_BYTES = _PAYLOAD.size + _MAC_BYTES
_TOKEN_CHARS = len(base64.urlsafe_b64encode(bytes(_TOKEN_BYTES)).rstrip(b"="))
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_KIND_BYTES = {TrackingKind.OPEN: b"o", TrackingKind.CLICK: b"c", TrackingKind.SHORT_LINK: b"s"}
_KINDS_BY_BYTE = {value: kind for kind, value in _KIND_BYTES.items()}
MAX_LINK_INDEX = 255
MAX_RECIPIENT_ID = 2**32 - 1


class HmacTrackingTokens:
    """Signs and checks tracking tokens with one secret (at least 16 bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < _MIN_SECRET_BYTES:
            raise ValueError(f"the tracking secret must be at least {_MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _PURPOSE + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def sign(self, recipient_id: int, kind: TrackingKind, link_index: int = 0) -> str:
        """The url-safe token for this recipient's open, or click on (short link to) link number `link_index`."""
        if not 0 < recipient_id <= MAX_RECIPIENT_ID:
            raise ValueError("recipient_id must be a positive 32-bit number")
        if not 0 <= link_index <= MAX_LINK_INDEX:
            raise ValueError(f"link_index must be between 0 and {MAX_LINK_INDEX}")
        payload = _PAYLOAD.pack(_KIND_BYTES[TrackingKind(kind)], link_index, recipient_id)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode("ascii")

    def verify(self, token: str) -> TrackingToken | None:
        """What a token this secret signed says, else None."""
        if len(token) != _TOKEN_CHARS or _BASE64URL.fullmatch(token) is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        payload, mac = raw[:_PAYLOAD.size], raw[_PAYLOAD.size:]
        if len(raw) != _TOKEN_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        kind_byte, link_index, recipient_id = _PAYLOAD.unpack(payload)
        kind = _KINDS_BY_BYTE.get(kind_byte)
        if kind is None or recipient_id == 0:
            return None
        return TrackingToken(recipient_id=recipient_id, kind=kind, link_index=link_index)
