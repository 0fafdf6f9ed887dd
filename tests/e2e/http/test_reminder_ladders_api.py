"""Reminder ladders and a case's reminders over HTTP, on the real app, PostgreSQL and Redis."""

from __future__ import annotations

from datetime import timedelta

import httpx
from dependency_injector import providers

from adapters.memory.case_messenger import InMemoryCaseMessenger
from entrypoints.container import AppContainer
from tests.e2e.http.conftest import make_customer, make_policy
from tests.factories import TODAY
from tests.identity_support import bearer, make_user, token_for

HEALTH = {"steps": [
    {"offsetDays": -20, "channels": ["email"], "template": "renewal_reminder_15_days"},
    {"offsetDays": -3, "channels": ["whatsapp", "sms"], "template": "renewal_reminder_1_day", "fallback": True,
     "always": ["email"]},
]}


async def test_ladders_default_put_get_and_delete(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/api/reminder-ladders")).json()["data"]
    assert [s["offsetDays"] for s in listed["default"]["steps"]] == [-30, -15, -7, -1, 3]
    assert listed["default"]["steps"][0] == {"offsetDays": -30, "channels": ["whatsapp", "sms"],
                                             "template": "renewal_reminder_30_days", "fallback": True,
                                             "always": ["email"]}
    assert listed["ladders"] == [] and "health" in listed["policyTypes"]
    put = await client.put("/api/reminder-ladders/Health", json=HEALTH)
    assert put.status_code == 200, put.text
    saved = put.json()["data"]
    assert (saved["policyType"], saved["isDefault"], saved["updatedBy"]) == ("health", False, saved["updatedBy"])
    assert saved["updatedBy"].startswith("user-")
    assert saved["steps"][0] == {"offsetDays": -20, "channels": ["email"], "template": "renewal_reminder_15_days",
                                 "fallback": True, "always": []}
    assert (await client.get("/api/reminder-ladders/health")).json()["data"]["steps"] == saved["steps"]
    motor = (await client.get("/api/reminder-ladders/motor")).json()["data"]
    assert (motor["isDefault"], len(motor["steps"])) == (True, 5)
    assert [ladder["policyType"] for ladder in (await client.get("/api/reminder-ladders")).json()["data"]["ladders"]
            ] == ["health"]
    deleted = await client.delete("/api/reminder-ladders/health")
    assert deleted.status_code == 200 and deleted.json()["data"]["isDefault"] is True
    assert (await client.get("/api/reminder-ladders")).json()["data"]["ladders"] == []


async def test_the_default_ladder_itself_can_be_replaced(client: httpx.AsyncClient) -> None:
    assert (await client.put("/api/reminder-ladders/*", json=HEALTH)).status_code == 200
    motor = (await client.get("/api/reminder-ladders/motor")).json()["data"]
    assert (motor["isDefault"], [s["offsetDays"] for s in motor["steps"]]) == (True, [-20, -3])
    await client.delete("/api/reminder-ladders/*")
    assert len((await client.get("/api/reminder-ladders/motor")).json()["data"]["steps"]) == 5


async def test_a_bad_ladder_is_a_422_naming_every_field_and_stores_nothing(client: httpx.AsyncClient) -> None:
    bad = {"steps": [
        {"offsetDays": -5, "channels": ["pigeon"], "template": " "},
        {"offsetDays": -200, "channels": [], "template": "x"},
    ]}
    response = await client.put("/api/reminder-ladders/motor", json=bad)
    assert response.status_code == 422, response.text
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"steps[0].channels", "steps[0].template", "steps[1].offsetDays", "steps[1].channels",
            "steps"} <= fields
    unknown = await client.put("/api/reminder-ladders/spaceship", json=HEALTH)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "policyType"
    extra = await client.put("/api/reminder-ladders/motor", json={"steps": [{"offsetDays": "soon"}]})
    assert extra.status_code in (400, 422)
    assert (await client.get("/api/reminder-ladders")).json()["data"]["ladders"] == []


async def test_only_settings_managers_change_ladders(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    agent = bearer(await token_for(sql_container, await make_user(sql_container, "agent")))
    assert (await client.put("/api/reminder-ladders/motor", json=HEALTH, headers=agent)).status_code == 403
    assert (await client.delete("/api/reminder-ladders/motor", headers=agent)).status_code == 403
    assert (await client.get("/api/reminder-ladders", headers=agent)).status_code == 200


async def test_a_cases_reminders_show_what_was_sent_and_what_is_to_come(
        client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    messenger = InMemoryCaseMessenger()
    sql_container.bridges.case_messenger.override(providers.Object(messenger))
    customer = await make_customer(client)
    renewal = TODAY + timedelta(days=30)
    await make_policy(client, customer["id"], startDate=(renewal - timedelta(days=365)).isoformat(),
                      endDate=renewal.isoformat())
    await sql_container.application.cases().open_due_cases()
    case_id = (await client.get("/api/cases")).json()["data"]["cases"][0]["id"]
    messenger.refuse("whatsapp", int(customer["id"].split("-")[1]))
    report = await sql_container.reminders.reminders().send_due()
    assert report.sent == 1
    response = await client.get(f"/api/cases/{case_id}/reminders")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["caseId"], data["policyType"], data["stopped"]) == (case_id, "motor", False)
    [send] = data["sends"]
    assert (send["offsetDays"], send["status"], send["dueOn"]) == (-30, "queued", TODAY.isoformat())
    assert [(c["channel"], c["status"], c["code"]) for c in send["channels"]] == [
        ("whatsapp", "refused", "recipient_opted_out"), ("sms", "queued", None), ("email", "queued", None)]
    assert [u["offsetDays"] for u in data["upcoming"]] == [-15, -7, -1, 3]
    agent = bearer(await token_for(sql_container, await make_user(sql_container, "agent")))
    assert (await client.get(f"/api/cases/{case_id}/reminders", headers=agent)).status_code == 404  # not theirs
    assert (await client.get("/api/cases/case-999/reminders")).status_code == 404
