"""Delivery on the in-memory unit of work, senders and token bucket, with a fake clock and a fake sleep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from adapters.memory.email import InMemoryEmailSender
from adapters.memory.messaging import InMemoryCustomerDirectory
from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.sms import InMemorySmsSender
from adapters.memory.store import MemoryStore
from adapters.memory.token_bucket import InMemoryTokenBucket
from adapters.memory.whatsapp import InMemoryWhatsAppSender
from adapters.system.clock import FixedClock
from application.messaging.config import MessagingConfig
from application.messaging.consent_policy import ConsentPolicy
from application.messaging.delivery import DeliveryOutcome, DeliveryService, backoff_seconds
from application.messaging.ports import MessagingUnitOfWork
from application.ports.rate_limits import RateLimit
from application.ports.sms import OutboundSms, SentSms, SmsSender, SmsUnavailable
from application.ports.whatsapp import ApprovedTemplate
from application.shared.events import EventRouter
from domain.messaging.model import Channel, Consent, ConsentSource, Message

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata
PHONE = "+919876543210"
EMAIL = "asha.rao@example.in"
PROVIDERS = {"email": "ses", "sms": "twilio", "whatsapp": "meta"}


class VirtualTime:
    """Seconds on a fake monotonic clock; `sleep` moves it instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class World:
    clock: FixedClock
    store: MemoryStore
    time: VirtualTime
    email: InMemoryEmailSender = field(default_factory=InMemoryEmailSender)
    sms: InMemorySmsSender = field(default_factory=InMemorySmsSender)
    whatsapp: InMemoryWhatsAppSender = field(default_factory=InMemoryWhatsAppSender)

    def uow(self) -> InMemoryMessagingUnitOfWork:
        return InMemoryMessagingUnitOfWork(self.store, EventRouter())

    def service(self, config: MessagingConfig | None = None, sms: SmsSender | None = None,
                random: float = 0.5) -> DeliveryService:
        return DeliveryService(
            uow=lambda: cast(MessagingUnitOfWork, self.uow()), clock=self.clock, email=self.email,
            sms=sms or self.sms, whatsapp=self.whatsapp,
            limiter=InMemoryTokenBucket(clock=self.time, sleep=self.time.sleep),
            config=config or MessagingConfig(sms_dlt_entity_id="ENT-1"), consent=ConsentPolicy(),
            directory=InMemoryCustomerDirectory(self.store), provider_names=PROVIDERS, random=lambda: random)

    async def queue(self, message: Message) -> int:
        async with self.uow() as uow:
            added = await uow.messages.add(message)
            await uow.commit()
        assert added.id is not None
        return added.id

    def message(self, message_id: int) -> Message:
        return self.store.tables.messages[message_id]

    async def consent(self, channel: Channel, address: str, opted_in: bool) -> None:
        async with self.uow() as uow:
            await uow.consents.put(Consent(channel=channel, address=address, opted_in=opted_in,
                                           source=ConsentSource.UNSUBSCRIBE_LINK))
            await uow.commit()


@pytest.fixture
def world() -> World:
    clock = FixedClock(NOW)
    return World(clock=clock, store=MemoryStore(clock), time=VirtualTime())


def sms(**overrides: object) -> Message:
    values: dict[str, object] = {"id": None, "channel": Channel.SMS, "recipient": PHONE, "body": "Renew now",
                                 "segments": 1, "encoding": "GSM-7", "headers": {"dlt_template_id": "DLT-9"}}
    values.update(overrides)
    return Message(**values)  # type: ignore[arg-type]


async def test_a_queued_sms_is_sent_once_and_recorded(world: World) -> None:
    message_id = await world.queue(sms())
    service = world.service()
    assert await service.deliver(message_id) == DeliveryOutcome(outcome="sent")
    assert (await service.deliver(message_id)).outcome == "skipped"  # the job ran twice: one send
    [(provider_id, sent)] = world.sms.sent
    assert (sent.to, sent.body, sent.reference) == (PHONE, "Renew now", f"msg-{message_id}")
    assert (sent.dlt_entity_id, sent.dlt_template_id) == ("ENT-1", "DLT-9")
    stored = world.message(message_id)
    assert (stored.status, stored.provider, stored.provider_message_id, stored.attempts) == (
        "sent", "twilio", provider_id, 1)
    assert stored.sent_at == NOW


async def test_an_unknown_message_is_skipped(world: World) -> None:
    assert (await world.service().deliver(42)).outcome == "skipped"


async def test_an_email_goes_with_its_html_and_unsubscribe_headers(world: World) -> None:
    headers = {"List-Unsubscribe": "<https://x.example/api/unsubscribe/t>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message_id = await world.queue(Message(id=None, channel=Channel.EMAIL, recipient=EMAIL, body="Hi", html="<p>Hi</p>",
                                           subject="Renew", headers=headers))
    assert (await world.service().deliver(message_id)).outcome == "sent"
    [(provider_id, sent)] = world.email.sent
    assert (sent.to, sent.subject, sent.text, sent.html, sent.headers) == ((EMAIL,), "Renew", "Hi", "<p>Hi</p>",
                                                                          headers)
    assert world.message(message_id).provider_message_id == provider_id


async def test_whatsapp_templates_text_and_media_become_the_right_cloud_api_messages(world: World) -> None:
    await world.consent(Channel.WHATSAPP, PHONE, True)
    async with world.uow() as uow:
        await uow.windows.touch(PHONE, NOW - timedelta(hours=1))
        await uow.whatsapp_templates.sync([ApprovedTemplate(provider_id="1", name="reminder", language="en",
                                                            category="UTILITY", status="approved", components=[])],
                                          NOW)
        await uow.commit()
    ids = [await world.queue(Message(id=None, channel=Channel.WHATSAPP, recipient=PHONE, body="Dear Asha",
                                     whatsapp_template="reminder", whatsapp_language="en", parameters=["Asha"],
                                     headers={"media_link": "https://x.example/p.pdf", "media_type": "document"})),
           await world.queue(Message(id=None, channel=Channel.WHATSAPP, recipient=PHONE, body="Hello")),
           await world.queue(Message(id=None, channel=Channel.WHATSAPP, recipient=PHONE, body="Your card",
                                     headers={"media_link": "https://x.example/a.png", "media_type": "image"}))]
    service = world.service()
    assert [(await service.deliver(i)).outcome for i in ids] == ["sent", "sent", "sent"]
    template, text, image = (sent for _, sent in world.whatsapp.sent)
    assert (template.kind, template.template_name, template.language) == ("template", "reminder", "en")
    assert [p.text for p in template.body_parameters] == ["Asha"]
    assert [(p.type, p.link) for p in template.header_parameters] == [("document", "https://x.example/p.pdf")]
    assert (text.kind, text.text) == ("text", "Hello")
    assert (image.kind, image.media_link, image.caption) == ("image", "https://x.example/a.png", "Your card")


async def test_free_text_whose_window_closed_while_it_waited_fails(world: World) -> None:
    await world.consent(Channel.WHATSAPP, PHONE, True)
    async with world.uow() as uow:
        await uow.windows.touch(PHONE, NOW - timedelta(hours=25))
        await uow.commit()
    message_id = await world.queue(Message(id=None, channel=Channel.WHATSAPP, recipient=PHONE, body="Hello"))
    assert (await world.service().deliver(message_id)).outcome == "failed"
    assert world.message(message_id).error_code == "whatsapp_window_closed" and world.whatsapp.sent == []


async def test_a_permanent_refusal_fails_at_once_with_the_providers_code(world: World) -> None:
    world.sms.refuse(PHONE, code="twilio:21610")
    message_id = await world.queue(sms())
    outcome = await world.service().deliver(message_id)
    stored = world.message(message_id)
    assert (outcome.outcome, stored.status, stored.error_code, stored.attempts) == ("failed", "failed",
                                                                                   "twilio:21610", 1)
    assert stored.times["failed"] == NOW


async def test_transient_failures_retry_later_and_later_honouring_retry_after(world: World) -> None:
    message_id = await world.queue(sms())
    service = world.service(random=0.5)
    world.sms.fail_next(3, code="twilio:http_503")
    delays = [(await service.deliver(message_id)).retry_in for _ in range(3)]
    assert delays == [1.5, 3.0, 6.0]  # base 2 s doubling, jittered within the upper half
    world.sms.fail_next(1, code="twilio:http_429", retry_after=120)
    assert (await service.deliver(message_id)).retry_in == 120  # the provider's Retry-After wins
    stored = world.message(message_id)
    assert (stored.status, stored.attempts, stored.error_code) == ("queued", 4, "twilio:http_429")
    assert (await service.deliver(message_id)).outcome == "sent"
    assert (world.message(message_id).status, world.message(message_id).error_code) == ("sent", None)


def test_backoff_is_capped_and_jittered() -> None:
    config = MessagingConfig(backoff_base_seconds=2, backoff_cap_seconds=600)
    assert backoff_seconds(20, config, lambda: 0.0) == 300 and backoff_seconds(20, config, lambda: 0.999) < 600
    assert backoff_seconds(1, config, lambda: 1.0) == 2 and backoff_seconds(1, config, lambda: 1.0, 9.5) == 9.5


async def test_after_max_attempts_the_message_gives_up(world: World) -> None:
    message_id = await world.queue(sms())
    service = world.service(MessagingConfig(max_attempts=3))
    world.sms.fail_next(5)
    outcomes = [(await service.deliver(message_id)).outcome for _ in range(4)]
    assert outcomes == ["retry", "retry", "failed", "skipped"]
    stored = world.message(message_id)
    assert (stored.status, stored.error_code, stored.attempts) == ("failed", "gave_up", 3)


async def test_quiet_hours_defer_without_sending(world: World) -> None:
    message_id = await world.queue(sms(not_before=NOW + timedelta(hours=2)))
    service = world.service()
    assert await service.deliver(message_id) == DeliveryOutcome(outcome="deferred", retry_in=7200.0,
                                                                detail="quiet hours")
    assert world.sms.sent == [] and world.message(message_id).attempts == 0
    world.clock.advance(timedelta(hours=2))
    assert (await service.deliver(message_id)).outcome == "sent"


async def test_a_message_reaching_the_worker_after_quiet_hours_began_waits_for_the_morning(world: World) -> None:
    message_id, receipt = await world.queue(sms()), await world.queue(sms(transactional=True))
    world.clock.advance(timedelta(hours=10))  # 21:30 in Kolkata (a backlog, or a retry)
    service = world.service()
    outcome = await service.deliver(message_id)
    assert (outcome.outcome, outcome.retry_in) == ("deferred", 11.5 * 3600)
    assert (await service.deliver(receipt)).outcome == "sent" and len(world.sms.sent) == 1


async def test_a_recipient_who_opted_out_since_is_not_sent_unless_transactional(world: World) -> None:
    refused, receipt = await world.queue(sms()), await world.queue(sms(transactional=True))
    await world.consent(Channel.SMS, PHONE, False)
    service = world.service()
    assert (await service.deliver(refused)).outcome == "failed"
    assert (await service.deliver(receipt)).outcome == "sent"
    assert world.message(refused).error_code == "opted_out" and len(world.sms.sent) == 1


async def test_no_token_within_the_wait_means_retry_later_without_calling_the_provider(world: World) -> None:
    first, second = await world.queue(sms()), await world.queue(sms())
    service = world.service(MessagingConfig(sms_limit=RateLimit(rate=0.1, burst=1), limiter_max_wait=5))
    assert (await service.deliver(first)).outcome == "sent"
    outcome = await service.deliver(second)
    assert (outcome.outcome, outcome.retry_in) == ("retry", 5)
    assert len(world.sms.sent) == 1 and world.message(second).attempts == 0


def test_the_sms_rate_grows_with_the_sender_numbers() -> None:
    config = MessagingConfig(sms_limit=RateLimit(rate=1, burst=1), sms_senders=3)
    assert config.limit_for(Channel.SMS) == RateLimit(rate=3, burst=1)


@dataclass
class StrictProvider:
    """An SMS provider that answers 429 when more than `per_second` sends land in any one-second window."""

    time: VirtualTime
    per_second: int
    sent: list[float] = field(default_factory=list)
    throttled: int = 0

    async def send(self, message: OutboundSms) -> SentSms:
        now = self.time()
        recent = [t for t in self.sent if t > now - 1 + 1e-6]  # the window (now - 1 s, now], float rounding aside
        if len(recent) >= self.per_second:
            self.throttled += 1
            raise SmsUnavailable("429 Too Many Requests", code="http_429", retry_after=1)
        self.sent.append(now)
        return SentSms(provider_message_id=f"p-{len(self.sent)}")


async def test_a_thousand_messages_through_the_shared_bucket_never_meet_a_429(world: World) -> None:
    per_second = 10
    provider = StrictProvider(world.time, per_second)
    service = world.service(MessagingConfig(sms_limit=RateLimit(rate=per_second, burst=1)), sms=provider)
    ids = [await world.queue(sms()) for _ in range(1000)]
    outcomes = [(await service.deliver(i)).outcome for i in ids]
    assert provider.throttled == 0 and outcomes == ["sent"] * 1000
    assert world.time.now == pytest.approx(999 / per_second)  # as fast as allowed, not slower
