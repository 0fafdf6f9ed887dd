"""One-click unsubscribe URLs for campaign e-mails: the messaging context's `/api/unsubscribe/{token}` endpoint,
with a token signed by the same `HmacUnsubscribeTokens` (RFC 8058, https://www.rfc-editor.org/rfc/rfc8058: the
URL goes in `List-Unsubscribe: <url>`, next to `List-Unsubscribe-Post: List-Unsubscribe=One-Click`)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SignedUnsubscribeLinks"]


class _Signer(Protocol):
    def sign(self, channel: str, address: str) -> str: ...


class SignedUnsubscribeLinks:
    """Implements `application.campaigns.ports.UnsubscribeLinks`: `<public base URL>/api/unsubscribe/<token>`."""

    def __init__(self, tokens: _Signer, public_base_url: str) -> None:
        self._tokens = tokens
        self._base = public_base_url.rstrip("/")

    def url(self, channel: str, address: str) -> str:
        """The token names the address as consents key it (an e-mail in lower case), so the opt-out it records
        is the one audiences and `OptOuts` find."""
        key = address.strip().lower() if channel == "email" else address.strip()
        return f"{self._base}/api/unsubscribe/{self._tokens.sign(channel, key)}"
