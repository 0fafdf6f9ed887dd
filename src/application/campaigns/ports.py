"""Ports of the campaigns context: repositories, the audience it reads from other contexts, tracking, provider
lookups for reconciliation, and its unit of work."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from application.ports.uow import UnitOfWork
from application.shared.pagination import Page, PageRequest
from domain.campaigns.model import Campaign, Recipient, RecipientStatus

__all__ = [
    "Attributed",
    "Attributions",
    "AudienceCandidate",
    "AudienceSource",
    "CampaignFilters",
    "CampaignRepository",
    "CampaignsUnitOfWork",
    "ConversionRecorder",
    "OptOuts",
    "ProviderLookup",
    "RecipientRepository",
    "SavedSegment",
    "SegmentRepository",
    "TrackingHit",
    "TrackingStore",
    "UnsubscribeLinks",
]


class CampaignFilters(msgspec.Struct, frozen=True, kw_only=True):
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    group_key: str | None = None


class CampaignRepository(Protocol):
    async def add(self, campaign: Campaign) -> Campaign: ...
    async def get(self, campaign_id: int) -> Campaign | None: ...

    async def get_for_update(self, campaign_id: int) -> Campaign | None:
        """Read and lock the row until the unit of work ends (status changes, the sender's checkpoint)."""
        ...

    async def save(self, campaign: Campaign) -> None: ...
    async def list(self, filters: CampaignFilters, page: PageRequest) -> Page[Campaign]: ...

    async def due(self, now: datetime) -> builtins.list[int]:
        """Scheduled campaigns whose scheduled_at has come, and active ones with pending recipients."""
        ...

    async def counters(self, campaign_id: int) -> dict[str, int]:
        """Recipients by status, and sent/delivered/opened/clicked/replied/converted counts, from the recipients."""
        ...


class RecipientRepository(Protocol):
    async def add_many(self, recipients: Sequence[Recipient]) -> int:
        """Insert (set-based: COPY or one multi-row INSERT per thousand); duplicates (campaign, customer, policy)
        are skipped. Returns how many were inserted."""
        ...

    async def claim(self, campaign_id: int, *, after_id: int, limit: int, lease_until: datetime,
                    statuses: tuple[RecipientStatus, ...] = (RecipientStatus.PENDING,)) -> builtins.list[Recipient]:
        """Move up to `limit` recipients with id > after_id, in id order, from `statuses` to `sending` with the
        lease; FOR UPDATE SKIP LOCKED so two workers never claim the same one."""
        ...

    async def expired_claims(self, campaign_id: int, now: datetime, limit: int) -> builtins.list[Recipient]:
        """Recipients still `sending` whose lease has passed (their worker died mid-send)."""
        ...

    async def save_many(self, recipients: Sequence[Recipient]) -> None: ...
    async def get(self, recipient_id: int) -> Recipient | None: ...
    async def find_by_provider_id(self, provider_message_id: str) -> Recipient | None: ...

    async def list(self, campaign_id: int, statuses: tuple[str, ...], page: PageRequest) -> Page[Recipient]: ...

    async def recent_outcomes(self, campaign_id: int, last: int) -> builtins.list[RecipientStatus]:
        """The statuses of the `last` recipients decided most recently (for the auto-pause failure rate)."""
        ...

    async def set_status(self, campaign_id: int, from_status: RecipientStatus, to_status: RecipientStatus,
                         *, variant: str | None = None) -> int:
        """Move every recipient of the campaign in one status to another (A/B: waiting -> pending)."""
        ...


class SavedSegment(msgspec.Struct, kw_only=True):
    id: int | None
    name: str
    filter: dict[str, Any]
    created_by: int | None = None
    created_at: datetime | None = None


class SegmentRepository(Protocol):
    async def add(self, segment: SavedSegment) -> SavedSegment: ...
    async def get(self, segment_id: int) -> SavedSegment | None: ...
    async def list(self) -> builtins.list[SavedSegment]: ...


class TrackingHit(msgspec.Struct, frozen=True, kw_only=True):
    """One open or click as received, classified (human or the reason it is not)."""

    recipient_id: int
    kind: str  # open | click
    at: datetime
    user_agent: str | None = None
    ip: str | None = None
    link: str | None = None
    machine_reason: str | None = None  # None: a person; else privacy_proxy | scanner | bot_user_agent


class TrackingStore(Protocol):
    async def record(self, hit: TrackingHit) -> None: ...

    async def summary(self, campaign_id: int) -> dict[str, Any]:
        """Raw and human opens and clicks, per variant and per link."""
        ...


class CampaignsUnitOfWork(UnitOfWork, Protocol):
    campaigns: CampaignRepository
    recipients: RecipientRepository
    segments: SegmentRepository
    tracking: TrackingStore


class AudienceCandidate(msgspec.Struct, frozen=True, kw_only=True):
    customer_id: int
    policy_id: int | None
    address: str | None  # None: no address for the channel
    values: dict[str, str]  # name, policy_number, renewal_date, premium, ... for the template
    opted_out: bool = False


class AudienceSource(Protocol):
    """Reads customers, policies, cases and consents (other contexts' data) for an audience; set-based."""

    async def count(self, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        """{"eligible": n, "opted_out": n, "no_address": n} without reading the rows."""
        ...

    async def sample(self, channel: str, audience: dict[str, Any], limit: int) -> builtins.list[AudienceCandidate]:
        ...

    async def materialise(self, campaign_id: int, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        """Write the eligible candidates as `campaign_recipients` rows in one INSERT ... SELECT and return the
        counts {"inserted", "opted_out", "no_address"}."""
        ...


class ProviderLookup(Protocol):
    async def find(self, channel: str, reference: str) -> str | None:
        """The provider's message id for a message we sent with this reference, if the provider can tell;
        None when it has none. Raise NotImplementedError when the provider cannot be asked."""
        ...


class OptOuts(Protocol):
    """Consent decisions made since launch (a read model over the messaging context's `customer_consents`)."""

    async def opted_out(self, channel: str, addresses: Sequence[str]) -> set[str]:
        """Those of `addresses` (as given) whose latest decision for `channel` is an opt-out; one query. E-mail
        addresses match whatever their case."""
        ...


class UnsubscribeLinks(Protocol):
    def url(self, channel: str, address: str) -> str:
        """The messaging context's one-click unsubscribe URL (`/api/unsubscribe/{token}`) for (channel, address)."""
        ...


class Attributed(msgspec.Struct, frozen=True, kw_only=True):
    """A recipient a reply or a conversion was credited to."""

    recipient_id: int
    campaign_id: int
    sent_at: datetime


class Attributions(Protocol):
    """Credits replies and conversions to recipients, each change one atomic conditional update (so a job run twice,
    or racing another, marks a recipient once and never overwrites its other fields)."""

    async def mark_replied(self, channel: str, address: str, *, sent_since: datetime,
                           at: datetime) -> Attributed | None:
        """Set `replied_at = at` on the recipient of (channel, address) sent most recently within [sent_since, at],
        unless it has replied already; that recipient when this call marked it, else None."""
        ...

    async def mark_converted(self, customer_id: int, policy_id: int | None, *, sent_since: datetime,
                             at: datetime) -> builtins.list[Attributed]:
        """Set `converted_at = at` on every recipient sent within [sent_since, at] about the policy (the
        customer's recipients of that policy or of none), or about the customer when `policy_id` is None, that
        has not converted yet; those marked, the most recently sent first."""
        ...


class ConversionRecorder(Protocol):
    """The use case other contexts' events reach (job `campaigns.record_conversion`; payments' `RenewalPaid`)."""

    async def record_conversion(self, customer_id: int, policy_id: int | None, at: datetime) -> int:
        """Credit the renewal paid at `at` to the campaigns that messaged about it in the window; how many."""
        ...
