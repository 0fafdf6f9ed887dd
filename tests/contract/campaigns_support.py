"""Shared helpers of the campaigns contract tests: the unit of work and audience source on either container (built
as the lead's container must build them), real rows for the foreign keys, and records with every field set."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.campaigns import InMemoryAudienceSource
from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.campaigns_uow import SqlAlchemyCampaignsUnitOfWork
from adapters.sqlalchemy.read_models.campaign_audience import SqlAudienceSource
from adapters.sqlalchemy.tables.identity import branches
from adapters.sqlalchemy.tables.policies import renewal_cases
from application.campaigns.ports import AudienceSource, SavedSegment
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.campaigns.model import Campaign, CampaignStatus, Recipient, RecipientStatus, Variant
from domain.policies.model import RenewalCase
from domain.uploads.model import Upload
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.messaging_support import clock, full_template, is_sql
from tests.contract.messaging_support import uow as messaging_uow
from tests.factories import add_staff, new_customer, new_policy

RENEWAL_LINK = "https://desk.example.in/renew/"

__all__ = [
    "RENEWAL_LINK",
    "Links",
    "add_branch",
    "add_campaign",
    "add_case",
    "add_customers",
    "add_recipients",
    "add_upload",
    "audience",
    "clock",
    "engine",
    "full_campaign",
    "full_recipient",
    "is_sql",
    "issue_due_policy",
    "links",
    "messaging_uow",
    "set_row",
    "store",
    "uow",
]


def store(container: AppContainer) -> MemoryStore:
    found: MemoryStore = container.adapters.store()
    return found


def engine(container: AppContainer) -> AsyncEngine:
    found = container.adapters.engine()
    assert found is not None
    return found


def uow(container: AppContainer) -> InMemoryCampaignsUnitOfWork | SqlAlchemyCampaignsUnitOfWork:
    """A new campaigns unit of work on the container's database."""
    if is_sql(container):
        return SqlAlchemyCampaignsUnitOfWork(container.adapters.session_factory(), container.core.router(),
                                             container.core.clock())
    return InMemoryCampaignsUnitOfWork(store(container), container.core.router())


def audience(container: AppContainer) -> AudienceSource:
    if is_sql(container):
        return SqlAudienceSource(container.adapters.session_factory(), container.core.clock(), "Asia/Kolkata",
                                 renewal_link_base=RENEWAL_LINK)
    return InMemoryAudienceSource(store(container), "Asia/Kolkata", renewal_link_base=RENEWAL_LINK)


async def add_branch(container: AppContainer, code: str) -> int:
    if not is_sql(container):
        return store(container).add_branch(code)
    async with engine(container).begin() as conn:
        return int(await conn.scalar(insert(branches).values(code=code, name=f"Branch {code}")
                                     .returning(branches.c.id)))


async def add_upload(container: AppContainer, user_id: int | None = None) -> Upload:
    async with container.adapters.uploads_uow() as unit:
        added: Upload = await unit.uploads.add(Upload(
            id=None, filename="uploads/book.xlsx", original_filename="book.xlsx", file_size=10, file_type="xlsx",
            sha256="b" * 64, uploaded_by=user_id, total_records=3))
        await unit.commit()
    return added


async def add_customers(container: AppContainer, count: int, **overrides: Any) -> list[int]:
    ids = []
    for n in range(count):
        values = {"first_name": f"Cust{n}", "email": f"cust{n}.{uuid.uuid4().hex[:6]}@example.in",
                  "phone": f"+9198{uuid.uuid4().int % 10**8:08d}", **overrides}
        ids.append(int((await container.application.customers().register(new_customer(**values))).id))
    return ids


async def issue_due_policy(container: AppContainer, customer_id: int, **overrides: Any) -> tuple[int, int]:
    """A policy renewing within the window and its open case: (policy id, case id)."""
    policy = await container.application.policies().issue(new_policy(customer_id, **{"renewal_in_days": 10,
                                                                                     **overrides}))
    await container.application.cases().open_due_cases()
    cases = await container.application.cases().list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    return int(policy.id), next(int(c.id) for c in cases.items if int(c.policy_id) == int(policy.id))


async def set_row(container: AppContainer, table: str, row_id: int, **changes: Any) -> None:
    """Change a customer's, policy's or case's columns directly (batch_id, status, ...): no use case does it.

    Give enums for enum fields: the in-memory records keep them."""
    if not is_sql(container):
        tables = store(container).tables
        found: dict[str, dict[int, Any]] = {"customers": tables.customers, "policies": tables.policies,
                                            "renewal_cases": tables.cases}
        for name, value in changes.items():
            setattr(found[table][row_id], name, value)
        return
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    async with engine(container).begin() as conn:
        await conn.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"), {**changes, "id": row_id})


async def add_case(container: AppContainer, policy_id: int, term_end_date: date, renewal_amount: Decimal) -> int:
    """Another open case of a policy (a later term), written directly."""
    if not is_sql(container):
        case_id = store(container).next_value("renewal_cases.id")
        store(container).tables.cases[case_id] = RenewalCase(
            case_number=f"RC-X{case_id}", policy_id=policy_id, term_end_date=term_end_date,
            renewal_amount=renewal_amount, id=case_id, created_at=NOW, updated_at=NOW)
        return case_id
    async with engine(container).begin() as conn:
        return int(await conn.scalar(insert(renewal_cases).values(
            case_number=f"RC-X{policy_id}", policy_id=policy_id, term_end_date=term_end_date,
            renewal_amount=renewal_amount).returning(renewal_cases.c.id)))


@dataclass(frozen=True)
class Links:
    user_id: int
    upload_id: int
    template_id: int
    segment_id: int


async def links(container: AppContainer) -> Links:
    """A user, an upload, a template and a saved segment: real rows for a campaign's foreign keys."""
    _, (user_id,) = await add_staff(container, branch_count=0, user_branches=[None])
    upload = await add_upload(container, user_id)
    async with messaging_uow(container) as unit:
        template = await unit.templates.add(full_template(created_by=user_id))
        await unit.commit()
    async with uow(container) as unit:
        segment = await unit.segments.add(SavedSegment(id=None, name="Due soon", created_by=user_id, filter={
            "field": "policy.renewal_date", "op": "within_days", "value": 30}))
        await unit.commit()
    assert upload.id is not None and template.id is not None and segment.id is not None
    return Links(user_id=user_id, upload_id=upload.id, template_id=template.id, segment_id=segment.id)


def full_campaign(link: Links | None = None, **overrides: Any) -> Campaign:
    values: dict[str, Any] = {
        "id": None, "name": "May renewals (Email)", "channel": "email", "status": CampaignStatus.PAUSED,
        "group_key": uuid.UUID("7b0c1c7e-7d7e-4b6b-9d1e-2f1f5c1a9e01"), "description": "Renewals due in May",
        "audience": {"kind": "segment", "filter": {"field": "policy.policy_type", "op": "eq", "value": "motor"}},
        "subject": "Your policy renews soon", "content": "Dear {name}, renew {policy_number}.",
        "variants": [Variant("A", 50, subject="Renew now"), Variant("B", 50, content="Hi {first_name}",
                                                                    template_id=None)],
        "ab_test": {"test_percent": 20, "holdout_percent": 5, "metric": "open", "decision": {"winner": "B"}},
        "schedule_type": "scheduled", "scheduled_at": NOW + timedelta(hours=2), "started_at": NOW - timedelta(hours=1),
        "completed_at": None, "paused_reason": "failure_rate", "target_count": 1200,
        "excluded": {"opted_out": 3, "no_address": 2}, "checkpoint": 987654321012}
    if link is not None:
        values.update(upload_id=link.upload_id, segment_id=link.segment_id, template_id=link.template_id,
                      created_by=link.user_id)
    values.update(overrides)
    return Campaign(**values)


async def add_campaign(container: AppContainer, **overrides: Any) -> Campaign:
    async with uow(container) as unit:
        added = await unit.campaigns.add(Campaign(**{"id": None, "name": "Renewals", "channel": "sms", **overrides}))
        await unit.commit()
    return added


def full_recipient(campaign_id: int, customer_id: int, **overrides: Any) -> Recipient:
    values: dict[str, Any] = {
        "id": None, "campaign_id": campaign_id, "customer_id": customer_id, "address": "+919876543210",
        "status": RecipientStatus.SENT, "policy_id": None, "variant": "B",
        "values": {"name": "Asha Rao", "premium": "12500.00"}, "lease_until": NOW + timedelta(minutes=5),
        "attempts": 2, "provider_message_id": f"SM{customer_id}", "error_code": "30007",
        "error_message": "Carrier filtered", "sent_at": NOW - timedelta(minutes=6),
        "delivered_at": NOW - timedelta(minutes=5), "opened_at": NOW - timedelta(minutes=4),
        "clicked_at": NOW - timedelta(minutes=3), "replied_at": NOW - timedelta(minutes=2),
        "converted_at": NOW - timedelta(minutes=1)}
    values.update(overrides)
    return Recipient(**values)


async def add_recipients(container: AppContainer, campaign_id: int, count: int,
                         **overrides: Any) -> list[Recipient]:
    """`count` pending recipients (one customer each) of the campaign, read back in id order."""
    customer_ids = await add_customers(container, count)
    async with uow(container) as unit:
        await unit.recipients.add_many([Recipient(id=None, campaign_id=campaign_id, customer_id=c,
                                                  address=f"+91{c:010d}", **overrides) for c in customer_ids])
        await unit.commit()
    async with uow(container) as unit:
        page = await unit.recipients.list(campaign_id, (), PageRequest(limit=100))
    return [r for r in page.items if r.customer_id in customer_ids]

