"""The /api/templates endpoints over HTTP, on the real stack: CRUD, validation, conflicts, previews, permissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from adapters.system.clock import FixedClock
from entrypoints.container import AppContainer
from tests.identity_support import bearer, make_user, token_for

Client = httpx.AsyncClient

EMAIL = {"name": "Renewal notice", "type": "email", "subject": "Policy {policy_number} renews on {renewal_date}",
         "content": "<p>Dear {customer_name}, renew at <a href=\"{renewal_link}\">this link</a>.</p>",
         "category": "renewal"}
SMS = {"name": "Renewal SMS", "type": "sms", "content": "Dear {customer_name}, policy {policy_number} is due.",
       "dltTemplateId": "1107161234567890123"}


async def create(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/templates", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def error_fields(response: httpx.Response) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


async def test_a_template_is_created_read_listed_patched_and_deleted(client: Client) -> None:
    created = await create(client, EMAIL)
    assert created["templateId"] == "template-1" and created["message"] == "Template created successfully"
    template = created["template"]
    assert template["variables"] == ["policy_number", "renewal_date", "customer_name", "renewal_link"]
    assert (template["isActive"], template["language"], template["createdAt"][-1]) == (True, "en", "Z")
    for ident in ("template-1", "1"):
        got = await client.get(f"/api/templates/{ident}")
        assert got.status_code == 200 and got.json() == {"success": True, "data": template}
    listed = (await client.get("/api/templates", params={"type": "email,whatsapp", "active": "true"})).json()["data"]
    assert [t["id"] for t in listed["templates"]] == ["template-1"] and listed["pagination"]["total"] == 1
    patched = await client.patch("/api/templates/template-1", json={"isActive": False, "name": "Renewal (old)"})
    assert patched.status_code == 200
    assert (patched.json()["data"]["isActive"], patched.json()["data"]["name"]) == (False, "Renewal (old)")
    assert (await client.get("/api/templates", params={"active": "true"})).json()["data"]["templates"] == []
    deleted = await client.delete("/api/templates/template-1")
    assert deleted.status_code == 204 and not deleted.content
    assert (await client.get("/api/templates/template-1")).status_code == 404
    assert (await client.delete("/api/templates/template-1")).status_code == 404


async def test_invalid_templates_are_422_with_every_field_named(client: Client) -> None:
    undeclared = await client.post("/api/templates", json={**EMAIL, "variables": ["customer_name"]})
    assert undeclared.status_code == 422 and undeclared.json()["error"]["code"] == "validation_failed"
    assert "policy_number" in error_fields(undeclared)["variables"]
    many = await client.post("/api/templates", json={"name": " ", "type": "fax", "content": ""})
    assert many.status_code == 422 and set(error_fields(many)) == {"name", "type", "content"}
    no_subject = await client.post("/api/templates", json={**EMAIL, "subject": None})
    assert no_subject.status_code == 422 and set(error_fields(no_subject)) == {"subject"}
    too_long = await client.post("/api/templates", json={**SMS, "content": "x" * 1601})
    assert too_long.status_code == 422 and set(error_fields(too_long)) == {"content"}
    assert (await client.get("/api/templates")).json()["data"]["pagination"]["total"] == 0


async def test_a_duplicate_name_on_one_channel_and_language_is_409(client: Client) -> None:
    await create(client, SMS)
    again = await client.post("/api/templates", json={**SMS, "name": "renewal sms"})
    assert again.status_code == 409 and error_fields(again).keys() == {"name"}
    other_channel = await create(client, {**SMS, "type": "whatsapp"})
    assert other_channel["templateId"] == "template-2"
    renamed = await client.patch(f"/api/templates/{other_channel['templateId']}", json={"type": "sms"})
    assert renamed.status_code == 409


async def test_previews_escape_email_values_and_count_sms_segments(client: Client, clock: FixedClock) -> None:
    await create(client, EMAIL)
    await create(client, SMS)
    email = await client.post("/api/templates/template-1/preview", json={"data": {"customer_name": "<b>Asha</b>"}})
    assert email.status_code == 200
    preview = email.json()["data"]
    due = (clock.today() + timedelta(days=15)).isoformat()
    assert preview["subject"] == f"Policy POL-2026-000123 renews on {due}"
    assert "Dear &lt;b&gt;Asha&lt;/b&gt;" in preview["html"] and "Dear <b>Asha</b>" in preview["text"]
    assert preview["missing"] == ["policy_number", "renewal_date", "renewal_link"]
    sample = (await client.post("/api/templates/template-2/preview")).json()["data"]
    assert (sample["encoding"], sample["segments"]) == ("GSM-7", 1)
    assert sample["body"] == "Dear Asha Rao, policy POL-2026-000123 is due."
    hindi = (await client.post("/api/templates/template-2/preview",
                               json={"data": {"customer_name": "आशा राव"}})).json()["data"]
    assert hindi["encoding"] == "UCS-2" and hindi["characters"] == len(hindi["body"])
    assert (await client.post("/api/templates/template-9/preview")).status_code == 404


async def test_an_agent_may_read_and_preview_but_not_write(client: Client, sql_container: AppContainer) -> None:
    await create(client, SMS)
    agent = await make_user(sql_container, "agent")
    headers = bearer(await token_for(sql_container, agent))
    assert (await client.get("/api/templates", headers=headers)).status_code == 200
    assert (await client.post("/api/templates/template-1/preview", headers=headers)).status_code == 200
    assert (await client.post("/api/templates", json={**SMS, "name": "x"}, headers=headers)).status_code == 403
    assert (await client.patch("/api/templates/template-1", json={"isActive": False},
                               headers=headers)).status_code == 403
    assert (await client.delete("/api/templates/template-1", headers=headers)).status_code == 403
