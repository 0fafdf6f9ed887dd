"""Provider webhooks: /api/webhooks/twilio/*, /api/webhooks/whatsapp and /api/webhooks/ses (all without a token).

Each route checks the provider's signature itself before reading anything (adapters/webhooks/*): a bad or
missing signature answers 403 `invalid_signature` and stores nothing. A good request is stored raw, keyed by the
provider's event id, with the job that applies it (`InboundService.record`), and answered 200 at once.

- Twilio (https://www.twilio.com/docs/usage/webhooks/webhooks-security): `X-Twilio-Signature` signs the URL Twilio
  requested plus the form parameters. The URL is rebuilt from the configured public base URL and the raw path
  and query of the request, never from the Host header, which a proxy may rewrite. Event ids: status callbacks
  `MessageSid:MessageStatus[:ErrorCode]` (one per status), incoming messages `MessageSid`. Incoming messages are
  answered with empty TwiML so Twilio sends no reply.
- WhatsApp (https://developers.facebook.com/docs/graph-api/webhooks/getting-started): GET is the subscribe
  handshake (`hub.challenge` echoed as text/plain when `hub.verify_token` matches); POST bodies carry
  `X-Hub-Signature-256` over the raw body. Meta sends no delivery id, so the event id is the body's SHA-256.
- Amazon SES through SNS (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html): the
  JSON body (sent as text/plain) is verified with `SnsMessageVerifier`; the event id is SNS's `MessageId`.
  A SubscriptionConfirmation is stored as kind `subscription`: the worker visits its SubscribeURL.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException

from adapters.webhooks.meta_signature import SIGNATURE_HEADER as META_SIGNATURE
from adapters.webhooks.meta_signature import verify_meta, verify_subscription
from adapters.webhooks.twilio_signature import SIGNATURE_HEADER as TWILIO_SIGNATURE
from adapters.webhooks.twilio_signature import verify_twilio_any
from application.identity.errors import PermissionDenied
from application.messaging.inbound import SUBSCRIPTION_KIND, InboundService
from application.messaging.provider_payloads import (
    PayloadError,
    parse_ses_event,
    parse_sns,
    parse_twilio_inbound,
    parse_whatsapp,
    twilio_status_event_id,
)
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, ok
from entrypoints.http.guard import public
from entrypoints.http.messaging.webhook_secrets import WebhookSecrets

__all__ = ["EMPTY_TWIML", "InvalidSignature", "WebhookController", "WebhookReceipt"]

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_WEBHOOK_BODY = 2 * 2**20
Inbound = NamedDependency[InboundService]
Secrets = NamedDependency[WebhookSecrets]
AnyRequest = Request[Any, Any, Any]
_SNS_KINDS = {"SubscriptionConfirmation": SUBSCRIPTION_KIND, "UnsubscribeConfirmation": "unsubscribe_confirmation"}


class InvalidSignature(PermissionDenied):
    code = "invalid_signature"

    def __init__(self, provider: str) -> None:
        super().__init__(f"The request does not carry a valid {provider} signature")


class InvalidVerifyToken(PermissionDenied):
    code = "invalid_verify_token"

    def __init__(self) -> None:
        super().__init__("The subscription handshake does not carry the configured verify token")


class WebhookReceipt(msgspec.Struct, kw_only=True):
    """`recorded` is false for a delivery already received (or one that carries nothing for us)."""

    recorded: bool


def _inbound(state: State) -> InboundService:
    service: InboundService = container_of(state).messaging.inbound()
    return service


def _secrets(state: State) -> WebhookSecrets:
    secrets: WebhookSecrets = container_of(state).messaging.webhook_secrets()
    return secrets


def _public_url(secrets: WebhookSecrets, request: AnyRequest) -> str:
    """The URL Twilio requested: the configured public base, then the path and query exactly as received."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) and raw_path else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return secrets.public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


async def _signed_twilio_form(request: AnyRequest, secrets: WebhookSecrets) -> dict[str, str]:
    """The form parameters of a Twilio request whose signature checks out; else InvalidSignature."""
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    signature = request.headers.get(TWILIO_SIGNATURE)
    if not verify_twilio_any(secrets.twilio_auth_tokens, _public_url(secrets, request), params, signature):
        raise InvalidSignature("Twilio")
    return {name: values[-1] for name, values in params.items()}


def _malformed(exc: PayloadError) -> HTTPException:
    return HTTPException(status_code=400, detail=f"The payload cannot be used: {exc}")


class WebhookController(Controller):
    path = "/api/webhooks"
    tags = ["webhooks"]
    request_max_body_size = MAX_WEBHOOK_BODY
    dependencies = {"inbound": Provide(_inbound, sync_to_thread=False),
                    "secrets": Provide(_secrets, sync_to_thread=False)}

    @post("/twilio/status", opt=public(), status_code=200)
    async def twilio_status(self, request: AnyRequest, inbound: Inbound, secrets: Secrets) -> Envelope[WebhookReceipt]:
        """Twilio's status callback for an outbound SMS (our reference rides in the `ref` query parameter)."""
        params = await _signed_twilio_form(request, secrets)
        try:
            event_id = twilio_status_event_id(params)
        except PayloadError as exc:
            raise _malformed(exc) from None
        payload: dict[str, object] = {"params": params, "ref": request.query_params.get("ref")}
        return ok(WebhookReceipt(recorded=await inbound.record("twilio", event_id, "status", payload)))

    @post("/twilio/inbound", opt=public(), status_code=200, media_type=MediaType.XML)
    async def twilio_inbound(self, request: AnyRequest, inbound: Inbound, secrets: Secrets) -> Response[str]:
        """A message a customer sent to our Twilio number; STOP and START change their SMS consent."""
        params = await _signed_twilio_form(request, secrets)
        try:
            message = parse_twilio_inbound(params)
        except PayloadError as exc:
            raise _malformed(exc) from None
        await inbound.record("twilio", message.provider_message_id, "inbound", {"params": params})
        return Response(EMPTY_TWIML, media_type="text/xml", status_code=200)

    @get("/whatsapp", opt=public(), media_type=MediaType.TEXT)
    async def whatsapp_handshake(self, request: AnyRequest, secrets: Secrets) -> Response[str]:
        """Meta's subscribe handshake: the `hub.challenge` back when `hub.verify_token` is ours, else 403."""
        query = request.query_params
        challenge = verify_subscription(query.get("hub.mode"), query.get("hub.verify_token"),
                                        query.get("hub.challenge"), secrets.whatsapp_verify_token)
        if challenge is None:
            raise InvalidVerifyToken()
        return Response(challenge, media_type=MediaType.TEXT, headers={"X-Content-Type-Options": "nosniff"})

    @post("/whatsapp", opt=public(), status_code=200)
    async def whatsapp_events(self, request: AnyRequest, inbound: Inbound,
                              secrets: Secrets) -> Envelope[WebhookReceipt]:
        """Delivery statuses of our WhatsApp messages and messages customers sent (which open the 24-hour window)."""
        raw = await request.body()
        if not verify_meta(secrets.whatsapp_app_secret, raw, request.headers.get(META_SIGNATURE)):
            raise InvalidSignature("Meta")
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise HTTPException(status_code=400, detail="Malformed JSON body") from None
        try:
            kind = parse_whatsapp(body).kind
        except PayloadError:
            return ok(WebhookReceipt(recorded=False))  # another product's webhook: nothing for us
        recorded = await inbound.record("whatsapp", hashlib.sha256(raw).hexdigest(), kind, body)
        return ok(WebhookReceipt(recorded=recorded))

    @post("/ses", opt=public(), status_code=200)
    async def ses_events(self, request: AnyRequest, inbound: Inbound, secrets: Secrets) -> Envelope[WebhookReceipt]:
        """Amazon SES sending events through SNS (bounces and complaints suppress the address), and SNS's
        subscription confirmations."""
        try:
            message = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            message = None
        verifier = secrets.sns_verifier
        if not isinstance(message, dict) or verifier is None or not await verifier.verify(message):
            raise InvalidSignature("Amazon SNS")
        try:
            envelope = parse_sns(message)
            kind = _SNS_KINDS.get(envelope.type) or parse_ses_event(envelope.message).kind
        except PayloadError:
            return ok(WebhookReceipt(recorded=False))  # a signed notification that is no SES event
        return ok(WebhookReceipt(recorded=await inbound.record("ses", envelope.message_id, kind, message)))
