"""Send SMS through Twilio's Programmable Messaging REST API, on an injected `httpx.AsyncClient`.

Followed: https://www.twilio.com/docs/messaging/api/message-resource (Create a Message resource) and the error pages
https://www.twilio.com/docs/api/errors/<code> (21211, 21408, 21606, 21610, 21614, 21659, 20429, 30003-30008).

Request: `POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth (the account SID and auth
token, or an API key SID and secret), form-encoded `To`, `Body`, `From` and/or `MessagingServiceSid` and
`StatusCallback`.

- Sender: `MessagingServiceSid` is sent when configured; `From` is the message's `sender_id`, else the configured
  `from_number`. With a Messaging Service, a `From` must belong to the service's sender pool.
- Status callbacks: the configured URL gets `ref=<our reference>` added to its query string. Twilio's callbacks carry
  the `MessageSid`, but the reference lets the webhook find our message even when the send crashed before the sid
  was stored. Twilio signs the URL as requested, query included, so the signature still checks out.
- India DLT ids are not sent: Twilio matches DLT templates from the registration made with Twilio, not per request.

Answers: `sid` is the provider message id; `accepted`/`scheduled`/`queued`/`sending` map to our `queued`, `sent`/
`delivered` to `sent`, and `failed`/`undelivered`/`canceled` raise SmsRejected. `num_segments` is reported when
above 0 (a Messaging Service answers 0 until it picks a sender); Twilio's negative `price` becomes a positive `cost`.

Errors: Twilio answers `{code, message, more_info, status}`. Refusals of the message itself (PERMANENT_ERROR_CODES,
and any other 4xx) raise SmsRejected with code `twilio:<code>`. HTTP 429 / code 20429 and 5xx raise SmsUnavailable
with `retry_after` from `Retry-After`; 401/403 raise SmsUnavailable `twilio:auth` and 404 (an unknown account SID)
SmsUnavailable `twilio:<code>`: both are deployment problems, the message is kept for a retry. Network errors raise
SmsUnavailable `twilio:network`. A timeout after the request left may mean Twilio created the message anyway: Twilio
offers no idempotency key for Messages, so a retry can then send twice.

Of the carrier codes 30003-30008 (normally seen in status callbacks), 30004 blocked, 30005 unknown handset,
30006 landline/unreachable carrier and 30007 carrier filtering are permanent; 30003 (handset switched off or out of
coverage) and 30008 (unknown error) are documented as worth retrying, so they are in TRANSIENT_ERROR_CODES.
"""

from __future__ import annotations

import json
import math
from datetime import UTC
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from application.ports.sms import OutboundSms, SentSms, SmsRejected, SmsUnavailable

__all__ = [
    "PERMANENT_ERROR_CODES",
    "REFERENCE_PARAMETER",
    "TRANSIENT_ERROR_CODES",
    "TwilioSmsSender",
    "status_callback_with_reference",
    "twilio_error",
]

REFERENCE_PARAMETER = "ref"
PERMANENT_ERROR_CODES = frozenset({
    21211,  # invalid 'To' phone number
    21408,  # permission to send to the To number's region not enabled
    21606,  # 'From' is not a message-capable Twilio number for this destination/account
    21610,  # recipient unsubscribed (replied STOP)
    21614,  # 'To' is not a valid mobile number
    21659,  # 'From' is not a Twilio number, or short code country mismatch
    30004,  # message blocked
    30005,  # unknown destination handset
    30006,  # landline or unreachable carrier
    30007,  # filtered by the carrier
})
TRANSIENT_ERROR_CODES = frozenset({
    20429,  # too many requests
    20500, 20503,  # internal server error, service unavailable
    30001,  # queue overflow
    30003,  # unreachable destination handset
    30008,  # unknown error
    30500,  # internal error
})
_SENT = frozenset({"sent", "delivered", "read"})  # accepted, scheduled, queued, sending (or new ones): queued
_FAILED = frozenset({"failed", "undelivered", "canceled"})


def status_callback_with_reference(url: str, reference: str) -> str:
    """Return `url` with `ref=<reference>` in its query string (replacing any `ref` already there)."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
             if name != REFERENCE_PARAMETER]
    query.append((REFERENCE_PARAMETER, reference))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from `Retry-After` (delta-seconds, or an HTTP date measured from the response's `Date`)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        at, sent = (parsedate_to_datetime(text) for text in (value, response.headers.get("Date", "")))
    except (TypeError, ValueError):
        return None
    at, sent = (moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in (at, sent))
    return max(0.0, (at - sent).total_seconds())


def _error_body(response: httpx.Response) -> tuple[int | None, str]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, response.text[:200]
    if not isinstance(body, dict):
        return None, str(body)[:200]
    code = str(body.get("code", ""))
    return (int(code) if code.isdigit() else None), str(body.get("message") or "")


def twilio_error(response: httpx.Response) -> SmsRejected | SmsUnavailable:
    """Map an error answer of the Messages resource to SmsRejected or SmsUnavailable (see the module doc)."""
    status = response.status_code
    code, message = _error_body(response)
    label = f"twilio:{code}" if code is not None else f"twilio:http_{status}"
    text = f"Twilio HTTP {status}{f' error {code}' if code is not None else ''}: {message}"
    if status in (401, 403):
        return SmsUnavailable(text, code="twilio:auth")
    if status == 429 or code in TRANSIENT_ERROR_CODES or status >= 500 or status == 404:
        return SmsUnavailable(text, code=label, retry_after=_retry_after(response))
    return SmsRejected(text, code=label)


def _segments(value: Any) -> int | None:
    try:
        segments = int(value)
    except (TypeError, ValueError):
        return None
    return segments if segments > 0 else None


def _cost(price: Any) -> str | None:
    if price in (None, ""):
        return None
    try:
        return str(abs(Decimal(str(price))))
    except InvalidOperation:
        return None


def _sent(body: Any) -> SentSms:
    if not isinstance(body, dict) or not body.get("sid"):
        raise SmsUnavailable("Twilio answered without a message sid", code="twilio:bad_response")
    status = str(body.get("status") or "queued")
    if status in _FAILED:
        code = body.get("error_code")
        raise SmsRejected(f"Twilio {status}: {body.get('error_message') or ''}",
                          code=f"twilio:{code}" if code else f"twilio:{status}")
    cost = _cost(body.get("price"))
    return SentSms(
        provider_message_id=str(body["sid"]),
        status="sent" if status in _SENT else "queued",
        segments=_segments(body.get("num_segments")),
        cost=cost,
        currency=str(body["price_unit"]) if cost is not None and body.get("price_unit") else None,
    )


class TwilioSmsSender:
    def __init__(self, client: httpx.AsyncClient, *, account_sid: str, auth_token: str | None = None,
                 api_key_sid: str | None = None, api_key_secret: str | None = None,
                 messaging_service_sid: str | None = None, from_number: str | None = None,
                 status_callback_url: str | None = None, base_url: str = "https://api.twilio.com") -> None:
        """Wrap an open `httpx.AsyncClient` (its timeouts apply); give the auth token or an API key pair."""
        if not account_sid:
            raise ValueError("a Twilio account SID is required")
        if auth_token and not (api_key_sid or api_key_secret):
            self._auth = httpx.BasicAuth(account_sid, auth_token)
        elif api_key_sid and api_key_secret and not auth_token:
            self._auth = httpx.BasicAuth(api_key_sid, api_key_secret)
        else:
            raise ValueError("give either auth_token or both api_key_sid and api_key_secret")
        if not (messaging_service_sid or from_number):
            raise ValueError("give messaging_service_sid or from_number")
        self._client = client
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"
        self._messaging_service_sid = messaging_service_sid
        self._from_number = from_number
        self._status_callback_url = status_callback_url

    def form(self, sms: OutboundSms) -> dict[str, str]:
        """The form fields sent to Twilio for `sms`."""
        fields = {"To": sms.to, "Body": sms.body}
        sender = sms.sender_id or self._from_number
        if sender:
            fields["From"] = sender
        if self._messaging_service_sid:
            fields["MessagingServiceSid"] = self._messaging_service_sid
        if self._status_callback_url:
            fields["StatusCallback"] = status_callback_with_reference(self._status_callback_url, sms.reference)
        return fields

    async def send(self, sms: OutboundSms) -> SentSms:
        """Create the Message at Twilio; raises SmsRejected or SmsUnavailable (see the module doc)."""
        try:
            response = await self._client.post(self._url, data=self.form(sms), auth=self._auth,
                                               headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise SmsUnavailable(f"cannot reach Twilio: {type(exc).__name__}: {exc}", code="twilio:network") from exc
        if response.status_code >= 300:
            raise twilio_error(response)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SmsUnavailable("Twilio answered with a body that is not JSON", code="twilio:bad_response") from exc
        return _sent(body)
