"""A campaign (one channel of what one POST created), its recipients, its A/B test: records and the status rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.shared.errors import InvalidTransition

__all__ = ["Campaign", "CampaignStatus", "Recipient", "RecipientStatus", "Variant"]


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # launched, waiting for scheduled_at
    ACTIVE = "active"  # sending
    PAUSED = "paused"  # by a person or by itself (failure rate); `paused_reason` says which
    COMPLETED = "completed"  # every recipient decided
    CANCELLED = "cancelled"


_MOVES: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE, CampaignStatus.CANCELLED}),
    CampaignStatus.SCHEDULED: frozenset({CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.CANCELLED}),
    CampaignStatus.ACTIVE: frozenset({CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}),
    CampaignStatus.PAUSED: frozenset({CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED}),
    CampaignStatus.COMPLETED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}


class RecipientStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until `lease_until`
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the claim was in flight when its worker died and the provider cannot tell: a person decides
    HELD_OUT = "held_out"  # the A/B holdout: never sent, measured for comparison
    WAITING = "waiting"  # the A/B remainder: sent the winner once the test decides
    SKIPPED = "skipped"  # opted out after launch: never sent, not a send failure (error_code says why)


@dataclass
class Variant:
    """One A/B arm: what it changes (subject, content or template) and its share of the test sample."""

    name: str  # "A", "B", ...
    split_percent: int
    subject: str | None = None
    content: str | None = None
    template_id: int | None = None


@dataclass
class Campaign:
    id: int | None
    name: str
    channel: str  # email | sms | whatsapp
    status: CampaignStatus = CampaignStatus.DRAFT
    group_key: UUID | None = None  # shared by the per-channel campaigns one POST created
    description: str | None = None
    upload_id: int | None = None
    segment_id: int | None = None
    audience: dict[str, Any] = field(default_factory=dict)  # {"kind": "upload"|"segment"|"all", ...}
    template_id: int | None = None
    subject: str | None = None  # overrides of the template, email only
    content: str | None = None
    variants: list[Variant] = field(default_factory=list)  # empty: no A/B test
    ab_test: dict[str, Any] = field(default_factory=dict)  # holdout/test percent, wait, metric, decision
    schedule_type: str = "immediate"
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    paused_reason: str | None = None
    target_count: int | None = None
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> count (opted_out, no_address, ...)
    checkpoint: int = 0  # the highest recipient id the sender loop has passed (keyset)
    created_by: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def move_to(self, target: CampaignStatus, now: datetime, *, reason: str | None = None) -> None:
        """Change status or raise InvalidTransition (409 naming the current status)."""
        if target not in _MOVES[self.status]:
            raise InvalidTransition("campaign", self.status.value, target.value)
        self.status = target
        if target is CampaignStatus.ACTIVE and self.started_at is None:
            self.started_at = now
        if target in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
            self.completed_at = now
        self.paused_reason = reason if target is CampaignStatus.PAUSED else None

    @property
    def editable(self) -> bool:
        return self.status is CampaignStatus.DRAFT


@dataclass
class Recipient:
    id: int | None
    campaign_id: int
    customer_id: int
    address: str  # the e-mail or E.164 number at launch
    status: RecipientStatus = RecipientStatus.PENDING
    policy_id: int | None = None
    variant: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # template variables captured at launch
    lease_until: datetime | None = None
    attempts: int = 0
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    replied_at: datetime | None = None
    converted_at: datetime | None = None

    @property
    def reference(self) -> str:
        """Our own id for this send, given to the provider (and found again by reconciliation)."""
        return f"cr-{self.id}"
