"""Sending use cases on the in-memory unit of work: validation, consent, WhatsApp rules, quiet hours, idempotency."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import msgspec
import pytest

from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser
from adapters.system.clock import FixedClock
from application.messaging.config import MessagingConfig
from application.messaging.consent_policy import ConsentPolicy
from application.messaging.errors import (
    IdempotencyKeyReused,
    MessageNotFound,
    RecipientOptedOut,
    UnknownTemplate,
    WhatsAppTemplateNotApproved,
    WhatsAppWindowClosed,
)
from application.messaging.message_views import SendEmail, SendSms, SendWhatsApp
from application.messaging.ports import CustomerContact, MessageFilters, MessagingUnitOfWork
from application.messaging.sending import DELIVER_MESSAGE, SendingService
from application.ports.whatsapp import ApprovedTemplate
from application.shared.events import EventRouter
from application.shared.pagination import PageRequest
from domain.messaging.model import Channel, Consent, ConsentSource, Message, Template
from domain.shared.errors import ValidationFailed

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata: inside the default quiet-hours window
PHONE = "+919876543210"
EMAIL = "asha.rao@example.in"
REMINDER: list[dict[str, object]] = [{"type": "HEADER", "format": "DOCUMENT"},
                                     {"type": "BODY", "text": "Dear {{1}}, policy {{2}} expires on {{3}}."}]


@dataclass
class StubDirectory:
    contacts: list[CustomerContact] = field(default_factory=list)

    async def contact(self, customer_id: int) -> CustomerContact | None:
        return next((c for c in self.contacts if c.customer_id == customer_id), None)

    async def by_address(self, channel: Channel, address: str) -> CustomerContact | None:
        await asyncio.sleep(0)  # a real directory reads the database: let concurrent requests interleave here
        found = [c for c in self.contacts if address in (c.email, c.phone)]
        return found[0] if len(found) == 1 else None


class StubTokens:
    def sign(self, channel: str, address: str) -> str:
        return f"tok.{channel}.{address}"

    def verify(self, token: str) -> tuple[str, str] | None:
        return None


@dataclass
class World:
    clock: FixedClock
    store: MemoryStore
    directory: StubDirectory
    service: SendingService
    meta_templates: list[ApprovedTemplate] = field(default_factory=list)

    def uow(self) -> InMemoryMessagingUnitOfWork:
        return InMemoryMessagingUnitOfWork(self.store, EventRouter())

    def messages(self) -> list[Message]:
        return list(self.store.tables.messages.values())

    def jobs(self) -> list[tuple[str, dict[str, object], str | None]]:
        return [(row.job.name, row.job.args, row.job.key) for row in self.store.tables.outbox.values()]

    async def consent(self, channel: Channel, address: str, opted_in: bool, source: ConsentSource,
                      reason: str | None = None) -> None:
        async with self.uow() as uow:
            await uow.consents.put(Consent(channel=channel, address=address, opted_in=opted_in, source=source,
                                           reason=reason, updated_at=self.clock.now()))
            await uow.commit()

    async def template(self, template: Template) -> int:
        async with self.uow() as uow:
            added = await uow.templates.add(template)
            await uow.commit()
        assert added.id is not None
        return added.id

    async def whatsapp_template(self, name: str, status: str = "approved", language: str = "en",
                                components: list[dict[str, object]] | None = None) -> None:
        """Meta lists one more template (synchronised as the worker does)."""
        self.meta_templates.append(ApprovedTemplate(
            provider_id=f"wa-{len(self.meta_templates)}", name=name, language=language, category="UTILITY",
            status=status, components=REMINDER if components is None else components))
        async with self.uow() as uow:
            await uow.whatsapp_templates.sync(self.meta_templates, self.clock.now())
            await uow.commit()

    async def inbound(self, phone: str, at: datetime) -> None:
        async with self.uow() as uow:
            await uow.windows.touch(phone, at)
            await uow.commit()


@pytest.fixture
def world() -> World:
    clock = FixedClock(NOW)
    store = MemoryStore(clock)
    directory = StubDirectory([CustomerContact(customer_id=3, name="Asha Rao", email=EMAIL, phone=PHONE)])
    service = SendingService(uow=lambda: cast(MessagingUnitOfWork, InMemoryMessagingUnitOfWork(store, EventRouter())),
                             clock=clock,
                             directory=directory, phones=PhonenumbersPhoneNormaliser("IN"),
                             config=MessagingConfig(public_base_url="https://renewals.example.in/"),
                             consent=ConsentPolicy(), tokens=StubTokens())
    return World(clock=clock, store=store, directory=directory, service=service)


def fields_of(exc: ValidationFailed) -> list[str]:
    return [detail.field for detail in exc.details]


# --- queueing ------------------------------------------------------------------------------------------------

async def test_an_sms_is_stored_queued_with_one_delivery_job_in_the_same_commit(world: World) -> None:
    accepted = await world.service.send_sms(SendSms(to="98765 43210", message="Hello Asha"), 7, None)
    [message] = world.messages()
    assert (accepted.message_id, accepted.status, accepted.timestamp) == (f"msg-{message.id}", "queued", NOW)
    assert (message.recipient, message.body, message.status, message.created_by) == (PHONE, "Hello Asha", "queued", 7)
    assert (message.encoding, message.segments, accepted.segments) == ("GSM-7", 1, 1)
    assert message.customer_id == 3  # found by address, for preferences and time zone
    assert world.jobs() == [(DELIVER_MESSAGE, {"message_id": message.id}, f"message-{message.id}")]


async def test_the_answer_is_camel_case_with_a_null_cost(world: World) -> None:
    accepted = await world.service.send_sms(SendSms(to=PHONE, message="Hi"), 7, None)
    wire = msgspec.json.decode(msgspec.json.encode(accepted))
    assert wire["messageId"] == accepted.message_id and wire["cost"] is None and "deferredUntil" not in wire


async def test_every_invalid_field_is_reported_at_once_and_nothing_is_written(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await world.service.send_sms(SendSms(to="12", message="Hi", template_id="template-1", customer_id="x"), 7, None)
    assert sorted(fields_of(refused.value)) == ["customerId", "message", "to"]
    with pytest.raises(ValidationFailed) as refused:
        await world.service.send_email(SendEmail(to="not-an-address", content="<p>Hi</p>"), 7, None)
    assert sorted(fields_of(refused.value)) == ["subject", "to"]
    assert world.messages() == [] and world.jobs() == []


async def test_template_parameters_must_be_complete(world: World) -> None:
    template_id = await world.template(Template(id=None, name="reminder", channel=Channel.SMS,
                                                content="Dear {name}, {policy} expires on {date}",
                                                variables=["name", "policy", "date"], dlt_template_id="DLT-9"))
    with pytest.raises(ValidationFailed) as refused:
        await world.service.send_sms(SendSms(to=PHONE, template_id=f"template-{template_id}",
                                             parameters={"name": "Asha"}), 7, None)
    assert refused.value.details[0].field == "parameters" and "policy, date" in refused.value.details[0].message
    await world.service.send_sms(SendSms(to=PHONE, template_id=template_id,
                                         parameters={"name": "Asha", "policy": "P-1", "date": "1 Dec"}), 7, None)
    [message] = world.messages()
    assert (message.body, message.template_id) == ("Dear Asha, P-1 expires on 1 Dec", template_id)
    assert message.headers == {"dlt_template_id": "DLT-9"}


async def test_an_unknown_or_other_channel_template_is_refused(world: World) -> None:
    email_template = await world.template(Template(id=None, name="t", channel=Channel.EMAIL, content="x", subject="s"))
    with pytest.raises(UnknownTemplate):
        await world.service.send_sms(SendSms(to=PHONE, template_id=f"template-{email_template}"), 7, None)


async def test_a_unicode_sms_records_its_encoding_and_segments(world: World) -> None:
    accepted = await world.service.send_sms(SendSms(to=PHONE, message="नमस्ते " * 20), 7, None)
    assert (accepted.encoding, accepted.segments) == ("UCS-2", 3)


# --- email ---------------------------------------------------------------------------------------------------

async def test_an_email_escapes_values_has_a_text_part_and_one_click_unsubscribe_headers(world: World) -> None:
    await world.service.send_email(SendEmail(to="Asha.Rao@Example.in", subject="Renew {policy}",
                                             content="<p>Dear {name},</p><p>Renew now.</p>",
                                             parameters={"name": "<b>Asha</b>", "policy": "P-1"}), 7, None)
    [message] = world.messages()
    assert message.recipient == EMAIL and message.subject == "Renew P-1"
    assert message.html == "<p>Dear &lt;b&gt;Asha&lt;/b&gt;,</p><p>Renew now.</p>"
    assert message.body == "Dear <b>Asha</b>,\n\nRenew now."
    assert message.headers == {
        "List-Unsubscribe": f"<https://renewals.example.in/api/unsubscribe/tok.email.{EMAIL}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


async def test_a_transactional_email_carries_no_unsubscribe_link(world: World) -> None:
    await world.service.send_email(SendEmail(to=EMAIL, subject="Receipt", content="Paid.", transactional=True), 7,
                                   None)
    assert world.messages()[0].headers == {}


# --- consent -------------------------------------------------------------------------------------------------

async def test_email_and_sms_are_allowed_by_default_but_whatsapp_needs_an_opt_in(world: World) -> None:
    world.directory.contacts.clear()
    await world.whatsapp_template("renewal_reminder")
    await world.service.send_email(SendEmail(to=EMAIL, subject="Hi", content="Hello"), 7, None)
    await world.service.send_sms(SendSms(to=PHONE, message="Hello"), 7, None)
    with pytest.raises(RecipientOptedOut) as refused:
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, template_id="renewal_reminder",
                                                       parameters=["Asha", "P-1", "1 Dec"],
                                                       media_url="https://x.example/p.pdf"), 7, None)
    assert refused.value.code == "recipient_opted_out" and "explicit opt-in" in str(refused.value)
    assert len(world.messages()) == 2


async def test_the_customers_stated_preferences_decide_when_there_is_no_explicit_consent(world: World) -> None:
    world.directory.contacts[:] = [CustomerContact(customer_id=3, name="Asha", email=EMAIL, phone=PHONE,
                                                   preferences={"email": False, "whatsapp": True})]
    await world.whatsapp_template("renewal_reminder")
    with pytest.raises(RecipientOptedOut) as refused:
        await world.service.send_email(SendEmail(to=EMAIL, subject="Hi", content="Hello"), 7, None)
    assert "preferences exclude email" in str(refused.value)
    await world.service.send_whatsapp(SendWhatsApp(to=PHONE, template_id="renewal_reminder",
                                                   parameters=["Asha", "P-1", "1 Dec"],
                                                   media_url="https://x.example/p.pdf"), 7, None)
    assert [m.channel for m in world.messages()] == [Channel.WHATSAPP]


async def test_an_explicit_opt_out_wins_and_is_explained(world: World) -> None:
    world.directory.contacts[:] = [CustomerContact(customer_id=3, name="Asha", phone=PHONE, preferences={"sms": True})]
    await world.consent(Channel.SMS, PHONE, False, ConsentSource.STOP_KEYWORD, reason="replied STOP")
    with pytest.raises(RecipientOptedOut) as refused:
        await world.service.send_sms(SendSms(to=PHONE, message="Renew now"), 7, None)
    text = str(refused.value)
    assert all(part in text for part in ("sms", "opted out", "stop_keyword", "replied STOP", "2026-11-28"))
    assert world.messages() == [] and world.jobs() == []


async def test_an_explicit_opt_in_wins_over_preferences(world: World) -> None:
    world.directory.contacts[:] = [CustomerContact(customer_id=3, name="Asha", phone=PHONE, preferences={"sms": False})]
    await world.consent(Channel.SMS, PHONE, True, ConsentSource.MANUAL)
    await world.service.send_sms(SendSms(to=PHONE, message="Renew now"), 7, None)
    assert len(world.messages()) == 1


async def test_a_transactional_message_goes_to_an_opted_out_recipient(world: World) -> None:
    await world.consent(Channel.SMS, PHONE, False, ConsentSource.STOP_KEYWORD)
    await world.service.send_sms(SendSms(to=PHONE, message="Payment received", transactional=True), 7, None)
    [message] = world.messages()
    assert message.transactional is True


# --- WhatsApp ------------------------------------------------------------------------------------------------

async def test_a_whatsapp_template_by_name_orders_its_parameters(world: World) -> None:
    await world.consent(Channel.WHATSAPP, PHONE, True, ConsentSource.IMPORT)
    await world.whatsapp_template("renewal_reminder")
    await world.service.send_whatsapp(SendWhatsApp(
        to=PHONE, template_id="renewal_reminder", parameters={"3": "1 Dec", "1": "Asha", "2": "P-1"},
        media_url="https://x.example/p.pdf"), 7, None)
    [message] = world.messages()
    assert (message.whatsapp_template, message.whatsapp_language) == ("renewal_reminder", "en")
    assert message.parameters == ["Asha", "P-1", "1 Dec"]
    assert message.body == "Dear Asha, policy P-1 expires on 1 Dec."
    assert message.headers == {"media_link": "https://x.example/p.pdf", "media_type": "document"}


async def test_our_whatsapp_template_id_maps_named_parameters_by_its_variables(world: World) -> None:
    await world.consent(Channel.WHATSAPP, PHONE, True, ConsentSource.IMPORT)
    await world.whatsapp_template("renewal_reminder", components=[REMINDER[1]])
    ours = await world.template(Template(id=None, name="renewal_reminder", channel=Channel.WHATSAPP,
                                         content="Dear {name}, policy {policy} expires on {date}.",
                                         variables=["name", "policy", "date"]))
    await world.service.send_whatsapp(SendWhatsApp(
        to=PHONE, template_id=f"template-{ours}", parameters={"date": "1 Dec", "policy": "P-1", "name": "Asha"}),
        7, None)
    [message] = world.messages()
    assert (message.template_id, message.parameters) == (ours, ["Asha", "P-1", "1 Dec"])


async def test_a_whatsapp_template_must_be_known_approved_and_complete(world: World) -> None:
    await world.consent(Channel.WHATSAPP, PHONE, True, ConsentSource.IMPORT)
    await world.whatsapp_template("pending_one", status="pending", components=[REMINDER[1]])
    await world.whatsapp_template("renewal_reminder")
    with pytest.raises(UnknownTemplate):
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, template_id="nope"), 7, None)
    with pytest.raises(WhatsAppTemplateNotApproved) as refused:
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, template_id="pending_one",
                                                       parameters=["a", "b", "c"]), 7, None)
    assert refused.value.code == "whatsapp_template_not_approved" and "pending" in str(refused.value)
    with pytest.raises(ValidationFailed) as incomplete:
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, template_id="renewal_reminder",
                                                       parameters=["Asha", "two\nlines"]), 7, None)
    assert sorted(fields_of(incomplete.value)) == ["mediaUrl", "parameters", "parameters"]
    assert world.messages() == []


async def test_whatsapp_free_text_only_inside_the_24_hour_window(world: World) -> None:
    await world.consent(Channel.WHATSAPP, PHONE, True, ConsentSource.IMPORT)
    with pytest.raises(WhatsAppWindowClosed) as refused:
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, message="Hello"), 7, None)
    assert refused.value.code == "whatsapp_window_closed"
    await world.inbound(PHONE, NOW - timedelta(hours=25))
    with pytest.raises(WhatsAppWindowClosed):
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, message="Hello"), 7, None)
    await world.inbound(PHONE, NOW - timedelta(hours=23))
    await world.service.send_whatsapp(SendWhatsApp(to=PHONE, message="Hello {name}", parameters={"name": "Asha"}),
                                      7, None)
    await world.service.send_whatsapp(SendWhatsApp(to=PHONE, media_url="https://x.example/a.png", media_type="image",
                                                   caption="Your card"), 7, None)
    assert [(m.body, m.whatsapp_template, m.headers.get("media_type")) for m in world.messages()] == [
        ("Hello Asha", None, None), ("Your card", None, "image")]


async def test_free_text_deferred_by_quiet_hours_past_the_window_is_refused(world: World) -> None:
    world.clock.advance(timedelta(hours=10))  # 21:30 in Kolkata: held until 09:00, 11.5 hours later
    await world.consent(Channel.WHATSAPP, PHONE, True, ConsentSource.IMPORT)
    await world.inbound(PHONE, world.clock.now() - timedelta(hours=14))  # the window closes in 10 hours
    with pytest.raises(WhatsAppWindowClosed):
        await world.service.send_whatsapp(SendWhatsApp(to=PHONE, message="Hello"), 7, None)


# --- quiet hours ---------------------------------------------------------------------------------------------

async def test_outside_quiet_hours_a_message_is_deferred_never_dropped(world: World) -> None:
    world.clock.advance(timedelta(hours=10))  # 16:00 UTC = 21:30 in Kolkata
    accepted = await world.service.send_sms(SendSms(to=PHONE, message="Renew now"), 7, None)
    opening = datetime(2026, 11, 29, 3, 30, tzinfo=UTC)  # 09:00 in Kolkata
    [message] = world.messages()
    assert accepted.deferred_until == opening and message.not_before == opening
    assert len(world.jobs()) == 1


async def test_quiet_hours_follow_the_customers_time_zone(world: World) -> None:
    world.directory.contacts[:] = [CustomerContact(customer_id=3, name="Asha", phone=PHONE,
                                                   timezone="America/New_York")]
    accepted = await world.service.send_sms(SendSms(to=PHONE, message="Renew now", customer_id="customer-3"), 7,
                                            None)  # 01:00 in New York
    assert accepted.deferred_until == datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


async def test_transactional_messages_skip_quiet_hours(world: World) -> None:
    world.clock.advance(timedelta(hours=10))
    accepted = await world.service.send_sms(SendSms(to=PHONE, message="Paid", transactional=True), 7, None)
    assert accepted.deferred_until is None and world.messages()[0].not_before is None


# --- idempotency ---------------------------------------------------------------------------------------------

async def test_the_same_key_and_body_answers_the_first_message_again(world: World) -> None:
    first_body = msgspec.json.decode(b'{"to": "+919876543210", "message": "Hi", "parameters": {"a": 1, "b": 2}}',
                                     type=SendSms)
    again_body = msgspec.json.decode(b'{"parameters": {"b": 2, "a": 1}, "message": "Hi", "to": "+919876543210"}',
                                     type=SendSms)
    first = await world.service.send_sms(first_body, 7, "key-1")
    world.clock.advance(timedelta(minutes=5))
    again = await world.service.send_sms(again_body, 7, "key-1")
    assert again == first
    assert len(world.messages()) == 1 and len(world.jobs()) == 1


async def test_a_key_reused_with_another_body_is_refused(world: World) -> None:
    first = await world.service.send_sms(SendSms(to=PHONE, message="Hi"), 7, "key-1")
    with pytest.raises(IdempotencyKeyReused) as refused:
        await world.service.send_sms(SendSms(to=PHONE, message="Hello"), 7, "key-1")
    assert refused.value.code == "idempotency_key_reused" and first.message_id in str(refused.value)
    with pytest.raises(IdempotencyKeyReused):
        await world.service.send_email(SendEmail(to=EMAIL, subject="Hi", content="Hi"), 7, "key-1")
    other_user = await world.service.send_sms(SendSms(to=PHONE, message="Hello"), 8, "key-1")
    assert other_user.message_id != first.message_id and len(world.messages()) == 2


async def test_concurrent_requests_with_one_key_make_one_message(world: World) -> None:
    world.directory.contacts.clear()
    answers = await asyncio.gather(*(world.service.send_sms(SendSms(to=PHONE, message="Hi"), 7, "key-1")
                                     for _ in range(3)))
    assert len({a.message_id for a in answers}) == 1
    assert len(world.messages()) == 1 and len(world.jobs()) == 1


# --- reading -------------------------------------------------------------------------------------------------

async def test_status_and_lists(world: World) -> None:
    accepted = await world.service.send_sms(SendSms(to=PHONE, message="Hi", case_id="case-4"), 7, None)
    await world.service.send_email(SendEmail(to=EMAIL, subject="Hi", content="Hi"), 7, None)
    status = await world.service.status(int(accepted.message_id.removeprefix("msg-")))
    assert (status.message_id, status.status, status.channel, status.to, status.attempts) == (
        accepted.message_id, "queued", "sms", PHONE, 0)
    page = await world.service.list(MessageFilters(channels=(Channel.SMS,)), PageRequest())
    assert [(m.message_id, m.case_id) for m in page.items] == [(accepted.message_id, 4)] and page.total == 1
    with pytest.raises(MessageNotFound):
        await world.service.status(999)


async def test_the_customers_name_fills_a_template_unless_given(world: World) -> None:
    template_id = await world.template(Template(id=None, name="hello", channel=Channel.SMS,
                                                content="Dear {customer_name} ({first_name}), {policy} is due",
                                                variables=["customer_name", "first_name", "policy"]))
    await world.service.send_sms(SendSms(to=PHONE, template_id=template_id, parameters={"policy": "P-1"}), 7, None)
    await world.service.send_sms(SendSms(to=PHONE, template_id=template_id,
                                         parameters={"policy": "P-2", "first_name": "Ms Rao"}), 7, None)
    assert [m.body for m in world.messages()] == ["Dear Asha Rao (Asha), P-1 is due",
                                                  "Dear Asha Rao (Ms Rao), P-2 is due"]
    with pytest.raises(ValidationFailed):  # an unknown recipient has no name to fill in
        await world.service.send_sms(SendSms(to="+919000000001", template_id=template_id,
                                             parameters={"policy": "P-3"}), 7, None)
