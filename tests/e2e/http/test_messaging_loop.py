"""Messaging end to end on the real stack: send over HTTP, deliver as the worker does, statuses and replies by
signed webhooks; STOP by SMS and a one-click unsubscribe each stop the next send, with the reason shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from dependency_injector import providers

from adapters.memory.email import InMemoryEmailSender
from adapters.memory.sms import InMemorySmsSender
from entrypoints.container import AppContainer
from tests.e2e.http.conftest import make_customer
from tests.e2e.http.test_webhooks_api import PHONE, apply_all, secured, twilio_post
from tests.upload_books import count

__all__ = ["secured"]  # the fixture, imported for the tests below

Client = httpx.AsyncClient


def fake_senders(container: AppContainer) -> tuple[InMemorySmsSender, InMemoryEmailSender]:
    sms, email = InMemorySmsSender(), InMemoryEmailSender(default_from="renewals@desk.localhost")
    container.messaging_providers.sms_sender.override(providers.Object(sms))
    container.outside.email_sender.override(providers.Object(email))
    container.messaging.delivery.reset()
    return sms, email


async def send(client: Client, channel: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/api/communication/{channel}/send", json=body)


async def deliver_queued(container: AppContainer) -> list[str]:
    """Run every queued delivery job, as the worker would; their outcomes in order."""
    async with container.adapters.engine().connect() as conn:
        rows = (await conn.exec_driver_sql(
            "SELECT args->>'message_id' FROM outbox WHERE job_name = 'messaging.deliver' ORDER BY id")).all()
    return [(await container.messaging.delivery().deliver(int(message_id))).outcome for (message_id,) in rows]


async def test_statuses_arrive_out_of_order_and_duplicated_and_count_once(client: Client, secured: AppContainer
                                                                         ) -> None:
    sms, _ = fake_senders(secured)
    await make_customer(client)
    accepted = await send(client, "sms", {"to": PHONE, "message": "Your policy POL-1 is due on 2026-12-13."})
    assert accepted.status_code == 202, accepted.text
    message_id = accepted.json()["data"]["messageId"]
    assert accepted.json()["data"]["status"] == "queued"
    assert await deliver_queued(secured) == ["sent"]
    assert await deliver_queued(secured) == ["skipped"]  # a job run twice sends once
    [(provider_id, sent)] = sms.sent
    assert sent.to == PHONE and sent.reference == message_id

    for status in ["delivered"] * 100 + ["sent"] * 100:  # a late "sent" after "delivered", each a hundred times
        response = await twilio_post(client, "/api/webhooks/twilio/status",
                                     {"MessageSid": provider_id, "MessageStatus": status, "To": PHONE})
        assert response.status_code == 200
    assert await count(secured, "SELECT count(*) FROM provider_events") == 2
    await apply_all(secured)
    view = (await client.get(f"/api/communication/delivery-status/{message_id}")).json()["data"]
    assert view["status"] == "delivered" and view["deliveredAt"] and view["sentAt"]


async def test_stop_by_sms_stops_the_next_send_with_the_reason(client: Client, secured: AppContainer) -> None:
    sms, _ = fake_senders(secured)
    await make_customer(client)
    queued = await send(client, "sms", {"to": PHONE, "message": "Reminder: renew policy POL-1."})
    assert queued.status_code == 202
    reply = await twilio_post(client, "/api/webhooks/twilio/inbound",
                              {"MessageSid": "SM900", "From": PHONE, "To": "+15017122661", "Body": "Stop"})
    assert reply.status_code == 200
    await apply_all(secured)

    refused = await send(client, "sms", {"to": PHONE, "message": "Second reminder."})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "recipient_opted_out"
    assert "opted out by a STOP reply (stop_keyword)" in error["message"] and "replied STOP" in error["message"]
    assert await deliver_queued(secured) == ["failed"]  # the message queued before the STOP is not sent either
    assert sms.sent == []
    receipt = await send(client, "sms", {"to": PHONE, "message": "Payment received, thank you.",
                                         "transactional": True})
    assert receipt.status_code == 202  # a receipt still goes out


async def test_a_one_click_unsubscribe_stops_the_next_email_with_the_reason(client: Client, secured: AppContainer
                                                                            ) -> None:
    _, email = fake_senders(secured)
    await make_customer(client)
    first = await send(client, "email", {"to": "asha@example.in", "subject": "Renewal due",
                                         "content": "<p>Dear Asha, your policy is due.</p>"})
    assert first.status_code == 202, first.text
    assert await deliver_queued(secured) == ["sent"]
    [(_, outbound)] = email.sent
    assert outbound.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = outbound.headers["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path
    assert path.startswith("/api/unsubscribe/")

    done = await client.post(path, data={"List-Unsubscribe": "One-Click"})  # what a mail client POSTs (RFC 8058)
    assert done.status_code == 200
    refused = await send(client, "email", {"to": "asha@example.in", "subject": "Second reminder",
                                           "content": "<p>Please renew.</p>"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "recipient_opted_out"
    assert "opted out with the unsubscribe link (unsubscribe_link)" in refused.json()["error"]["message"]
