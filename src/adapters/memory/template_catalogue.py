"""The in-memory twin of `SqlCampaignTemplates`: the messaging templates the MemoryStore holds."""

from __future__ import annotations

from adapters.memory.store import MemoryStore
from application.campaigns.composer import CampaignTemplate

__all__ = ["InMemoryCampaignTemplates"]


class InMemoryCampaignTemplates:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def get(self, template_id: int) -> CampaignTemplate | None:
        template = self._store.tables.templates.get(template_id)
        if template is None or not template.is_active:
            return None
        return CampaignTemplate(channel=template.channel.value, content=template.content, subject=template.subject,
                                name=template.name, language=template.language, variables=tuple(template.variables),
                                dlt_template_id=template.dlt_template_id)
