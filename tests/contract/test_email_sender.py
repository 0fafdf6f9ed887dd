"""The e-mail port: in-memory, the dev file sink, SMTP (a real aiosmtpd) and SES (moto) under the same tests."""

from __future__ import annotations

import json
import re
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

import aioboto3  # type: ignore[import-untyped]
import pytest
from aiosmtpd.controller import Controller
from botocore.exceptions import EndpointConnectionError  # type: ignore[import-untyped]
from moto.server import ThreadedMotoServer

from adapters.aws.ses_email_sender import SesEmailSender
from adapters.dev.file_email_sender import INDEX_FILE, FileEmailSender
from adapters.memory.email import InMemoryEmailSender
from adapters.smtp.smtp_email_sender import SmtpEmailSender
from application.ports.email import EmailAttachment, EmailRejected, EmailUnavailable, OutboundEmail, SentEmail
from tests.contract.email_support import (
    Delivered,
    Recorder,
    RecordingSesClient,
    SenderUnderTest,
    authenticate,
    client_error,
    free_port,
    from_mime,
    from_outbound,
    moto_raw_messages,
    normalise_body,
    server_tls,
    write_self_signed_certificate,
)

SENDER = "Renewals Desk <renewals@example.com>"
PDF = EmailAttachment(filename="offer.pdf", content_type="application/pdf", content=b"%PDF-1.4\n\x00\xff\xfe binary")
CSV = EmailAttachment(filename="prämien.csv", content_type="text/csv", content="policy;prämie\n7;120,50\n".encode())


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def secure_smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Controller, Recorder]]:
    """STARTTLS required, then AUTH required (user `mailer`, password `s3cret`)."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), tls_context=server_tls(certificate),
                            require_starttls=True, authenticator=authenticate, auth_required=True)
    controller.start()
    yield controller, recorder
    controller.stop()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
async def sesv2_client(moto_endpoint: str) -> AsyncIterator[Any]:
    session = aioboto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    async with session.client("sesv2", endpoint_url=moto_endpoint) as client:
        await client.create_email_identity(EmailIdentity="renewals@example.com")
        yield client


@pytest.fixture
def memory_under_test() -> SenderUnderTest:
    memory = InMemoryEmailSender(default_from=SENDER)
    return SenderUnderTest("memory", memory, lambda: [from_outbound(email) for _, email in memory.sent])


@pytest.fixture
def dev_under_test(tmp_path: Path) -> SenderUnderTest:
    def delivered() -> list[Delivered]:
        index = tmp_path / INDEX_FILE
        entries = [json.loads(line) for line in index.read_text().splitlines()] if index.exists() else []
        return [from_mime((tmp_path / e["file"]).read_bytes(), e["to"] + e["cc"] + e["bcc"]) for e in entries]
    return SenderUnderTest("dev", FileEmailSender(tmp_path, default_from=SENDER), delivered)


@pytest.fixture
def smtp_under_test(smtp_server: tuple[Controller, Recorder]) -> SenderUnderTest:
    controller, recorder = smtp_server
    sender = SmtpEmailSender("127.0.0.1", controller.port, security="none", default_from=SENDER, timeout=5)
    return SenderUnderTest("smtp", sender, lambda: [from_mime(raw, rcpt) for _, rcpt, raw in recorder.envelopes])


@pytest.fixture
def ses_under_test(sesv2_client: Any) -> SenderUnderTest:
    already = len(moto_raw_messages())
    return SenderUnderTest(
        "ses", SesEmailSender(sesv2_client, default_from=SENDER),
        lambda: [from_mime(m.raw_data.encode(), m.destinations) for m in moto_raw_messages()[already:]],
    )


@pytest.fixture(params=["memory", "dev", "smtp", "ses"])
def under_test(request: pytest.FixtureRequest) -> SenderUnderTest:
    found: SenderUnderTest = request.getfixturevalue(f"{request.param}_under_test")
    return found


async def test_sends_to_to_cc_and_bcc_and_returns_a_provider_id(under_test: SenderUnderTest) -> None:
    sent = await under_test.sender.send(OutboundEmail(
        to=("ana@example.com", "Bob Byrne <bob@example.com>"), cc=("carla@example.com",),
        bcc=("audit@example.com",), subject="Your renewal", text="Hello"))
    assert isinstance(sent, SentEmail) and sent.provider_message_id
    [delivered] = under_test.delivered()
    assert delivered.recipients == {"ana@example.com", "bob@example.com", "carla@example.com", "audit@example.com"}
    if delivered.raw is not None:  # Bcc travels in the envelope only
        assert "Bcc" not in delivered.headers and b"audit@example.com" not in delivered.raw


async def test_subject_text_html_headers_and_attachments_survive(under_test: SenderUnderTest) -> None:
    text = "Dear customer,\n\nyour policy 7 renews on 1 January.\n" + "A long line. " * 40
    await under_test.sender.send(OutboundEmail(
        to=("ana@example.com",), subject="Renewal offer for policy 7", text=text, html="<p>Renews <b>soon</b></p>",
        reply_to="Claims <claims@example.com>", headers={"X-Renewal-Case": "RC-0007"}, attachments=(PDF, CSV)))
    [delivered] = under_test.delivered()
    assert (delivered.subject, delivered.text, delivered.html) == ("Renewal offer for policy 7", normalise_body(text),
                                                                   "<p>Renews <b>soon</b></p>")
    assert delivered.attachments == {"offer.pdf": PDF.content, "prämien.csv": CSV.content}
    assert delivered.headers["X-Renewal-Case"] == "RC-0007"
    assert delivered.headers["Reply-To"] == "Claims <claims@example.com>"


INJECTIONS = [
    {"subject": "Hi\r\nBcc: victim@example.net"},
    {"subject": "Hi\nX-Spam: yes"},
    {"headers": {"X-Case": "7\r\nBcc: victim@example.net"}},
    {"headers": {"X-Case\r\nBcc": "victim@example.net"}},
    {"headers": {"Bcc": "victim@example.net"}},
    {"to": ("ana@example.com\r\nBcc: victim@example.net",)},
    {"reply_to": "claims@example.com\nBcc: victim@example.net"},
    {"from_address": "renewals@example.com\r\nBcc: victim@example.net"},
    {"attachments": (EmailAttachment(filename="a.pdf\r\nBcc: v@example.net", content_type="application/pdf",
                                     content=b"x"),)},
]


@pytest.mark.parametrize("injection", INJECTIONS, ids=range(len(INJECTIONS)))
async def test_header_injection_is_rejected_before_anything_is_sent(
    under_test: SenderUnderTest, injection: dict[str, Any],
) -> None:
    fields: dict[str, Any] = {"to": ("ana@example.com",), "subject": "Renewal", "text": "Hello", **injection}
    with pytest.raises(EmailRejected) as raised:
        await under_test.sender.send(OutboundEmail(**fields))
    assert raised.value.code in {"header_injection", "reserved_header"}
    assert under_test.delivered() == []


async def test_unicode_subject_names_and_text_survive(under_test: SenderUnderTest) -> None:
    await under_test.sender.send(OutboundEmail(
        to=("Zoë Müller-Łukasiewicz <zoe@example.com>", '"Núñez, José" <jose@example.com>'),
        from_address="Société des Assurances Ørsted <renewals@example.com>",
        subject="Ihre Verlängerung \u2013 Police Nr. 7 ✓", text="Grüße, Zoë! 你好 👋"))
    [delivered] = under_test.delivered()
    assert delivered.subject == "Ihre Verlängerung \u2013 Police Nr. 7 ✓"
    assert delivered.text == "Grüße, Zoë! 你好 👋"
    names = [name for name, _ in getaddresses([delivered.headers["To"]])]
    assert names == ["Zoë Müller-Łukasiewicz", "Núñez, José"]
    if delivered.raw is not None:
        assert delivered.raw.isascii()  # RFC 2047 words and quoted-printable: safe for any relay
        assert parseaddr(delivered.headers["From"])[0] == "Société des Assurances Ørsted"


async def test_memory_sender_fails_the_next_send_when_told() -> None:
    memory = InMemoryEmailSender()
    memory.fail_next(EmailUnavailable("throttled"))
    email = OutboundEmail(to=("ana@example.com",), subject="Hi", text="Hello")
    with pytest.raises(EmailUnavailable):
        await memory.send(email)
    sent = await memory.send(email)
    assert memory.sent == [(sent.provider_message_id, email)]


async def test_dev_sink_writes_a_readable_eml_and_an_index_line(tmp_path: Path) -> None:
    sink = FileEmailSender(tmp_path / "outbox", default_from=SENDER)
    sent = await sink.send(OutboundEmail(to=("Zoë <zoe@example.com>",), bcc=("audit@example.com",),
                                         subject="Renewal ✓", text="Hello", tags={"kind": "renewal"}))
    [entry] = [json.loads(line) for line in (tmp_path / "outbox" / INDEX_FILE).read_text().splitlines()]
    assert entry["to"] == ["Zoë <zoe@example.com>"] and entry["subject"] == "Renewal ✓"
    assert entry["bcc"] == ["audit@example.com"] and entry["message_id"] == sent.provider_message_id
    assert re.fullmatch(r"[0-9a-f]{24}\.eml", entry["file"])
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted([entry["file"], INDEX_FILE])
    message = message_from_bytes((tmp_path / "outbox" / entry["file"]).read_bytes(), policy=policy.default)
    assert str(message["Subject"]) == "Renewal ✓" and str(message["Message-ID"]) == sent.provider_message_id


def smtp_sender(port: int, **options: Any) -> SmtpEmailSender:
    return SmtpEmailSender("127.0.0.1", port, default_from=SENDER, **{"security": "none", "timeout": 5, **options})


HELLO = OutboundEmail(to=("ana@example.com",), subject="Renewal", text="Hello")


async def test_smtp_connection_refused_is_unavailable() -> None:
    with pytest.raises(EmailUnavailable):
        await smtp_sender(free_port()).send(HELLO)


async def test_smtp_silent_server_times_out_as_unavailable() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(EmailUnavailable):
            await smtp_sender(silent.getsockname()[1], timeout=0.3).send(HELLO)


@pytest.mark.parametrize(("to", "expected"), [(("nobody@example.com",), EmailRejected),
                                              (("busy@example.com",), EmailUnavailable)])
async def test_smtp_refused_recipients_map_5xx_to_rejected_and_4xx_to_unavailable(
    smtp_server: tuple[Controller, Recorder], to: tuple[str, ...], expected: type[Exception],
) -> None:
    with pytest.raises(expected):
        await smtp_sender(smtp_server[0].port).send(OutboundEmail(to=to, subject="Hi", text="Hello"))
    assert smtp_server[1].envelopes == []


async def test_smtp_partly_refused_recipients_still_count_as_sent(smtp_server: tuple[Controller, Recorder]) -> None:
    await smtp_sender(smtp_server[0].port).send(OutboundEmail(to=("ana@example.com", "nobody@example.com"),
                                                              subject="Hi", text="Hello"))
    assert [rcpt for _, rcpt, _ in smtp_server[1].envelopes] == [["ana@example.com"]]


async def test_smtp_starttls_and_auth(secure_smtp_server: tuple[Controller, Recorder],
                                      client_tls: ssl.SSLContext) -> None:
    port, recorder = secure_smtp_server[0].port, secure_smtp_server[1]
    secure = {"security": "starttls", "tls_context": client_tls, "username": "mailer"}
    sent = await smtp_sender(port, **secure, password="s3cret").send(HELLO)
    assert sent.provider_message_id and [mail_from for mail_from, *_ in recorder.envelopes] == ["renewals@example.com"]
    with pytest.raises(EmailUnavailable) as bad_password:  # a deployment problem: keep the message, retry later
        await smtp_sender(port, **secure, password="wrong").send(HELLO)
    assert bad_password.value.code == "auth_failed"
    with pytest.raises(EmailUnavailable):  # 530 Must issue a STARTTLS command first
        await smtp_sender(port).send(HELLO)
    with pytest.raises(EmailUnavailable):  # the self-signed certificate is not trusted by default
        await smtp_sender(port, security="starttls", username="mailer", password="s3cret").send(HELLO)
    assert len(recorder.envelopes) == 1


async def test_smtp_implicit_tls(certificate: tuple[Path, Path], client_tls: ssl.SSLContext) -> None:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), ssl_context=server_tls(certificate))
    controller.start()
    try:
        await smtp_sender(controller.port, security="tls", tls_context=client_tls).send(HELLO)
    finally:
        controller.stop()
    assert [rcpt for _, rcpt, _ in recorder.envelopes] == [["ana@example.com"]]


async def test_ses_unverified_sender_is_rejected(ses_under_test: SenderUnderTest) -> None:
    with pytest.raises(EmailRejected) as raised:
        await ses_under_test.sender.send(OutboundEmail(to=("ana@example.com",), subject="Hi", text="Hello",
                                                       from_address="stranger@unverified.example.org"))
    assert raised.value.code == "MessageRejected"
    assert ses_under_test.delivered() == []


async def test_ses_request_uses_raw_content_configuration_set_and_sanitised_tags() -> None:
    client = RecordingSesClient()
    sender = SesEmailSender(client, default_from=SENDER, configuration_set="renewals-events")
    sent = await sender.send(OutboundEmail(
        to=("Zoë <zoe@example.com>",), bcc=("audit@example.com",), subject="Hi", text="Hello",
        tags={"renewal_case": "RC-0007", "kind": "offer e-mail/ü", "bad name!": "x" * 300}))
    [request] = client.requests
    assert sent.provider_message_id == "0100018c-test"
    assert request["FromEmailAddress"] == "renewals@example.com"
    assert request["Destination"] == {"ToAddresses": ["zoe@example.com"], "BccAddresses": ["audit@example.com"]}
    assert request["ConfigurationSetName"] == "renewals-events"
    assert request["EmailTags"] == [{"Name": "renewal_case", "Value": "RC-0007"},
                                    {"Name": "kind", "Value": "offer_e-mail__"},
                                    {"Name": "bad_name_", "Value": "x" * 256}]
    raw = message_from_bytes(request["Content"]["Raw"]["Data"], policy=policy.default)
    assert str(raw["Subject"]) == "Hi" and "Bcc" not in raw


@pytest.mark.parametrize(("error", "expected"), [
    (client_error("MessageRejected", 400), EmailRejected),
    (client_error("MailFromDomainNotVerifiedException", 400), EmailRejected),
    (client_error("AccountSuspendedException", 400), EmailRejected),
    (client_error("SendingPausedException", 400), EmailRejected),
    (client_error("BadRequestException", 400), EmailRejected),
    (client_error("TooManyRequestsException", 429), EmailUnavailable),
    (client_error("Throttling", 400), EmailUnavailable),
    (client_error("ServiceUnavailable", 503), EmailUnavailable),
    (client_error("InternalFailure", 500), EmailUnavailable),
    (EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"), EmailUnavailable),
], ids=lambda value: getattr(value, "response", {}).get("Error", {}).get("Code") or getattr(value, "__name__", None)
    or type(value).__name__)
async def test_ses_errors_map_to_rejected_or_unavailable(error: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        await SesEmailSender(RecordingSesClient(error), default_from=SENDER).send(HELLO)


async def test_ses_refuses_non_ascii_addresses_it_cannot_send() -> None:
    client = RecordingSesClient()
    with pytest.raises(EmailRejected):
        await SesEmailSender(client, default_from=SENDER).send(OutboundEmail(to=("jörg@example.com",),
                                                                             subject="Hi", text="Hello"))
    assert client.requests == []
