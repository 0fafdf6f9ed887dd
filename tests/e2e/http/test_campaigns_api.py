"""The campaigns API over HTTP on the real stack: segments, one campaign per channel, drafts and edits, status
moves, recipients, permissions, idempotency, the public tracking routes and analytics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from adapters.system.clock import FixedClock
from application.campaigns.tracking import TrackingKind
from domain.identity.model import Role
from domain.identity.permissions import Grant, Permission
from entrypoints.container import AppContainer
from entrypoints.http.campaigns.tracking import PIXEL
from tests.e2e.http.conftest import make_customer, make_policy
from tests.identity_support import bearer, ensure_roles, make_user, token_for

Client = httpx.AsyncClient
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
EMAIL = {"name": "Renewal notice", "type": "email", "subject": "Policy {policy_number} is due",
         "content": '<p>Dear {name}, <a href="https://pay.example.in/r?p={policy_number}">renew now</a>.</p>'}
SMS = {"name": "Renewal SMS", "type": "sms", "content": "Dear {name}, renew {policy_number}: https://pay.example.in/s"}
MOTOR = {"field": "policy.policy_type", "op": "eq", "value": "motor"}


async def template(client: Client, body: dict[str, Any]) -> str:
    response = await client.post("/api/templates", json=body)
    assert response.status_code == 201, response.text
    ident: str = response.json()["data"]["templateId"]
    return ident


async def book(client: Client, sql_container: AppContainer, clock: FixedClock) -> None:
    """Three customers with a policy due in 20 days (two motor, one health); one has no e-mail address."""
    end = (clock.today() + timedelta(days=20)).isoformat()
    start = (clock.today() - timedelta(days=345)).isoformat()
    people = [("Asha", "asha@example.in", "motor"), ("Ravi", "ravi@example.in", "motor"), ("Meera", None, "health")]
    for index, (first, email, kind) in enumerate(people):
        customer = await make_customer(client, firstName=first, email=email, phone=f"98765432{index:02d}")
        await make_policy(client, customer["id"], policyType=kind, startDate=start, endDate=end)
    assert await sql_container.application.cases().open_due_cases() == 3


def fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


@pytest.fixture
async def templates(client: Client) -> dict[str, str]:
    return {"email": await template(client, EMAIL), "sms": await template(client, SMS)}


async def test_a_segment_campaign_on_two_channels_from_preview_to_cancel(
        client: Client, sql_container: AppContainer, clock: FixedClock, templates: dict[str, str]) -> None:
    await book(client, sql_container, clock)
    preview = await client.post("/api/segments/preview", json={"filter": MOTOR, "channel": "email"})
    assert preview.status_code == 200, preview.text
    assert (preview.json()["data"]["count"], preview.json()["data"]["excluded"]) == (2, {"optedOut": 0,
                                                                                         "noAddress": 0})
    everyone = (await client.post("/api/segments/preview", json={"filter": {"field": "policy.status", "op": "eq",
                                                                            "value": "active"}})).json()["data"]
    assert (everyone["count"], everyone["excluded"]["noAddress"]) == (2, 1)
    saved = await client.post("/api/segments", json={"name": "Motor", "filter": MOTOR})
    assert saved.status_code == 201 and saved.json()["data"]["id"] == "segment-1"
    assert [s["name"] for s in (await client.get("/api/segments")).json()["data"]["segments"]] == ["Motor"]

    created = await client.post("/api/campaigns", json={
        "name": "May Renewals Campaign", "type": ["email", "sms"], "segmentId": "segment-1", "templates": templates})
    assert created.status_code == 201, created.text
    campaigns = created.json()["data"]["campaigns"]
    assert [(c["name"], c["type"], c["status"], c["targetCount"]) for c in campaigns] == [
        ("May Renewals Campaign (Email)", "email", "active", 2), ("May Renewals Campaign (SMS)", "sms", "active", 2)]
    email_id = campaigns[0]["id"]
    one = (await client.get(f"/api/campaigns/{email_id}")).json()["data"]
    assert (one["audience"], one["recipients"]["total"], one["templateId"]) == (
        {"kind": "segment", "segmentId": "segment-1", "filter": MOTOR}, 2, templates["email"])
    listed = (await client.get("/api/campaigns", params={"type": "sms", "status": "active,paused"})).json()["data"]
    assert [c["id"] for c in listed["campaigns"]] == [campaigns[1]["id"]] and listed["pagination"]["total"] == 1
    recipients = (await client.get(f"/api/campaigns/{email_id}/recipients")).json()["data"]
    assert sorted(r["address"] for r in recipients["recipients"]) == ["asha@example.in", "ravi@example.in"]

    paused = await client.put(f"/api/campaigns/{email_id}/status", json={"status": "paused"})
    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    edit = await client.patch(f"/api/campaigns/{email_id}", json={"name": "Too late"})
    assert edit.status_code == 409 and edit.json()["error"]["currentStatus"] == "paused"
    assert (await client.put(f"/api/campaigns/{email_id}/status", json={"status": "cancelled"})).status_code == 200
    again = await client.put(f"/api/campaigns/{email_id}/status", json={"status": "active"})
    assert again.status_code == 409 and again.json()["error"]["currentStatus"] == "cancelled"
    assert (await client.put(f"/api/campaigns/{email_id}/status", json={"status": "done"})).status_code == 422


async def test_a_draft_is_edited_then_launched_and_posts_are_idempotent(
        client: Client, sql_container: AppContainer, clock: FixedClock, templates: dict[str, str]) -> None:
    await book(client, sql_container, clock)
    body = {"name": "Draft", "type": ["email"], "targetAudience": "all", "templates": {"email": templates["email"]},
            "launch": False}
    first = await client.post("/api/campaigns", json=body, headers={"Idempotency-Key": "k-1"})
    again = await client.post("/api/campaigns", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    reused = await client.post("/api/campaigns", json={**body, "name": "Other"}, headers={"Idempotency-Key": "k-1"})
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    draft = first.json()["data"]["campaigns"][0]
    assert (draft["status"], draft["targetCount"]) == ("draft", 2)
    patched = await client.patch(f"/api/campaigns/{draft['id']}", json={"name": "June (Email)",
                                                                         "filter": MOTOR})
    assert patched.status_code == 200 and patched.json()["data"]["name"] == "June (Email)"
    launched = await client.put(f"/api/campaigns/{draft['id']}/status", json={"status": "active"})
    assert launched.status_code == 200 and launched.json()["data"]["status"] == "active"
    total = (await client.get(f"/api/campaigns/{draft['id']}")).json()["data"]["recipients"]["total"]
    assert total == 2
    sample = await client.post(f"/api/campaigns/{draft['id']}/test-send", json={"to": "Desk@Example.in"})
    assert sample.status_code == 200, sample.text
    assert (sample.json()["data"]["to"], bool(sample.json()["data"]["messageId"])) == ("desk@example.in", True)
    assert (await client.post(f"/api/campaigns/{draft['id']}/test-send", json={"to": "desk"})).status_code == 422
    later = {"name": "Later", "type": "sms", "targetAudience": "all", "templates": {"sms": templates["sms"]},
             "scheduleType": "scheduled", "scheduledAt": (clock.now() + timedelta(days=2)).isoformat()}
    scheduled = await client.post("/api/campaigns", json=later)
    assert scheduled.status_code == 201 and scheduled.json()["data"]["campaigns"][0]["status"] == "scheduled"
    no_upload = await client.post("/api/campaigns", json={**later, "uploadId": "upload-99", "targetAudience": None})
    assert no_upload.status_code == 422 and fields(no_upload) == {"uploadId"}


async def test_invalid_campaigns_name_every_field(client: Client, templates: dict[str, str]) -> None:
    response = await client.post("/api/campaigns", json={
        "name": "", "type": ["email", "fax"], "templates": {"email": templates["sms"]}, "scheduleType": "scheduled"})
    assert response.status_code == 422
    assert fields(response) == {"name", "type", "targetAudience", "templates.email", "scheduledAt"}
    assert (await client.get("/api/campaigns")).json()["data"]["pagination"]["total"] == 0
    assert (await client.get("/api/campaigns/campaign-x")).status_code == 404
    assert (await client.get("/api/campaigns", params={"status": "sleeping"})).status_code == 422


async def test_launching_needs_the_launch_permission(client: Client, sql_container: AppContainer,
                                                     templates: dict[str, str]) -> None:
    await ensure_roles(sql_container)
    async with sql_container.adapters.identity_uow() as uow:
        await uow.roles.add(Role(id=None, name="test_campaign_writer", display_name="Campaign writer",
                                 grants=(Grant(Permission.CAMPAIGNS_READ), Grant(Permission.CAMPAIGNS_WRITE))))
        await uow.commit()
    writer = bearer(await token_for(sql_container, await make_user(sql_container, "test_campaign_writer")))
    body = {"name": "Mine", "type": "email", "targetAudience": "all", "templates": {"email": templates["email"]}}
    assert (await client.post("/api/campaigns", json=body, headers=writer)).status_code == 403
    draft = await client.post("/api/campaigns", json={**body, "launch": False}, headers=writer)
    assert draft.status_code == 201
    ident = draft.json()["data"]["campaigns"][0]["id"]
    refused = await client.put(f"/api/campaigns/{ident}/status", json={"status": "active"}, headers=writer)
    assert refused.status_code == 403
    viewer = bearer(await token_for(sql_container, await make_user(sql_container, "viewer")))
    assert (await client.post("/api/segments", json={"name": "x", "filter": MOTOR}, headers=viewer)).status_code \
        == 403


async def test_tracking_routes_are_public_and_feed_the_analytics(
        client: Client, sql_container: AppContainer, clock: FixedClock,
        templates: dict[str, str]) -> None:
    await book(client, sql_container, clock)
    created = await client.post("/api/campaigns", json={"name": "Track", "type": ["email"], "filter": MOTOR,
                                                        "templates": {"email": templates["email"]}})
    ident = created.json()["data"]["campaigns"][0]["id"]
    recipient = (await client.get(f"/api/campaigns/{ident}/recipients")).json()["data"]["recipients"][0]
    tokens = sql_container.campaigns.tracking_tokens()
    public = httpx.AsyncClient(transport=client._transport, base_url="http://testserver",
                               headers={"User-Agent": CHROME})

    pixel = await public.get(f"/t/o/{tokens.sign(recipient['id'], TrackingKind.OPEN)}")
    assert (pixel.status_code, pixel.headers["content-type"], pixel.content) == (200, "image/gif", PIXEL)
    seen = (await client.get(f"/api/campaigns/{ident}/recipients")).json()["data"]["recipients"][0]
    assert (seen["id"], seen["openedAt"], seen["clickedAt"]) == (recipient["id"], "2026-11-28T09:00:00Z", None)
    bad_pixel = await public.get("/t/o/not-a-token")
    assert (bad_pixel.status_code, bad_pixel.content) == (200, PIXEL)
    assert (await public.get("/t/c/not-a-token")).status_code == 404
    clock.advance(timedelta(minutes=5))
    click = await public.get(f"/t/c/{tokens.sign(recipient['id'], TrackingKind.CLICK, 0)}")
    assert click.status_code == 302, click.text
    location = click.headers["location"]
    assert location.startswith("https://pay.example.in/r?p=") and len(location) > 27 and "{" not in location
    assert click.headers["referrer-policy"] == "no-referrer"

    analytics = await client.get(f"/api/campaigns/{ident}/analytics", params={"bucket": "day"})
    assert analytics.status_code == 200, analytics.text
    data = analytics.json()["data"]
    assert (data["metrics"]["humanOpened"], data["metrics"]["humanClicked"]) == (1, 1)
    assert data["topPerformingContent"] == [{"kind": "link", "link": "https://pay.example.in/r?p={policy_number}",
                                             "clicks": 1, "humanClicks": 1, "uniqueHumanClicks": 1}]
    assert (await client.get(f"/api/campaigns/{ident}/analytics", params={"bucket": "week"})).status_code == 422
    await public.aclose()
