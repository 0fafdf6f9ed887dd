"""A local SMS provider for the campaign fault test: Twilio's Messages resource, a ledger of every message by our
reference, and a lookup by reference for reconciliation. Plus the `ProviderLookup` that asks it.

Sending follows https://www.twilio.com/docs/messaging/api/message-resource (Create a Message resource): `POST
/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth, a form with `To`, `Body`, `From` and
`StatusCallback`; the answer is 201 with the Message (`sid`, `status` "queued"). `TwilioSmsSender` puts our
reference in the StatusCallback's query (`ref=cr-<recipient id>`): the fake files each message under it, so a
reference sent twice is a duplicate the test can see. Twilio itself cannot be asked by our reference (its Messages
list filters only by To, From and DateSent), so the lookup, `GET /lookup?channel=sms&reference=cr-N`, is this
fake's own: 200 `{"providerMessageId": sid}` when it accepted that reference, 404 when it never did (an
authoritative "not found").

`ReferenceLookup` is the adapter the worker uses for it (an `httpx.AsyncClient` and the lookup URL); the container
selects it when CAMPAIGN_LOOKUP_URL is set (tests and development), so it is written to move into
`src/adapters/dev/reference_lookup.py` as it is.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from adapters.dev.reference_lookup import ReferenceLookup

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "FROM_NUMBER", "FakeSmsProvider", "ReferenceLookup", "SentRecord"]

ACCOUNT_SID = "AC" + "c4c4c4c4c4c4c4c4" * 2
AUTH_TOKEN = "campaign-fake-token"
FROM_NUMBER = "+15005550006"
_MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
_AUTHORIZATION = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


class _QuietServer(ThreadingHTTPServer):
    """A killed worker resets its kept-alive connections: that is expected here, not worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SentRecord:
    sid: str
    reference: str
    to: str
    body: str
    at: float


class FakeSmsProvider:
    """Twilio-shaped SMS sending on 127.0.0.1 with a ledger by reference; `latency` delays each accepted send."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.records: list[SentRecord] = []
        self.refused: list[str] = []  # why each refused request was refused
        self.truncated = 0  # requests cut short by a killed worker (never a message: not refused either)
        self.lookups = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def lookup_url(self) -> str:
        return f"{self.url}/lookup"

    def start(self) -> FakeSmsProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def by_reference(self) -> Counter[str]:
        with self._lock:
            return Counter(r.reference for r in self.records)

    def sid_of(self, reference: str) -> str | None:
        with self._lock:
            return next((r.sid for r in self.records if r.reference == reference), None)

    def _create(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, object]]:
        if headers.get("authorization") != _AUTHORIZATION:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        form = {name: values[0] for name, values in parse_qs(raw.decode()).items()}
        reference = parse_qs(urlsplit(form.get("StatusCallback", "")).query).get("ref", [""])[0]
        if not (form.get("To") and form.get("Body") and reference):
            with self._lock:
                self.refused.append(f"missing To, Body or ref: {sorted(form)}")
            return 400, {"code": 21604, "message": "To, Body and a StatusCallback with ref are required",
                         "status": 400}
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            sid = f"SM{len(self.records) + 1:032x}"
            self.records.append(SentRecord(sid=sid, reference=reference, to=form["To"], body=form["Body"],
                                           at=time.monotonic()))
        return 201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"], "num_segments": "1",
                     "account_sid": ACCOUNT_SID}

    def _lookup(self, query: str) -> tuple[int, dict[str, object]]:
        reference = parse_qs(query).get("reference", [""])[0]
        with self._lock:
            self.lookups += 1
        sid = self.sid_of(reference)
        if sid is None:
            return 404, {"message": f"no message with reference {reference!r}"}
        return 200, {"providerMessageId": sid}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: dict[str, object]) -> None:
                payload = json.dumps(body).encode()
                self.send_response_only(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                expected = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(expected)
                if len(raw) < expected:  # the client was killed while writing: a real server drops it too
                    with fake._lock:
                        fake.truncated += 1
                    self.close_connection = True
                    return
                if urlsplit(self.path).path != _MESSAGES_PATH:
                    self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                self._reply(*fake._create(headers, raw))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/lookup":
                    self._reply(404, {"message": "not found"})
                    return
                self._reply(*fake._lookup(parts.query))

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
