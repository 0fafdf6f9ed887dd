"""Shared helpers of the messaging contract tests: the unit of work and directory on either container, rows to
link messages to, and records with every field set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.messaging import InMemoryCustomerDirectory
from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.messaging_uow import SqlAlchemyMessagingUnitOfWork
from adapters.sqlalchemy.read_models.customer_contacts import SqlCustomerDirectory
from adapters.sqlalchemy.tables.campaigns import campaigns
from adapters.system.clock import FixedClock
from application.messaging.ports import CustomerDirectory
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel, Message, Template
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.factories import add_staff, new_customer, new_policy

__all__ = ["Links", "add_customer", "clock", "directory", "engine", "full_message", "full_template", "is_sql",
           "links", "set_preferences", "uow"]


def is_sql(container: AppContainer) -> bool:
    return container.adapters.engine() is not None


def engine(container: AppContainer) -> AsyncEngine:
    found = container.adapters.engine()
    assert found is not None
    return found


def clock(container: AppContainer) -> FixedClock:
    """The tests' fixed clock (the `clock` fixture overrides the container's)."""
    found = container.core.clock()
    assert isinstance(found, FixedClock)
    return found


def _store(container: AppContainer) -> MemoryStore:
    store: MemoryStore = container.adapters.store()
    return store


def uow(container: AppContainer) -> InMemoryMessagingUnitOfWork | SqlAlchemyMessagingUnitOfWork:
    """A new messaging unit of work on the container's database, as the lead's container builds it."""
    if is_sql(container):
        return SqlAlchemyMessagingUnitOfWork(container.adapters.session_factory(), container.core.router(),
                                             container.core.clock())
    return InMemoryMessagingUnitOfWork(_store(container), container.core.router())


def directory(container: AppContainer) -> CustomerDirectory:
    if is_sql(container):
        return SqlCustomerDirectory(container.adapters.session_factory())
    return InMemoryCustomerDirectory(_store(container))


async def add_customer(container: AppContainer, **overrides: Any) -> int:
    return int((await container.application.customers().register(new_customer(**overrides))).id)


async def set_preferences(container: AppContainer, customer_id: int, stored: object) -> None:
    """Store `communication_preferences` as given (a dict, or the upload's text form as a JSON string)."""
    if not is_sql(container):
        _store(container).tables.customers[customer_id].communication_preferences = stored  # type: ignore[assignment]
        return
    async with engine(container).begin() as conn:
        await conn.execute(text("UPDATE customers SET communication_preferences = CAST(:v AS jsonb) WHERE id = :id")
                           .bindparams(v=json.dumps(stored), id=customer_id))


@dataclass(frozen=True)
class Links:
    customer_id: int
    case_id: int
    campaign_id: int
    user_id: int
    template_id: int


async def links(container: AppContainer) -> Links:
    """A customer with a renewal case, a campaign, a user and a template: real rows for the foreign keys."""
    customer_id = await add_customer(container)
    policy = await container.application.policies().issue(new_policy(customer_id, renewal_in_days=5))
    await container.application.cases().open_due_cases()
    cases = await container.application.cases().list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    case_id = next(int(c.id) for c in cases.items if int(c.policy_id) == int(policy.id))
    _, (user_id,) = await add_staff(container, branch_count=0, user_branches=[None])
    campaign_id = 1
    if is_sql(container):
        async with engine(container).begin() as conn:
            campaign_id = int(await conn.scalar(insert(campaigns).values(name="Renewals", campaign_type="sms")
                                                .returning(campaigns.c.id)))
    async with uow(container) as unit:
        template = await unit.templates.add(full_template(created_by=user_id))
        await unit.commit()
    assert template.id is not None
    return Links(customer_id=customer_id, case_id=case_id, campaign_id=campaign_id, user_id=user_id,
                 template_id=template.id)


def full_template(**overrides: Any) -> Template:
    values: dict[str, Any] = {
        "id": None, "name": "Reminder 7 days", "channel": Channel.SMS,
        "content": "Dear {name}, policy {policy_number} renews on {date}.",
        "variables": ["name", "policy_number", "date"], "subject": "Your renewal", "category": "reminder",
        "language": "hi", "is_active": False, "dlt_template_id": "1107160000000012345", "created_by": None}
    values.update(overrides)
    return Template(**values)


def full_message(link: Links | None = None, **overrides: Any) -> Message:
    values: dict[str, Any] = {
        "id": None, "channel": Channel.WHATSAPP, "recipient": "+919876543210", "body": "Dear Asha, 7 days left.",
        "status": MessageStatus.SENT, "subject": "Renewal", "html": "<p>Dear Asha</p>",
        "whatsapp_template": "renewal_reminder", "whatsapp_language": "en_US", "parameters": ["Asha", "P-1"],
        "transactional": True, "purpose": "reminder",
        "headers": {"List-Unsubscribe": "<https://x.example/u/1>", "media_type": "document"},
        "provider": "whatsapp", "provider_message_id": "wamid.ABC123", "error_code": "131047",
        "error_text": "Re-engagement message", "cost": Decimal("0.00735"), "currency": "INR", "encoding": "GSM-7",
        "segments": 2, "attempts": 3, "not_before": NOW + timedelta(hours=3), "idempotency_key": "key-1",
        "request_hash": "f" * 64,
        "times": {"queued": NOW - timedelta(minutes=5), "sent": NOW - timedelta(minutes=4),
                  "failed": NOW - timedelta(minutes=3), "undelivered": NOW - timedelta(minutes=2),
                  "delivered": NOW - timedelta(minutes=1), "read": NOW}}
    if link is not None:
        values.update(customer_id=link.customer_id, case_id=link.case_id, campaign_id=link.campaign_id,
                      template_id=link.template_id, created_by=link.user_id)
    values.update(overrides)
    return Message(**values)
