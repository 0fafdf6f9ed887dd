"""`CampaignStatistics` in SQL: the timeline and the per-variant figures of a campaign in two GROUP BY queries
(the in-memory side pages through the recipients: `RecipientScanStatistics`)."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime

from sqlalchemy import and_, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables.campaigns import campaign_recipients
from application.campaigns.analytics import EVENTS, TimelinePoint

__all__ = ["SqlCampaignStatistics"]

_R = campaign_recipients.c
_BUCKETS = {"hour": "hour", "day": "day"}


class SqlCampaignStatistics:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def timeline(self, campaign_id: int, bucket: str) -> builtins.list[TimelinePoint]:
        unit = _BUCKETS.get(bucket, "hour")
        parts = []
        for event in EVENTS:
            column = _R[f"{event}_at"]
            start = func.date_trunc(unit, func.timezone("UTC", column))
            parts.append(select(start.label("at"), literal(event).label("event"), func.count().label("n"))
                         .where(_R.campaign_id == campaign_id, column.is_not(None)).group_by(start))
        async with self._session_factory() as session:
            rows = (await session.execute(union_all(*parts))).all()
        points: dict[datetime, TimelinePoint] = {}
        for at, event, n in rows:
            start = at.replace(tzinfo=UTC)
            point = points.setdefault(start, TimelinePoint(at=start))
            setattr(point, event, int(n))
        return [points[at] for at in sorted(points)]

    async def by_variant(self, campaign_id: int) -> dict[str, dict[str, int]]:
        counts = [func.count().filter(_R.status == "sent").label("sent"),
                  *(func.count(_R[f"{event}_at"]).label(event) for event in EVENTS[1:])]
        query = (select(_R.variant, *counts)
                 .where(and_(_R.campaign_id == campaign_id, _R.variant.is_not(None))).group_by(_R.variant))
        async with self._session_factory() as session:
            rows = (await session.execute(query)).all()
        return {row.variant: {event: int(getattr(row, event)) for event in EVENTS} for row in rows}


