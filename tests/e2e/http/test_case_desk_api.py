"""The desk's case actions over HTTP on the real app, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from adapters.sqlalchemy.tables.cases import case_events
from adapters.sqlalchemy.tables.shared import outbox
from application.policies.desk_jobs import NOTIFY_ASSIGNEE
from entrypoints.container import AppContainer
from entrypoints.worker.desk_tasks import notify_assignee
from tests.case_desk_support import make_team
from tests.e2e.http.conftest import make_customer, make_policy
from tests.identity_support import bearer, token_for


async def _cases(client: httpx.AsyncClient, container: AppContainer, branches: list[int | None]) -> list[str]:
    customer = await make_customer(client)
    numbers = []
    for branch in branches:
        body: dict[str, Any] = {"endDate": "2026-12-20"} | ({"branchId": f"branch-{branch}"} if branch else {})
        numbers.append((await make_policy(client, customer["id"], **body))["id"])
    await container.application.cases().open_due_cases()
    listed = (await client.get("/api/cases", params={"limit": 100})).json()["data"]["cases"]
    by_policy = {c["policyId"]: c["id"] for c in listed}
    return [by_policy[n] for n in numbers]


async def _as(client: httpx.AsyncClient, container: AppContainer, user_id: int) -> dict[str, str]:
    async with container.adapters.identity_uow() as uow:
        user = await uow.users.get(user_id)
    assert user is not None
    return bearer(await token_for(container, user))


async def test_status_changes_follow_the_workflow(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    [case] = await _cases(client, sql_container, [None])
    moved = await client.put(f"/api/cases/{case}/status", json={"status": "in_progress"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["status"] == "in_progress"
    back = await client.put(f"/api/cases/{case}/status", json={"status": "new"})
    assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"
    by_hand = await client.put(f"/api/cases/{case}/status", json={"status": "renewed"})
    assert by_hand.status_code == 422
    assert by_hand.json()["error"]["details"][0]["field"] == "status"
    lost = await client.put(f"/api/cases/{case}/status", json={"status": "lost"})
    assert lost.status_code == 422 and lost.json()["error"]["details"][0]["field"] == "reason"
    closed = await client.put(f"/api/cases/{case}/status", json={"status": "lost", "reason": "moved abroad"})
    assert closed.json()["data"]["closedAt"] is not None
    missing = await client.put("/api/cases/case-9999/status", json={"status": "contacted"})
    assert missing.status_code == 404
    engine = sql_container.adapters.engine()
    assert engine is not None
    async with engine.connect() as conn:
        kinds = (await conn.scalars(select(case_events.c.kind).order_by(case_events.c.id))).all()
    assert kinds == ["status_changed", "status_changed"]


async def test_scopes_and_permissions(client: httpx.AsyncClient, anonymous: httpx.AsyncClient,
                                      sql_container: AppContainer) -> None:
    team = await make_team(sql_container)
    mine, other = await _cases(client, sql_container, [team.branch1, team.branch1])
    assigned = await client.post(f"/api/cases/{mine}/assign", json={"assigneeId": f"user-{team.agents[0]}"})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["data"]["assignedTo"] == f"user-{team.agents[0]}"
    agent = await _as(client, sql_container, team.agents[0])
    note = await anonymous.post(f"/api/cases/{mine}/notes", json={"text": "promised to pay"}, headers=agent)
    assert note.status_code == 201 and note.json()["data"]["kind"] == "note_added"
    hidden = await anonymous.post(f"/api/cases/{other}/notes", json={"text": "x"}, headers=agent)
    assert hidden.status_code == 404
    forbidden = await anonymous.post(f"/api/cases/{mine}/assign", json={"assigneeId": team.agents[1]},
                                     headers=agent)
    assert forbidden.status_code == 403
    escalated = await anonymous.post(f"/api/cases/{mine}/escalate", headers=agent,
                                     json={"toUserId": f"user-{team.manager}", "reason": "asks for a discount"})
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["data"]["escalatedTo"] == f"user-{team.manager}"
    manager = await _as(client, sql_container, team.manager)
    elsewhere = await anonymous.post(f"/api/cases/{other}/assign", headers=manager,
                                     json={"assigneeId": f"user-{team.other_agent}"})
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["details"][0]["field"] == "assigneeId"
    priority = await anonymous.put(f"/api/cases/{other}/priority", json={"priority": "urgent"}, headers=manager)
    assert priority.status_code == 200 and priority.json()["data"]["priority"] == "urgent"


async def test_bulk_round_robin_and_capacity(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    team = await make_team(sql_container)
    cases = await _cases(client, sql_container, [team.branch1] * 5)
    a1, a2, a3 = (f"user-{a}" for a in team.agents)
    cap = await client.put(f"/api/agents/{a1}/capacity", json={"maxOpenCases": 1})
    assert cap.status_code == 200 and cap.json()["data"] == {
        "userId": a1, "maxOpenCases": 1, "openCases": 0, "available": 1, "lastAssignedAt": None}
    bad = await client.put(f"/api/agents/{a1}/capacity", json={"maxOpenCases": -1})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "maxOpenCases"
    bulk = await client.post("/api/cases/assign", json={"caseIds": cases[:2], "assigneeId": a1})
    assert bulk.status_code == 409  # two cases, room for one
    refused = await client.post("/api/cases/assign", json={"caseIds": [cases[0], "case-999"], "assigneeId": a2})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "caseIds[1]"
    done = await client.post("/api/cases/assign", json={"caseIds": cases[:2], "assigneeId": a2})
    assert done.status_code == 200 and [c["assignedTo"] for c in done.json()["data"]["cases"]] == [a2, a2]
    auto = await client.post("/api/cases/auto-assign", json={"branchId": f"branch-{team.branch1}"})
    assert auto.status_code == 200, auto.text
    given = {c["caseId"]: c["assigneeId"] for c in auto.json()["data"]["assigned"]}
    assert given == {cases[2]: a1, cases[3]: a3, cases[4]: a2}  # a2 was assigned last; a1 then has no room
    capacity = (await client.get(f"/api/agents/{a1}/capacity")).json()["data"]
    assert (capacity["openCases"], capacity["available"]) == (1, 0)


async def test_the_assignee_is_told_over_redis(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    team = await make_team(sql_container)
    [case] = await _cases(client, sql_container, [team.branch1])
    events = sql_container.outside.user_events()
    stream = events.subscribe(team.agents[2])
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.2)  # the subscription is in place before the notice
    assert (await client.post(f"/api/cases/{case}/assign", json={"assigneeId": team.agents[2]})).status_code == 200
    engine = sql_container.adapters.engine()
    assert engine is not None
    async with engine.connect() as conn:
        [args] = (await conn.scalars(select(outbox.c.args).where(outbox.c.job_name == NOTIFY_ASSIGNEE))).all()
    assert await notify_assignee({"desk": sql_container.desk}, **args)
    notice = await asyncio.wait_for(first, timeout=5)
    await stream.aclose()
    assert notice["type"] == "case.assigned" and notice["data"]["caseId"] == case
