"""Keeps our copy of the WhatsApp Business templates in step with Meta's (a periodic worker job)."""

from __future__ import annotations

from collections.abc import Callable

from application.messaging.ports import MessagingUnitOfWork
from application.ports.whatsapp import WhatsAppTemplateCatalogue
from domain.shared.clock import Clock

__all__ = ["WhatsAppTemplateSync"]


class WhatsAppTemplateSync:
    def __init__(self, uow: Callable[[], MessagingUnitOfWork], catalogue: WhatsAppTemplateCatalogue,
                 clock: Clock) -> None:
        self._uow = uow
        self._catalogue = catalogue
        self._clock = clock

    async def run(self) -> int:
        """Fetch Meta's list and upsert it; returns how many rows changed.

        Meta is asked before the transaction opens, so no connection is held during the call; a
        WhatsAppUnavailable propagates untouched (the worker retries the job later) and changes nothing.
        """
        templates = await self._catalogue.list_templates()
        async with self._uow() as uow:
            changed = await uow.whatsapp_templates.sync(templates, self._clock.now())
            await uow.commit()
        return changed
