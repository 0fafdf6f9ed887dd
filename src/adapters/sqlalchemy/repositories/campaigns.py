"""The SQL repositories of campaigns and saved segments (recipients: campaigns_recipients.py; tracking hits:
campaigns_tracking.py).

`save` also writes the recipients' figures into the row's `*_count` columns (a snapshot for cheap lists) in the
same UPDATE; `counters` is the one aggregate query over the recipients that is the truth. A segment's name is
unique (a second one is a Conflict on `name`; the insert runs in a savepoint so the unit stays usable).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.listing import order_by
from adapters.sqlalchemy.tables.campaigns import campaign_recipients, campaigns, segments
from application.campaigns.ports import CampaignFilters, SavedSegment
from application.shared.pagination import Page, PageRequest, SortKey
from domain.campaigns.model import Campaign, CampaignStatus, RecipientStatus, Variant
from domain.shared.errors import Conflict, NotFound, ValidationFailed

__all__ = ["FUNNEL", "SqlAlchemyCampaignRepository", "SqlAlchemySegmentRepository", "counter_columns"]

Now = Callable[[], datetime]
AnyRow = Row[*tuple[Any, ...]]
_C = campaigns.c
_R = campaign_recipients.c
_S = segments.c
FUNNEL = ("delivered", "opened", "clicked", "replied", "converted")
CAMPAIGN_SORT: dict[str, ColumnElement[Any]] = {"createdAt": _C.created_at, "updatedAt": _C.updated_at,
                                                "name": _C.name}
_DEFAULT_SORT = (SortKey("createdAt", descending=True),)
# counters() key -> the snapshot column save() writes it to
_SNAPSHOT = {"sent": "sent_count", "failed": "failed_count", "unknown": "unknown_count",
             **{name: f"{name}_count" for name in FUNNEL}}


def counter_columns() -> builtins.list[ColumnElement[int]]:
    """Every status's count, "total", and the recipients delivered/opened/clicked/replied/converted."""
    by_status = [func.count().filter(_R.status == status.value).label(status.value) for status in RecipientStatus]
    funnel = [func.count(_R[f"{name}_at"]).label(name) for name in FUNNEL]
    return [*by_status, func.count().label("total"), *funnel]


def _campaign(row: AnyRow) -> Campaign:
    content = row.content.get("body") if isinstance(row.content, dict) else None
    return Campaign(
        id=row.id, name=row.name, channel=row.campaign_type, status=CampaignStatus(row.status),
        group_key=row.group_key, description=row.description, upload_id=row.upload_id, segment_id=row.segment_id,
        audience=dict(row.target_audience or {}), template_id=row.template_id, subject=row.subject, content=content,
        variants=[Variant(**v) for v in row.variants or []], ab_test=dict(row.ab_test or {}),
        schedule_type=row.schedule_type, scheduled_at=row.scheduled_at, started_at=row.started_at,
        completed_at=row.completed_at, paused_reason=row.paused_reason, target_count=row.target_count,
        excluded=dict(row.excluded or {}), checkpoint=row.checkpoint, created_by=row.created_by,
        created_at=row.created_at, updated_at=row.updated_at)


def _values(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name, "campaign_type": campaign.channel, "status": CampaignStatus(campaign.status).value,
        "description": campaign.description, "upload_id": campaign.upload_id, "segment_id": campaign.segment_id,
        "target_audience": campaign.audience, "template_id": campaign.template_id, "subject": campaign.subject,
        "content": None if campaign.content is None else {"body": campaign.content},
        "variants": [asdict(v) for v in campaign.variants], "ab_test": campaign.ab_test,
        "schedule_type": campaign.schedule_type, "scheduled_at": campaign.scheduled_at,
        "started_at": campaign.started_at, "completed_at": campaign.completed_at,
        "paused_reason": campaign.paused_reason, "target_count": campaign.target_count,
        "excluded": campaign.excluded, "checkpoint": campaign.checkpoint, "created_by": campaign.created_by}


def _group_key(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


class SqlAlchemyCampaignRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def add(self, campaign: Campaign) -> Campaign:
        now = self._now()
        values = {**_values(campaign), "created_at": campaign.created_at or now, "updated_at": now}
        if campaign.group_key is not None:
            values["group_key"] = campaign.group_key
        row = (await self._session.execute(
            insert(campaigns).values(values).returning(_C.id, _C.group_key, _C.created_at, _C.updated_at))).one()
        campaign.id, campaign.group_key = row.id, row.group_key
        campaign.created_at, campaign.updated_at = row.created_at, row.updated_at
        return campaign

    async def get(self, campaign_id: int) -> Campaign | None:
        row = (await self._session.execute(select(campaigns).where(_C.id == campaign_id))).one_or_none()
        return None if row is None else _campaign(row)

    async def get_for_update(self, campaign_id: int) -> Campaign | None:
        stmt = select(campaigns).where(_C.id == campaign_id).with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _campaign(row)

    async def save(self, campaign: Campaign) -> None:
        now = self._now()
        figures = (select(literal(campaign.id, Integer).label("campaign_id"), *counter_columns())
                   .where(_R.campaign_id == campaign.id).subquery())
        snapshot = {column: figures.c[key] for key, column in _SNAPSHOT.items()}
        stmt = (update(campaigns).where(_C.id == campaign.id, figures.c.campaign_id == _C.id)
                .values(**_values(campaign), **snapshot, updated_at=now).returning(_C.id))
        if campaign.id is None or (await self._session.execute(stmt)).one_or_none() is None:
            raise NotFound("campaign", campaign.id)
        campaign.updated_at = now

    async def list(self, filters: CampaignFilters, page: PageRequest) -> Page[Campaign]:
        for key in page.sort:
            if key.field not in CAMPAIGN_SORT:
                raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(CAMPAIGN_SORT)}")
        where: builtins.list[ColumnElement[bool]] = []
        if filters.statuses:
            where.append(_C.status.in_(filters.statuses))
        if filters.channels:
            where.append(_C.campaign_type.in_(filters.channels))
        if filters.group_key is not None:
            group_key = _group_key(filters.group_key)
            if group_key is None:
                return Page(items=[], page=page.page, limit=page.limit, total=0)
            where.append(_C.group_key == group_key)
        total = (await self._session.execute(select(func.count()).select_from(campaigns).where(*where))).scalar_one()
        stmt = (select(campaigns).where(*where).order_by(*order_by(page.sort or _DEFAULT_SORT, CAMPAIGN_SORT, _C.id))
                .limit(page.limit).offset(page.offset))
        items = [_campaign(row) for row in (await self._session.execute(stmt)).all()]
        return Page(items=items, page=page.page, limit=page.limit, total=int(total))

    async def due(self, now: datetime) -> builtins.list[int]:
        """Also active ones whose only work left is expired claims (a worker died holding the last batch)."""
        pending = exists().where(_R.campaign_id == _C.id, _R.status == RecipientStatus.PENDING.value)
        expired = exists().where(_R.campaign_id == _C.id, _R.status == RecipientStatus.SENDING.value,
                                 _R.lease_until < now)
        stmt = select(_C.id).where(or_(
            (_C.status == CampaignStatus.SCHEDULED.value) & (_C.scheduled_at <= now),
            (_C.status == CampaignStatus.ACTIVE.value) & (pending | expired))).order_by(_C.id)
        return builtins.list((await self._session.execute(stmt)).scalars())

    async def counters(self, campaign_id: int) -> dict[str, int]:
        row = (await self._session.execute(
            select(*counter_columns()).where(_R.campaign_id == campaign_id))).one()
        return {key: int(value) for key, value in row._mapping.items()}


def _segment(row: AnyRow) -> SavedSegment:
    return SavedSegment(id=row.id, name=row.name, filter=dict(row.filter), created_by=row.created_by,
                        created_at=row.created_at)


class SqlAlchemySegmentRepository:
    def __init__(self, session: AsyncSession, now: Now) -> None:
        self._session = session
        self._now = now

    async def add(self, segment: SavedSegment) -> SavedSegment:
        now = self._now()
        stmt = insert(segments).values(name=segment.name, filter=segment.filter, created_by=segment.created_by,
                                       created_at=segment.created_at or now, updated_at=now).returning(segments)
        try:
            async with self._session.begin_nested():
                row = (await self._session.execute(stmt)).one()
        except IntegrityError as exc:
            orig = getattr(exc.orig, "__cause__", None) or exc.orig
            if getattr(orig, "constraint_name", None) == "uq_segments_name":
                raise Conflict("a segment with this name already exists", field="name") from None
            raise translate_integrity_error(exc) from None
        return _segment(row)

    async def get(self, segment_id: int) -> SavedSegment | None:
        row = (await self._session.execute(select(segments).where(_S.id == segment_id))).one_or_none()
        return None if row is None else _segment(row)

    async def list(self) -> builtins.list[SavedSegment]:
        """Newest first, then the larger id."""
        stmt = select(segments).order_by(_S.created_at.desc(), _S.id.desc())
        return [_segment(row) for row in (await self._session.execute(stmt)).all()]
