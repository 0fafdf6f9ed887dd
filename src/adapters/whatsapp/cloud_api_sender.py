"""Send WhatsApp messages through Meta's Cloud API: `POST /{api_version}/{phone_number_id}/messages`.

Wire format followed (Meta, WhatsApp Cloud API):
- messages: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages and
  https://developers.facebook.com/docs/whatsapp/cloud-api/messages/text-messages (`text: {preview_url, body}`);
- template messages: https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
  (`template: {name, language: {code}, components: [{type: header|body, parameters: [...]}]}`);
- errors: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes (Graph error JSON
  `{"error": {"message", "type", "code", "error_subcode", "error_data": {"messaging_product", "details"},
  "fbtrace_id"}}`), https://developers.facebook.com/docs/graph-api/overview/rate-limiting (headers).

`message_body` builds the request body and refuses, before anything is sent, what Meta would refuse anyway
(WhatsAppRejected `invalid_number`, `invalid_message` or `invalid_parameter`); the in-memory and dev senders use
it too, so every adapter rejects the same messages. Text messages ask for a link preview when the body holds an
http(s) URL. Graph errors become WhatsAppRejected / WhatsAppUnavailable with code `whatsapp:<Graph code>`:
throttling, server and network failures are Unavailable (with `retry_after` from `Retry-After` or the
`X-Business-Use-Case-Usage` header), token and permission problems are Unavailable `whatsapp:auth`, an unknown
phone number id (code 100, subcode 33) or path (code 2500) Unavailable `whatsapp:config` (the deployment is wrong,
not the message); anything else is Rejected.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from application.ports.whatsapp import (
    OutboundWhatsApp,
    SentWhatsApp,
    TemplateParameter,
    WhatsAppRejected,
    WhatsAppUnavailable,
)

__all__ = ["PERMANENT_CODES", "THROTTLING_CODES", "CloudApiWhatsAppSender", "graph_error", "message_body"]

THROTTLING_CODES = frozenset({4, 80007, 130429, 131048, 131056})
TRANSIENT_CODES = frozenset({2, 131000, 131016, 133004})  # service down / unknown error: try again
AUTH_CODES = frozenset({0, 3, 10, 190, *range(200, 300)})  # token expired or missing permission
PERMANENT_CODES = frozenset({100, 131026, 131030, 131047, 131051, 132000, 132001, 132005, 132007, 132012,
                             132015, 132016})  # documented here; any other 4xx code is permanent as well
_UNKNOWN_OBJECT_SUBCODE = 33  # "Object with ID ... does not exist": the phone number id is wrong
_UNKNOWN_PATH = 2500  # "Unknown path components": the API version or base URL is wrong

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_URL = re.compile(r"https?://", re.IGNORECASE)
_BAD_PARAMETER_TEXT = re.compile(r"[\n\r\t]| {5,}")  # Meta: no new-line/tab, at most 4 consecutive spaces
_MAX_TEXT_BODY, _MAX_CAPTION, _MAX_CALLBACK_DATA = 4096, 1024, 512


def _required(value: str | None, field: str, kind: str) -> str:
    if value is None or not value.strip():
        raise WhatsAppRejected(f"{kind}: `{field}` is required", code="invalid_message")
    return value


def _media_link(value: str | None, field: str, kind: str) -> str:
    link = _required(value, field, kind)
    if not _URL.match(link):
        raise WhatsAppRejected(f"{kind} `{field}` must be an http(s) URL: {link!r}", code="invalid_parameter")
    return link


def _parameter(parameter: TemplateParameter, *, where: str) -> dict[str, Any]:
    if parameter.type == "text":
        text = parameter.text
        if text is None or not text.strip() or _BAD_PARAMETER_TEXT.search(text):
            raise WhatsAppRejected(f"{where} text parameter {text!r} is empty or has new-lines, tabs or more than "
                                   "4 consecutive spaces", code="invalid_parameter")
        return {"type": "text", "text": text}
    if where != "header":
        raise WhatsAppRejected(f"a {where} parameter cannot be {parameter.type}", code="invalid_parameter")
    media: dict[str, Any] = {"link": _media_link(parameter.link, "link", f"template header {parameter.type}")}
    if parameter.type == "document" and parameter.filename:
        media["filename"] = parameter.filename
    return {"type": parameter.type, parameter.type: media}


def _template(message: OutboundWhatsApp) -> dict[str, Any]:
    template: dict[str, Any] = {"name": _required(message.template_name, "template_name", "template"),
                                "language": {"code": _required(message.language, "language", "template")}}
    if len(message.header_parameters) > 1:
        raise WhatsAppRejected("a template header takes at most one parameter", code="invalid_parameter")
    components = [
        {"type": where, "parameters": [_parameter(p, where=where) for p in parameters]}
        for where, parameters in (("header", message.header_parameters), ("body", message.body_parameters))
        if parameters
    ]
    if components:
        template["components"] = components
    return template


def _typed_object(message: OutboundWhatsApp) -> dict[str, Any]:
    if message.kind == "template":
        return _template(message)
    if message.kind == "text":
        body = _required(message.text, "text", "text")
        if len(body) > _MAX_TEXT_BODY:
            raise WhatsAppRejected(f"a text body is at most {_MAX_TEXT_BODY} characters", code="invalid_message")
        return {"preview_url": bool(_URL.search(body)), "body": body}
    if message.kind in {"image", "document"}:
        media: dict[str, Any] = {"link": _media_link(message.media_link, "media_link", message.kind)}
        if message.caption:
            if len(message.caption) > _MAX_CAPTION:
                raise WhatsAppRejected(f"a caption is at most {_MAX_CAPTION} characters", code="invalid_message")
            media["caption"] = message.caption
        if message.kind == "document" and message.filename:
            media["filename"] = message.filename
        return media
    raise WhatsAppRejected(f"unsupported message kind {message.kind!r}", code="invalid_message")


def message_body(message: OutboundWhatsApp) -> dict[str, Any]:
    """Return the Cloud API request body for `message`; raises WhatsAppRejected for what Meta would refuse."""
    if not _E164.fullmatch(message.to):
        raise WhatsAppRejected(f"recipient {message.to!r} is not an E.164 number", code="invalid_number")
    if not message.reference or len(message.reference) > _MAX_CALLBACK_DATA:
        raise WhatsAppRejected(f"reference must be 1 to {_MAX_CALLBACK_DATA} characters", code="invalid_message")
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to.removeprefix("+"),
        "type": message.kind,
        message.kind: _typed_object(message),
        "biz_opaque_callback_data": message.reference,
    }


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `Retry-After`, else from `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`,
    minutes); None when neither says."""
    value = headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    try:
        usage = json.loads(headers.get("x-business-use-case-usage", "") or "{}")
        minutes = [float(entry.get("estimated_time_to_regain_access") or 0)
                   for entries in usage.values() for entry in entries]
    except (ValueError, TypeError, AttributeError):
        return None
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def graph_error(response: httpx.Response) -> WhatsAppRejected | WhatsAppUnavailable:
    """Map a Graph API error response to the port's exceptions (see the module doc)."""
    status = response.status_code
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        text = f"Graph API answered HTTP {status} without an error object"
        if status in {401, 403}:
            return WhatsAppUnavailable(text, code="whatsapp:auth")
        if status == 429 or status >= 500:
            return WhatsAppUnavailable(text, code=f"whatsapp:http_{status}", retry_after=_retry_after(response.headers))
        return WhatsAppRejected(text, code=f"whatsapp:http_{status}")
    code: int = error["code"]
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    text = f"Graph API error {code}: {error.get('message', '')}" + (f" ({details})" if details else "")
    text += f" [fbtrace_id {error.get('fbtrace_id')}]" if error.get("fbtrace_id") else ""
    if code in AUTH_CODES:
        return WhatsAppUnavailable(text, code="whatsapp:auth")
    if code == _UNKNOWN_PATH or (code == 100 and error.get("error_subcode") == _UNKNOWN_OBJECT_SUBCODE):
        return WhatsAppUnavailable(text, code="whatsapp:config")
    if code in THROTTLING_CODES or code in TRANSIENT_CODES or status == 429 or status >= 500:
        return WhatsAppUnavailable(text, code=f"whatsapp:{code}", retry_after=_retry_after(response.headers))
    return WhatsAppRejected(text, code=f"whatsapp:{code}")


class CloudApiWhatsAppSender:
    def __init__(self, client: httpx.AsyncClient, *, access_token: str, phone_number_id: str,
                 api_version: str = "v21.0", base_url: str = "https://graph.facebook.com") -> None:
        """Wrap an httpx client created once per process (its timeouts apply to every send)."""
        self._client = client
        self._url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}

    async def send(self, message: OutboundWhatsApp) -> SentWhatsApp:
        """Hand the message to Meta; raises WhatsAppRejected or WhatsAppUnavailable (see the module doc)."""
        body = json.dumps(message_body(message), ensure_ascii=False).encode()
        try:
            response = await self._client.post(self._url, content=body, headers=self._headers)
        except httpx.HTTPError as exc:  # connection refused, timeouts, protocol errors
            raise WhatsAppUnavailable(f"cannot reach the WhatsApp Cloud API: {exc!r}",
                                      code="whatsapp:network") from exc
        if response.status_code >= 400:
            raise graph_error(response)
        try:
            message_id = response.json()["messages"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            message_id = None
        if not isinstance(message_id, str) or not message_id:
            raise WhatsAppUnavailable(f"Graph API answered HTTP {response.status_code} without a message id",
                                      code="whatsapp:bad_response")
        return SentWhatsApp(provider_message_id=message_id)
