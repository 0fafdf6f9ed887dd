"""The in-memory e-mail sender: records what was sent, and can be told to fail the next sends."""

from __future__ import annotations

from adapters.email_mime import build_mime
from application.ports.email import OutboundEmail, SentEmail

__all__ = ["InMemoryEmailSender"]


class InMemoryEmailSender:
    """Validates each message exactly as the real adapters do (EmailRejected on bad input), then keeps it.

    `sent` holds `(provider_message_id, email)` pairs in sending order.
    """

    def __init__(self, *, default_from: str = "noreply@example.com", message_id_domain: str = "memory.invalid") -> None:
        self.sent: list[tuple[str, OutboundEmail]] = []
        self._default_from = default_from
        self._message_id_domain = message_id_domain
        self._failures: list[Exception] = []

    def fail_next(self, exc: Exception, *, times: int = 1) -> None:
        """Make the next `times` sends raise `exc` (e.g. EmailUnavailable) instead of sending."""
        self._failures.extend([exc] * times)

    async def send(self, email: OutboundEmail) -> SentEmail:
        if self._failures:
            raise self._failures.pop(0)
        message = build_mime(email, default_from=self._default_from, message_id_domain=self._message_id_domain)
        provider_message_id = str(message["Message-ID"])
        self.sent.append((provider_message_id, email))
        return SentEmail(provider_message_id=provider_message_id)
