"""What the webhook controllers check signatures with; the container builds one from the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import msgspec

__all__ = ["SnsVerifier", "WebhookSecrets"]


class SnsVerifier(Protocol):
    """`adapters.webhooks.sns_signature.SnsMessageVerifier` (or a test double)."""

    async def verify(self, message: Mapping[str, object]) -> bool: ...


class WebhookSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """An empty secret (or no SNS verifier) refuses every request of that provider: webhooks fail closed.

    `public_base_url` is the scheme and host (plus any path prefix a proxy strips) Twilio is configured to call,
    e.g. `https://desk.example.com`: Twilio signs the URL it requested, which the Host header behind a proxy may
    not show.
    """

    public_base_url: str
    twilio_auth_tokens: tuple[str, ...] = ()  # the primary auth token, plus the secondary during a rotation
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    sns_verifier: SnsVerifier | None = None
