"""The development WhatsApp sink (`make run`): each message becomes one JSON line; nothing reaches Meta.

Each send appends `{"id", "at", "to", "kind", "reference", "request"}` to `<directory>/whatsapp.jsonl`, where
`request` is the exact Cloud API body the real sender would post (built and validated by the same code, so the
sink refuses the same messages). Ids are `dev-wamid-<n>`, n counting the lines of the file: the count and the
append happen under an exclusive lock, so ids stay unique across restarts and processes sharing the directory.
`StaticTemplateCatalogue` serves a fixed list of templates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from adapters.dev.jsonl_sink import append_numbered
from adapters.whatsapp.cloud_api_sender import message_body
from application.ports.whatsapp import (
    ApprovedTemplate,
    OutboundWhatsApp,
    SentWhatsApp,
    WhatsAppUnavailable,
)
from domain.shared.clock import Clock

__all__ = ["WHATSAPP_FILE", "FileWhatsAppSender", "StaticTemplateCatalogue"]

WHATSAPP_FILE = "whatsapp.jsonl"



class FileWhatsAppSender:
    def __init__(self, directory: Path, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    @property
    def file(self) -> Path:
        return self._directory / WHATSAPP_FILE

    async def send(self, message: OutboundWhatsApp) -> SentWhatsApp:
        """Append the message to the sink; raises WhatsAppRejected like the real sender would."""
        entry = {"at": self._clock.now().isoformat(), "to": message.to, "kind": message.kind,
                 "reference": message.reference, "request": message_body(message)}
        try:
            message_id = await asyncio.to_thread(append_numbered, self._directory / WHATSAPP_FILE, "dev-wamid-", entry)
        except OSError as exc:
            raise WhatsAppUnavailable(f"cannot write to {self._directory}: {exc}", code="sink_unwritable") from exc
        return SentWhatsApp(provider_message_id=message_id)


class StaticTemplateCatalogue:
    """A fixed list of templates, e.g. the demo templates for `make run`."""

    def __init__(self, templates: Iterable[ApprovedTemplate]) -> None:
        self._templates = tuple(templates)

    async def list_templates(self) -> list[ApprovedTemplate]:
        return list(self._templates)
