"""Segments: /api/segments (preview a filter, save it under a name, list and read the saved ones)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter

from application.campaigns.segments import (
    NewSegment,
    SegmentList,
    SegmentPreview,
    SegmentPreviewRequest,
    SegmentService,
    SegmentView,
)
from application.identity.principal import Principal
from domain.identity.permissions import Permission as P
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id

__all__ = ["SegmentController"]

Segments = NamedDependency[SegmentService]
Caller = NamedDependency[Principal]
Ident = Annotated[str, PathParameter(description="Public id such as `segment-3`, or the bare number")]
FILTER_HELP = ('A filter is `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` or a condition `{"field": '
               '"policy.renewal_date", "op": "within_days", "value": 30}` over customer, policy and case fields; '
               "it is compiled to parameterised SQL.")


def _segments(state: State) -> SegmentService:
    service: SegmentService = container_of(state).campaigns.segments()
    return service


class SegmentController(Controller):
    path = "/api/segments"
    tags = ["segments"]
    dependencies = {"segments": Provide(_segments, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @post("/preview", opt=requires(P.CAMPAIGNS_WRITE), status_code=200, responses=error_responses(400, 422),
          description=FILTER_HELP)
    async def preview_segment(self, data: JSONBody[SegmentPreviewRequest],
                              segments: Segments) -> Envelope[SegmentPreview]:
        """How many the filter reaches on `channel` (default email), how many it leaves out (opted out, no address
        for the channel) and a sample."""
        return ok(await segments.preview(data))

    @post("/", opt=requires(P.CAMPAIGNS_WRITE), status_code=201, responses=error_responses(400, 409, 422),
          description=FILTER_HELP)
    async def save_segment(self, data: JSONBody[NewSegment], segments: Segments,
                           principal: Caller) -> Envelope[SegmentView]:
        """Keep a filter under a unique name, to target campaigns with `segmentId`."""
        return ok(await segments.save(data, principal.user_id))

    @get("/", opt=requires(P.CAMPAIGNS_READ))
    async def list_segments(self, segments: Segments) -> Envelope[SegmentList]:
        """The saved segments, newest first."""
        return ok(await segments.list())

    @get("/{segment_id:str}", opt=requires(P.CAMPAIGNS_READ), responses=error_responses(404))
    async def get_segment(self, segment_id: Ident, segments: Segments) -> Envelope[SegmentView]:
        return ok(await segments.get(path_id(segment_id, "segment")))
