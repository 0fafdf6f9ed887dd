"""A case's timeline: everything that happened on it, merged from the records each context keeps.

Each source (the desk's case events, messages, reminder steps, payments, refunds, kept policy terms) is a
`TimelineSource` that turns its own rows into `TimelineEntry`s (the builders in `timeline_entries.py` keep the
titles alike for the SQL and in-memory adapters). The service checks the caller may see the case (a case outside
their scope is not found), then merges the entries: by time, then by type rank (what causes comes before what
follows at the same instant), then by each source's own order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from application.shared.visibility import Visibility
from domain.shared.errors import NotFound
from domain.shared.ids import CaseId, UserId

__all__ = ["TYPE_RANK", "CaseHeader", "CaseHeaders", "CaseTimeline", "TimelineEntry", "TimelineService",
           "TimelineSource"]

# At the same instant: what people did on the case, then the reminder step and its messages, then money, then the
# term the renewal kept. Case-event kinds not listed rank with the case events.
TYPE_RANK: dict[str, int] = {
    "opened": 0, "status_changed": 1, "assigned": 1, "escalated": 1, "note_added": 1, "priority_changed": 1,
    "contacted": 1, "payment_link_sent": 1, "flagged": 1,
    "reminder_step": 2, "reminder": 3, "message": 4, "payment": 5, "term": 6,
}
_CASE_EVENT_RANK = 1


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the timeline; `order` breaks ties within a source (its row id), it is not shown."""

    at: datetime
    type: str
    title: str
    description: str | None = None
    actor_id: int | None = None
    data: dict[str, Any] = {}
    order: int = 0

    def sort_key(self) -> tuple[datetime, int, int]:
        return self.at, TYPE_RANK.get(self.type, _CASE_EVENT_RANK), self.order


class CaseHeader(msgspec.Struct, frozen=True, kw_only=True):
    """The case fields the timeline shows above its history."""

    case_id: int
    case_number: str
    status: str
    priority: str
    payment_status: str
    renewal_amount: Decimal
    currency: str
    created_at: datetime
    closed_at: datetime | None
    assigned_to: int | None


class CaseHeaders(Protocol):
    async def header(self, case_id: int, visibility: Visibility) -> CaseHeader | None:
        """The case if it exists and the caller's visibility reaches it (the same scope as the case list)."""
        ...


class TimelineSource(Protocol):
    async def entries(self, case_id: int) -> list[TimelineEntry]:
        """This source's entries for the case, in any order."""
        ...


class HistoryItem(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    timestamp: datetime
    type: str
    title: str
    description: str | None
    user_id: UserId | None
    data: dict[str, Any]


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    case_number: str
    status: str
    priority: str
    payment_status: str
    renewal_amount: Decimal
    currency: str
    created_at: datetime
    closed_at: datetime | None
    assigned_to: UserId | None


class CaseTimeline(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    case_id: CaseId
    case: CaseSummary
    history: list[HistoryItem]


def merge(batches: Sequence[Sequence[TimelineEntry]]) -> list[TimelineEntry]:
    """Every entry of every source in timeline order."""
    return sorted((e for batch in batches for e in batch), key=TimelineEntry.sort_key)


class TimelineService:
    def __init__(self, *, headers: CaseHeaders, sources: Sequence[TimelineSource]) -> None:
        self._headers = headers
        self._sources = tuple(sources)

    async def timeline(self, case_id: int, visibility: Visibility) -> CaseTimeline:
        """The case and its history, oldest first; a case the caller cannot see is not found."""
        header = await self._headers.header(case_id, visibility)
        if header is None:
            raise NotFound("case", case_id)
        batches = await asyncio.gather(*(source.entries(case_id) for source in self._sources))
        opened = TimelineEntry(at=header.created_at, type="opened", title="Case opened",
                               description=f"Case {header.case_number} opened")
        history = [HistoryItem(timestamp=e.at, type=e.type, title=e.title, description=e.description,
                               user_id=None if e.actor_id is None else UserId(e.actor_id), data=e.data)
                   for e in merge([[opened], *batches])]
        summary = CaseSummary(
            case_number=header.case_number, status=header.status, priority=header.priority,
            payment_status=header.payment_status, renewal_amount=header.renewal_amount, currency=header.currency,
            created_at=header.created_at, closed_at=header.closed_at,
            assigned_to=None if header.assigned_to is None else UserId(header.assigned_to))
        return CaseTimeline(case_id=CaseId(header.case_id), case=summary, history=history)
