"""Provider events: parsing the providers' documented payloads, then recording and applying them once.

Fixtures follow the providers' own examples: Twilio's status-callback and incoming-message parameters
(twilio.com/docs/messaging/guides/track-outbound-message-status, .../webhook-request), Meta's webhook samples
(developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status and
.../messages/text) and AWS's SES-through-SNS records (docs.aws.amazon.com/ses/latest/dg/
event-publishing-retrieving-sns-examples.html), trimmed to the fields that matter plus a few that do not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory.messaging import InMemoryCustomerDirectory, InMemoryMessageRepository
from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.messaging.inbound import APPLY_PROVIDER_EVENT, InboundService, confirm_subscription_url
from application.messaging.provider_payloads import (
    PayloadError,
    parse_ses_event,
    parse_sns,
    parse_twilio_inbound,
    parse_twilio_status,
    parse_whatsapp,
    twilio_status_event_id,
)
from application.shared.events import EventRouter
from domain.messaging.delivery import MessageStatus, rank_of
from domain.messaging.model import Channel, ConsentSource, Message
from domain.policies.model import Customer

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SID = "SM1f0e8ae6ade43cb3c0ce4525424e404f"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"
SES_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"
PHONE = "+16315551181"


# --- fixtures from the providers' documentation --------------------------------------------------------------

def twilio_status(status: str, **extra: str) -> dict[str, str]:
    params = {"AccountSid": "AC00000000000000000000000000000001", "ApiVersion": "2010-04-01", "From": "+15017122661",
              "MessageSid": SID, "MessageStatus": status, "SmsSid": SID, "SmsStatus": status, "To": PHONE}
    params.update(extra)
    return params


def twilio_inbound(body: str, sender: str = PHONE) -> dict[str, str]:
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": "SM5ef8731f06b4b3a3a1e2f3b1c2d3e4f5",
            "NumMedia": "0", "SmsSid": "SM5ef8731f06b4b3a3a1e2f3b1c2d3e4f5", "SmsStatus": "received", "Body": body,
            "To": "+15017122661", "NumSegments": "1", "MessageSid": "SM5ef8731f06b4b3a3a1e2f3b1c2d3e4f5",
            "AccountSid": "AC00000000000000000000000000000001", "From": sender, "ApiVersion": "2010-04-01"}


def whatsapp_body(value: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "16505551111", "phone_number_id": "123456123"}, **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}]}


def whatsapp_text(body: str, timestamp: int = 1504902988, wamid: str = "ABGGFlA5Fpa") -> dict[str, Any]:
    """Meta's sample text message (its `test` button in the App Dashboard sends exactly this)."""
    return whatsapp_body({
        "contacts": [{"profile": {"name": "test user name"}, "wa_id": "16315551181"}],
        "messages": [{"from": "16315551181", "id": wamid, "timestamp": str(timestamp), "type": "text",
                      "text": {"body": body}}]})


def whatsapp_status(status: str, timestamp: int = 1750857384, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": WAMID, "status": status, "timestamp": str(timestamp), "recipient_id": "16315551181",
                            "biz_opaque_callback_data": "msg-1", **extra}
    if status in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    return whatsapp_body({"statuses": [item]})


FAILED_ERRORS = [{"code": 131049, "title": "This message was not delivered to maintain healthy ecosystem engagement.",
                  "message": "This message was not delivered to maintain healthy ecosystem engagement.",
                  "error_data": {"details": "In order to maintain a healthy ecosystem engagement, the message "
                                            "failed to be delivered."},
                  "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]

MAIL = {"timestamp": "2017-08-05T00:40:02.012Z", "source": "Sender Name <sender@example.com>",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
        "sendingAccountId": "123456789012", "messageId": SES_ID, "destination": ["recipient@example.com"],
        "headersTruncated": False, "commonHeaders": {"from": ["Sender Name <sender@example.com>"],
                                                      "to": ["recipient@example.com"], "messageId": SES_ID,
                                                      "subject": "Message sent from Amazon SES"},
        "tags": {"ses:configuration-set": ["ConfigSet"], "ses:source-ip": ["192.0.2.0"]}}
BOUNCE = {"eventType": "Bounce", "bounce": {
    "bounceType": "Permanent", "bounceSubType": "General",
    "bouncedRecipients": [{"emailAddress": "Recipient@example.com", "action": "failed", "status": "5.1.1",
                           "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
    "timestamp": "2017-08-05T00:41:02.669Z",
    "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    "reportingMTA": "dsn; mta.example.com"}, "mail": MAIL}
COMPLAINT = {"eventType": "Complaint", "complaint": {
    "complainedRecipients": [{"emailAddress": "recipient@example.com"}], "timestamp": "2017-08-05T00:41:02.669Z",
    "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "complaintFeedbackType": "abuse", "arrivalDate": "2017-08-05T00:41:02.669Z"}, "mail": MAIL}
DELIVERY = {"eventType": "Delivery", "mail": MAIL, "delivery": {
    "timestamp": "2016-10-19T23:21:04.133Z", "processingTimeMillis": 11893, "recipients": ["recipient@example.com"],
    "smtpResponse": "250 2.6.0 Message received", "reportingMTA": "mta.example.com"}}
OPEN = {"eventType": "Open", "mail": MAIL, "open": {
    "ipAddress": "192.0.2.1", "timestamp": "2017-08-09T22:00:19.652Z", "userAgent": "Mozilla/5.0"}}
CLICK = {"eventType": "Click", "mail": MAIL, "click": {
    "ipAddress": "192.0.2.1", "link": "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
    "linkTags": {"samplekey0": ["samplevalue0"]}, "timestamp": "2017-08-09T23:51:25.570Z", "userAgent": "Mozilla/5.0"}}
REJECT = {"eventType": "Reject", "mail": MAIL, "reject": {"reason": "Bad content"}}


def sns(record: dict[str, Any] | None = None, *, message_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        kind: str = "Notification") -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "Type": kind, "MessageId": message_id, "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Message": json.dumps(record) if record is not None else "You have chosen to subscribe to the topic.",
        "Timestamp": "2012-05-02T00:54:06.655Z", "SignatureVersion": "1", "Signature": "EXAMPLEpH+...",
        "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"}
    if kind == "SubscriptionConfirmation":
        envelope["Token"] = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a98866"
        envelope["SubscribeURL"] = ("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:"
                                    "sns:us-west-2:123456789012:MyTopic&Token=2336412f37fb687f5d51e6e2425dacbba8")
    return envelope


# --- parsing --------------------------------------------------------------------------------------------------

def test_twilio_status_callbacks_map_to_our_statuses_with_code_and_price() -> None:
    sent = parse_twilio_status(twilio_status("sent"), "msg-7")
    assert (sent.provider_message_id, sent.reference, sent.status, sent.error_code) == (SID, "msg-7", "sent", None)
    failed = parse_twilio_status(twilio_status("undelivered", ErrorCode="30003", RawDlrDoneDate="2611280904",
                                               Price="-0.00750", PriceUnit="usd"))
    assert failed.status is MessageStatus.UNDELIVERED
    assert (failed.error_code, failed.error_text) == ("twilio:30003", "Twilio error 30003")
    assert failed.at == datetime(2026, 11, 28, 9, 4, tzinfo=UTC)
    assert (failed.cost, failed.currency) == (Decimal("0.00750"), "USD")
    assert [parse_twilio_status(twilio_status(s)).status for s in ("accepted", "sending", "canceled", "read")] == [
        MessageStatus.QUEUED, MessageStatus.QUEUED, MessageStatus.FAILED, MessageStatus.READ]
    assert twilio_status_event_id(twilio_status("failed", ErrorCode="30008")) == f"{SID}:failed:30008"
    assert twilio_status_event_id(twilio_status("Delivered")) == f"{SID}:delivered"


@pytest.mark.parametrize("params", [{"MessageStatus": "sent"}, twilio_status("exploded"), twilio_status("")])
def test_twilio_status_without_sid_or_with_an_unknown_status_is_refused(params: dict[str, str]) -> None:
    with pytest.raises(PayloadError):
        parse_twilio_status(params)


def test_twilio_inbound_sms_and_whatsapp_senders() -> None:
    sms = parse_twilio_inbound(twilio_inbound("Hello"))
    assert (sms.channel, sms.sender, sms.recipient, sms.body) == (Channel.SMS, PHONE, "+15017122661", "Hello")
    whatsapp = parse_twilio_inbound(twilio_inbound("Hi", sender=f"whatsapp:{PHONE}"))
    assert (whatsapp.channel, whatsapp.sender) == (Channel.WHATSAPP, PHONE)


def test_whatsapp_statuses_and_messages() -> None:
    inbound = parse_whatsapp(whatsapp_text("this is a text message"))
    [text] = inbound.messages
    assert (inbound.kind, text.sender, text.body, text.provider_message_id) == (
        "inbound", PHONE, "this is a text message", "ABGGFlA5Fpa")
    assert text.at == datetime.fromtimestamp(1504902988, UTC)
    [delivered] = parse_whatsapp(whatsapp_status("delivered")).statuses
    assert (delivered.provider_message_id, delivered.reference, delivered.status) == (WAMID, "msg-1", "delivered")
    assert delivered.at == datetime.fromtimestamp(1750857384, UTC)
    [failed] = parse_whatsapp(whatsapp_status("failed", errors=FAILED_ERRORS)).statuses
    assert (failed.status, failed.error_code) == (MessageStatus.FAILED, "whatsapp:131049")
    assert failed.error_text is not None and failed.error_text.startswith("This message was not delivered")
    assert parse_whatsapp(whatsapp_body({})).kind == "other"


@pytest.mark.parametrize("body", [{"object": "page", "entry": []}, {"entry": []}, ["not", "an", "object"]])
def test_what_is_not_a_whatsapp_business_webhook_is_refused(body: object) -> None:
    with pytest.raises(PayloadError):
        parse_whatsapp(body)


def test_ses_records_inside_sns_notifications() -> None:
    envelope = parse_sns(sns(BOUNCE))
    assert (envelope.type, envelope.message_id) == ("Notification", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")
    bounce = parse_ses_event(envelope.message)
    assert (bounce.kind, bounce.ses_message_id, bounce.recipients) == ("bounce", SES_ID, ("recipient@example.com",))
    assert (bounce.bounce_type, bounce.bounce_subtype, bounce.detail) == (
        "Permanent", "General", "smtp; 550 5.1.1 user unknown")
    assert bounce.at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    complaint = parse_ses_event(json.dumps(COMPLAINT))
    assert (complaint.kind, complaint.recipients, complaint.detail) == ("complaint", ("recipient@example.com",),
                                                                        "abuse")
    assert parse_ses_event(json.dumps(DELIVERY)).at == datetime(2016, 10, 19, 23, 21, 4, 133000, tzinfo=UTC)
    assert parse_ses_event(json.dumps(CLICK)).at == datetime(2017, 8, 9, 23, 51, 25, 570000, tzinfo=UTC)
    assert parse_ses_event(json.dumps(REJECT)).detail == "Bad content"
    # identity feedback notifications (no configuration set) name the type `notificationType`
    legacy = {**{k: v for k, v in BOUNCE.items() if k != "eventType"}, "notificationType": "Bounce"}
    assert parse_ses_event(json.dumps(legacy)).kind == "bounce"
    tagged = {**DELIVERY, "mail": {**MAIL, "tags": {**MAIL["tags"], "ref": ["msg-9"]}}}  # type: ignore[dict-item]
    assert parse_ses_event(json.dumps(tagged)).reference == "msg-9"
    with pytest.raises(PayloadError):
        parse_ses_event("Hello world!")


def test_only_https_confirm_subscription_urls_on_allowed_hosts_are_visited() -> None:
    def sns_host(host: str) -> bool:
        return host.startswith("sns.") and host.endswith(".amazonaws.com")

    confirmation = sns(kind="SubscriptionConfirmation")
    assert confirm_subscription_url(confirmation, sns_host) == confirmation["SubscribeURL"]
    assert confirm_subscription_url(sns(BOUNCE), sns_host) is None
    good = confirmation["SubscribeURL"]
    for url in (good.replace("https://", "http://"), good.replace("sns.us-west-2.amazonaws.com", "evil.example"),
                good.replace("https://", "https://user@"), good.replace(".com/", ".com:8443/"),
                good.replace("ConfirmSubscription", "Unsubscribe"), 12):
        assert confirm_subscription_url({**confirmation, "SubscribeURL": url}, sns_host) is None, url


# --- recording and applying -----------------------------------------------------------------------------------

class Desk:
    """The inbound service on an in-memory store, with a customer and an outbound message per channel."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.store = MemoryStore(self.clock)
        self.store.tables.customers[1] = Customer(customer_code="C-1", first_name="Asha", last_name="Rao",
                                                  email="recipient@example.com", phone=PHONE, id=1)
        self.service = InboundService(self.uow, self.clock, InMemoryCustomerDirectory(self.store))

    def uow(self) -> InMemoryMessagingUnitOfWork:
        return InMemoryMessagingUnitOfWork(self.store, EventRouter())

    async def message(self, channel: Channel, provider_id: str | None, status: str = "sent") -> int:
        recipient = "recipient@example.com" if channel is Channel.EMAIL else PHONE
        async with self.uow() as uow:
            message = await uow.messages.add(Message(id=None, channel=channel, recipient=recipient, body="Renew",
                                                     provider_message_id=provider_id, status=MessageStatus(status)))
            await uow.commit()
        assert message.id is not None
        return message.id

    def stored(self, message_id: int) -> Message:
        return self.store.tables.messages[message_id]

    def jobs(self) -> list[int]:
        rows = [row.job for row in self.store.tables.outbox.values() if row.job.name == APPLY_PROVIDER_EVENT]
        return [int(job.args["event_id"]) for job in rows]

    async def deliver(self, provider: str, event_id: str, kind: str, payload: dict[str, Any]) -> bool:
        """Record then apply at once, as the webhook and the worker would."""
        before = set(self.jobs())
        recorded = await self.service.record(provider, event_id, kind, payload)
        for new in set(self.jobs()) - before:
            await self.service.apply(new)
        return recorded

    async def twilio(self, params: dict[str, str], ref: str | None = None) -> bool:
        return await self.deliver("twilio", twilio_status_event_id(params), "status", {"params": params, "ref": ref})

    async def sms(self, body: str, sender: str = PHONE) -> bool:
        params = twilio_inbound(body, sender) | {"MessageSid": f"SM{abs(hash((body, sender, len(self.jobs()))))}"}
        return await self.deliver("twilio", params["MessageSid"], "inbound", {"params": params})

    async def whatsapp(self, body: dict[str, Any]) -> bool:
        return await self.deliver("whatsapp", json.dumps(body, sort_keys=True), parse_whatsapp(body).kind, body)

    async def ses(self, record: dict[str, Any], message_id: str) -> bool:
        return await self.deliver("ses", message_id, parse_ses_event(json.dumps(record)).kind,
                                  sns(record, message_id=message_id))

    def consent(self, channel: Channel, address: str) -> tuple[bool, ConsentSource, str | None] | None:
        found = self.store.tables.consents.get((channel.value, address))
        return None if found is None else (found.opted_in, found.source, found.reason)


@pytest.fixture
def desk() -> Desk:
    return Desk()


async def test_a_hundred_deliveries_of_one_event_store_one_row_and_change_the_status_once(
        desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    message_id = await desk.message(Channel.SMS, SID)
    saves: list[int] = []
    original_save = InMemoryMessageRepository.save

    async def counting_save(repo: InMemoryMessageRepository, message: Message) -> None:
        saves.append(message.id or 0)
        await original_save(repo, message)

    monkeypatch.setattr(InMemoryMessageRepository, "save", counting_save)
    params = twilio_status("delivered")
    answers = [await desk.service.record("twilio", twilio_status_event_id(params), "status", {"params": params})
               for _ in range(100)]
    assert answers.count(True) == 1
    assert len(desk.store.tables.provider_events) == 1 and len(desk.jobs()) == 1
    for _ in range(100):  # the worker may run the job more than once
        await desk.service.apply(desk.jobs()[0])
    assert saves == [message_id]
    assert desk.stored(message_id).status is MessageStatus.DELIVERED
    assert desk.stored(message_id).times == {"delivered": NOW}


async def test_the_job_and_the_event_are_written_together(desk: Desk) -> None:
    assert await desk.service.record("whatsapp", "abc", "status", {"object": "whatsapp_business_account"})
    [event] = desk.store.tables.provider_events.values()
    [row] = desk.store.tables.outbox.values()
    assert (row.job.name, row.job.args, row.job.key) == (APPLY_PROVIDER_EVENT, {"event_id": event.id},
                                                          f"provider-event-{event.id}")
    assert (event.provider, event.event_id, event.kind, event.received_at) == ("whatsapp", "abc", "status", NOW)


STATUS_POOL = [
    twilio_status("queued"), twilio_status("sending"), twilio_status("sent"),
    twilio_status("delivered", RawDlrDoneDate="2611280905"),
    twilio_status("undelivered", ErrorCode="30003", RawDlrDoneDate="2611280904"),
    twilio_status("failed", ErrorCode="30008"), twilio_status("read"),
]
CODES = {MessageStatus.UNDELIVERED: "twilio:30003", MessageStatus.FAILED: "twilio:30008"}


async def _fold(events: list[dict[str, str]]) -> tuple[list[int], Message]:
    """Deliver `events` in order for one message; the rank after each one, and the final message."""
    desk = Desk()
    message_id = await desk.message(Channel.SMS, SID, status="queued")
    ranks = []
    for params in events:
        await desk.twilio(params)
        ranks.append(rank_of(desk.stored(message_id).status))
    return ranks, desk.stored(message_id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(range(len(STATUS_POOL))), min_size=1, max_size=12).flatmap(
    lambda picks: st.tuples(st.just(picks), st.permutations(picks))))
async def test_status_events_in_any_order_end_at_the_highest_rank_and_never_go_back(
        orders: tuple[list[int], list[int]]) -> None:
    first, second = orders
    ranks, message = await _fold([STATUS_POOL[i] for i in first])
    assert ranks == sorted(ranks)  # never backwards
    expected = max(rank_of(parse_twilio_status(STATUS_POOL[i]).status or "queued") for i in first)
    assert rank_of(message.status) == expected
    _, reordered = await _fold([STATUS_POOL[i] for i in second])
    assert (reordered.status, reordered.times) == (message.status, message.times)
    # the error code is the one of the failure kept, or none once the message is known to have arrived
    assert message.error_code == reordered.error_code == CODES.get(message.status)


async def test_a_failure_keeps_the_provider_code_and_twilio_price_becomes_the_cost(desk: Desk) -> None:
    message_id = await desk.message(Channel.SMS, SID)
    await desk.twilio(twilio_status("undelivered", ErrorCode="30005", ErrorMessage="Unknown destination handset",
                                    Price="-0.0075", PriceUnit="USD"))
    message = desk.stored(message_id)
    assert (message.status, message.error_code, message.error_text) == (
        MessageStatus.UNDELIVERED, "twilio:30005", "Unknown destination handset")
    assert (message.cost, message.currency) == (Decimal("0.0075"), "USD")


async def test_statuses_find_the_message_by_our_reference_and_ignore_strangers(desk: Desk) -> None:
    message_id = await desk.message(Channel.SMS, None)  # the send crashed before it stored Twilio's sid
    await desk.twilio(twilio_status("sent"), ref=f"msg-{message_id}")
    assert (desk.stored(message_id).status, desk.stored(message_id).provider_message_id) == ("sent", SID)
    assert await desk.twilio(twilio_status("delivered", MessageSid="SMffffffffffffffffffffffffffffffff"))
    assert await desk.twilio(twilio_status("failed", MessageSid="SMeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"), ref="msg-99")
    assert desk.stored(message_id).status is MessageStatus.SENT
    assert len(desk.store.tables.processed_events) == 3


async def test_whatsapp_statuses_use_the_payload_time_and_failure_details(desk: Desk) -> None:
    message_id = await desk.message(Channel.WHATSAPP, WAMID)
    await desk.whatsapp(whatsapp_status("read", timestamp=1750857500))
    await desk.whatsapp(whatsapp_status("sent", timestamp=1750857384))
    await desk.whatsapp(whatsapp_status("failed", timestamp=1750857600, errors=FAILED_ERRORS))
    message = desk.stored(message_id)
    assert message.status is MessageStatus.READ and message.error_code is None
    assert message.times == {"read": datetime.fromtimestamp(1750857500, UTC),
                             "sent": datetime.fromtimestamp(1750857384, UTC),
                             "failed": datetime.fromtimestamp(1750857600, UTC)}


@pytest.mark.parametrize("stop", ["STOP", " stop ", "Unsubscribe", "cancel", "END", "quit", "StopAll"])
async def test_stop_then_start_by_sms(desk: Desk, stop: str) -> None:
    await desk.sms(stop)
    assert desk.consent(Channel.SMS, PHONE) == (False, ConsentSource.STOP_KEYWORD, f"replied {stop.strip().upper()}")
    assert desk.store.tables.consents[("sms", PHONE)].customer_id == 1
    assert desk.consent(Channel.WHATSAPP, PHONE) is None  # only the channel it came on
    await desk.sms("start")
    assert desk.consent(Channel.SMS, PHONE) == (True, ConsentSource.STOP_KEYWORD, "replied START")


async def test_other_replies_change_no_consent_and_yes_only_undoes_an_opt_out(desk: Desk) -> None:
    for body in ("Please stop calling me", "STOP!", "yes", "Yes please"):
        await desk.sms(body)
    assert desk.store.tables.consents == {}
    await desk.sms("stop")
    await desk.sms(" YES ")
    assert desk.consent(Channel.SMS, PHONE) == (True, ConsentSource.STOP_KEYWORD, "replied YES")


async def test_whatsapp_messages_open_the_window_and_late_stop_cannot_undo_a_newer_start(desk: Desk) -> None:
    await desk.whatsapp(whatsapp_text("START", timestamp=1764320000, wamid="wamid.2"))
    await desk.whatsapp(whatsapp_text("STOP", timestamp=1764310000, wamid="wamid.1"))  # sent earlier, arrives later
    assert desk.consent(Channel.WHATSAPP, PHONE) == (True, ConsentSource.STOP_KEYWORD, "replied START")
    async with desk.uow() as uow:
        assert await uow.windows.last_inbound(PHONE) == datetime.fromtimestamp(1764320000, UTC)
    await desk.sms("Hello")
    async with desk.uow() as uow:  # an SMS does not open WhatsApp's window
        assert await uow.windows.last_inbound(PHONE) == datetime.fromtimestamp(1764320000, UTC)


async def test_a_permanent_bounce_suppresses_the_address_and_leaves_the_message_undelivered(desk: Desk) -> None:
    message_id = await desk.message(Channel.EMAIL, SES_ID)
    await desk.ses(BOUNCE, "b1")
    assert desk.consent(Channel.EMAIL, "recipient@example.com") == (False, ConsentSource.BOUNCE, "General")
    message = desk.stored(message_id)
    assert (message.status, message.error_code, message.error_text) == (
        MessageStatus.UNDELIVERED, "ses:bounce:Permanent:General", "smtp; 550 5.1.1 user unknown")
    assert message.times["undelivered"] == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)


async def test_a_transient_bounce_does_not_suppress(desk: Desk) -> None:
    message_id = await desk.message(Channel.EMAIL, SES_ID)
    transient = {**BOUNCE, "bounce": {**BOUNCE["bounce"], "bounceType": "Transient",  # type: ignore[dict-item]
                                      "bounceSubType": "MailboxFull"}}
    await desk.ses(transient, "b2")
    assert desk.store.tables.consents == {}
    assert desk.stored(message_id).error_code == "ses:bounce:Transient:MailboxFull"


async def test_a_complaint_suppresses_the_address(desk: Desk) -> None:
    message_id = await desk.message(Channel.EMAIL, SES_ID)
    await desk.ses(COMPLAINT, "c1")
    assert desk.consent(Channel.EMAIL, "recipient@example.com") == (False, ConsentSource.COMPLAINT, "abuse")
    assert desk.stored(message_id).status is MessageStatus.SENT


@pytest.mark.parametrize(("record", "status"), [(DELIVERY, "delivered"), (OPEN, "read"), (CLICK, "read"),
                                                 (REJECT, "failed")])
async def test_ses_delivery_open_click_and_reject_move_the_message(
        desk: Desk, record: dict[str, Any], status: str) -> None:
    message_id = await desk.message(Channel.EMAIL, SES_ID)
    await desk.ses(record, "e1")
    message = desk.stored(message_id)
    assert message.status == status
    assert message.times[status] == parse_ses_event(json.dumps(record)).at
    assert desk.store.tables.consents == {}


async def test_subscription_confirmations_are_handed_to_the_worker_once(desk: Desk) -> None:
    confirmation = sns(kind="SubscriptionConfirmation", message_id="165545c9-2a5c-472c-8df2-7ff2be2b3b1b")
    assert await desk.service.record("ses", confirmation["MessageId"], "subscription", confirmation)
    [event_id] = desk.jobs()
    allowed: Callable[[str], bool] = lambda host: host == "sns.us-west-2.amazonaws.com"  # noqa: E731
    assert await desk.service.subscription_url(event_id, allowed) == confirmation["SubscribeURL"]
    await desk.service.apply(event_id)
    assert event_id in desk.store.tables.processed_events


async def test_an_unparseable_event_is_marked_processed_and_changes_nothing(desk: Desk) -> None:
    message_id = await desk.message(Channel.SMS, SID)
    assert await desk.deliver("twilio", "broken", "status", {"params": {"MessageStatus": "delivered"}})
    assert desk.stored(message_id).status is MessageStatus.SENT
    assert len(desk.store.tables.processed_events) == 1


async def test_time_falls_back_to_when_the_event_was_received(desk: Desk) -> None:
    message_id = await desk.message(Channel.SMS, SID)
    await desk.service.record("twilio", "e", "status", {"params": twilio_status("delivered"), "ref": None})
    desk.clock.advance(timedelta(hours=2))  # the worker runs later
    await desk.service.apply(desk.jobs()[0])
    assert desk.stored(message_id).times["delivered"] == NOW
