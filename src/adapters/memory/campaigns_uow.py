"""The campaigns context's in-memory unit of work: staged writes applied on commit, dropped otherwise."""

from __future__ import annotations

import copy
from datetime import datetime

from adapters.memory.campaigns import (
    InMemoryCampaignRepository,
    InMemoryRecipientRepository,
    InMemorySegmentRepository,
    InMemoryTrackingStore,
)
from adapters.memory.unit_of_work import InMemoryUnitOfWorkBase
from domain.campaigns.model import Recipient

__all__ = ["InMemoryCampaignsUnitOfWork"]


class InMemoryCampaignsUnitOfWork(InMemoryUnitOfWorkBase):
    """`InMemoryCampaignsUnitOfWork(store, router)`; timestamps from the store's clock, one per unit."""

    campaigns: InMemoryCampaignRepository
    recipients: InMemoryRecipientRepository
    segments: InMemorySegmentRepository
    tracking: InMemoryTrackingStore

    def _open(self) -> None:
        at = self._store.now()
        self.recipients = InMemoryRecipientRepository(self._store, at)
        self.campaigns = InMemoryCampaignRepository(self._store, at)
        self.campaigns.recipients = self.recipients
        self.segments = InMemorySegmentRepository(self._store, at)
        self.tracking = InMemoryTrackingStore(self._store, self._recipient)

    def _recipient(self, recipient_id: int) -> Recipient | None:
        return self.recipients.staged.get(recipient_id) or self._store.tables.campaign_recipients.get(recipient_id)

    def _release(self) -> None:
        self.recipients.release()
        self.outbox.release()

    def _check(self) -> None:
        self.segments.check_unique()

    def _apply(self, now: datetime) -> None:
        tables = self._store.tables
        for campaign_id, campaign in self.campaigns.staged.items():
            tables.campaigns[campaign_id] = copy.deepcopy(campaign)
        for recipient_id, recipient in self.recipients.staged.items():
            tables.campaign_recipients[recipient_id] = copy.deepcopy(recipient)
            tables.recipient_stamps[recipient_id] = now
        for segment_id, segment in self.segments.staged.items():
            tables.segments[segment_id] = copy.deepcopy(segment)
        tables.tracking_hits.extend(self.tracking.staged)

    def _clear_staged(self) -> None:
        for repo in (self.campaigns, self.recipients, self.segments):
            repo.staged.clear()
        self.tracking.staged.clear()
