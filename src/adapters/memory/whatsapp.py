"""The in-memory WhatsApp sender and template catalogue: record what was sent, refuse or fail when told."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.whatsapp.cloud_api_sender import message_body
from application.ports.whatsapp import (
    ApprovedTemplate,
    OutboundWhatsApp,
    SentWhatsApp,
    WhatsAppRejected,
    WhatsAppUnavailable,
)

__all__ = ["InMemoryTemplateCatalogue", "InMemoryWhatsAppSender"]


class InMemoryWhatsAppSender:
    """Validates each message exactly as the Cloud API sender does (WhatsAppRejected on bad input), then keeps it.

    `sent` holds `(provider_message_id, message)` pairs in sending order; ids are `mem-wamid-<n>`.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutboundWhatsApp]] = []
        self._refused: dict[str, str] = {}
        self._failures: list[WhatsAppUnavailable] = []
        self._count = 0

    def refuse(self, number: str, code: str = "whatsapp:131026") -> None:
        """From now on, sends to `number` (E.164) raise WhatsAppRejected with `code` (default: undeliverable)."""
        self._refused[number] = code

    def fail_next(self, n: int = 1, *, code: str = "whatsapp:130429", retry_after: float | None = None) -> None:
        """Make the next `n` valid sends raise WhatsAppUnavailable (default: Meta's throughput limit)."""
        self._failures.extend(WhatsAppUnavailable("throttled (in-memory)", code=code, retry_after=retry_after)
                              for _ in range(n))

    async def send(self, message: OutboundWhatsApp) -> SentWhatsApp:
        message_body(message)
        if self._failures:
            raise self._failures.pop(0)
        if message.to in self._refused:
            raise WhatsAppRejected(f"{message.to} refused (in-memory)", code=self._refused[message.to])
        self._count += 1
        provider_message_id = f"mem-wamid-{self._count}"
        self.sent.append((provider_message_id, message))
        return SentWhatsApp(provider_message_id=provider_message_id)


class InMemoryTemplateCatalogue:
    """`templates` is the business account's list; `fail_next` makes the next listings raise WhatsAppUnavailable."""

    def __init__(self, templates: Iterable[ApprovedTemplate] = ()) -> None:
        self.templates: list[ApprovedTemplate] = list(templates)
        self._failures = 0

    def put(self, template: ApprovedTemplate) -> None:
        """Add `template`, replacing the one with the same name and language (as Meta keys them)."""
        self.templates = [t for t in self.templates if (t.name, t.language) != (template.name, template.language)]
        self.templates.append(template)

    def fail_next(self, n: int = 1) -> None:
        self._failures += n

    async def list_templates(self) -> list[ApprovedTemplate]:
        if self._failures:
            self._failures -= 1
            raise WhatsAppUnavailable("Graph API unavailable (in-memory)", code="whatsapp:2")
        return list(self.templates)
