"""/api/communication over the real app: sends are queued (202), idempotent, listed and followed."""

from __future__ import annotations

import uuid

import httpx

SMS = {"to": "+919876543210", "message": "Your policy is due for renewal"}


async def test_an_sms_is_queued_and_its_status_can_be_followed(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/communication/sms/send", json=SMS)
    assert response.status_code == 202, response.text
    accepted = response.json()["data"]
    assert accepted["status"] == "queued" and accepted["messageId"].startswith("msg-")
    assert accepted["cost"] is None and accepted["segments"] == 1 and accepted["encoding"] == "GSM-7"
    status = await client.get(f"/api/communication/delivery-status/{accepted['messageId']}")
    assert status.status_code == 200, status.text
    assert status.json()["data"]["messageId"] == accepted["messageId"]
    assert status.json()["data"]["to"] == SMS["to"]
    listed = await client.get("/api/communication/messages", params={"channel": "sms", "recipient": SMS["to"]})
    assert listed.status_code == 200, listed.text
    assert accepted["messageId"] in [m["messageId"] for m in listed.json()["data"]["messages"]]


async def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(client: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/communication/sms/send", json=SMS, headers=key)
    again = await client.post("/api/communication/sms/send", json=dict(reversed(list(SMS.items()))), headers=key)
    assert first.status_code == again.status_code == 202, again.text
    assert again.json()["data"] == first.json()["data"]
    other = await client.post("/api/communication/sms/send", json={**SMS, "message": "Another text"}, headers=key)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


async def test_refusals_name_their_reason(client: httpx.AsyncClient) -> None:
    invalid = await client.post("/api/communication/email/send", json={"to": "nobody", "content": "<p>Hi</p>"})
    assert invalid.status_code == 422
    assert sorted(d["field"] for d in invalid.json()["error"]["details"]) == ["subject", "to"]
    closed = await client.post("/api/communication/whatsapp/send", json={"to": "+919876543210", "message": "Hi"})
    assert closed.status_code == 422 and closed.json()["error"]["code"] == "whatsapp_window_closed"
    missing = await client.get("/api/communication/delivery-status/msg-999999")
    assert missing.status_code == 404


async def test_sending_needs_a_signed_in_user(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/api/communication/sms/send", json=SMS)
    assert response.status_code == 401
