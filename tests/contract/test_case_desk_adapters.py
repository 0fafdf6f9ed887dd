"""The desk's repositories and use cases behave alike on the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.system.clock import FixedClock
from application.policies.desk_commands import Assignment, AutoAssignment, CapacityChange, StatusChange
from application.policies.desk_ports import CaseEvent
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from domain.identity.model import UserStatus
from domain.shared.errors import Conflict
from entrypoints.container import AppContainer
from tests.case_desk_support import ADMIN, ids, make_team, open_cases
from tests.conftest import NOW
from tests.identity_support import make_user


async def test_case_events_are_appended_listed_in_time_order_and_found(container: AppContainer) -> None:
    a, b = await open_cases(container, [None, None])
    later = NOW + timedelta(minutes=1)
    async with container.desk.storage.desk_uow() as uow:
        await uow.events.append([
            CaseEvent(case_id=a, kind="note_added", actor_id=None, at=later, summary="second", data={"n": 2}),
            CaseEvent(case_id=a, kind="contacted", actor_id=None, at=NOW, summary="first",
                      data={"messageId": "17", "channel": "sms"}),
            CaseEvent(case_id=b, kind="contacted", actor_id=None, at=NOW, summary="other", data={"messageId": "18"})])
        await uow.commit()
    async with container.desk.storage.desk_uow() as uow:
        rows = await uow.events.list_for_case(a)
        assert [(r.summary, r.data) for r in rows] == [("first", {"messageId": "17", "channel": "sms"}),
                                                       ("second", {"n": 2})]
        assert all(r.id is not None for r in rows)
        assert await uow.events.exists(a, "contacted", "messageId", "17")
        assert not await uow.events.exists(a, "contacted", "messageId", "18")
        assert not await uow.events.exists(a, "note_added", "messageId", "17")


async def test_uncommitted_rows_are_dropped(container: AppContainer) -> None:
    [a] = await open_cases(container, [None])
    async with container.desk.storage.desk_uow() as uow:
        await uow.events.append([CaseEvent(case_id=a, kind="note_added", actor_id=None, at=NOW, summary="x")])
    async with container.desk.storage.desk_uow() as uow:
        assert await uow.events.list_for_case(a) == []


async def test_staff_and_the_branch_pool(container: AppContainer) -> None:
    team = await make_team(container)
    inactive = await make_user(container, "agent", branch_id=team.branch1, status=UserStatus.INACTIVE)
    async with container.desk.storage.desk_uow() as uow:
        manager, agent, viewer = [await uow.agents.staff(u) for u in (team.manager, team.agents[0], team.viewer)]
        assert manager is not None and (manager.can_hold_cases, manager.can_assign) == (True, True)
        assert agent is not None and (agent.can_hold_cases, agent.can_assign, agent.active) == (True, False, True)
        assert agent.branch_id == team.branch1 and agent.name.startswith("Test ")
        assert viewer is not None and not viewer.can_hold_cases
        assert await uow.agents.staff(99999) is None
        assert inactive.id is not None
        gone = await uow.agents.staff(inactive.id)
        assert gone is not None and not gone.active
        pool = await uow.agents.lock_branch_agents(team.branch1)
        assert [s.user_id for s in pool] == sorted(team.agents)
        assert all(s.max_open_cases is None and s.open_cases == 0 and s.last_assigned_at is None for s in pool)
        await uow.agents.set_capacity(team.agents[0], 4)
        await uow.agents.mark_assigned(team.agents[0], NOW)
        await uow.commit()
    async with container.desk.storage.desk_uow() as uow:
        slot = await uow.agents.slot(team.agents[0])
        assert (slot.max_open_cases, slot.last_assigned_at, slot.branch_id) == (4, NOW, team.branch1)
        fresh = await uow.agents.slot(team.agents[1])
        assert (fresh.max_open_cases, fresh.open_cases) == (None, 0)


async def test_open_counts_branches_and_unassigned_cases(container: AppContainer) -> None:
    team = await make_team(container)
    low, urgent, other, closed = await open_cases(container, [team.branch1], renewal_in_days=40,
                                                  premium=Decimal("1000.00")) + await open_cases(
        container, [team.branch1, team.branch2, team.branch1], renewal_in_days=3, premium=Decimal("90000.00"))
    assign = container.desk.assignment()
    await container.desk.cases().change_status(closed, StatusChange(status="cancelled", reason="dup"), ADMIN)
    async with container.desk.storage.desk_uow() as uow:
        assert await uow.desk.branches([low, other, 4242]) == {low: team.branch1, other: team.branch2}
        assert await uow.desk.unassigned_open(team.branch1, 10) == [urgent, low]
        assert await uow.desk.unassigned_open(team.branch1, 1) == [urgent]
    await assign.assign(urgent, Assignment(assignee_id=team.agents[0]), ADMIN)
    async with container.desk.storage.desk_uow() as uow:
        assert await uow.desk.unassigned_open(team.branch1, 10) == [low]
        [slot] = await uow.agents.lock_agents([team.agents[0]])
        assert slot.open_cases == 1


async def test_priority_refresh_raises_and_never_lowers(container: AppContainer, clock: FixedClock) -> None:
    small, big = await open_cases(container, [None], renewal_in_days=30, premium=Decimal("1000.00")) + \
        await open_cases(container, [None], renewal_in_days=10, premium=Decimal("60000.00"))
    clock.advance(timedelta(days=5))
    async with container.desk.storage.desk_uow() as uow:
        changes = await uow.desk.raise_priorities(clock.today())
        await uow.commit()
    assert [(c.case_id, c.previous, c.priority) for c in changes] == [(big, "high", "urgent")]
    clock.advance(timedelta(days=30))  # small is now past renewal: high; nothing gets lower
    assert await container.desk.cases().refresh_priorities() == 1
    page = await container.application.cases().list(CaseFilters(), PageRequest(), ADMIN.visibility)
    listed = {int(v.id): v.priority for v in page.items}
    assert listed == {small: "high", big: "urgent"}


async def test_round_robin_agrees_on_both_adapters(container: AppContainer) -> None:
    team = await make_team(container)
    cases = await open_cases(container, [team.branch1] * 5)
    assign = container.desk.assignment()
    await assign.set_capacity(team.agents[1], CapacityChange(max_open_cases=1), ADMIN)
    result = await assign.auto_assign(AutoAssignment(case_ids=ids(cases)), ADMIN)
    given = [int(a.assignee_id) for a in sorted(result.assigned, key=lambda a: int(a.case_id))]
    a1, a2, a3 = team.agents
    assert given == [a1, a2, a3, a1, a3]
    capacity = await assign.capacity(a1, ADMIN)
    assert capacity.open_cases == 2 and capacity.last_assigned_at is not None


async def test_concurrent_assignments_never_exceed_capacity(sql_container: AppContainer) -> None:
    team = await make_team(sql_container)
    cases = await open_cases(sql_container, [team.branch1] * 6)
    assign = sql_container.desk.assignment()
    agent = team.agents[0]
    await assign.set_capacity(agent, CapacityChange(max_open_cases=1), ADMIN)
    results = await asyncio.gather(*(assign.assign(c, Assignment(assignee_id=agent), ADMIN) for c in cases[:2]),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "DeskCaseView"]
    assert isinstance(next(r for r in results if isinstance(r, Exception)), Conflict)
    for other in team.agents[1:]:
        await assign.set_capacity(other, CapacityChange(max_open_cases=1), ADMIN)
    runs = await asyncio.gather(*(assign.auto_assign(AutoAssignment(case_ids=ids([c])), ADMIN) for c in cases[2:]))
    given = [int(a.assignee_id) for run in runs for a in run.assigned]
    assert sorted(given) == sorted(team.agents[1:])  # two agents with one slot each: two cases, one each
    assert sum(len(run.skipped) for run in runs) == 2


@pytest.mark.parametrize("twice", [2])
async def test_concurrent_contacts_for_one_message_count_once(sql_container: AppContainer, twice: int) -> None:
    [case_id] = await open_cases(sql_container, [None])
    reactions = sql_container.desk.reactions()
    done = await asyncio.gather(*(reactions.record_contact(case_id, 5, "sms", None, NOW) for _ in range(twice)))
    assert sorted(done) == [False, True]
    async with sql_container.desk.storage.desk_uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None and (case.communication_attempts, case.status) == (1, "contacted")
