"""A read model over the messaging context's `templates`, for campaigns (which never import its tables)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.messaging import templates
from application.campaigns.composer import CampaignTemplate

__all__ = ["SqlCampaignTemplates"]

_T = templates.c


class SqlCampaignTemplates:
    """Implements `application.campaigns.composer.CampaignTemplates` (active templates only)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def get(self, template_id: int) -> CampaignTemplate | None:
        query = select(_T.template_type, _T.content, _T.subject, _T.name, _T.language, _T.variables,
                       _T.dlt_template_id).where(_T.id == template_id, _T.is_active.is_(True))
        async with self._session_factory() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            return None
        return CampaignTemplate(channel=row.template_type, content=row.content, subject=row.subject, name=row.name,
                                language=row.language or "en", variables=tuple(row.variables or ()),
                                dlt_template_id=row.dlt_template_id)
