"""The CaseMessenger over messaging (the bridge reminders and payments send through), on both containers:
templates by name, the customer's address, consent, WhatsApp's approved templates, idempotency keys."""

from __future__ import annotations

from typing import Any

from application.messaging.ports import MessageFilters
from application.policies.commands import CustomerChanges
from application.ports.case_messages import CaseMessage
from application.ports.whatsapp import ApprovedTemplate
from application.shared.pagination import PageRequest
from entrypoints.container import AppContainer
from tests.factories import new_customer, new_policy

VALUES = {"customer_name": "Asha Rao", "policy_number": "POL-1", "renewal_date": "2026-12-18",
          "renewal_amount": "12500.50", "renewal_link": "https://desk.example/renew/POL-1"}


def reminder(channel: str, customer_id: int, **changes: Any) -> CaseMessage:
    fields: dict[str, Any] = {"channel": channel, "customer_id": customer_id, "case_id": 1,
                              "template": "renewal_reminder_15_days", "values": VALUES, "purpose": "reminder",
                              "idempotency_key": f"reminder-test-{channel}"}
    fields.update(changes)
    return CaseMessage(**fields)


async def customer(container: AppContainer, **changes: Any) -> int:
    registered = await container.application.customers().register(new_customer(**changes))
    return int(registered.id)


async def open_case(container: AppContainer, customer_id: int) -> None:
    issued = await container.application.policies().issue(new_policy(customer_id, renewal_in_days=20))
    await container.application.cases().open_case_for_policy(int(issued.id))


async def test_a_reminder_by_name_is_queued_with_its_purpose_and_values_once_per_key(container: AppContainer) -> None:
    await container.messaging.templates().seed_starter_library()
    asha = await customer(container)
    await open_case(container, asha)
    messenger = container.bridges.case_messenger()
    first = await messenger.queue(reminder("sms", asha))
    again = await messenger.queue(reminder("sms", asha))
    assert first.status == "queued" and first.message_id is not None and again.message_id == first.message_id
    async with container.adapters.messaging_uow() as uow:
        stored = await uow.messages.get(first.message_id)
        listed = await uow.messages.list(MessageFilters(), PageRequest())
    assert stored is not None and listed.total == 1
    assert (stored.purpose, stored.case_id, stored.customer_id, stored.transactional) == ("reminder", 1, asha, False)
    assert "POL-1" in stored.body and "2026-12-18" in stored.body and "https://desk.example/renew/POL-1" in stored.body


async def test_refusals_say_why_so_a_reminder_can_fall_back(container: AppContainer) -> None:
    await container.messaging.templates().seed_starter_library()
    no_email = await customer(container, email=None)
    asha = await customer(container, email="asha2@example.in", phone="+91 98765 43211")
    await open_case(container, asha)
    messenger = container.bridges.case_messenger()
    assert (await messenger.queue(reminder("email", no_email))).code == "no_address"
    assert (await messenger.queue(reminder("sms", asha, template="no_such_template"))).code == "unknown_template"
    await container.application.customers().update(asha, CustomerChanges(communication_preferences={"sms": False}))
    refused = await messenger.queue(reminder("sms", asha))
    assert refused.status == "refused" and refused.code == "recipient_opted_out" and "preferences" in (
        refused.reason or "")


async def test_whatsapp_goes_as_the_approved_meta_template_of_the_same_name(container: AppContainer) -> None:
    await container.messaging.templates().seed_starter_library()
    opted_in = await customer(container, communication_preferences={"whatsapp": True})
    await open_case(container, opted_in)
    messenger = container.bridges.case_messenger()
    missing = await messenger.queue(reminder("whatsapp", opted_in))
    assert missing.code == "unknown_template"  # no approved template of that name synchronised from Meta yet
    async with container.adapters.messaging_uow() as uow:
        await uow.whatsapp_templates.sync([ApprovedTemplate(
            provider_id="9", name="renewal_reminder_15_days", language="en", category="UTILITY", status="approved",
            components=[{"type": "BODY", "text": "Dear {{1}}, policy {{2}} renews on {{3}}: Rs. {{4}}, {{5}}"}])],
            container.core.clock().now())
        await uow.commit()
    never_asked = await customer(container, email="ravi@example.in", phone="+91 98765 43212")
    await open_case(container, never_asked)
    refused = await messenger.queue(reminder("whatsapp", never_asked, idempotency_key="reminder-test-wa-ravi"))
    assert refused.code == "recipient_opted_out"  # WhatsApp needs the customer's opt-in
    queued = await messenger.queue(reminder("whatsapp", opted_in, idempotency_key="reminder-test-wa-2"))
    assert queued.status == "queued" and queued.message_id is not None
    async with container.adapters.messaging_uow() as uow:
        stored = await uow.messages.get(queued.message_id)
    assert stored is not None and stored.whatsapp_template == "renewal_reminder_15_days"
    assert stored.parameters == ["Asha Rao", "POL-1", "2026-12-18", "12500.50", "https://desk.example/renew/POL-1"]
