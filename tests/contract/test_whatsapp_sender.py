"""The WhatsApp port: in-memory, the dev file sink and the Cloud API (against a fake Graph API) under the same tests."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.dev.file_whatsapp_sender import WHATSAPP_FILE, FileWhatsAppSender, StaticTemplateCatalogue
from adapters.memory.whatsapp import InMemoryTemplateCatalogue, InMemoryWhatsAppSender
from adapters.system.clock import FixedClock
from adapters.whatsapp.cloud_api_sender import CloudApiWhatsAppSender
from adapters.whatsapp.template_catalogue import CloudApiTemplateCatalogue, template_status
from application.ports.whatsapp import (
    ApprovedTemplate,
    OutboundWhatsApp,
    TemplateParameter,
    WhatsAppRejected,
    WhatsAppUnavailable,
)
from tests.contract.whatsapp_support import (
    PHONE_NUMBER_ID,
    TOKEN,
    VERSION,
    WABA_ID,
    FakeGraphApi,
    Seen,
    SenderUnderTest,
    graph_error_body,
    seen_from_body,
    seen_from_outbound,
)

TO, DIGITS = "+919876543210", "919876543210"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
OFFER_PNG, OFFER_PDF = "https://files.example.com/offer.png", "https://files.example.com/offer-7.pdf"


def text(value: str) -> TemplateParameter:
    return TemplateParameter(text=value)


# name -> (message, what the provider must see, the exact Cloud API body)
CASES: dict[str, tuple[OutboundWhatsApp, Seen, dict[str, Any]]] = {
    "template with an image header": (
        OutboundWhatsApp(to=TO, kind="template", reference="msg-1", template_name="renewal_reminder",
                         language="en_US", header_parameters=(TemplateParameter(type="image", link=OFFER_PNG),),
                         body_parameters=(text("Asha"), text("POL-0007"), text("1 January 2027"))),
        Seen(to=DIGITS, kind="template", reference="msg-1", template=("renewal_reminder", "en_US"),
             header=(("image", OFFER_PNG, None),), body=("Asha", "POL-0007", "1 January 2027")),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "template",
         "template": {"name": "renewal_reminder", "language": {"code": "en_US"}, "components": [
             {"type": "header", "parameters": [{"type": "image", "image": {"link": OFFER_PNG}}]},
             {"type": "body", "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "POL-0007"},
                                             {"type": "text", "text": "1 January 2027"}]}]},
         "biz_opaque_callback_data": "msg-1"},
    ),
    "template with a document header": (
        OutboundWhatsApp(to=TO, kind="template", reference="msg-2", template_name="renewal_offer", language="hi",
                         header_parameters=(TemplateParameter(type="document", link=OFFER_PDF,
                                                              filename="Offer 7.pdf"),),
                         body_parameters=(text("अशा"),)),
        Seen(to=DIGITS, kind="template", reference="msg-2", template=("renewal_offer", "hi"),
             header=(("document", OFFER_PDF, "Offer 7.pdf"),), body=("अशा",)),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "template",
         "template": {"name": "renewal_offer", "language": {"code": "hi"}, "components": [
             {"type": "header", "parameters": [{"type": "document",
                                                "document": {"link": OFFER_PDF, "filename": "Offer 7.pdf"}}]},
             {"type": "body", "parameters": [{"type": "text", "text": "अशा"}]}]},
         "biz_opaque_callback_data": "msg-2"},
    ),
    "template with a text header": (
        OutboundWhatsApp(to=TO, kind="template", reference="msg-3", template_name="policy_update", language="en",
                         header_parameters=(text("Policy 7"),), body_parameters=(text("Zoë 👋"),)),
        Seen(to=DIGITS, kind="template", reference="msg-3", template=("policy_update", "en"),
             header=(("text", "Policy 7", None),), body=("Zoë 👋",)),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "template",
         "template": {"name": "policy_update", "language": {"code": "en"}, "components": [
             {"type": "header", "parameters": [{"type": "text", "text": "Policy 7"}]},
             {"type": "body", "parameters": [{"type": "text", "text": "Zoë 👋"}]}]},
         "biz_opaque_callback_data": "msg-3"},
    ),
    "template without parameters": (
        OutboundWhatsApp(to=TO, kind="template", reference="msg-4", template_name="hello_world", language="en_US"),
        Seen(to=DIGITS, kind="template", reference="msg-4", template=("hello_world", "en_US")),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "template",
         "template": {"name": "hello_world", "language": {"code": "en_US"}}, "biz_opaque_callback_data": "msg-4"},
    ),
    "text": (
        OutboundWhatsApp(to=TO, kind="text", reference="msg-5", text="Your renewal is due.\nReply here — 你好"),
        Seen(to=DIGITS, kind="text", reference="msg-5", text="Your renewal is due.\nReply here — 你好"),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "text",
         "text": {"preview_url": False, "body": "Your renewal is due.\nReply here — 你好"},
         "biz_opaque_callback_data": "msg-5"},
    ),
    "text with a link": (
        OutboundWhatsApp(to=TO, kind="text", reference="msg-6", text="Pay at https://pay.example.com/p/7"),
        Seen(to=DIGITS, kind="text", reference="msg-6", text="Pay at https://pay.example.com/p/7"),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "text",
         "text": {"preview_url": True, "body": "Pay at https://pay.example.com/p/7"},
         "biz_opaque_callback_data": "msg-6"},
    ),
    "image": (
        OutboundWhatsApp(to=TO, kind="image", reference="msg-7", media_link=OFFER_PNG, caption="Your offer",
                         filename="offer.png"),  # images take no filename: it must not go out
        Seen(to=DIGITS, kind="image", reference="msg-7", media_link=OFFER_PNG, caption="Your offer"),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "image",
         "image": {"link": OFFER_PNG, "caption": "Your offer"}, "biz_opaque_callback_data": "msg-7"},
    ),
    "document": (
        OutboundWhatsApp(to=TO, kind="document", reference="msg-8", media_link=OFFER_PDF, caption="Policy 7",
                         filename="Renewal offer 7.pdf"),
        Seen(to=DIGITS, kind="document", reference="msg-8", media_link=OFFER_PDF, caption="Policy 7",
             filename="Renewal offer 7.pdf"),
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": DIGITS, "type": "document",
         "document": {"link": OFFER_PDF, "caption": "Policy 7", "filename": "Renewal offer 7.pdf"},
         "biz_opaque_callback_data": "msg-8"},
    ),
}
HELLO = OutboundWhatsApp(to=TO, kind="text", reference="msg-9", text="Hello")


def dev_lines(directory: Path) -> list[dict[str, Any]]:
    file = directory / WHATSAPP_FILE
    return [json.loads(line) for line in file.read_text().splitlines()] if file.exists() else []


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi(templates=TEMPLATES).start()
    yield fake
    fake.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def cloud_sender(http: httpx.AsyncClient, graph: FakeGraphApi, **options: str) -> CloudApiWhatsAppSender:
    settings = {"access_token": TOKEN, "phone_number_id": PHONE_NUMBER_ID, "api_version": VERSION, **options}
    return CloudApiWhatsAppSender(http, base_url=graph.base_url, **settings)


@pytest.fixture
def memory_under_test() -> SenderUnderTest:
    memory = InMemoryWhatsAppSender()
    return SenderUnderTest("memory", memory, lambda: [seen_from_outbound(m) for _, m in memory.sent],
                           refuse=memory.refuse, throttle=memory.fail_next)


@pytest.fixture
def dev_under_test(tmp_path: Path) -> SenderUnderTest:
    return SenderUnderTest("dev", FileWhatsAppSender(tmp_path, FixedClock(NOW)),
                           lambda: [seen_from_body(line["request"]) for line in dev_lines(tmp_path)])


@pytest.fixture
def cloud_under_test(http: httpx.AsyncClient, graph: FakeGraphApi) -> SenderUnderTest:
    return SenderUnderTest("cloud", cloud_sender(http, graph), lambda: [seen_from_body(b) for b in graph.received],
                           refuse=lambda number, code: graph.refuse(number, int(code.removeprefix("whatsapp:"))),
                           throttle=graph.throttle_next)


@pytest.fixture(params=["memory", "dev", "cloud"])
def under_test(request: pytest.FixtureRequest) -> SenderUnderTest:
    found: SenderUnderTest = request.getfixturevalue(f"{request.param}_under_test")
    return found


@pytest.fixture(params=["memory", "cloud"])
def steerable(request: pytest.FixtureRequest) -> SenderUnderTest:
    """The adapters whose provider can be told to refuse or throttle (the dev sink never does)."""
    found: SenderUnderTest = request.getfixturevalue(f"{request.param}_under_test")
    return found


@pytest.mark.parametrize("case", CASES)
async def test_each_kind_of_message_goes_out_and_the_provider_sees_it(under_test: SenderUnderTest, case: str) -> None:
    message, expected, _ = CASES[case]
    sent = await under_test.sender.send(message)
    assert sent.provider_message_id
    assert under_test.seen() == [expected]


async def test_every_send_gets_its_own_provider_id(under_test: SenderUnderTest) -> None:
    messages = [OutboundWhatsApp(to=TO, kind="text", reference=f"msg-{n}", text=f"Hello {n}") for n in range(3)]
    ids = [(await under_test.sender.send(message)).provider_message_id for message in messages]
    assert len(set(ids)) == 3
    assert [seen.reference for seen in under_test.seen()] == ["msg-0", "msg-1", "msg-2"]


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "number without +": ({"to": DIGITS}, "invalid_number"),
    "number with spaces": ({"to": "+91 98765 43210"}, "invalid_number"),
    "number starting with 0": ({"to": "+0919876543"}, "invalid_number"),
    "empty reference": ({"reference": ""}, "invalid_message"),
    "reference over 512": ({"reference": "m" * 513}, "invalid_message"),
    "text without text": ({"text": None}, "invalid_message"),
    "text over 4096": ({"text": "x" * 4097}, "invalid_message"),
    "template without name": ({"kind": "template", "language": "en"}, "invalid_message"),
    "template without language": ({"kind": "template", "template_name": "hello_world"}, "invalid_message"),
    "two header parameters": ({"kind": "template", "template_name": "t", "language": "en",
                               "header_parameters": (text("a"), text("b"))}, "invalid_parameter"),
    "body parameter with a new-line": ({"kind": "template", "template_name": "t", "language": "en",
                                        "body_parameters": (text("a\nb"),)}, "invalid_parameter"),
    "body parameter with 5 spaces": ({"kind": "template", "template_name": "t", "language": "en",
                                      "body_parameters": (text("a     b"),)}, "invalid_parameter"),
    "image body parameter": ({"kind": "template", "template_name": "t", "language": "en",
                              "body_parameters": (TemplateParameter(type="image", link=OFFER_PNG),)},
                             "invalid_parameter"),
    "header image without link": ({"kind": "template", "template_name": "t", "language": "en",
                                   "header_parameters": (TemplateParameter(type="image"),)}, "invalid_message"),
    "image without link": ({"kind": "image"}, "invalid_message"),
    "document from a file path": ({"kind": "document", "media_link": "file:///etc/passwd"}, "invalid_parameter"),
    "caption over 1024": ({"kind": "image", "media_link": OFFER_PNG, "caption": "c" * 1025}, "invalid_message"),
}


@pytest.mark.parametrize("case", INVALID)
async def test_invalid_messages_are_rejected_before_anything_is_sent(under_test: SenderUnderTest, case: str,
                                                                     request: pytest.FixtureRequest) -> None:
    changes, code = INVALID[case]
    fields: dict[str, Any] = {"to": TO, "kind": "text", "reference": "msg-1", "text": "Hello", **changes}
    with pytest.raises(WhatsAppRejected) as raised:
        await under_test.sender.send(OutboundWhatsApp(**fields))
    assert raised.value.code == code
    assert under_test.seen() == []
    if under_test.name == "cloud":
        assert request.getfixturevalue("graph").requests == []


@pytest.mark.parametrize("code", ["whatsapp:131026", "whatsapp:131047"])
async def test_a_refused_recipient_is_rejected_with_the_code_and_others_still_get_through(
    steerable: SenderUnderTest, code: str,
) -> None:
    assert steerable.refuse is not None
    steerable.refuse(TO, code)
    with pytest.raises(WhatsAppRejected) as raised:
        await steerable.sender.send(HELLO)
    assert raised.value.code == code
    await steerable.sender.send(OutboundWhatsApp(to="+14155550123", kind="text", reference="msg-2", text="Hi"))
    assert [seen.to for seen in steerable.seen()] == ["14155550123"]


async def test_throttling_is_unavailable_and_the_next_send_goes_through(steerable: SenderUnderTest) -> None:
    assert steerable.throttle is not None
    steerable.throttle()
    with pytest.raises(WhatsAppUnavailable) as raised:
        await steerable.sender.send(HELLO)
    assert raised.value.code == "whatsapp:130429"
    await steerable.sender.send(HELLO)
    assert [seen.reference for seen in steerable.seen()] == ["msg-9"]


# --- the Cloud API sender --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
async def test_cloud_posts_exactly_the_documented_json(http: httpx.AsyncClient, graph: FakeGraphApi,
                                                       case: str) -> None:
    message, _, body = CASES[case]
    sent = await cloud_sender(http, graph).send(message)
    [request] = graph.requests
    assert (request.method, request.path) == ("POST", f"/{VERSION}/{PHONE_NUMBER_ID}/messages")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == body
    assert sent.provider_message_id == "wamid.HBgMFAKE000001"


THROTTLED, PERMANENT = [4, 80007, 130429, 131048, 131056], [100, 131026, 131030, 131047, 131051, 132000, 132001,
                                                            132005, 132007, 132012, 132015, 132016]


@pytest.mark.parametrize(("code", "status", "expected", "expected_code"), [
    *[(code, 400, WhatsAppUnavailable, f"whatsapp:{code}") for code in THROTTLED],
    (130429, 429, WhatsAppUnavailable, "whatsapp:130429"),
    *[(code, 400, WhatsAppRejected, f"whatsapp:{code}") for code in PERMANENT],
    (190, 401, WhatsAppUnavailable, "whatsapp:auth"),
    (10, 403, WhatsAppUnavailable, "whatsapp:auth"),
    (1, 500, WhatsAppUnavailable, "whatsapp:1"),
    (131000, 500, WhatsAppUnavailable, "whatsapp:131000"),
])
async def test_cloud_graph_errors_map_to_rejected_or_unavailable(
    http: httpx.AsyncClient, graph: FakeGraphApi, code: int, status: int, expected: type[Exception],
    expected_code: str,
) -> None:
    graph.refuse(TO, code, status)
    with pytest.raises(expected) as raised:
        await cloud_sender(http, graph).send(HELLO)
    assert getattr(raised.value, "code", None) == expected_code
    assert f"Graph API error {code}" in str(raised.value) and "AazFakeTrace" in str(raised.value)


BUC_USAGE = json.dumps({WABA_ID: [{"type": "whatsapp_business_management", "call_count": 100, "total_cputime": 1,
                                   "total_time": 1, "estimated_time_to_regain_access": 2}]})


@pytest.mark.parametrize(("headers", "retry_after"), [
    ({"Retry-After": "7"}, 7.0), ({"X-Business-Use-Case-Usage": BUC_USAGE}, 120.0), ({}, None),
])
async def test_cloud_throttling_carries_retry_after_from_the_headers(
    http: httpx.AsyncClient, graph: FakeGraphApi, headers: dict[str, str], retry_after: float | None,
) -> None:
    graph.throttle_next(headers)
    with pytest.raises(WhatsAppUnavailable) as raised:
        await cloud_sender(http, graph).send(HELLO)
    assert raised.value.retry_after == retry_after


@pytest.mark.parametrize(("options", "code"), [
    ({"access_token": "expired-token"}, "whatsapp:auth"),
    ({"phone_number_id": "999"}, "whatsapp:config"),
    ({"api_version": "v0.1"}, "whatsapp:config"),
])
async def test_cloud_deployment_mistakes_are_unavailable_not_rejections(
    http: httpx.AsyncClient, graph: FakeGraphApi, options: dict[str, str], code: str,
) -> None:
    with pytest.raises(WhatsAppUnavailable) as raised:
        await cloud_sender(http, graph, **options).send(HELLO)
    assert raised.value.code == code and graph.received == []


@pytest.mark.parametrize(("status", "body", "exception", "code"), [
    (502, b"<html>Bad gateway</html>", WhatsAppUnavailable, "whatsapp:http_502"),
    (404, b"not found", WhatsAppRejected, "whatsapp:http_404"),
    (200, {"messaging_product": "whatsapp", "messages": []}, WhatsAppUnavailable, "whatsapp:bad_response"),
])
async def test_cloud_odd_answers(http: httpx.AsyncClient, graph: FakeGraphApi, status: int,
                                 body: bytes | dict[str, Any], exception: type[Exception], code: str) -> None:
    graph.answer_next(status, body)
    with pytest.raises(exception) as raised:
        await cloud_sender(http, graph).send(HELLO)
    assert getattr(raised.value, "code", None) == code


async def test_cloud_unreachable_or_silent_api_is_unavailable(http: httpx.AsyncClient) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        async with httpx.AsyncClient(timeout=0.3) as impatient:
            sender = CloudApiWhatsAppSender(impatient, access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID,
                                            base_url=f"http://127.0.0.1:{port}")
            with pytest.raises(WhatsAppUnavailable) as timed_out:
                await sender.send(HELLO)
    assert timed_out.value.code == "whatsapp:network"
    closed = CloudApiWhatsAppSender(http, access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID,
                                    base_url=f"http://127.0.0.1:{port}")  # nothing listens there any more
    with pytest.raises(WhatsAppUnavailable) as refused:
        await closed.send(HELLO)
    assert refused.value.code == "whatsapp:network"


# --- the template catalogue ------------------------------------------------------------------------------------

def meta_template(n: int, name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"59412{n}", "name": name, "language": "en_US", "category": "UTILITY", "status": status,
            "components": [{"type": "BODY", "text": f"Hello {{{{1}}}}, template {n}",
                            "example": {"body_text": [["Asha"]]}}], **extra}


TEMPLATES = [
    meta_template(1, "renewal_reminder", "APPROVED", rejected_reason="NONE"),
    meta_template(2, "renewal_offer", "PENDING"),
    meta_template(3, "claim_update", "REJECTED", rejected_reason="INVALID_FORMAT"),
    meta_template(4, "payment_due", "PAUSED"),
    meta_template(5, "old_promo", "DISABLED"),
    meta_template(6, "survey_invite", "IN_APPEAL"),
]


def catalogue(http: httpx.AsyncClient, graph: FakeGraphApi, **options: str) -> CloudApiTemplateCatalogue:
    settings: dict[str, Any] = {"access_token": TOKEN, "business_account_id": WABA_ID, "api_version": VERSION,
                                **options}
    return CloudApiTemplateCatalogue(http, base_url=graph.base_url, **settings)


@pytest.mark.parametrize("foreign_next", [False, True])
async def test_catalogue_reads_both_pages_and_maps_statuses(http: httpx.AsyncClient, graph: FakeGraphApi,
                                                            foreign_next: bool) -> None:
    graph.foreign_next = foreign_next  # then only the cursor may lead to page two: the token stays here
    templates = await catalogue(http, graph).list_templates()
    assert [(t.provider_id, t.name, t.status, t.rejected_reason) for t in templates] == [
        ("594121", "renewal_reminder", "approved", None), ("594122", "renewal_offer", "pending", None),
        ("594123", "claim_update", "rejected", "INVALID_FORMAT"), ("594124", "payment_due", "paused", None),
        ("594125", "old_promo", "disabled", None), ("594126", "survey_invite", "pending", None)]
    assert templates[0].components == TEMPLATES[0]["components"]
    assert {(t.language, t.category) for t in templates} == {("en_US", "UTILITY")}
    first, second = graph.requests
    for request in (first, second):
        assert (request.method, request.path) == ("GET", f"/{VERSION}/{WABA_ID}/message_templates")
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert set(request.query["fields"][0].split(",")) >= {"name", "status", "category", "language",
                                                               "components", "rejected_reason"}
    assert first.query["limit"] == ["100"] and "after" not in first.query
    assert second.query["after"] == ["3"]


@pytest.mark.parametrize(("meta", "ours"), [
    ("APPROVED", "approved"), ("PENDING", "pending"), ("IN_APPEAL", "pending"), ("REJECTED", "rejected"),
    ("LIMIT_EXCEEDED", "rejected"), ("PAUSED", "paused"), ("DISABLED", "disabled"),
    ("PENDING_DELETION", "disabled"), ("DELETED", "disabled"), ("SOMETHING_NEW", "disabled"),
])
def test_meta_template_statuses_map_to_ours(meta: str, ours: str) -> None:
    assert template_status(meta) == ours


async def test_catalogue_failures_are_unavailable(http: httpx.AsyncClient, graph: FakeGraphApi) -> None:
    graph.fail_next()
    with pytest.raises(WhatsAppUnavailable) as server_error:
        await catalogue(http, graph).list_templates()
    assert server_error.value.code == "whatsapp:1"
    with pytest.raises(WhatsAppUnavailable) as bad_token:
        await catalogue(http, graph, access_token="expired").list_templates()
    assert bad_token.value.code == "whatsapp:auth"
    graph.answer_next(400, graph_error_body(100, "Invalid parameter"))
    with pytest.raises(WhatsAppUnavailable) as refused:  # the port promises Unavailable only
        await catalogue(http, graph).list_templates()
    assert refused.value.code == "whatsapp:100"
    graph.answer_next(200, b"<html>")
    with pytest.raises(WhatsAppUnavailable) as garbled:
        await catalogue(http, graph).list_templates()
    assert garbled.value.code == "whatsapp:bad_response"


async def test_catalogue_stops_a_server_that_pages_in_circles(http: httpx.AsyncClient, graph: FakeGraphApi) -> None:
    loop_url = f"{graph.base_url}/{VERSION}/{WABA_ID}/message_templates?after=again"
    for _ in range(2):
        graph.answer_next(200, {"data": [TEMPLATES[0]], "paging": {"next": loop_url}})
    with pytest.raises(WhatsAppUnavailable) as raised:
        await catalogue(http, graph).list_templates()
    assert raised.value.code == "whatsapp:bad_response" and len(graph.requests) == 2


# --- the in-memory and dev adapters ----------------------------------------------------------------------------

async def test_memory_sender_records_refuses_and_fails_when_told() -> None:
    memory = InMemoryWhatsAppSender()
    memory.fail_next(2, retry_after=30)
    for _ in range(2):
        with pytest.raises(WhatsAppUnavailable) as raised:
            await memory.send(HELLO)
        assert raised.value.retry_after == 30
    memory.refuse("+14155550123", "whatsapp:131030")
    with pytest.raises(WhatsAppRejected) as refused:
        await memory.send(OutboundWhatsApp(to="+14155550123", kind="text", reference="msg-2", text="Hi"))
    assert refused.value.code == "whatsapp:131030"
    sent = await memory.send(HELLO)
    assert memory.sent == [("mem-wamid-1", HELLO)] and sent.provider_message_id == "mem-wamid-1"


async def test_memory_and_static_catalogues() -> None:
    approved = ApprovedTemplate(provider_id="1", name="renewal_reminder", language="en_US", category="UTILITY",
                                status="approved", components=[])
    memory = InMemoryTemplateCatalogue([approved])
    memory.put(ApprovedTemplate(provider_id="1", name="renewal_reminder", language="en_US", category="UTILITY",
                                status="paused", components=[]))
    assert [t.status for t in await memory.list_templates()] == ["paused"]
    memory.fail_next()
    with pytest.raises(WhatsAppUnavailable):
        await memory.list_templates()
    assert await StaticTemplateCatalogue([approved]).list_templates() == [approved]


async def test_dev_sink_writes_one_line_per_message_and_keeps_counting_across_instances(tmp_path: Path) -> None:
    message, _, body = CASES["document"]
    first = await FileWhatsAppSender(tmp_path / "sink", FixedClock(NOW)).send(message)
    second = await FileWhatsAppSender(tmp_path / "sink", FixedClock(NOW)).send(HELLO)  # e.g. after a restart
    assert (first.provider_message_id, second.provider_message_id) == ("dev-wamid-1", "dev-wamid-2")
    line = dev_lines(tmp_path / "sink")[0]
    assert line == {"id": "dev-wamid-1", "at": NOW.isoformat(), "to": TO, "kind": "document",
                    "reference": "msg-8", "request": body}
