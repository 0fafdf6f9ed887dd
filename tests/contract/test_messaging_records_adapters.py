"""Messaging's consents, provider events, WhatsApp windows and templates, and the customer directory, run
against the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from application.ports.whatsapp import ApprovedTemplate
from domain.messaging.model import Channel, Consent, ConsentSource, ProviderEvent
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.messaging_support import add_customer, directory, set_preferences, uow

# --- consent ------------------------------------------------------------------------------------------


async def test_a_consent_is_put_got_and_replaced_per_channel_and_address(container: AppContainer) -> None:
    customer_id = await add_customer(container)
    out = Consent(channel=Channel.SMS, address="+919876543210", opted_in=False, source=ConsentSource.STOP_KEYWORD,
                  reason="STOP", customer_id=customer_id, updated_at=NOW - timedelta(hours=1))
    async with uow(container) as unit:
        await unit.consents.put(out)
        await unit.consents.put(Consent(channel=Channel.EMAIL, address="asha@example.in", opted_in=True,
                                        source=ConsentSource.IMPORT))
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.consents.get(Channel.SMS, "+919876543210") == out
        assert await unit.consents.get(Channel.WHATSAPP, "+919876543210") is None
        email = await unit.consents.get(Channel.EMAIL, "asha@example.in")
        assert email == Consent(channel=Channel.EMAIL, address="asha@example.in", opted_in=True,
                                source=ConsentSource.IMPORT, updated_at=NOW)  # stamped by the unit's clock
        back_in = Consent(channel=Channel.SMS, address="+919876543210", opted_in=True, source=ConsentSource.MANUAL,
                          updated_at=NOW)
        await unit.consents.put(back_in)
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.consents.get(Channel.SMS, "+919876543210") == back_in  # reason and customer replaced


# --- provider events ----------------------------------------------------------------------------------

def _event(event_id: str = "SM1-delivered", provider: str = "twilio") -> ProviderEvent:
    return ProviderEvent(provider=provider, event_id=event_id, kind="status",
                         payload={"MessageSid": "SM1", "MessageStatus": "delivered", "n": [1, {"a": None}]},
                         received_at=NOW)


async def test_a_provider_event_is_recorded_once_per_provider_and_event_id(container: AppContainer) -> None:
    async with uow(container) as unit:
        kept = await unit.provider_events.record(_event())
        assert kept is not None and kept.id is not None
        assert kept == ProviderEvent(**{**_event().__dict__, "id": kept.id})
        assert await unit.provider_events.record(_event()) is None  # within the same unit too
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.provider_events.get(kept.id) == kept
        assert await unit.provider_events.record(_event()) is None
        other = await unit.provider_events.record(_event(provider="whatsapp"))
        assert other is not None and other.id != kept.id
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.provider_events.get((other.id or 0) + 1) is None


async def test_a_rolled_back_record_leaves_the_event_to_record_again(container: AppContainer) -> None:
    async with uow(container) as unit:
        assert await unit.provider_events.record(_event()) is not None
        await unit.rollback()
    async with uow(container) as unit:
        assert await unit.provider_events.record(_event()) is not None


async def test_one_hundred_concurrent_deliveries_of_one_event_record_it_once(container: AppContainer) -> None:
    async def deliver() -> ProviderEvent | None:
        async with uow(container) as unit:
            kept = await unit.provider_events.record(_event("wamid.X-read", "whatsapp"))
            await unit.commit()
            return kept

    results = await asyncio.gather(*(deliver() for _ in range(100)))
    assert sum(r is not None for r in results) == 1


async def test_an_event_is_marked_processed_once(container: AppContainer) -> None:
    async with uow(container) as unit:
        kept = await unit.provider_events.record(_event())
        await unit.commit()
    assert kept is not None and kept.id is not None
    async with uow(container) as unit:
        assert await unit.provider_events.mark_processed(kept.id, NOW) is True
        await unit.rollback()  # the effect was not applied: it may be processed again
    async with uow(container) as unit:
        assert await unit.provider_events.mark_processed(kept.id, NOW) is True
        assert await unit.provider_events.mark_processed(kept.id, NOW) is False
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.provider_events.mark_processed(kept.id, NOW + timedelta(minutes=1)) is False
        assert await unit.provider_events.mark_processed(kept.id + 1, NOW) is False  # no such event


async def test_two_concurrent_appliers_of_one_event_have_one_winner(container: AppContainer) -> None:
    async with uow(container) as unit:
        kept = await unit.provider_events.record(_event())
        await unit.commit()
    assert kept is not None and kept.id is not None

    async def apply() -> bool:
        async with uow(container) as unit:
            won = await unit.provider_events.mark_processed(kept.id or 0, NOW)
            await asyncio.sleep(0)  # let the other applier run while this one holds its mark
            await unit.commit()
            return won

    assert sorted(await asyncio.gather(apply(), apply())) == [False, True]


# --- WhatsApp windows ---------------------------------------------------------------------------------

async def test_the_window_keeps_the_latest_inbound_message(container: AppContainer) -> None:
    phone = "+919876543210"
    async with uow(container) as unit:
        assert await unit.windows.last_inbound(phone) is None
        await unit.windows.touch(phone, NOW)
        await unit.windows.touch(phone, NOW - timedelta(hours=2))  # a late webhook of an older message
        assert await unit.windows.last_inbound(phone) == NOW
        await unit.commit()
    async with uow(container) as unit:
        await unit.windows.touch(phone, NOW - timedelta(hours=1))
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.windows.last_inbound(phone) == NOW
        await unit.windows.touch(phone, NOW + timedelta(minutes=5))
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.windows.last_inbound(phone) == NOW + timedelta(minutes=5)
        assert await unit.windows.last_inbound("+14155550100") is None


# --- WhatsApp templates -------------------------------------------------------------------------------

def _meta(name: str, status: str, *, language: str = "en_US", **overrides: object) -> ApprovedTemplate:
    values: dict[str, object] = {
        "provider_id": f"id-{name}", "name": name, "language": language, "category": "UTILITY", "status": status,
        "components": [{"type": "BODY", "text": "Hello {{1}}", "example": {"body_text": [["Asha"]]}}]}
    values.update(overrides)
    return ApprovedTemplate(**values)  # type: ignore[arg-type]


async def _sync(container: AppContainer, templates: list[ApprovedTemplate], minutes: int) -> int:
    async with uow(container) as unit:
        changed = await unit.whatsapp_templates.sync(templates, NOW + timedelta(minutes=minutes))
        await unit.commit()
    return changed


async def test_sync_upserts_stamps_approval_and_disables_what_meta_no_longer_lists(container: AppContainer) -> None:
    first = [_meta("renewal_reminder", "approved"), _meta("renewal_reminder", "pending", language="hi"),
             _meta("payment_link", "rejected", rejected_reason="INVALID_FORMAT")]
    assert await _sync(container, first, 0) == 3
    async with uow(container) as unit:
        listed = await unit.whatsapp_templates.list()
        assert [(t.name, t.language, t.status) for t in listed] == [
            ("payment_link", "en_US", "rejected"), ("renewal_reminder", "en_US", "approved"),
            ("renewal_reminder", "hi", "pending")]
        approved = await unit.whatsapp_templates.get("renewal_reminder", "en_US")
        assert approved is not None and approved.approved and approved.approved_at == NOW
        assert approved.components == first[0].components and approved.provider_id == "id-renewal_reminder"
        assert approved.category == "UTILITY" and approved.updated_at == NOW
        rejected = await unit.whatsapp_templates.get("payment_link", "en_US")
        assert rejected is not None and rejected.rejected_reason == "INVALID_FORMAT" and rejected.approved_at is None
        assert await unit.whatsapp_templates.get("renewal_reminder", "ta") is None

    assert await _sync(container, first, 5) == 0  # nothing changed at Meta, nothing written
    second = [_meta("renewal_reminder", "approved", category="MARKETING"),  # still approved: keeps its time
              _meta("renewal_reminder", "approved", language="hi"),  # now approved
              _meta("lapse_notice", "pending")]  # new; payment_link is gone
    assert await _sync(container, second, 10) == 4
    async with uow(container) as unit:
        kept = await unit.whatsapp_templates.get("renewal_reminder", "en_US")
        newly = await unit.whatsapp_templates.get("renewal_reminder", "hi")
        gone = await unit.whatsapp_templates.get("payment_link", "en_US")
    assert kept is not None and kept.category == "MARKETING"
    assert kept.approved_at == NOW and kept.updated_at == NOW + timedelta(minutes=10)
    assert newly is not None and newly.approved_at == NOW + timedelta(minutes=10)
    assert gone is not None and gone.status == "disabled" and gone.updated_at == NOW + timedelta(minutes=10)

    third = [_meta("renewal_reminder", "paused", category="MARKETING",
                   components=[{"type": "BODY", "text": "Hi {{1}}"}]),
             _meta("lapse_notice", "pending")]
    assert await _sync(container, third, 15) == 2  # the paused one and the missing Hindi one; not payment_link
    async with uow(container) as unit:
        paused = await unit.whatsapp_templates.get("renewal_reminder", "en_US")
    assert paused is not None and paused.status == "paused" and paused.components == third[0].components
    assert await _sync(container, [], 20) == 2  # an empty catalogue disables everything still listed


# --- the customer directory ---------------------------------------------------------------------------

async def test_the_directory_reads_a_customers_contact_and_preferences(container: AppContainer) -> None:
    customer_id = await add_customer(container, first_name="Asha", last_name="Rao", email="Asha.Rao@Example.in",
                                     phone="+91 98765 43210",
                                     communication_preferences={"email": True, "sms": False, "whatsapp": "yes"})
    contact = await directory(container).contact(customer_id)
    assert contact is not None
    assert (contact.customer_id, contact.name, contact.email, contact.phone, contact.timezone) == (
        customer_id, "Asha Rao", "asha.rao@example.in", "+919876543210", None)
    assert contact.preferences == {"email": True, "sms": False, "whatsapp": True}
    assert await directory(container).contact(customer_id + 100) is None


async def test_the_directory_reads_the_uploads_text_form_of_preferences(container: AppContainer) -> None:
    customer_id = await add_customer(container)
    cases = [("email=no; sms=yes; WhatsApp: Y", {"email": False, "sms": True, "whatsapp": True}),
             ('{"email": false, "sms": "maybe"}', {"email": False}),
             ({"sms": 0, "whatsapp": {"nested": True}}, {"sms": False}),
             ("nonsense", {}), (None, {})]
    for stored, expected in cases:
        await set_preferences(container, customer_id, stored)
        contact = await directory(container).contact(customer_id)
        assert contact is not None and contact.preferences == expected, stored


async def test_the_directory_finds_a_customer_by_an_address_only_one_has(container: AppContainer) -> None:
    asha = await add_customer(container, email="asha@example.in", phone="+919876543210")
    await add_customer(container, first_name="Ravi", email="ravi@example.in", phone="+919812345678")
    await add_customer(container, first_name="Meera", email="meera@example.in", phone="+919812345678")
    found = directory(container)
    by_email = await found.by_address(Channel.EMAIL, " Asha@Example.IN ")
    assert by_email is not None and by_email.customer_id == asha
    for channel in (Channel.SMS, Channel.WHATSAPP):
        by_phone = await found.by_address(channel, "+919876543210")
        assert by_phone is not None and by_phone.customer_id == asha
    assert await found.by_address(Channel.SMS, "+919812345678") is None  # two customers share it
    assert await found.by_address(Channel.EMAIL, "nobody@example.in") is None
    assert await found.by_address(Channel.SMS, "asha@example.in") is None  # an e-mail is not a phone
    assert await found.by_address(Channel.EMAIL, "  ") is None
