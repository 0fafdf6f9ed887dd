"""Provider webhooks, one-click unsubscribe and the consent API over HTTP, on the real stack.

Requests are signed here the way each provider signs them (the signature helpers of adapters/webhooks, and an
SNS certificate made for the test); tampered or unsigned ones must answer 403 `invalid_signature` and store
nothing. Needs the container's `messaging` section (`inbound`, `consents`, `unsubscribe_tokens`,
`webhook_secrets`): the test overrides `webhook_secrets` with the secrets below.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from dependency_injector import providers

from adapters.system.clock import FixedClock
from adapters.webhooks.meta_signature import meta_signature_header
from adapters.webhooks.sns_signature import SnsMessageVerifier
from adapters.webhooks.twilio_signature import twilio_signature
from application.messaging.inbound import APPLY_PROVIDER_EVENT
from entrypoints.container import AppContainer
from entrypoints.http.messaging.webhook_secrets import WebhookSecrets
from tests.conftest import NOW
from tests.e2e.http.conftest import make_customer
from tests.upload_books import count

Client = httpx.AsyncClient
PUBLIC = "https://desk.example.com"
AUTH_TOKEN = "twilio-auth-token"
APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "meta-verify-token"
CERT_URL = "https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
PHONE = "+919876543210"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(KEY.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(NOW - timedelta(days=1))
                   .not_valid_after(NOW + timedelta(days=30)).sign(KEY, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM)


async def _fetch(url: str) -> bytes:
    assert url == CERT_URL
    return _certificate()


@pytest.fixture
async def secured(sql_container: AppContainer, clock: FixedClock) -> AsyncIterator[AppContainer]:
    secrets = WebhookSecrets(public_base_url=PUBLIC, twilio_auth_tokens=("old-token", AUTH_TOKEN),
                             whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY_TOKEN,
                             sns_verifier=SnsMessageVerifier(_fetch, clock=clock))
    sql_container.messaging.webhook_secrets.override(providers.Object(secrets))
    yield sql_container
    sql_container.messaging.webhook_secrets.reset_override()


async def stored(container: AppContainer) -> tuple[int, int]:
    """(provider events, apply jobs) in the database."""
    return (await count(container, "SELECT count(*) FROM provider_events"),
            await count(container, f"SELECT count(*) FROM outbox WHERE job_name = '{APPLY_PROVIDER_EVENT}'"))


async def apply_all(container: AppContainer) -> None:
    """Run every queued apply job, as the worker would."""
    async with container.adapters.engine().connect() as conn:
        rows = (await conn.exec_driver_sql(
            f"SELECT args->>'event_id' FROM outbox WHERE job_name = '{APPLY_PROVIDER_EVENT}' ORDER BY id")).all()
    for (event_id,) in rows:
        await container.messaging.inbound().apply(int(event_id))


async def twilio_post(client: Client, path: str, params: dict[str, str], *, token: str = AUTH_TOKEN,
                      signed_url: str | None = None) -> httpx.Response:
    signature = twilio_signature(token, signed_url or f"{PUBLIC}{path}", params)
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def sns_signed(message: dict[str, Any]) -> dict[str, Any]:
    fields = (("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type") if message["Type"] == "Notification"
              else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"))
    text = "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)
    signature = KEY.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**message, "SignatureVersion": "2", "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": CERT_URL}


def ses_notification(record: dict[str, Any]) -> dict[str, Any]:
    return sns_signed({"Type": "Notification", "MessageId": "0f6fe0ec-7d3a-5a3b-9a5e-1f2f4b0f0c11",
                       "Message": json.dumps(record), "TopicArn": "arn:aws:sns:ap-south-1:123456789012:ses-events",
                       "Timestamp": "2026-11-28T08:59:00.000Z"})


BOUNCE = {"eventType": "Bounce", "mail": {"messageId": "0100019375aabbcc-1234", "timestamp": "2026-11-28T08:58:00Z"},
          "bounce": {"bounceType": "Permanent", "bounceSubType": "NoEmail", "timestamp": "2026-11-28T08:58:30Z",
                     "bouncedRecipients": [{"emailAddress": "asha@example.in", "status": "5.1.1",
                                            "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}


async def consent_of(client: Client, channel: str, address: str) -> dict[str, Any]:
    response = await client.get("/api/communication/consents", params={"channel": channel, "address": address})
    assert response.status_code == 200, response.text
    [view] = response.json()["data"]["consents"]
    found: dict[str, Any] = view
    return found


# --- Twilio ---------------------------------------------------------------------------------------------------

async def test_a_signed_twilio_status_is_stored_once(client: Client, secured: AppContainer) -> None:
    params = {"MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "MessageStatus": "delivered", "To": PHONE,
              "AccountSid": "AC00000000000000000000000000000001", "ApiVersion": "2010-04-01"}
    path = "/api/webhooks/twilio/status?ref=msg-1"
    answers = [await twilio_post(client, path, params) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["data"]["recorded"] for a in answers] == [True, False, False, False, False]
    assert await stored(secured) == (1, 1)


@pytest.mark.parametrize("tamper", ["body", "token", "host", "query", "missing"])
async def test_tampered_twilio_requests_are_refused_and_store_nothing(
        client: Client, secured: AppContainer, tamper: str) -> None:
    params = {"MessageSid": "SM5ef8731f06b4b3a3a1e2f3b1c2d3e4f5", "From": PHONE, "To": "+15017122661", "Body": "STOP"}
    path = "/api/webhooks/twilio/inbound"
    signed_for = dict(params, Body="START") if tamper == "body" else params
    signature = twilio_signature("not-our-token" if tamper == "token" else AUTH_TOKEN,
                                 {"host": f"http://testserver{path}", "query": f"{PUBLIC}{path}?x=1"}.get(
                                     tamper, f"{PUBLIC}{path}"), signed_for)
    headers = {} if tamper == "missing" else {"X-Twilio-Signature": signature}
    response = await client.post(path, data=params, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await stored(secured) == (0, 0)


async def test_stop_and_start_by_sms_change_the_consent(client: Client, secured: AppContainer) -> None:
    customer = await make_customer(client)
    for sid, body in (("SM01", "STOP"), ("SM02", "Renew please"), ("SM01", "STOP")):
        response = await twilio_post(client, "/api/webhooks/twilio/inbound",
                                     {"MessageSid": sid, "From": PHONE, "To": "+15017122661", "Body": body})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml") and "<Response/>" in response.text
    await apply_all(secured)
    opted_out = await consent_of(client, "sms", PHONE)
    assert (opted_out["optedIn"], opted_out["source"], opted_out["reason"], opted_out["customerId"]) == (
        False, "stop_keyword", "replied STOP", customer["id"])
    await twilio_post(client, "/api/webhooks/twilio/inbound",
                      {"MessageSid": "SM03", "From": PHONE, "To": "+15017122661", "Body": " start "})
    await apply_all(secured)
    assert (await consent_of(client, "sms", PHONE))["optedIn"] is True


# --- WhatsApp -------------------------------------------------------------------------------------------------

async def test_the_whatsapp_handshake_echoes_the_challenge_only_for_our_token(
        client: Client, secured: AppContainer) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    good = await client.get("/api/webhooks/whatsapp", params=query)
    assert (good.status_code, good.text) == (200, "1158201444")
    assert good.headers["content-type"].startswith("text/plain")
    bad = await client.get("/api/webhooks/whatsapp", params={**query, "hub.verify_token": "guess"})
    assert bad.status_code == 403


async def test_whatsapp_messages_are_stored_once_and_open_the_window(client: Client, secured: AppContainer) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "messages": [{
            "from": "919876543210", "id": "wamid.HBgLOTE5ODc2NTQzMjEwFQIAEhgg", "timestamp": "1764320000",
            "type": "text", "text": {"body": "Hello"}}]}}]}]}).encode()
    headers = {"X-Hub-Signature-256": meta_signature_header(APP_SECRET, body), "Content-Type": "application/json"}
    first = await client.post("/api/webhooks/whatsapp", content=body, headers=headers)
    again = await client.post("/api/webhooks/whatsapp", content=body, headers=headers)
    assert [first.json()["data"]["recorded"], again.json()["data"]["recorded"]] == [True, False]
    tampered = await client.post("/api/webhooks/whatsapp", content=body.replace(b"Hello", b"STOP"), headers=headers)
    unsigned = await client.post("/api/webhooks/whatsapp", content=body, headers={"Content-Type": "application/json"})
    assert [tampered.status_code, unsigned.status_code] == [403, 403]
    assert tampered.json()["error"]["code"] == "invalid_signature"
    assert await stored(secured) == (1, 1)
    await apply_all(secured)
    assert await count(secured, "SELECT count(*) FROM whatsapp_windows WHERE phone = :p "
                                "AND last_inbound_at = to_timestamp(1764320000)", p=PHONE) == 1
    event_hash = hashlib.sha256(body).hexdigest()
    assert await count(secured, "SELECT count(*) FROM provider_events WHERE event_id = :e", e=event_hash) == 1


# --- Amazon SES through SNS -----------------------------------------------------------------------------------

async def test_a_signed_bounce_suppresses_the_address(client: Client, secured: AppContainer) -> None:
    await make_customer(client)
    notification = ses_notification(BOUNCE)
    response = await client.post("/api/webhooks/ses", content=json.dumps(notification),
                                 headers={"Content-Type": "text/plain; charset=UTF-8"})
    assert response.status_code == 200 and response.json()["data"]["recorded"] is True
    await apply_all(secured)
    view = await consent_of(client, "email", "asha@example.in")
    assert (view["optedIn"], view["source"], view["reason"]) == (False, "bounce", "NoEmail")


@pytest.mark.parametrize("tamper", ["message", "signature", "unsigned", "not json"])
async def test_tampered_sns_messages_are_refused_and_store_nothing(
        client: Client, secured: AppContainer, tamper: str) -> None:
    notification = ses_notification(BOUNCE)
    if tamper == "message":
        notification["Message"] = notification["Message"].replace("asha@", "someone@")
    elif tamper == "signature":
        notification["Signature"] = base64.b64encode(b"\x00" * 256).decode()
    elif tamper == "unsigned":
        notification = {k: v for k, v in notification.items() if k not in ("Signature", "SigningCertURL")}
    content = "{not json" if tamper == "not json" else json.dumps(notification)
    response = await client.post("/api/webhooks/ses", content=content, headers={"Content-Type": "text/plain"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await stored(secured) == (0, 0)


async def test_a_subscription_confirmation_is_kept_for_the_worker(client: Client, secured: AppContainer) -> None:
    url = ("https://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:ap-south-1:"
           "123456789012:ses-events&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f")
    confirmation = sns_signed({"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
                               "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f",
                               "TopicArn": "arn:aws:sns:ap-south-1:123456789012:ses-events",
                               "Message": "You have chosen to subscribe to the topic.", "SubscribeURL": url,
                               "Timestamp": "2026-11-28T08:59:00.000Z"})
    response = await client.post("/api/webhooks/ses", content=json.dumps(confirmation))
    assert response.status_code == 200
    assert await count(secured, "SELECT count(*) FROM provider_events WHERE kind = 'subscription'") == 1
    event_id = await count(secured, "SELECT id FROM provider_events")
    inbound = secured.messaging.inbound()
    assert await inbound.subscription_url(event_id, lambda host: host == "sns.ap-south-1.amazonaws.com") == url


# --- unsubscribe and consents ---------------------------------------------------------------------------------

async def test_one_click_unsubscribe(client: Client, secured: AppContainer) -> None:
    await make_customer(client)
    token = secured.messaging.unsubscribe_tokens().sign("email", "asha@example.in")
    page = await client.get(f"/api/unsubscribe/{token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post">' in page.text and "as***@example.in" in page.text
    assert await count(secured, "SELECT count(*) FROM customer_consents") == 0  # a GET changes nothing
    done = await client.post(f"/api/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    view = await consent_of(client, "email", "asha@example.in")
    assert (view["optedIn"], view["source"], view["customerId"]) == (False, "unsubscribe_link", "customer-1")
    forged = await client.post(f"/api/unsubscribe/{token[:-4]}abcd", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 404


async def test_consents_by_customer_and_by_address(client: Client, secured: AppContainer) -> None:
    customer = await make_customer(client)
    put = await client.put("/api/communication/consents", json={"channel": "whatsapp", "customerId": customer["id"],
                                                                "optedIn": True, "reason": "asked at the branch"})
    assert put.status_code == 200, put.text
    assert (put.json()["data"]["address"], put.json()["data"]["source"]) == (PHONE, "manual")
    listed = await client.get("/api/communication/consents", params={"customer": customer["id"]})
    assert [(c["channel"], c["optedIn"], c["source"]) for c in listed.json()["data"]["consents"]] == [
        ("email", True, "default"), ("sms", True, "default"), ("whatsapp", True, "manual")]
    missing = await client.get("/api/communication/consents", params={"channel": "sms"})
    assert missing.status_code == 422
    client.headers.pop("Authorization")
    assert (await client.get("/api/communication/consents", params={"customer": customer["id"]})).status_code == 401
