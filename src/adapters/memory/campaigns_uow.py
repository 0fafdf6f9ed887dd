"""The campaigns context's in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from adapters.memory.campaigns import (
    InMemoryCampaignRepository,
    InMemoryRecipientRepository,
    InMemorySegmentRepository,
    InMemoryTrackingStore,
)
from adapters.memory.store import AuditRecord, MemoryStore, OutboxRow
from adapters.memory.uow import InMemoryOutbox
from application.shared.events import EventRouter
from domain.campaigns.model import Recipient
from domain.shared.events import EventRecorder

__all__ = ["InMemoryCampaignsUnitOfWork"]


class InMemoryCampaignsUnitOfWork:
    """`InMemoryCampaignsUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    campaigns: InMemoryCampaignRepository
    recipients: InMemoryRecipientRepository
    segments: InMemorySegmentRepository
    tracking: InMemoryTrackingStore
    outbox: InMemoryOutbox

    def __init__(self, store: MemoryStore, router: EventRouter) -> None:
        self._store = store
        self._router = router
        self._seen: list[EventRecorder] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        at = self._store.now()
        self.recipients = InMemoryRecipientRepository(self._store, at)
        self.campaigns = InMemoryCampaignRepository(self._store, at)
        self.campaigns.recipients = self.recipients
        self.segments = InMemorySegmentRepository(self._store, at)
        self.tracking = InMemoryTrackingStore(self._store, self._recipient)
        self.outbox = InMemoryOutbox(self._store)
        self._seen = []
        self.committed = False
        return self

    def _recipient(self, recipient_id: int) -> Recipient | None:
        return self.recipients.staged.get(recipient_id) or self._store.tables.campaign_recipients.get(recipient_id)

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._discard()
        self.recipients.release()
        self.outbox.release()

    def track(self, aggregate: EventRecorder) -> None:
        self._seen.append(aggregate)

    async def commit(self) -> None:
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        for job in self._router.jobs_for(events):
            self.outbox.add(job)
        self.segments.check_unique()
        tables = self._store.tables
        for campaign_id, campaign in self.campaigns.staged.items():
            tables.campaigns[campaign_id] = copy.deepcopy(campaign)
        now = self._store.now()
        for recipient_id, recipient in self.recipients.staged.items():
            tables.campaign_recipients[recipient_id] = copy.deepcopy(recipient)
            tables.recipient_stamps[recipient_id] = now
        for segment_id, segment in self.segments.staged.items():
            tables.segments[segment_id] = copy.deepcopy(segment)
        tables.tracking_hits.extend(self.tracking.staged)
        for job in self.outbox.pending:
            row_id = self._store.next_value("outbox")
            tables.outbox[row_id] = OutboxRow(id=row_id, job=job)
        for row_id in self.outbox.relayed:
            tables.outbox[row_id].relayed_at = now
        tables.audit.extend(AuditRecord(e.name, e.entity_type, e.entity_id, e.payload()) for e in events)
        self._discard()
        self.committed = True

    async def rollback(self) -> None:
        self._discard()

    def _discard(self) -> None:
        for repo in (self.campaigns, self.recipients, self.segments):
            repo.staged.clear()
        self.tracking.staged.clear()
        self.outbox.pending, self.outbox.relayed = [], []
        self._seen = []
