"""In-memory twins of the campaigns adapters, with the SQL adapters' semantics.

Ids come from the store's counters; records are copied on the way in and out. Writes are staged and applied when
`InMemoryCampaignsUnitOfWork` commits. A recipient claimed or saved by an open unit is held in
`MemoryStore.reserved_keys` until that unit ends, so another unit's `claim`/`expired_claims` skips it, as
PostgreSQL's `FOR UPDATE SKIP LOCKED` does. Tracking hits and the audience are in campaigns_tracking.py and
campaigns_audience.py (re-exported here).
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from adapters.memory.campaigns_audience import InMemoryAudienceSource
from adapters.memory.campaigns_tracking import InMemoryTrackingStore
from adapters.memory.store import MemoryStore
from application.campaigns.ports import CampaignFilters, SavedSegment
from application.shared.pagination import Page, PageRequest, SortKey
from domain.campaigns.model import Campaign, CampaignStatus, Recipient, RecipientStatus
from domain.shared.errors import Conflict, NotFound, ValidationFailed

FIRST_STAMPS = ("delivered_at", "opened_at", "clicked_at", "replied_at", "converted_at")
__all__ = [
    "CAMPAIGN_SORT", "DECIDED", "InMemoryAudienceSource", "InMemoryCampaignRepository",
    "InMemoryRecipientRepository", "InMemorySegmentRepository", "InMemoryTrackingStore", "recipient_counters",
    "segment_name_taken",
]

CAMPAIGN_SORT = ("createdAt", "updatedAt", "name")
_ATTRIBUTES = {"createdAt": "created_at", "updatedAt": "updated_at", "name": "name"}
_DEFAULT_SORT = (SortKey("createdAt", descending=True),)
# the outcomes of a send, for the auto-pause failure rate
DECIDED = (RecipientStatus.SENT, RecipientStatus.FAILED, RecipientStatus.UNKNOWN)
_FUNNEL = ("delivered", "opened", "clicked", "replied", "converted")


def segment_name_taken() -> Conflict:
    return Conflict("a segment with this name already exists", field="name")


def recipient_counters(recipients: Sequence[Recipient]) -> dict[str, int]:
    """Every status's count, "total", and how many were delivered/opened/clicked/replied/converted."""
    found = {status.value: 0 for status in RecipientStatus}
    for recipient in recipients:
        found[RecipientStatus(recipient.status).value] += 1
    found["total"] = len(recipients)
    for name in _FUNNEL:
        found[name] = sum(1 for r in recipients if getattr(r, f"{name}_at") is not None)
    return found


class InMemoryCampaignRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, Campaign] = {}
        self.recipients: InMemoryRecipientRepository | None = None  # set by the unit: counters see its writes

    def _all(self) -> dict[int, Campaign]:
        return {**self._store.tables.campaigns, **self.staged}

    async def add(self, campaign: Campaign) -> Campaign:
        campaign.id = self._store.next_value("campaigns.id")
        campaign.group_key = campaign.group_key or uuid.UUID(int=campaign.id)
        campaign.created_at = campaign.created_at or self._at
        campaign.updated_at = self._at
        self.staged[campaign.id] = copy.deepcopy(campaign)
        return campaign

    async def get(self, campaign_id: int) -> Campaign | None:
        found = self._all().get(campaign_id)
        return None if found is None else copy.deepcopy(found)

    async def get_for_update(self, campaign_id: int) -> Campaign | None:
        return await self.get(campaign_id)

    async def save(self, campaign: Campaign) -> None:
        if campaign.id is None or campaign.id not in self._all():
            raise NotFound("campaign", campaign.id)
        campaign.updated_at = self._at
        self.staged[campaign.id] = copy.deepcopy(campaign)

    async def list(self, filters: CampaignFilters, page: PageRequest) -> Page[Campaign]:
        for key in page.sort:
            if key.field not in CAMPAIGN_SORT:
                raise ValidationFailed.on("sort", f"cannot sort by '{key.field}'; allowed: {', '.join(CAMPAIGN_SORT)}")
        statuses, channels = set(filters.statuses), set(filters.channels)
        found = [c for c in self._all().values()
                 if (not statuses or CampaignStatus(c.status).value in statuses)
                 and (not channels or c.channel in channels)
                 and (filters.group_key is None or str(c.group_key) == str(filters.group_key))]
        sort = page.sort or _DEFAULT_SORT
        found.sort(key=lambda c: c.id or 0, reverse=sort[-1].descending)
        for key in reversed(sort):
            found.sort(key=lambda c, a=_ATTRIBUTES[key.field]: getattr(c, a), reverse=key.descending)  # type: ignore[misc]
        items = [copy.deepcopy(c) for c in found[page.offset:page.offset + page.limit]]
        return Page(items=items, page=page.page, limit=page.limit, total=len(found))

    def _recipients(self) -> builtins.list[Recipient]:
        if self.recipients is not None:
            return builtins.list(self.recipients.all().values())
        return builtins.list(self._store.tables.campaign_recipients.values())

    async def due(self, now: datetime) -> builtins.list[int]:
        """Also active ones whose only work left is expired claims (a worker died holding the last batch)."""
        recipients = self._recipients()
        sending = {r.campaign_id for r in recipients if r.status is RecipientStatus.PENDING
                   or (r.status is RecipientStatus.SENDING and r.lease_until is not None and r.lease_until < now)}
        return sorted(c.id or 0 for c in self._all().values()
                      if (c.status is CampaignStatus.SCHEDULED and c.scheduled_at is not None and c.scheduled_at <= now)
                      or (c.status is CampaignStatus.ACTIVE and c.id in sending))

    async def counters(self, campaign_id: int) -> dict[str, int]:
        recipients = self._recipients()
        return recipient_counters([r for r in recipients if r.campaign_id == campaign_id])


def _lock_key(recipient_id: int) -> tuple[object, ...]:
    return ("campaign_recipient", recipient_id)


class InMemoryRecipientRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, Recipient] = {}
        self.locks: set[tuple[object, ...]] = set()

    def all(self) -> dict[int, Recipient]:
        """Committed and staged rows."""
        return {**self._store.tables.campaign_recipients, **self.staged}

    _all = all

    def _free(self, recipient_id: int) -> bool:
        key = _lock_key(recipient_id)
        return key in self.locks or key not in self._store.reserved_keys

    def _hold(self, recipient: Recipient) -> None:
        key = _lock_key(recipient.id or 0)
        if key not in self.locks:
            self._store.reserved_keys.add(key)
            self.locks.add(key)
        self.staged[recipient.id or 0] = copy.deepcopy(recipient)

    def release(self) -> None:
        self._store.reserved_keys.difference_update(self.locks)
        self.locks.clear()

    async def add_many(self, recipients: Sequence[Recipient]) -> int:
        taken = {(r.campaign_id, r.customer_id, r.policy_id) for r in self._all().values()}
        inserted = 0
        for recipient in recipients:
            key = (recipient.campaign_id, recipient.customer_id, recipient.policy_id)
            if key in taken:
                continue
            taken.add(key)
            row = copy.deepcopy(recipient)
            row.id = self._store.next_value("campaign_recipients.id")
            self.staged[row.id] = row
            inserted += 1
        return inserted

    async def claim(self, campaign_id: int, *, after_id: int, limit: int, lease_until: datetime,
                    statuses: tuple[RecipientStatus, ...] = (RecipientStatus.PENDING,)) -> builtins.list[Recipient]:
        wanted = {RecipientStatus(s) for s in statuses}
        found = sorted((r for r in self._all().values()
                        if r.campaign_id == campaign_id and r.status in wanted and (r.id or 0) > after_id
                        and self._free(r.id or 0)), key=lambda r: r.id or 0)[:limit]
        claimed = []
        for recipient in found:
            row = copy.deepcopy(recipient)
            row.status, row.lease_until, row.attempts = RecipientStatus.SENDING, lease_until, row.attempts + 1
            self._hold(row)
            claimed.append(row)
        return claimed

    async def expired_claims(self, campaign_id: int, now: datetime, limit: int) -> builtins.list[Recipient]:
        found = sorted((r for r in self._all().values()
                        if r.campaign_id == campaign_id and r.status is RecipientStatus.SENDING
                        and r.lease_until is not None and r.lease_until < now and self._free(r.id or 0)),
                       key=lambda r: r.id or 0)[:limit]
        for recipient in found:
            self._hold(recipient)
        return [copy.deepcopy(r) for r in found]

    async def save_many(self, recipients: Sequence[Recipient]) -> None:
        known = self._all()
        for recipient in recipients:
            if recipient.id is None or recipient.id not in known:
                raise NotFound("campaign recipient", recipient.id)
        for recipient in recipients:
            current = known[recipient.id or 0]
            kept = {name: getattr(current, name) for name in FIRST_STAMPS if getattr(current, name) is not None}
            self._hold(dataclasses.replace(recipient, **kept) if kept else recipient)  # first stamps are kept

    async def get(self, recipient_id: int) -> Recipient | None:
        found = self._all().get(recipient_id)
        return None if found is None else copy.deepcopy(found)

    async def find_by_provider_id(self, provider_message_id: str) -> Recipient | None:
        found = [r for r in self._all().values() if r.provider_message_id == provider_message_id]
        return copy.deepcopy(min(found, key=lambda r: r.id or 0)) if found else None

    async def list(self, campaign_id: int, statuses: tuple[str, ...], page: PageRequest) -> Page[Recipient]:
        wanted = set(statuses)
        found = sorted((r for r in self._all().values() if r.campaign_id == campaign_id
                        and (not wanted or RecipientStatus(r.status).value in wanted)), key=lambda r: r.id or 0)
        items = [copy.deepcopy(r) for r in found[page.offset:page.offset + page.limit]]
        return Page(items=items, page=page.page, limit=page.limit, total=len(found))

    def stamp(self, recipient_id: int) -> datetime:
        """When the recipient was last written (its SQL row's updated_at)."""
        if recipient_id in self.staged:
            return self._at
        return self._store.tables.recipient_stamps.get(recipient_id, self._at)

    async def recent_outcomes(self, campaign_id: int, last: int) -> builtins.list[RecipientStatus]:
        decided = [r for r in self._all().values() if r.campaign_id == campaign_id and r.status in DECIDED]
        decided.sort(key=lambda r: (self.stamp(r.id or 0), r.id or 0), reverse=True)
        return [RecipientStatus(r.status) for r in decided[:last]]

    async def set_status(self, campaign_id: int, from_status: RecipientStatus, to_status: RecipientStatus,
                         *, variant: str | None = None) -> int:
        moved = 0
        for recipient in self._all().values():
            if recipient.campaign_id == campaign_id and recipient.status is RecipientStatus(from_status):
                row = copy.deepcopy(recipient)
                row.status = RecipientStatus(to_status)
                row.variant = variant if variant is not None else row.variant
                self.staged[row.id or 0] = row
                moved += 1
        return moved


class InMemorySegmentRepository:
    def __init__(self, store: MemoryStore, at: datetime) -> None:
        self._store = store
        self._at = at
        self.staged: dict[int, SavedSegment] = {}

    def _all(self) -> dict[int, SavedSegment]:
        return {**self._store.tables.segments, **self.staged}

    def check_unique(self) -> None:
        for segment in self.staged.values():
            if any(o.id != segment.id and o.name == segment.name for o in self._store.tables.segments.values()):
                raise segment_name_taken()

    async def add(self, segment: SavedSegment) -> SavedSegment:
        if any(other.name == segment.name for other in self._all().values()):
            raise segment_name_taken()
        kept = copy.deepcopy(segment)
        kept.id = self._store.next_value("segments.id")
        kept.created_at = kept.created_at or self._at
        self.staged[kept.id] = kept
        return copy.deepcopy(kept)

    async def get(self, segment_id: int) -> SavedSegment | None:
        found = self._all().get(segment_id)
        return None if found is None else copy.deepcopy(found)

    async def list(self) -> builtins.list[SavedSegment]:
        """Newest first, then the larger id."""
        found = sorted(self._all().values(), key=lambda s: (s.created_at or self._at, s.id or 0), reverse=True)
        return [copy.deepcopy(s) for s in found]
