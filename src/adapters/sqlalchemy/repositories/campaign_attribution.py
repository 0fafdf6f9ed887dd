"""Replies and conversions credited to campaign recipients in SQL: each call one conditional UPDATE.

`mark_replied` updates the row a sub-select chooses (the latest `sent_at` of that channel and address in the
window; e-mail addresses compared in lower case, as recipients keep them as the customer record had them) only
while its `replied_at` is NULL, so two jobs racing mark it once and never move on to an older row.
`mark_converted` updates every row in the window whose `converted_at` is NULL. Only that column changes (no
read-modify-write of the whole recipient), and `updated_at` is left alone: it orders the auto-pause window by when
sends were decided. A lookup by address scans without an index on (address, channel, sent_at): worth adding in a
later migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.campaigns import campaign_recipients
from application.campaigns.ports import Attributed

__all__ = ["SqlAttributions"]

_R = campaign_recipients.c


class SqlAttributions:
    """Implements `application.campaigns.ports.Attributions`; every call runs in its own transaction."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def mark_replied(self, channel: str, address: str, *, sent_since: datetime,
                           at: datetime) -> Attributed | None:
        same = func.lower(_R.address) == address.strip().lower() if channel == "email" else _R.address == address
        latest = (select(_R.id).where(_R.channel == channel, same,
                                      _R.sent_at >= sent_since, _R.sent_at <= at)
                  .order_by(_R.sent_at.desc(), _R.id.desc()).limit(1).scalar_subquery())
        stmt = (update(campaign_recipients).where(_R.id == latest, _R.replied_at.is_(None)).values(replied_at=at)
                .returning(_R.id, _R.campaign_id, _R.sent_at))
        async with self._session_factory() as session:
            row = (await session.execute(stmt)).one_or_none()
            await session.commit()
        return None if row is None else Attributed(recipient_id=row.id, campaign_id=row.campaign_id,
                                                   sent_at=row.sent_at)

    async def mark_converted(self, customer_id: int, policy_id: int | None, *, sent_since: datetime,
                             at: datetime) -> list[Attributed]:
        about: ColumnElement[bool] = _R.customer_id == customer_id
        if policy_id is not None:
            about = about & or_(_R.policy_id == policy_id, _R.policy_id.is_(None))
        stmt = (update(campaign_recipients)
                .where(about, _R.sent_at >= sent_since, _R.sent_at <= at, _R.converted_at.is_(None))
                .values(converted_at=at).returning(_R.id, _R.campaign_id, _R.sent_at))
        async with self._session_factory() as session:
            rows = (await session.execute(stmt)).all()
            await session.commit()
        marked = [Attributed(recipient_id=r.id, campaign_id=r.campaign_id, sent_at=r.sent_at) for r in rows]
        return sorted(marked, key=lambda a: (a.sent_at, a.recipient_id), reverse=True)
