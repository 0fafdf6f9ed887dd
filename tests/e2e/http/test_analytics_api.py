"""GET /api/analytics/dashboard and /api/analytics/agents over HTTP on PostgreSQL and Redis: figures, scopes, cache.

The book is tests/contract/analytics_support.py's (today 2026-11-28): cases c1-c7 in the default range.
"""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis

from domain.identity.model import Role
from domain.identity.permissions import Grant, Permission, Scope
from entrypoints.container import AppContainer
from tests.contract.analytics_support import Book, patch_case, seed_book
from tests.identity_support import bearer, make_user, token_for

DASHBOARD = "/api/analytics/dashboard"
AGENTS = "/api/analytics/agents"


async def as_user(sql_container: AppContainer, user: Any) -> dict[str, str]:
    return bearer(await token_for(sql_container, user))


async def custom_role_user(sql_container: AppContainer, name: str, *grants: Grant) -> Any:
    async with sql_container.adapters.identity_uow() as uow:
        await uow.roles.add(Role(id=None, name=name, display_name=name, grants=grants))
        await uow.commit()
    return await make_user(sql_container, name)


def rows(data: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in data[key]}


async def test_the_dashboard_of_the_book(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    book = await seed_book(sql_container)
    response = await client.get(DASHBOARD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["summary"] == {
        "totalCases": 7, "inProgress": 2, "renewed": 2, "pendingAction": 1, "errors": 1, "paymentCollected": 12000,
        "paymentPending": 8000, "dueThisWeek": 1, "dueThisMonth": 2, "pending": 3, "lapsed": 1, "lost": 1,
        "renewalRate": 0.5, "premiumDue": 28000, "premiumCollected": 12000}
    assert (data["dateFrom"], data["dateTo"], data["bucket"]) == ("2026-10-29", "2026-12-28", "day")
    assert data["staleAfterSeconds"] == 60 and data["generatedAt"].startswith("2026-11-28T09:00")
    branches = rows(data, "byBranch")
    assert branches[f"branch-{book.b1}"] == {
        "key": f"branch-{book.b1}", "label": "B1", "due": 2, "renewed": 1, "pending": 1, "lapsed": 0,
        "renewalRate": 1.0, "premiumDue": 4000, "premiumCollected": 3000}
    assert branches["none"]["label"] == "No branch" and branches["none"]["renewalRate"] == 0.0
    agents = rows(data, "byAgent")
    assert agents[f"user-{book.agent_a}"]["label"] == "Asha Agent"
    assert agents["unassigned"]["due"] == 1
    assert {k: r["premiumCollected"] for k, r in rows(data, "byChannel").items()} == {
        "whatsapp": 3000, "sms": 2500, "email": 6500, "none": 0}
    assert [r["key"] for r in data["byPolicyType"]] == ["motor", "health", "life"]  # most due first, then by key
    series = data["timeSeries"]
    assert len(series) == 61 and series[0]["date"] == "2026-10-29"  # every day of the range, empty ones too
    assert {p["date"]: (p["newCases"], p["renewed"], p["collected"], p["successRate"]) for p in series
            if p["newCases"] or p["renewed"] or p["collected"] or p["successRate"] is not None} == {
        "2026-11-18": (4, 0, 0, None), "2026-11-23": (0, 1, 6500, 1.0), "2026-11-25": (4, 0, 0, None),
        "2026-11-26": (0, 1, 3000, 1.0), "2026-11-27": (0, 0, 2500, 0.0), "2026-11-28": (0, 0, 0, 0.0)}


async def test_filters_and_weekly_buckets(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    book = await seed_book(sql_container)
    response = await client.get(DASHBOARD, params={"branch": f"branch-{book.b2}", "policyType": "motor",
                                                   "bucket": "week", "from": "2026-11-01", "to": "2026-11-30"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["summary"]["totalCases"] == 1  # c7, due 8 November (c2 falls due in December)
    assert [p["date"] for p in data["timeSeries"]] == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16",
                                                       "2026-11-23", "2026-11-30"]
    by_agent = await client.get(DASHBOARD, params={"agent": f"user-{book.agent_a}"})
    assert by_agent.json()["data"]["summary"]["totalCases"] == 3


async def test_an_agent_sees_only_the_figures_of_own_cases(client: httpx.AsyncClient,
                                                           sql_container: AppContainer) -> None:
    book = await seed_book(sql_container)
    as_a = await as_user(sql_container, book.staff["a"])
    data = (await client.get(DASHBOARD, headers=as_a)).json()["data"]
    assert data["summary"]["totalCases"] == 4  # c1-c3 assigned, c7 escalated to A
    assert {r["key"] for r in data["byAgent"]} == {f"user-{book.agent_a}", f"user-{book.agent_b}"}
    # a filter cannot widen the reach: B's own cases stay out of A's figures
    data = (await client.get(DASHBOARD, params={"agent": f"user-{book.agent_b}"}, headers=as_a)).json()["data"]
    assert data["summary"]["totalCases"] == 1  # c7 only
    manager = (await client.get(DASHBOARD, headers=await as_user(sql_container, book.staff["m"]))).json()["data"]
    assert manager["summary"]["totalCases"] == 2  # the branch B1: c1, c3
    assert {r["key"] for r in manager["byBranch"]} == {f"branch-{book.b1}"}
    agents = (await client.get(AGENTS, headers=as_a)).json()["data"]["agents"]
    assert {a["userId"]: a["casesHandled"] for a in agents} == {f"user-{book.agent_a}": 3, f"user-{book.agent_b}": 1}


async def test_who_may_read_the_dashboard(anonymous: httpx.AsyncClient, sql_container: AppContainer) -> None:
    await seed_book(sql_container)
    assert (await anonymous.get(DASHBOARD)).status_code == 401
    nobody = await custom_role_user(sql_container, "test_bell_only", Grant(Permission.NOTIFICATIONS_READ))
    refused = await anonymous.get(DASHBOARD, headers=await as_user(sql_container, nobody))
    assert refused.status_code == 403 and refused.json()["success"] is False
    assert (await anonymous.get(AGENTS, headers=await as_user(sql_container, nobody))).status_code == 403
    analyst = await custom_role_user(sql_container, "test_analyst", Grant(Permission.ANALYTICS_READ))
    data = (await anonymous.get(DASHBOARD, headers=await as_user(sql_container, analyst))).json()["data"]
    assert data["summary"]["totalCases"] == 7  # analytics:read alone is unscoped: every case
    own_reader = await custom_role_user(sql_container, "test_own_cases", Grant(Permission.CASES_READ, Scope.OWN),
                                        Grant(Permission.ANALYTICS_READ))
    data = (await anonymous.get(DASHBOARD, headers=await as_user(sql_container, own_reader))).json()["data"]
    assert data["summary"]["totalCases"] == 0  # cases:read narrows it to the caller's own cases: none


async def test_bad_queries_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    for params, field in (({"from": "2026-12-01", "to": "2026-11-01"}, "to"),
                          ({"from": "2024-01-01", "to": "2026-11-01"}, "to"),
                          ({"bucket": "month"}, "bucket"), ({"branch": "branch-x"}, "branch"),
                          ({"agent": "case-3"}, "agent")):
        response = await client.get(DASHBOARD, params=params)
        assert response.status_code == 422, (params, response.text)
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    response = await client.get(DASHBOARD, params={"from": "yesterday"})
    assert response.status_code in (400, 422) and response.json()["success"] is False


async def test_agent_performance(client: httpx.AsyncClient, sql_container: AppContainer) -> None:
    book = await seed_book(sql_container)
    response = await client.get(AGENTS)
    assert response.status_code == 200, response.text
    agents = {a["userId"]: a for a in response.json()["data"]["agents"]}
    assert agents[f"user-{book.agent_a}"] == {
        "userId": f"user-{book.agent_a}", "name": "Asha Agent", "branchId": f"branch-{book.b1}", "branch": "B1",
        "casesHandled": 3, "open": 2, "renewed": 1, "lapsed": 0, "renewalRate": 1.0,
        "avgHoursToFirstContact": 26.5, "collected": 3000}
    assert agents[f"user-{book.agent_b}"]["avgHoursToFirstContact"] == 1.0
    assert (await client.get(AGENTS, params={"from": "2026-10-01", "to": "2026-10-31"})).json()["data"]["agents"] == []


async def test_figures_are_cached_in_redis_for_at_most_60_seconds(client: httpx.AsyncClient,
                                                                  sql_container: AppContainer) -> None:
    book: Book = await seed_book(sql_container)
    first = (await client.get(DASHBOARD)).json()["data"]
    await patch_case(sql_container, book.cases["c1"], status="renewed")  # a change inside the 60 seconds
    again = (await client.get(DASHBOARD)).json()["data"]
    assert again == first  # the cached answer, not recomputed
    redis = Redis.from_url(sql_container.settings.redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match="cache:v:analytics:dashboard:*")]
        assert len(keys) == 1
        assert 0 < await redis.ttl(keys[0]) <= 60
        await redis.delete(keys[0])  # what the expiry does after 60 s
    finally:
        await redis.aclose()
    fresh = (await client.get(DASHBOARD)).json()["data"]
    assert (fresh["summary"]["renewed"], fresh["summary"]["pendingAction"]) == (3, 0)
    filtered = (await client.get(DASHBOARD, params={"policyType": "life"})).json()["data"]
    assert filtered["summary"]["totalCases"] == 2  # another filter, another key
