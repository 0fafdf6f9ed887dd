"""Replies and conversions credited to campaign recipients: the messaging event routed to the campaigns job, the
job's use case on the in-memory adapters, and the windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import pytest

from adapters.memory.campaign_attribution import InMemoryAttributions
from adapters.memory.messaging import InMemoryCustomerDirectory
from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.campaigns import attribution
from application.campaigns.attribution import (
    RECORD_CONVERSION,
    RECORD_REPLY,
    AttributionService,
    AttributionWindows,
    conversion_job,
)
from application.messaging.inbound import InboundService
from application.messaging.ports import MessagingUnitOfWork
from application.ports.uow import Job
from application.shared.events import EventRouter
from domain.campaigns.model import Campaign, Recipient, RecipientStatus
from domain.messaging.events import InboundMessageReceived
from domain.shared.events import DomainEvent

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PHONE = "+16315551181"


@dataclass(frozen=True, slots=True)
class RenewalPaid(DomainEvent):
    """The event the payments issue will raise, as `attribution` documents it."""

    name: ClassVar[str] = "payments.renewal_paid"
    customer_id: int
    policy_id: int | None
    paid_at: datetime


class Desk:
    """Messaging's inbound service and campaigns' attribution on one in-memory store, the router subscribed."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.store = MemoryStore(self.clock)
        self.router = EventRouter()
        attribution.subscribe(self.router)
        self.inbound = InboundService(self.messaging_uow, self.clock, InMemoryCustomerDirectory(self.store))
        self.service = AttributionService(InMemoryAttributions(self.store))

    def messaging_uow(self) -> MessagingUnitOfWork:
        return cast(MessagingUnitOfWork, InMemoryMessagingUnitOfWork(self.store, self.router))

    def campaign(self, channel: str) -> int:
        campaign_id = self.store.next_value("campaigns.id")
        self.store.tables.campaigns[campaign_id] = Campaign(id=campaign_id, name="Renewals", channel=channel)
        return campaign_id

    def sent(self, channel: str, address: str, ago: timedelta, customer_id: int = 1,
             policy_id: int | None = None) -> Recipient:
        row_id = self.store.next_value("campaign_recipients.id")
        recipient = Recipient(id=row_id, campaign_id=self.campaign(channel), customer_id=customer_id,
                              address=address, status=RecipientStatus.SENT, sent_at=NOW - ago, policy_id=policy_id)
        self.store.tables.campaign_recipients[row_id] = recipient
        return recipient

    def jobs(self, name: str) -> list[Job]:
        return [row.job for row in self.store.tables.outbox.values() if row.job.name == name]

    async def receive_sms(self, body: str, sid: str) -> None:
        params = {"MessageSid": sid, "SmsSid": sid, "From": PHONE, "To": "+15017122661", "Body": body,
                  "AccountSid": "AC00000000000000000000000000000001", "NumMedia": "0"}
        assert await self.inbound.record("twilio", sid, "inbound", {"params": params})
        await self.run_new_provider_events()

    async def receive_whatsapp(self, body: str, wamid: str) -> None:
        payload: dict[str, Any] = {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
                "messages": [{"from": PHONE.lstrip("+"), "id": wamid, "timestamp": str(int(NOW.timestamp())),
                              "type": "text", "text": {"body": body}}]}}]}]}
        assert await self.inbound.record("whatsapp", wamid, "inbound", payload)
        await self.run_new_provider_events()

    async def run_new_provider_events(self) -> None:
        for job in self.jobs("messaging.apply_provider_event"):
            await self.inbound.apply(int(job.args["event_id"]))

    async def run_reply_jobs(self) -> list[int | None]:
        return [await self.service.record_reply(job.args["channel"], job.args["address"],
                                                datetime.fromisoformat(job.args["at"]))
                for job in self.jobs(RECORD_REPLY)]


@pytest.fixture
def desk() -> Desk:
    return Desk()


def test_the_subscribed_topics_are_the_events_names() -> None:
    assert InboundMessageReceived.name == attribution.INBOUND_MESSAGE_RECEIVED
    assert RenewalPaid.name == attribution.RENEWAL_PAID


async def test_an_inbound_sms_becomes_a_reply_on_the_latest_send_to_that_number(desk: Desk) -> None:
    older = desk.sent("sms", PHONE, timedelta(days=3))
    latest = desk.sent("sms", PHONE, timedelta(days=1))
    other_channel = desk.sent("whatsapp", PHONE, timedelta(hours=1))
    await desk.receive_sms("Yes, please call me about the renewal", "SM0001")
    [job] = desk.jobs(RECORD_REPLY)
    assert job.args == {"channel": "sms", "address": PHONE, "at": NOW.isoformat()}
    assert await desk.run_reply_jobs() == [latest.id]
    assert (latest.replied_at, older.replied_at, other_channel.replied_at) == (NOW, None, None)
    assert [e.action for e in desk.store.tables.audit] == [InboundMessageReceived.name]


async def test_a_second_reply_and_a_job_run_twice_mark_the_recipient_once(desk: Desk) -> None:
    latest = desk.sent("sms", PHONE, timedelta(days=1))
    await desk.receive_sms("Hello?", "SM0001")
    desk.clock.advance(timedelta(hours=2))
    await desk.receive_sms("Anyone there?", "SM0002")
    assert await desk.run_reply_jobs() == [latest.id, None]
    assert await desk.run_reply_jobs() == [None, None]
    assert latest.replied_at == NOW


async def test_a_whatsapp_message_counts_and_a_stop_keyword_does_not(desk: Desk) -> None:
    whatsapp = desk.sent("whatsapp", PHONE, timedelta(days=2))
    sms = desk.sent("sms", PHONE, timedelta(days=2))
    await desk.receive_sms("STOP", "SM0001")
    assert desk.jobs(RECORD_REPLY) == []  # an opt-out is not a reply (messaging still records the event)
    assert [e.action for e in desk.store.tables.audit] == [InboundMessageReceived.name]
    await desk.receive_whatsapp("When is it due?", "wamid.1")
    assert await desk.run_reply_jobs() == [whatsapp.id]
    assert sms.replied_at is None


async def test_replies_outside_the_window_are_not_credited(desk: Desk) -> None:
    stale = desk.sent("sms", PHONE, timedelta(days=7, seconds=1))
    await desk.receive_sms("Hi", "SM0001")
    assert await desk.run_reply_jobs() == [None]
    assert stale.replied_at is None
    edge = desk.sent("sms", PHONE, timedelta(days=7))
    assert await desk.service.record_reply("sms", PHONE, NOW) == edge.id


async def test_renewal_paid_credits_every_campaign_about_that_policy_in_the_window(desk: Desk) -> None:
    email = desk.sent("email", "a@example.in", timedelta(days=29), policy_id=6)
    sms = desk.sent("sms", PHONE, timedelta(days=2), policy_id=6)
    about_nothing = desk.sent("sms", PHONE, timedelta(days=3))
    other_policy = desk.sent("sms", PHONE, timedelta(days=1), policy_id=9)
    stale = desk.sent("email", "a@example.in", timedelta(days=31), policy_id=6)
    [job] = desk.router.jobs_for([RenewalPaid(customer_id=1, policy_id=6, paid_at=NOW)])
    assert job == Job(name=RECORD_CONVERSION, args={"customer_id": 1, "policy_id": 6, "at": NOW.isoformat()})
    at = datetime.fromisoformat(job.args["at"])
    assert await desk.service.record_conversion(job.args["customer_id"], job.args["policy_id"], at) == 3
    assert (email.converted_at, sms.converted_at, about_nothing.converted_at) == (NOW, NOW, NOW)
    assert (other_policy.converted_at, stale.converted_at) == (None, None)
    assert await desk.service.record_conversion(1, 6, at + timedelta(minutes=1)) == 0  # once
    assert email.converted_at == NOW


async def test_a_conversion_without_a_policy_credits_the_customers_sends(desk: Desk) -> None:
    mine = desk.sent("sms", PHONE, timedelta(days=1), policy_id=9)
    theirs = desk.sent("sms", "+15550000000", timedelta(days=1), customer_id=2)
    job = conversion_job(RenewalPaid(customer_id=1, policy_id=None, paid_at=NOW))
    assert job is not None and job.args["policy_id"] is None
    assert await desk.service.record_conversion(1, None, NOW) == 1
    assert (mine.converted_at, theirs.converted_at) == (NOW, None)


async def test_the_windows_are_configurable(desk: Desk) -> None:
    service = AttributionService(InMemoryAttributions(desk.store),
                                 AttributionWindows(reply_window=timedelta(hours=1),
                                                    conversion_window=timedelta(days=2)))
    sent = desk.sent("sms", PHONE, timedelta(hours=2), policy_id=6)
    assert await service.record_reply("sms", PHONE, NOW) is None
    assert await service.record_conversion(1, 6, NOW) == 1
    assert sent.converted_at == NOW and sent.replied_at is None
