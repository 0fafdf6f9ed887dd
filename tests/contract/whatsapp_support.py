"""Helpers of the WhatsApp contract suite: a fake Graph API on 127.0.0.1, and what the provider saw, per adapter.

`FakeGraphApi` answers `POST /{version}/{phone_number_id}/messages` and `GET /{version}/{waba_id}/message_templates`
like Meta's Cloud API does: it checks the Bearer token, the path, `Content-Type: application/json` and the message
body (strictly: unknown or missing fields are refused) and answers Graph-shaped errors
(`{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}`) otherwise.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from application.ports.whatsapp import OutboundWhatsApp, WhatsAppSender

TOKEN, PHONE_NUMBER_ID, WABA_ID, VERSION = "EAAGtest-token", "106540352242922", "102290129340398", "v21.0"
_MESSAGES = re.compile(r"/(?P<version>[^/]+)/(?P<phone>[^/]+)/messages")
_TEMPLATES = re.compile(r"/(?P<version>[^/]+)/(?P<waba>[^/]+)/message_templates")
_TYPED = {  # type -> (required keys, optional keys) of the typed object
    "text": ({"body"}, {"preview_url"}),
    "image": ({"link"}, {"caption"}),
    "document": ({"link"}, {"caption", "filename"}),
    "template": ({"name", "language"}, {"components"}),
}
_REQUIRED_FIELDS = {"name", "status", "category", "language", "components", "rejected_reason"}


@dataclass(frozen=True)
class Seen:
    """What the provider saw of one message, whatever the adapter (`to` in digits, as on the wire)."""

    to: str
    kind: str
    reference: str
    text: str | None = None
    template: tuple[str, str] | None = None  # (name, language code)
    header: tuple[tuple[str, str, str | None], ...] = ()  # (type, text or link, filename)
    body: tuple[str, ...] = ()
    media_link: str | None = None
    caption: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class SenderUnderTest:
    name: str
    sender: WhatsAppSender
    seen: Callable[[], list[Seen]]
    refuse: Callable[[str, str], None] | None = None  # (E.164 number, "whatsapp:<code>")
    throttle: Callable[[], None] | None = None  # the next send is throttled (code 130429)


def seen_from_outbound(message: OutboundWhatsApp) -> Seen:
    return Seen(
        to=message.to.removeprefix("+"), kind=message.kind, reference=message.reference, text=message.text,
        template=(message.template_name, message.language or "") if message.template_name else None,
        header=tuple((p.type, (p.text if p.type == "text" else p.link) or "", p.filename if p.type == "document"
                      else None) for p in message.header_parameters),
        body=tuple(p.text or "" for p in message.body_parameters), media_link=message.media_link,
        caption=message.caption, filename=message.filename if message.kind == "document" else None,
    )


def seen_from_body(body: dict[str, Any]) -> Seen:
    """Read back a Cloud API request body (the dev sink's `request`, or what the fake Graph API received)."""
    kind, typed = body["type"], body[body["type"]]
    seen = Seen(to=body["to"], kind=kind, reference=body["biz_opaque_callback_data"])
    if kind == "text":
        return Seen(**{**seen.__dict__, "text": typed["body"]})
    if kind in {"image", "document"}:
        return Seen(**{**seen.__dict__, "media_link": typed["link"], "caption": typed.get("caption"),
                       "filename": typed.get("filename")})
    components = {c["type"]: c["parameters"] for c in typed.get("components", [])}
    header = tuple((p["type"], p["text"] if p["type"] == "text" else p[p["type"]]["link"],
                    p[p["type"]].get("filename") if p["type"] == "document" else None)
                   for p in components.get("header", []))
    return Seen(**{**seen.__dict__, "template": (typed["name"], typed["language"]["code"]), "header": header,
                   "body": tuple(p["text"] for p in components.get("body", []))})


def graph_error_body(code: int, message: str, *, details: str | None = None, subcode: int | None = None,
                     error_type: str = "OAuthException") -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"(#{code}) {message}", "type": error_type, "code": code,
                             "fbtrace_id": "AazFakeTrace"}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def _problem_in_parameter(where: str, parameter: Any) -> str | None:
    if not isinstance(parameter, dict) or parameter.get("type") not in {"text", "image", "document"}:
        return f"{where}: bad parameter {parameter!r}"
    kind = parameter["type"]
    if kind == "text":
        text = parameter.get("text")
        if set(parameter) != {"type", "text"} or not isinstance(text, str) or not text:
            return f"{where}: a text parameter is {{type, text}}"
        if re.search(r"[\n\t]| {5,}", text):
            return "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
        return None
    media = parameter.get(kind)
    allowed = {"link", "filename"} if kind == "document" else {"link"}
    if where != "header" or set(parameter) != {"type", kind} or not isinstance(media, dict) \
            or "link" not in media or not set(media) <= allowed or not str(media["link"]).startswith("http"):
        return f"{where}: bad {kind} parameter {parameter!r}"
    return None


def _problem_in_template(template: dict[str, Any]) -> str | None:
    language = template["language"]
    if not isinstance(template["name"], str) or not isinstance(language, dict) or set(language) != {"code"}:
        return "template needs a name and language: {code}"
    for component in template.get("components", []):
        if not isinstance(component, dict) or set(component) != {"type", "parameters"} \
                or component["type"] not in {"header", "body"} or not isinstance(component["parameters"], list):
            return f"bad component {component!r}"
        for parameter in component["parameters"]:
            if problem := _problem_in_parameter(component["type"], parameter):
                return problem
    return None


def problem_in_message(body: Any) -> str | None:
    """Why Meta would refuse this body (error 100, Invalid parameter), or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    kind = body.get("type")
    if kind not in _TYPED:
        return f"unsupported type {kind!r}"
    top = {"messaging_product", "recipient_type", "to", "type", "biz_opaque_callback_data", kind}
    if not set(body) <= top or not {"messaging_product", "to", "type", kind} <= set(body):
        return f"unexpected or missing fields: {sorted(set(body) ^ top)}"
    if body["messaging_product"] != "whatsapp" or body.get("recipient_type", "individual") != "individual":
        return "messaging_product must be whatsapp and recipient_type individual"
    if not isinstance(body["to"], str) or not re.fullmatch(r"[0-9]{7,15}", body["to"]):
        return f"to must be the digits of a phone number, got {body['to']!r}"
    callback = body.get("biz_opaque_callback_data", "")
    if not isinstance(callback, str) or len(callback) > 512:
        return "biz_opaque_callback_data is a string of at most 512 characters"
    typed, (required, optional) = body[kind], _TYPED[kind]
    if not isinstance(typed, dict) or not required <= set(typed) <= required | optional:
        return f"{kind} takes {sorted(required)} and optionally {sorted(optional)}, got {typed!r}"
    if kind == "text":
        ok = isinstance(typed["body"], str) and 0 < len(typed["body"]) <= 4096
        return None if ok and isinstance(typed.get("preview_url", False), bool) else "bad text object"
    if kind in {"image", "document"}:
        return None if str(typed["link"]).startswith(("http://", "https://")) else "link must be a URL"
    return _problem_in_template(typed)


def _json(status: int, body: Any) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(body).encode(), {"Content-Type": "application/json"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeGraphApi:
    """A Graph API stand-in; configure answers with `refuse`, `throttle_next`, `fail_next` and `answer_next`."""

    templates: list[dict[str, Any]] = field(default_factory=list)
    templates_per_page: int = 3
    foreign_next: bool = False  # page links point at another host (only the cursor leads back here)
    received: list[dict[str, Any]] = field(default_factory=list)  # accepted message bodies
    requests: list[Recorded] = field(default_factory=list)
    _refusals: dict[str, tuple[int, int]] = field(default_factory=dict)
    _canned: list[tuple[int, bytes, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def refuse(self, number: str, code: int, status: int = 400) -> None:
        """Answer Graph error `code` (HTTP `status`) for messages to `number` (digits or E.164)."""
        self._refusals[number.removeprefix("+")] = (code, status)

    def answer_next(self, status: int, body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Answer the next request (whatever it is, after the token check) with this canned response."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        self._canned.append((status, data, {"Content-Type": "application/json", **(headers or {})}))

    def throttle_next(self, headers: dict[str, str] | None = None) -> None:
        details = "Message failed to send because there were too many messages sent from this phone number"
        self.answer_next(429, graph_error_body(130429, "Rate limit hit", details=details), headers)

    def fail_next(self) -> None:
        self.answer_next(500, graph_error_body(1, "An unknown error has occurred."))

    def start(self) -> FakeGraphApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        recorded = Recorded(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(recorded)
            status, data, headers = self._route(recorded)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, request: Recorded) -> tuple[int, bytes, dict[str, str]]:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json(401, graph_error_body(190, "Invalid OAuth access token - Cannot parse access token"))
        if self._canned:
            return self._canned.pop(0)
        messages, templates = _MESSAGES.fullmatch(request.path), _TEMPLATES.fullmatch(request.path)
        match = messages if request.method == "POST" else templates
        if match is None or match["version"] != VERSION:
            return _json(400, graph_error_body(2500, f"Unknown path components: {request.path}"))
        if messages is not None:
            if messages["phone"] != PHONE_NUMBER_ID:
                return _json(400, graph_error_body(100, "Unsupported post request. Object with ID does not exist",
                                                   subcode=33, error_type="GraphMethodException"))
            return _json(*self._message(request))
        if templates is None or templates["waba"] != WABA_ID:
            return _json(400, graph_error_body(100, "Unsupported get request", subcode=33))
        return _json(*self._templates_page(request))

    def _message(self, request: Recorded) -> tuple[int, Any]:
        if request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return 400, graph_error_body(100, "Invalid parameter", details="Content-Type must be application/json")
        try:
            body = json.loads(request.body)
        except ValueError:
            return 400, graph_error_body(100, "Invalid parameter", details="the body is not JSON")
        if problem := problem_in_message(body):
            return 400, graph_error_body(100, "Invalid parameter", details=problem)
        if body["to"] in self._refusals:
            code, status = self._refusals[body["to"]]
            return status, graph_error_body(code, "Refused by the fake Graph API", details=f"code {code}")
        self.received.append(body)
        wamid = f"wamid.HBgMFAKE{len(self.received):06d}"
        return 200, {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                     "messages": [{"id": wamid}]}

    def _templates_page(self, request: Recorded) -> tuple[int, Any]:
        fields = set(",".join(request.query.get("fields", [])).split(","))
        if missing := _REQUIRED_FIELDS - fields:
            return 400, graph_error_body(100, "Invalid parameter", details=f"fields lack {sorted(missing)}")
        start = int(request.query.get("after", ["0"])[0])
        size = min(int(request.query.get("limit", ["25"])[0]), self.templates_per_page)
        page = self.templates[start:start + size]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + len(page) < len(self.templates):
            host = "https://graph.example.invalid" if self.foreign_next else self.base_url
            query = urlencode({"fields": ",".join(sorted(fields)), "limit": size, "after": start + len(page)})
            paging["next"] = f"{host}{request.path}?{query}"
        return 200, {"data": page, "paging": paging}
