"""The timeline's sources read the same rows the same way in memory and on PostgreSQL.

The rows of the desk, messaging, reminders and payments are written straight into their tables (SQLAlchemy Core
on PostgreSQL, plain records in the memory store) as those contexts will write them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from sqlalchemy import insert

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.tables.cases import case_events, policy_terms
from adapters.sqlalchemy.tables.messaging import messages, templates
from adapters.sqlalchemy.tables.payments import payment_refunds, payments
from adapters.sqlalchemy.tables.reminders import reminder_sends
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING, Visibility
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel, Message, Template
from domain.shared.errors import NotFound
from entrypoints.container import AppContainer
from tests.factories import add_staff, new_customer, new_policy, seed_owned_cases, set_case_owners

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # after the cases are opened


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def _one_case(container: AppContainer) -> int:
    customer = await container.application.customers().register(new_customer())
    await container.application.policies().issue(new_policy(customer.id, renewal_in_days=10))
    cases = container.application.cases()
    await cases.open_due_cases()
    return int((await cases.list(CaseFilters(), PageRequest(), EVERYTHING)).items[0].id)


_RECORD_TABLES = {"case_events": case_events, "reminder_sends": reminder_sends, "payments": payments,
                  "payment_refunds": payment_refunds, "policy_terms": policy_terms}


async def _add(container: AppContainer, table: str, **row: Any) -> None:
    """A row as its context writes it: SQL insert, or a record with the columns as attributes in memory."""
    engine = container.adapters.engine()
    if engine is None:
        store: MemoryStore = container.adapters.store()  # type: ignore[union-attr]
        getattr(store.tables, table)[row["id"]] = SimpleNamespace(**row)
        return
    async with engine.begin() as conn:
        await conn.execute(insert(_RECORD_TABLES[table]).values(**row))


async def _add_message(container: AppContainer, *, template_id: int | None, **row: Any) -> None:
    engine = container.adapters.engine()
    times = row.pop("times")
    if engine is None:
        store: MemoryStore = container.adapters.store()  # type: ignore[union-attr]
        if template_id is not None and template_id not in store.tables.templates:
            store.tables.templates[template_id] = Template(id=template_id, name="renewal_reminder_7_days",
                                                           channel=Channel.WHATSAPP, content="Hi {customer_name}")
        message = Message(id=row["id"], channel=Channel(row["channel"]), recipient=row["recipient"], body=row["body"],
                          status=MessageStatus(row["status"]), case_id=row["case_id"], template_id=template_id,
                          purpose=row.get("purpose"), error_code=row.get("error_code"),
                          created_by=row.get("created_by"), created_at=row["created_at"], times=dict(times))
        store.tables.messages[row["id"]] = message
        return
    async with engine.begin() as conn:
        if template_id is not None:
            await conn.execute(insert(templates).values(id=template_id, name="renewal_reminder_7_days",
                                                        template_type="whatsapp", content="Hi {customer_name}"))
        await conn.execute(insert(messages).values(template_id=template_id, **row,
                                                   **{f"{status}_at": t for status, t in times.items()}))


async def _seed_history(container: AppContainer, case_id: int, agent: int) -> None:
    await _add(container, "case_events", id=1, case_id=case_id, kind="assigned", actor_id=agent, at=at(5),
               summary="Assigned to Agent1 Test", data={"assigneeId": f"user-{agent}"})
    await _add(container, "case_events", id=2, case_id=case_id, kind="status_changed", actor_id=agent, at=at(60),
               summary="new → contacted", data={"from": "new", "to": "contacted"})
    await _add(container, "reminder_sends", id=1, case_id=case_id, policy_id=1, term_end_date=date(2026, 12, 8),
               offset_days=-7, template="renewal_reminder_7_days", due_on=date(2026, 12, 1), status="sent",
               channels=[{"channel": "whatsapp", "status": "queued", "messageId": "msg-1"}], reason=None,
               created_at=at(10), updated_at=at(10))
    await _add_message(container, template_id=1, id=1, channel="whatsapp", recipient="+919876543210",
                       body="Your policy renews on 8 Dec", status="delivered", case_id=case_id, purpose="reminder",
                       created_at=at(10), times={"queued": at(10), "sent": at(11), "delivered": at(12)})
    await _add_message(container, template_id=None, id=2, channel="sms", recipient="+919876543210",
                       body="Call me back", status="failed", case_id=case_id, purpose=None, error_code="30003",
                       created_by=agent, created_at=at(60), times={"queued": at(60), "failed": at(61)})
    await _add(container, "payments", id=1, case_id=case_id, amount=Decimal("12500.00"), currency="INR",
               status="paid", provider="razorpay", channel="whatsapp", paid_amount=Decimal("12500.00"), method="upi",
               paid_at=at(120), provider_payment_id="pay_R1", flags=[], created_by=agent, created_at=at(90),
               updated_at=at(120))
    await _add(container, "payments", id=2, case_id=case_id, amount=Decimal("12500.00"), currency="INR",
               status="partially_paid", provider="stripe", channel=None, paid_amount=Decimal("500.00"),
               method="card", paid_at=at(100), provider_payment_id="pi_2", created_by=None, created_at=at(95),
               updated_at=at(100), flags=[{"code": "partial_payment", "message": "500.00 of 12500.00",
                                           "at": at(101).isoformat()}])
    await _add(container, "payment_refunds", id=1, payment_id=2, amount=Decimal("500.00"), status="processed",
               provider_refund_id="re_1", reason="partial payment returned", created_by=agent, created_at=at(130),
               updated_at=at(130))
    await _add(container, "policy_terms", id=1, policy_id=1, start_date=date(2025, 12, 9), end_date=date(2026, 12, 8),
               renewal_date=date(2026, 12, 8), premium_amount=Decimal("12500.00"), outcome="renewed",
               case_id=case_id, payment_id=1, created_at=at(125))


EXPECTED = [
    (5, "assigned", "Case assigned", True),
    (10, "reminder_step", "Reminder step T-7: sent", False),
    (10, "reminder", "Reminder by WhatsApp: delivered", False),
    (60, "status_changed", "Status changed", True),
    (60, "message", "Message by SMS: failed", True),
    (90, "payment", "Payment link sent by WhatsApp for 12500.00 INR", True),
    (95, "payment", "Payment link created for 12500.00 INR", False),
    (100, "payment", "Partial payment received: 500.00 INR", False),
    (101, "payment", "Payment flagged: partial payment", False),
    (120, "payment", "Payment received: 12500.00 INR", False),
    (125, "term", "Previous term kept (renewed)", False),
    (130, "payment", "Refund of 500.00 INR: processed", True),
]


async def test_every_source_joins_the_history_in_order(container: AppContainer) -> None:
    _, (agent,) = await add_staff(container, branch_count=1, user_branches=[0])
    case_id = await _one_case(container)
    await _seed_history(container, case_id, agent)

    timeline = await container.case_views.timeline().timeline(case_id, EVERYTHING)

    opened, *history = timeline.history
    assert opened.type == "opened" and opened.title == "Case opened"
    assert [(h.timestamp, h.type, h.title, h.user_id) for h in history] == [
        (at(m), kind, title, agent if by_agent else None) for m, kind, title, by_agent in EXPECTED]
    reminder = history[2].data
    assert (reminder["messageId"], reminder["template"], reminder["purpose"]) == ("msg-1", "renewal_reminder_7_days",
                                                                                  "reminder")
    assert reminder["times"] == {"queued": at(10).isoformat(), "sent": at(11).isoformat(),
                                 "delivered": at(12).isoformat()}
    assert history[4].data["errorCode"] == "30003" and history[4].data["template"] is None
    assert history[1].data["channels"] == [{"channel": "whatsapp", "status": "queued", "messageId": "msg-1"}]
    assert history[9].data["method"] == "upi" and history[9].data["paidAmount"] == Decimal("12500.00")
    assert history[11].data["paymentId"] == "pay-2" and history[11].data["currency"] == "INR"
    assert history[10].data["paymentId"] == "pay-1" and history[10].data["endDate"] == "2026-12-08"
    assert history[0].data == {"assigneeId": f"user-{agent}", "eventId": 1}
    header = timeline.case
    assert (header.status, header.payment_status, header.renewal_amount, header.currency) == (
        "new", "pending", Decimal("12500.00"), "INR")


async def test_rows_of_other_cases_stay_off_the_timeline(container: AppContainer) -> None:
    _, (agent,) = await add_staff(container, branch_count=1, user_branches=[0])
    case_id = await _one_case(container)
    customer = await container.application.customers().register(new_customer(email="b@example.in"))
    await container.application.policies().issue(new_policy(customer.id, renewal_in_days=12))
    cases = container.application.cases()
    await cases.open_due_cases()
    other = next(int(v.id) for v in (await cases.list(CaseFilters(), PageRequest(), EVERYTHING)).items
                 if v.id != case_id)
    await _seed_history(container, other, agent)

    timeline = await container.case_views.timeline().timeline(case_id, EVERYTHING)

    assert [h.type for h in timeline.history] == ["opened"]
    assert len((await container.case_views.timeline().timeline(other, EVERYTHING)).history) == 1 + len(EXPECTED)


async def test_the_header_is_scoped_like_the_case_list(container: AppContainer) -> None:
    owned = await seed_owned_cases(container)
    timeline = container.case_views.timeline()
    agent_a = Visibility(reach="own", user_id=owned.agent_a)
    manager_1 = Visibility(reach="branch", user_id=owned.agent_c, branch_id=owned.branch1)

    assert (await timeline.timeline(owned.a1, agent_a)).case.assigned_to == owned.agent_a
    assert (await timeline.timeline(owned.e2, agent_a)).case_id == owned.e2  # escalated to A
    assert (await timeline.timeline(owned.b1, manager_1)).case_id == owned.b1  # B's case in branch 1
    for case_id, visibility in ((owned.b1, agent_a), (owned.b2, manager_1), (owned.b0, manager_1),
                                (999_999, EVERYTHING)):
        with pytest.raises(NotFound):
            await timeline.timeline(case_id, visibility)


async def test_closed_at_and_assignee_come_from_the_case(container: AppContainer) -> None:
    owned = await seed_owned_cases(container)
    await set_case_owners(container, owned.a1, assigned_to=owned.agent_b)
    timeline = await container.case_views.timeline().timeline(owned.a1, EVERYTHING)
    encoded = msgspec.to_builtins(timeline.case, enc_hook=int)
    assert encoded["assignedTo"] == owned.agent_b and encoded["closedAt"] is None
    assert set(encoded) == {"caseNumber", "status", "priority", "paymentStatus", "renewalAmount", "currency",
                            "createdAt", "closedAt", "assignedTo"}
