"""Segments: preview a filter (how many, who is left out for consent or a missing address, a sample), save one
under a name, list them. The filter language is `domain.campaigns.segments`; adapters compile it to
parameterised SQL, never raw SQL from the client."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import msgspec

from application.campaigns.config import CampaignsConfig
from application.campaigns.errors import SegmentNotFound, public_segment_id
from application.campaigns.ports import AudienceCandidate, AudienceSource, CampaignsUnitOfWork, SavedSegment
from domain.campaigns.segments import describe, parse_filter
from domain.shared.clock import Clock
from domain.shared.errors import FieldError, ValidationFailed

__all__ = [
    "ExcludedCounts", "NewSegment", "SampleRecipient", "SegmentList", "SegmentPreview", "SegmentPreviewRequest",
    "SegmentService", "SegmentView",
]

CHANNELS = ("email", "sms", "whatsapp")
NAME_MAX = 255


class SegmentPreviewRequest(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A filter to try on a channel (its address and consent decide who is left out); `sampleSize` rows shown."""

    filter: dict[str, Any]
    channel: str = "email"
    sample_size: int | None = None


class NewSegment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    filter: dict[str, Any]


class ExcludedCounts(msgspec.Struct, kw_only=True, rename="camel"):
    opted_out: int
    no_address: int


class SampleRecipient(msgspec.Struct, kw_only=True, rename="camel"):
    customer_id: str
    policy_id: str | None
    address: str | None
    status: str  # eligible | opted_out | no_address
    values: dict[str, str]

    @classmethod
    def of(cls, candidate: AudienceCandidate) -> SampleRecipient:
        status = "no_address" if candidate.address is None else "opted_out" if candidate.opted_out else "eligible"
        return cls(customer_id=f"customer-{candidate.customer_id}",
                   policy_id=None if candidate.policy_id is None else f"policy-{candidate.policy_id}",
                   address=candidate.address, status=status, values=dict(candidate.values))


class SegmentPreview(msgspec.Struct, kw_only=True, rename="camel"):
    """`count`: who would receive it; `excluded`: who matches but is left out; `description` reads the filter."""

    channel: str
    count: int
    excluded: ExcludedCounts
    sample: list[SampleRecipient]
    description: str


class SegmentView(msgspec.Struct, kw_only=True, rename="camel"):
    id: str
    name: str
    filter: dict[str, Any]
    description: str
    created_by: str | None
    created_at: datetime | None

    @classmethod
    def of(cls, segment: SavedSegment, today: date) -> SegmentView:
        assert segment.id is not None
        try:
            text = describe(parse_filter(segment.filter, today))
        except ValidationFailed:
            text = "(this filter no longer parses)"
        return cls(id=public_segment_id(segment.id), name=segment.name, filter=segment.filter, description=text,
                   created_by=None if segment.created_by is None else f"user-{segment.created_by}",
                   created_at=segment.created_at)


class SegmentList(msgspec.Struct, kw_only=True):
    segments: list[SegmentView]


class SegmentService:
    def __init__(self, uow: Callable[[], CampaignsUnitOfWork], clock: Clock, audience: AudienceSource,
                 config: CampaignsConfig) -> None:
        self._uow = uow
        self._clock = clock
        self._audience = audience
        self._config = config

    async def preview(self, request: SegmentPreviewRequest) -> SegmentPreview:
        """Count and sample the filter's audience on one channel; every problem with the request at once."""
        errors: builtins.list[FieldError] = []
        channel = request.channel.strip().lower()
        if channel not in CHANNELS:
            errors.append(FieldError("channel", f"must be one of: {', '.join(CHANNELS)}"))
        size = self._config.preview_sample_size if request.sample_size is None else request.sample_size
        if not 0 <= size <= self._config.max_preview_sample_size:
            errors.append(FieldError("sampleSize", f"must be between 0 and {self._config.max_preview_sample_size}"))
        text = self._described(request.filter, errors)
        if errors:
            raise ValidationFailed(errors)
        audience = {"kind": "segment", "filter": request.filter}
        counted = await self._audience.count(channel, audience)
        sample = await self._audience.sample(channel, audience, size) if size else []
        return SegmentPreview(
            channel=channel, count=counted.get("eligible", 0),
            excluded=ExcludedCounts(opted_out=counted.get("opted_out", 0), no_address=counted.get("no_address", 0)),
            sample=[SampleRecipient.of(c) for c in sample], description=text)

    async def save(self, cmd: NewSegment, user_id: int | None) -> SegmentView:
        """Keep a filter under a unique name (409 when the name is taken)."""
        errors: builtins.list[FieldError] = []
        name = " ".join(cmd.name.split())
        if not name or len(name) > NAME_MAX:
            errors.append(FieldError("name", f"must be 1 to {NAME_MAX} characters"))
        self._described(cmd.filter, errors)
        if errors:
            raise ValidationFailed(errors)
        async with self._uow() as uow:
            segment = await uow.segments.add(SavedSegment(id=None, name=name, filter=cmd.filter, created_by=user_id,
                                                          created_at=self._clock.now()))
            await uow.commit()
        return SegmentView.of(segment, self._clock.today())

    async def list(self) -> SegmentList:
        async with self._uow() as uow:
            found = await uow.segments.list()
        today = self._clock.today()
        return SegmentList(segments=[SegmentView.of(s, today) for s in found])

    async def get(self, segment_id: int) -> SegmentView:
        async with self._uow() as uow:
            segment = await uow.segments.get(segment_id)
        if segment is None:
            raise SegmentNotFound(segment_id)
        return SegmentView.of(segment, self._clock.today())

    def _described(self, tree: dict[str, Any], errors: builtins.list[FieldError]) -> str:
        try:
            return describe(parse_filter(tree, self._clock.today()))
        except ValidationFailed as failed:
            errors.extend(failed.details)
            return ""
