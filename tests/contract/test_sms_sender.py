"""The SMS port: in-memory, the dev file sink, Twilio (a local fake) and SNS (moto) under the same tests."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from moto.server import ThreadedMotoServer

from adapters.aws.sns_sms_sender import SnsSmsSender
from adapters.dev.file_sms_sender import SMS_FILE, FileSmsSender
from adapters.memory.sms import InMemorySmsSender
from adapters.system.clock import FixedClock
from application.ports.sms import OutboundSms, SentSms, SmsRejected, SmsUnavailable
from tests.contract.email_support import free_port
from tests.contract.sms_support import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    AUTH_TOKEN,
    CALLBACK,
    MESSAGES_PATH,
    MESSAGING_SERVICE_SID,
    FakeTwilio,
    RecordingSnsClient,
    SmsSenderUnderTest,
    TwilioReply,
    aws_session,
    client_error,
    dev_sender_under_test,
    memory_sender_under_test,
    moto_sms_messages,
    sns_sender_under_test,
    sns_string,
    twilio_sender,
    twilio_sender_under_test,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TO = "+919876543210"
NOT_E164 = "+91 98765 43210"
ENTITY, TEMPLATE = "1701165718168578728", "1707166375278247471"  # India DLT ids
BODY = "Namaste Zoë 🙏 your policy 7 renews on 01/01/2027. Reply STOP to opt out."


def sms(to: str = TO, body: str = BODY, reference: str = "msg-7", **fields: Any) -> OutboundSms:
    return OutboundSms(to=to, body=body, reference=reference, **fields)


# --- fixtures -----------------------------------------------------------------------------------------------

@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
async def sns_client(moto_endpoint: str) -> AsyncIterator[Any]:
    async with aws_session().client("sns", endpoint_url=moto_endpoint) as client:
        yield client


@pytest.fixture(scope="module")
async def unreachable_sns_client() -> AsyncIterator[Any]:
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=1)
    async with aws_session().client("sns", endpoint_url=f"http://127.0.0.1:{free_port()}", config=config) as client:
        yield client


@pytest.fixture
def memory_under_test() -> SmsSenderUnderTest:
    return memory_sender_under_test()


@pytest.fixture
def dev_under_test(tmp_path: Path) -> SmsSenderUnderTest:
    return dev_sender_under_test(tmp_path, FixedClock(NOW))


@pytest.fixture
def twilio_under_test(fake_twilio: FakeTwilio, http_client: httpx.AsyncClient) -> SmsSenderUnderTest:
    return twilio_sender_under_test(fake_twilio, twilio_sender(http_client, fake_twilio.url))


@pytest.fixture
def sns_under_test(sns_client: Any, unreachable_sns_client: Any) -> SmsSenderUnderTest:
    return sns_sender_under_test(sns_client, unreachable_sns_client)


@pytest.fixture(params=["memory", "dev", "twilio", "sns"])
def under_test(request: pytest.FixtureRequest) -> SmsSenderUnderTest:
    found: SmsSenderUnderTest = request.getfixturevalue(f"{request.param}_under_test")
    return found


# --- the contract -------------------------------------------------------------------------------------------

async def test_send_returns_an_id_and_the_provider_gets_the_number_and_body(under_test: SmsSenderUnderTest) -> None:
    sent = await under_test.sender.send(sms())
    assert isinstance(sent, SentSms) and sent.provider_message_id
    assert sent.status in {"queued", "sent"}
    assert under_test.delivered() == [(TO, BODY)]


async def test_each_message_gets_its_own_id(under_test: SmsSenderUnderTest) -> None:
    first = await under_test.sender.send(sms(reference="msg-1"))
    second = await under_test.sender.send(sms(to="+14155550100", body="Second", reference="msg-2"))
    assert first.provider_message_id != second.provider_message_id
    assert under_test.delivered() == [(TO, BODY), ("+14155550100", "Second")]


async def test_a_number_that_is_not_e164_is_rejected_for_good(under_test: SmsSenderUnderTest) -> None:
    with pytest.raises(SmsRejected) as raised:
        await under_test.sender.send(sms(to=NOT_E164))
    assert raised.value.code == under_test.invalid_number_code
    assert under_test.delivered() == []


async def test_a_transient_failure_is_unavailable_and_a_later_send_works(under_test: SmsSenderUnderTest) -> None:
    with pytest.raises(SmsUnavailable):
        await under_test.failing_sender().send(sms())
    assert under_test.delivered() == []
    await under_test.sender.send(sms())
    assert under_test.delivered() == [(TO, BODY)]


# --- in-memory ----------------------------------------------------------------------------------------------

async def test_memory_refuses_a_number_when_told_and_fails_the_next_sends() -> None:
    memory = InMemorySmsSender()
    memory.refuse("+14155550199", "twilio:21610")
    with pytest.raises(SmsRejected) as raised:
        await memory.send(sms(to="+14155550199"))
    assert raised.value.code == "twilio:21610"
    memory.fail_next(2, retry_after=3)
    for _ in range(2):
        with pytest.raises(SmsUnavailable) as unavailable:
            await memory.send(sms())
        assert unavailable.value.retry_after == 3
    first, second = await memory.send(sms()), await memory.send(sms(reference="msg-8"))
    assert [first.provider_message_id, second.provider_message_id] == ["mem-sms-1", "mem-sms-2"]
    assert memory.sent == [("mem-sms-1", sms()), ("mem-sms-2", sms(reference="msg-8"))]


# --- dev sink -----------------------------------------------------------------------------------------------

async def test_dev_sink_writes_one_readable_line_per_message_with_ids_that_survive_a_restart(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    first = await FileSmsSender(outbox, FixedClock(NOW)).send(
        sms(sender_id="RENEWL", dlt_entity_id=ENTITY, dlt_template_id=TEMPLATE))
    second = await FileSmsSender(outbox, FixedClock(NOW)).send(sms(to="+14155550100", body="Hi", reference="msg-8"))
    assert [first.provider_message_id, second.provider_message_id] == ["dev-sms-1", "dev-sms-2"]
    raw = (outbox / SMS_FILE).read_text(encoding="utf-8")
    assert "Zoë 🙏" in raw  # readable as is, not \u-escaped
    entries = [json.loads(line) for line in raw.splitlines()]
    assert entries[0] == {"id": "dev-sms-1", "at": NOW.isoformat(), "to": TO, "body": BODY, "reference": "msg-7",
                          "sender_id": "RENEWL", "dlt_entity_id": ENTITY,
                          "dlt_template_id": TEMPLATE}
    assert (entries[1]["id"], entries[1]["to"], entries[1]["sender_id"]) == ("dev-sms-2", "+14155550100", None)


# --- Twilio -------------------------------------------------------------------------------------------------

async def test_twilio_posts_the_documented_form_with_the_service_and_a_referenced_callback(
    fake_twilio: FakeTwilio, http_client: httpx.AsyncClient,
) -> None:
    sent = await twilio_sender(http_client, fake_twilio.url).send(sms(reference="msg-7/a&b"))
    [request] = fake_twilio.requests
    assert request.path == MESSAGES_PATH and fake_twilio.violations == []
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {"To": [TO], "Body": [BODY], "MessagingServiceSid": [MESSAGING_SERVICE_SID],
                            "StatusCallback": [f"{CALLBACK}?ref=msg-7%2Fa%26b"]}
    assert sent == SentSms(provider_message_id="SM" + "0" * 31 + "1", status="queued")  # accepted; 0 segments


async def test_twilio_sends_from_the_number_keeps_the_callback_query_and_maps_segments(
    fake_twilio: FakeTwilio, http_client: httpx.AsyncClient,
) -> None:
    sender = twilio_sender(http_client, fake_twilio.url, messaging_service_sid=None, from_number="+15005550006",
                           status_callback_url=f"{CALLBACK}?env=prod&ref=stale")
    sent = await sender.send(sms(body="x" * 200))
    assert fake_twilio.requests[0].form == {"To": [TO], "Body": ["x" * 200], "From": ["+15005550006"],
                                            "StatusCallback": [f"{CALLBACK}?env=prod&ref=msg-7"]}
    assert (sent.status, sent.segments) == ("queued", 2)
    await twilio_sender(http_client, fake_twilio.url, status_callback_url=None).send(sms(sender_id="RENEWALS"))
    assert fake_twilio.requests[1].form == {"To": [TO], "Body": [BODY], "From": ["RENEWALS"],
                                            "MessagingServiceSid": [MESSAGING_SERVICE_SID]}


async def test_twilio_authenticates_with_an_api_key_and_maps_price_and_status(
    fake_twilio: FakeTwilio, http_client: httpx.AsyncClient,
) -> None:
    fake_twilio.message_fields = {"status": "sent", "price": "-0.00750", "price_unit": "USD", "num_segments": "1"}
    sender = twilio_sender(http_client, fake_twilio.url, auth_token=None, api_key_sid=API_KEY_SID,
                           api_key_secret=API_KEY_SECRET)
    sent = await sender.send(sms())
    assert (sent.status, sent.segments, sent.cost, sent.currency) == ("sent", 1, "0.00750", "USD")
    assert fake_twilio.requests[0].headers["authorization"].startswith("Basic ")


async def test_twilio_message_failed_on_creation_is_rejected(fake_twilio: FakeTwilio,
                                                            http_client: httpx.AsyncClient) -> None:
    fake_twilio.message_fields = {"status": "failed", "error_code": 30007, "error_message": "Carrier violation"}
    with pytest.raises(SmsRejected) as raised:
        await twilio_sender(http_client, fake_twilio.url).send(sms())
    assert raised.value.code == "twilio:30007"


PERMANENT = [21211, 21614, 21610, 21408, 21606, 21659, 30004, 30005, 30006, 30007]


@pytest.mark.parametrize("code", PERMANENT)
async def test_twilio_permanent_errors_are_rejected_with_the_twilio_code(
    fake_twilio: FakeTwilio, http_client: httpx.AsyncClient, code: int,
) -> None:
    fake_twilio.refuse(TO, code, f"refused with {code}")
    with pytest.raises(SmsRejected) as raised:
        await twilio_sender(http_client, fake_twilio.url).send(sms())
    assert raised.value.code == f"twilio:{code}" and f"refused with {code}" in str(raised.value)


@pytest.mark.parametrize(("reply", "code", "retry_after"), [
    (TwilioReply.error(429, 20429, "Too Many Requests", {"Retry-After": "7"}), "twilio:20429", 7.0),
    (TwilioReply.error(429, 20429, "Too Many Requests", {"Retry-After": "Sat, 28 Nov 2026 09:00:30 GMT",
                                                         "Date": "Sat, 28 Nov 2026 09:00:00 GMT"}),
     "twilio:20429", 30.0),
    (TwilioReply.error(400, 20429, "Too Many Requests"), "twilio:20429", None),
    (TwilioReply.error(500, 20500, "Internal Server Error"), "twilio:20500", None),
    (TwilioReply.error(503, 20503, "Service Unavailable", {"Retry-After": "2"}), "twilio:20503", 2.0),
    (TwilioReply(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}), "twilio:http_502", None),
    (TwilioReply.error(400, 30003, "Unreachable destination handset"), "twilio:30003", None),
    (TwilioReply.error(400, 30008, "Unknown error"), "twilio:30008", None),
], ids=["429-seconds", "429-date", "20429", "500", "503", "502-html", "30003", "30008"])
async def test_twilio_transient_errors_are_unavailable_with_retry_after(
    fake_twilio: FakeTwilio, http_client: httpx.AsyncClient, reply: TwilioReply, code: str,
    retry_after: float | None,
) -> None:
    fake_twilio.next_replies.append(reply)
    with pytest.raises(SmsUnavailable) as raised:
        await twilio_sender(http_client, fake_twilio.url).send(sms())
    assert (raised.value.code, raised.value.retry_after) == (code, retry_after)
    assert fake_twilio.accepted == []


async def test_twilio_bad_credentials_or_account_are_deployment_problems(
    fake_twilio: FakeTwilio, http_client: httpx.AsyncClient,
) -> None:
    with pytest.raises(SmsUnavailable) as bad_token:
        await twilio_sender(http_client, fake_twilio.url, auth_token="wrong").send(sms())
    assert bad_token.value.code == "twilio:auth" and "Authenticate" in str(bad_token.value)
    with pytest.raises(SmsUnavailable) as unknown_account:
        await twilio_sender(http_client, fake_twilio.url, account_sid="AC" + "f" * 32).send(sms())
    assert unknown_account.value.code == "twilio:20404"
    assert fake_twilio.accepted == []


async def test_twilio_unreachable_or_silent_is_unavailable(http_client: httpx.AsyncClient) -> None:
    with pytest.raises(SmsUnavailable) as refused:
        await twilio_sender(http_client, f"http://127.0.0.1:{free_port()}").send(sms())
    assert refused.value.code == "twilio:network"
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        async with httpx.AsyncClient(timeout=0.3) as impatient:
            with pytest.raises(SmsUnavailable) as timed_out:
                await twilio_sender(impatient, f"http://127.0.0.1:{silent.getsockname()[1]}").send(sms())
    assert timed_out.value.code == "twilio:network"


def test_twilio_sender_needs_one_kind_of_credentials_and_a_sender(http_client: httpx.AsyncClient) -> None:
    for options in ({"auth_token": None}, {"api_key_sid": API_KEY_SID, "api_key_secret": API_KEY_SECRET},
                    {"auth_token": None, "api_key_sid": API_KEY_SID},
                    {"messaging_service_sid": None, "from_number": None}):
        with pytest.raises(ValueError):
            twilio_sender(http_client, "http://127.0.0.1:1", **options)


async def test_the_fake_twilio_refuses_what_twilio_would(fake_twilio: FakeTwilio,
                                                        http_client: httpx.AsyncClient) -> None:
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    url = fake_twilio.url + MESSAGES_PATH
    as_json = await http_client.post(url, json={"To": TO, "Body": "x", "From": "+15005550006"}, auth=auth)
    unknown = await http_client.post(url, data={"To": TO, "Body": "x", "From": "+1500", "Text": "x"}, auth=auth)
    no_sender = await http_client.post(url, data={"To": TO, "Body": "x"}, auth=auth)
    assert [as_json.status_code, unknown.status_code, no_sender.status_code] == [400, 400, 400]
    assert no_sender.json()["code"] == 21603 and len(fake_twilio.violations) == 2
    assert fake_twilio.accepted == []


# --- SNS ----------------------------------------------------------------------------------------------------

async def test_sns_sends_type_sender_and_dlt_attributes() -> None:
    client = RecordingSnsClient()
    sender = SnsSmsSender(client, sender_id="RENEWL", origination_number="+15005550006")
    sent = await sender.send(sms(dlt_entity_id=ENTITY, dlt_template_id=TEMPLATE))
    await SnsSmsSender(client, sms_type="Promotional").send(sms(sender_id="+15005550007"))
    await SnsSmsSender(client, sender_id="RENEWL").send(sms(sender_id="POLICY"))
    assert sent == SentSms(provider_message_id="5f0e7c1a-test", status="sent")
    assert [(r["PhoneNumber"], r["Message"]) for r in client.requests] == [(TO, BODY)] * 3
    assert [r["MessageAttributes"] for r in client.requests] == [
        {"AWS.SNS.SMS.SMSType": sns_string("Transactional"), "AWS.SNS.SMS.SenderID": sns_string("RENEWL"),
         "AWS.MM.SMS.OriginationNumber": sns_string("+15005550006"),
         "AWS.MM.SMS.EntityId": sns_string(ENTITY), "AWS.MM.SMS.TemplateId": sns_string(TEMPLATE)},
        {"AWS.SNS.SMS.SMSType": sns_string("Promotional"), "AWS.MM.SMS.OriginationNumber": sns_string("+15005550007")},
        {"AWS.SNS.SMS.SMSType": sns_string("Transactional"), "AWS.SNS.SMS.SenderID": sns_string("POLICY")},
    ]


async def test_sns_accepts_all_attributes_over_the_wire(sns_under_test: SmsSenderUnderTest, sns_client: Any) -> None:
    sender = SnsSmsSender(sns_client, sender_id="RENEWL", origination_number="+15005550006")
    sent = await sender.send(sms(dlt_entity_id=ENTITY, dlt_template_id=TEMPLATE))
    assert sent.provider_message_id in moto_sms_messages()
    assert sns_under_test.delivered() == [(TO, BODY)]


def test_sns_sms_type_must_be_one_sns_knows() -> None:
    with pytest.raises(ValueError):
        SnsSmsSender(RecordingSnsClient(), sms_type="transactional")


@pytest.mark.parametrize(("error", "expected", "code"), [
    (client_error("InvalidParameter", 400), SmsRejected, "sns:InvalidParameter"),
    (client_error("ParameterValueInvalid", 400), SmsRejected, "sns:ParameterValueInvalid"),
    (client_error("InvalidParameterValue", 400), SmsRejected, "sns:InvalidParameterValue"),
    (client_error("OptedOut", 400), SmsRejected, "sns:OptedOut"),
    (client_error("Throttled", 429), SmsUnavailable, "sns:Throttled"),
    (client_error("ThrottlingException", 400), SmsUnavailable, "sns:ThrottlingException"),
    (client_error("InternalError", 500), SmsUnavailable, "sns:InternalError"),
    (client_error("AuthorizationError", 403), SmsUnavailable, "sns:AuthorizationError"),
    (client_error("SomethingNew", 503), SmsUnavailable, "sns:SomethingNew"),
    (EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com"), SmsUnavailable,
     "sns:EndpointConnectionError"),
], ids=lambda value: value if isinstance(value, str) else None)
async def test_sns_errors_map_to_rejected_or_unavailable(error: Exception, expected: type[Exception],
                                                        code: str) -> None:
    with pytest.raises(expected) as raised:
        await SnsSmsSender(RecordingSnsClient(error)).send(sms())
    assert getattr(raised.value, "code", None) == code
