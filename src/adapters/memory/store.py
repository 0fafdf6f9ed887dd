"""The in-memory database the memory adapters share: committed state plus sequences."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.campaigns.ports import SavedSegment, TrackingHit
from application.ports.uow import Job
from domain.campaigns.model import Campaign, Recipient
from domain.identity.model import AuditEntry, Role, User
from domain.messaging.model import Consent, Message, ProviderEvent, Template, WhatsAppTemplate
from domain.policies.model import Customer, Policy, RenewalCase
from domain.shared.clock import Clock
from domain.uploads.model import RowError, Upload

__all__ = ["AuditRecord", "MemoryStore", "OutboxRow", "RecoveryCodeRow", "Tables", "TrackingRow"]


@dataclass
class OutboxRow:
    id: int
    job: Job
    relayed_at: datetime | None = None


@dataclass(frozen=True)
class AuditRecord:
    action: str
    entity_type: str
    entity_id: int | None
    data: dict[str, Any]


@dataclass
class RecoveryCodeRow:
    user_id: int
    code_hash: str
    created_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class TrackingRow:
    """A `tracking_hits` row: the hit as recorded and the campaign of its recipient."""

    id: int
    campaign_id: int
    hit: TrackingHit


@dataclass
class Tables:
    customers: dict[int, Customer] = field(default_factory=dict)
    policies: dict[int, Policy] = field(default_factory=dict)
    cases: dict[int, RenewalCase] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)  # the audit rows of domain events
    # identity
    branches: dict[int, str] = field(default_factory=dict)  # id -> code
    roles: dict[int, Role] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    recovery_codes: list[RecoveryCodeRow] = field(default_factory=list)
    security_audit: list[AuditEntry] = field(default_factory=list)  # the entries of the AuditTrail port
    # uploads
    uploads: dict[int, Upload] = field(default_factory=dict)  # file_uploads with its upload_batches id
    row_errors: dict[int, dict[int, RowError]] = field(default_factory=dict)  # upload id -> row number -> row
    # messaging
    templates: dict[int, Template] = field(default_factory=dict)
    whatsapp_templates: dict[int, WhatsAppTemplate] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    consents: dict[tuple[str, str], Consent] = field(default_factory=dict)  # (channel, address) -> decision
    provider_events: dict[int, ProviderEvent] = field(default_factory=dict)
    processed_events: dict[int, datetime] = field(default_factory=dict)  # provider event id -> processed_at
    whatsapp_windows: dict[str, datetime] = field(default_factory=dict)  # phone -> last inbound message
    # campaigns
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    campaign_recipients: dict[int, Recipient] = field(default_factory=dict)
    recipient_stamps: dict[int, datetime] = field(default_factory=dict)  # recipient id -> updated_at
    segments: dict[int, SavedSegment] = field(default_factory=dict)
    tracking_hits: list[TrackingRow] = field(default_factory=list)
    # the renewal desk (issue 7): each context's memory adapters choose the record types they keep here
    case_events: dict[int, Any] = field(default_factory=dict)
    agent_capacities: dict[int, Any] = field(default_factory=dict)  # user id -> record
    policy_terms: dict[int, Any] = field(default_factory=dict)
    reminder_ladders: dict[str, Any] = field(default_factory=dict)  # policy type -> record
    reminder_sends: dict[int, Any] = field(default_factory=dict)
    payments: dict[int, Any] = field(default_factory=dict)
    payment_events: dict[int, Any] = field(default_factory=dict)
    payment_refunds: dict[int, Any] = field(default_factory=dict)


class MemoryStore:
    """Committed tables; units of work copy them on entry and swap them in on commit."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tables = Tables()
        self._sequences: dict[str, itertools.count[int]] = {}
        self.locked_outbox: set[int] = set()
        # unique keys claimed by open units of work, released at their end (a row lock's stand-in)
        self.reserved_keys: set[tuple[object, ...]] = set()

    def next_value(self, name: str) -> int:
        return next(self._sequences.setdefault(name, itertools.count(1)))

    def now(self) -> datetime:
        return self.clock.now()

    def add_branch(self, code: str) -> int:
        """Insert a branch (SQL: a row of `branches`); its id."""
        branch_id = self.next_value("branches.id")
        self.tables.branches[branch_id] = code
        return branch_id
