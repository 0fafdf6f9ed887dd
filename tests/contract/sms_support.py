"""Helpers of the SMS contract suite: a local fake of Twilio's Messages resource, moto's SMS record, a recording client.

The fake follows https://www.twilio.com/docs/messaging/api/message-resource: it answers only
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (account SID + auth token, or API key SID +
secret) and an `application/x-www-form-urlencoded` body made of documented parameters, each given once. It answers
201 with a Twilio-shaped Message, or Twilio's error JSON `{code, message, more_info, status}`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aioboto3
import httpx
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from adapters.aws.sns_sms_sender import SnsSmsSender
from adapters.dev.file_sms_sender import SMS_FILE, FileSmsSender
from adapters.memory.sms import InMemorySmsSender
from adapters.system.clock import FixedClock
from adapters.twilio.sms_sender import TwilioSmsSender
from application.ports.sms import SmsSender
from tests.local_http import BackgroundHttpServer

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token"
API_KEY_SID = "SK" + "fedcba9876543210" * 2
API_KEY_SECRET = "fake-api-key-secret"
MESSAGING_SERVICE_SID = "MG" + "00112233445566778899aabbccddeeff"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CREATE_PARAMETERS = frozenset({  # the documented parameters of "Create a Message resource"
    "To", "From", "MessagingServiceSid", "Body", "StatusCallback", "ApplicationSid", "MaxPrice", "ProvideFeedback",
    "Attempt", "ValidityPeriod", "ForceDelivery", "ContentRetention", "AddressRetention", "SmartEncoded",
    "PersistentAction", "ShortenUrls", "ScheduleType", "SendAt", "SendAsMms", "ContentSid", "ContentVariables",
    "MediaUrl", "RiskCheck",
})
CALLBACK = "https://hooks.example.com/twilio/sms-status"
_E164 = re.compile(r"\+[1-9]\d{1,14}")


@dataclass(frozen=True)
class SmsSenderUnderTest:
    name: str
    sender: SmsSender
    delivered: Callable[[], list[tuple[str, str]]]  # (to, body) of what the provider accepted, in order
    invalid_number_code: str  # the code of the SmsRejected for a number that is not E.164
    failing_sender: Callable[[], SmsSender]  # a sender whose next send fails transiently


@dataclass(frozen=True)
class TwilioReply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> TwilioReply:
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status}
        return cls(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})


@dataclass(frozen=True)
class TwilioRequest:
    path: str
    headers: dict[str, str]  # names in lower case
    form: dict[str, list[str]]


def _segments(body: str) -> int:
    """Segments of a concatenated SMS: GSM-7 taken as ASCII (160, then 153 a part), else UCS-2 (70, then 67)."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    length = len(body) if body.isascii() else len(body.encode("utf-16-le")) // 2
    return 1 if length <= single else -(-length // part)


class FakeTwilio:
    """Twilio's Messages resource on 127.0.0.1; `violations` lists every request Twilio would have refused as such."""

    def __init__(self) -> None:
        self.requests: list[TwilioRequest] = []
        self.accepted: list[dict[str, str]] = []  # the forms of the messages created
        self.violations: list[str] = []
        self.refusals: dict[str, TwilioReply] = {}  # To number -> the error Twilio answers
        self.next_replies: list[TwilioReply] = []  # answered (in order) before anything is checked
        self.message_fields: dict[str, Any] = {}  # merged into the Message of the next 201 answers
        self.credentials = {(ACCOUNT_SID, AUTH_TOKEN), (API_KEY_SID, API_KEY_SECRET)}
        self._lock = threading.Lock()
        self._http = BackgroundHttpServer(self._handler())

    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> None:
        self._http.start()

    def stop(self) -> None:
        self._http.stop()

    def refuse(self, number: str, code: int, message: str, status: int = 400) -> None:
        self.refusals[number] = TwilioReply.error(status, code, message)

    def _violation(self, why: str) -> TwilioReply:
        self.violations.append(why)
        return TwilioReply.error(400, 0, f"fake Twilio: {why}")

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> TwilioReply:
        with self._lock:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True) if raw else {}
            self.requests.append(TwilioRequest(path, headers, form))
            if self.next_replies:
                return self.next_replies.pop(0)
            if path != MESSAGES_PATH:
                return TwilioReply.error(404, 20404, f"The requested resource {path} was not found")
            if not self._authenticated(headers.get("authorization", "")):
                return TwilioReply.error(401, 20003, "Authenticate")
            if headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
                return self._violation(f"Content-Type {headers.get('content-type')!r} is not a form")
            return self._create(form)

    def _authenticated(self, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            return False
        return scheme == "Basic" and (user, password) in self.credentials

    def _create(self, form: dict[str, list[str]]) -> TwilioReply:
        if unknown := sorted(set(form) - CREATE_PARAMETERS):
            return self._violation(f"undocumented parameters {unknown}")
        if repeated := sorted(name for name, values in form.items() if len(values) > 1):
            return self._violation(f"parameters given more than once {repeated}")
        fields = {name: values[0] for name, values in form.items()}
        to, service = fields.get("To", ""), fields.get("MessagingServiceSid")
        if not to:
            return TwilioReply.error(400, 21604, "A 'To' phone number is required.")
        if not fields.get("Body"):
            return TwilioReply.error(400, 21602, "Message body is required.")
        if not (fields.get("From") or service):
            return TwilioReply.error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if service is not None and service != MESSAGING_SERVICE_SID:
            return TwilioReply.error(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        callback = urlsplit(fields.get("StatusCallback", "https://x.invalid"))
        if callback.scheme not in ("http", "https") or not callback.hostname:
            return TwilioReply.error(400, 21609, "Invalid StatusCallback URL")
        if not _E164.fullmatch(to):
            return TwilioReply.error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.refusals:
            return self.refusals[to]
        self.accepted.append(fields)
        return TwilioReply(201, json.dumps(self._message(fields)).encode(), {"Content-Type": "application/json"})

    def _message(self, fields: dict[str, str]) -> dict[str, Any]:
        sid = f"SM{len(self.accepted):032x}"
        service = fields.get("MessagingServiceSid")
        message = {
            "account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": fields["Body"],
            "date_created": "Sat, 28 Nov 2026 09:00:00 +0000", "date_sent": None,
            "date_updated": "Sat, 28 Nov 2026 09:00:00 +0000", "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": fields.get("From"), "messaging_service_sid": service, "num_media": "0",
            "num_segments": "0" if service else str(_segments(fields["Body"])), "price": None, "price_unit": "USD",
            "sid": sid, "status": "accepted" if service else "queued", "to": fields["To"],
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"},
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
        }
        return {**message, **self.message_fields}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = fake.answer(self.path, headers, raw)
                self.send_response_only(reply.status)
                if "Date" not in reply.headers:
                    self.send_header("Date", self.date_time_string())
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def moto_sms_messages() -> dict[str, tuple[str, str]]:
    """What moto's SNS recorded as published SMS: message id -> (phone number, message)."""
    return dict(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages)


class RecordingSnsClient:
    """Stands in for the aioboto3 sns client where moto cannot show the request (message attributes)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.error = error

    async def publish(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return {"MessageId": "5f0e7c1a-test"}


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Publish")


def twilio_sender(client: httpx.AsyncClient, base_url: str, **options: Any) -> TwilioSmsSender:
    """A sender for the fake: auth token, the Messaging Service and CALLBACK unless `options` say otherwise."""
    settings: dict[str, Any] = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                                "messaging_service_sid": MESSAGING_SERVICE_SID, "status_callback_url": CALLBACK}
    return TwilioSmsSender(client, base_url=base_url, **{**settings, **options})


def aws_session() -> Any:
    return aioboto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def sns_string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def memory_sender_under_test() -> SmsSenderUnderTest:
    memory = InMemorySmsSender()

    def failing() -> InMemorySmsSender:
        memory.fail_next()
        return memory
    return SmsSenderUnderTest("memory", memory, lambda: [(m.to, m.body) for _, m in memory.sent], "invalid_number",
                              failing)


def dev_sender_under_test(directory: Path, clock: FixedClock) -> SmsSenderUnderTest:
    def delivered() -> list[tuple[str, str]]:
        sink = directory / SMS_FILE
        lines = sink.read_text(encoding="utf-8").splitlines() if sink.exists() else []
        return [(entry["to"], entry["body"]) for entry in map(json.loads, lines)]

    def failing() -> FileSmsSender:
        (directory / "not-a-directory").write_text("")
        return FileSmsSender(directory / "not-a-directory", clock)
    return SmsSenderUnderTest("dev", FileSmsSender(directory, clock), delivered, "invalid_number", failing)


def twilio_sender_under_test(fake: FakeTwilio, sender: TwilioSmsSender) -> SmsSenderUnderTest:
    def failing() -> TwilioSmsSender:
        fake.next_replies.append(TwilioReply.error(503, 20503, "Service Unavailable"))
        return sender
    return SmsSenderUnderTest("twilio", sender, lambda: [(f["To"], f["Body"]) for f in fake.accepted],
                              "twilio:21211", failing)


def sns_sender_under_test(client: Any, unreachable_client: Any) -> SmsSenderUnderTest:
    before = set(moto_sms_messages())
    return SmsSenderUnderTest(
        "sns", SnsSmsSender(client),
        lambda: [entry for key, entry in moto_sms_messages().items() if key not in before],
        "sns:InvalidParameter", lambda: SnsSmsSender(unreachable_client),
    )
