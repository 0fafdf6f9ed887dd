"""The desk's use cases on the in-memory container: workflow, escalation, notes, priority, timeline rows, events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.policies.desk_commands import Assignment, Escalation, NewNote, PriorityChange, StatusChange
from application.policies.desk_jobs import NOTIFY_ASSIGNEE
from domain.shared.errors import InvalidTransition, NotFound, ValidationFailed
from entrypoints.container import AppContainer
from tests.case_desk_support import ADMIN, branch_actor, make_team, open_cases, own_actor
from tests.conftest import NOW


def store_of(container: AppContainer) -> MemoryStore:
    store: MemoryStore = container.adapters.store()
    return store


def kinds(container: AppContainer, case_id: int) -> list[str]:
    return [e.kind for e in store_of(container).tables.case_events.values() if e.case_id == case_id]


async def test_status_moves_write_timeline_rows_and_closing_needs_a_reason(memory_container: AppContainer) -> None:
    [case_id] = await open_cases(memory_container, [None])
    desk = memory_container.desk.cases()
    moved = await desk.change_status(case_id, StatusChange(status="contacted"), ADMIN)
    assert moved.status == "contacted" and moved.closed_at is None
    with pytest.raises(ValidationFailed) as missing:
        await desk.change_status(case_id, StatusChange(status="lost", reason="  "), ADMIN)
    assert [d.field for d in missing.value.details] == ["reason"]
    lost = await desk.change_status(case_id, StatusChange(status="lost", reason="bought elsewhere"), ADMIN)
    assert lost.status == "lost" and lost.closed_at == NOW
    reopened = await desk.change_status(case_id, StatusChange(status="in_progress"), ADMIN)
    assert reopened.closed_at is None
    rows = await desk.events(case_id, ADMIN.visibility)
    assert [(r.kind, r.data["from"], r.data["to"]) for r in rows] == [
        ("status_changed", "new", "contacted"), ("status_changed", "contacted", "lost"),
        ("status_changed", "lost", "in_progress")]
    assert rows[1].data["reason"] == "bought elsewhere"
    audit = [a.action for a in store_of(memory_container).tables.audit if a.entity_type == "renewal_case"]
    assert audit.count("policies.case_status_changed") == 3 and audit.count("policies.case_closed") == 1


async def test_disallowed_moves_are_conflicts_and_system_statuses_are_refused(memory_container: AppContainer) -> None:
    [case_id] = await open_cases(memory_container, [None])
    desk = memory_container.desk.cases()
    with pytest.raises(InvalidTransition):
        await desk.change_status(case_id, StatusChange(status="new"), ADMIN)
    for status in ("renewed", "lapsed", "archived"):
        with pytest.raises(ValidationFailed) as refused:
            await desk.change_status(case_id, StatusChange(status=status), ADMIN)
        assert refused.value.details[0].field == "status"
    await desk.change_status(case_id, StatusChange(status="cancelled", reason="duplicate"), ADMIN)
    with pytest.raises(InvalidTransition):
        await desk.change_status(case_id, StatusChange(status="in_progress"), ADMIN)
    assert kinds(memory_container, case_id) == ["status_changed"]


async def test_cases_outside_the_callers_reach_are_not_found(memory_container: AppContainer) -> None:
    team = await make_team(memory_container)
    mine, branch_case, elsewhere = await open_cases(memory_container, [team.branch2, team.branch1, team.branch2])
    assign = memory_container.desk.assignment()
    await assign.assign(mine, Assignment(assignee_id=team.agents[0]), ADMIN)
    desk = memory_container.desk.cases()
    agent = own_actor(team.agents[0])
    assert (await desk.add_note(mine, NewNote(text="called, will pay Friday"), agent)).summary == \
        "called, will pay Friday"
    for case_id in (branch_case, elsewhere, 999):
        with pytest.raises(NotFound):
            await desk.add_note(case_id, NewNote(text="x"), agent)
    manager = branch_actor(team.manager, team.branch1)
    await desk.set_priority(branch_case, PriorityChange(priority="urgent"), manager)
    with pytest.raises(NotFound):
        await desk.set_priority(elsewhere, PriorityChange(priority="urgent"), manager)
    assert kinds(memory_container, elsewhere) == []


async def test_escalation_goes_to_a_manager_with_a_reason(memory_container: AppContainer) -> None:
    team = await make_team(memory_container)
    [case_id] = await open_cases(memory_container, [team.branch1])
    desk = memory_container.desk.cases()
    with pytest.raises(ValidationFailed) as not_manager:
        await desk.escalate(case_id, Escalation(to_user_id=f"user-{team.agents[1]}", reason="help"), ADMIN)
    assert not_manager.value.details[0].field == "toUserId"
    with pytest.raises(ValidationFailed):
        await desk.escalate(case_id, Escalation(to_user_id=team.manager, reason=" "), ADMIN)
    await memory_container.desk.assignment().assign(case_id, Assignment(assignee_id=team.agents[0]), ADMIN)
    view = await desk.escalate(case_id, Escalation(to_user_id=f"user-{team.manager}", reason="wants a discount"),
                               own_actor(team.agents[0]))
    assert (view.escalated_to, view.escalation_reason, view.escalated_at) == (team.manager, "wants a discount", NOW)
    rows = await desk.events(case_id, ADMIN.visibility)
    assert rows[-1].kind == "escalated" and rows[-1].data["toUserId"] == team.manager


async def test_priority_by_hand_and_the_daily_refresh_only_raises(memory_container: AppContainer,
                                                                   clock: FixedClock) -> None:
    far, near = await open_cases(memory_container, [None], renewal_in_days=40, premium=Decimal("1000.00")) + \
        await open_cases(memory_container, [None], renewal_in_days=20, premium=Decimal("60000.00"))
    desk = memory_container.desk.cases()
    assert (await desk.set_priority(far, PriorityChange(priority="high"), ADMIN)).priority == "high"
    with pytest.raises(ValidationFailed):
        await desk.set_priority(far, PriorityChange(priority="critical"), ADMIN)
    cases = store_of(memory_container).tables.cases
    assert cases[near].priority == "high"
    clock.advance(timedelta(days=15))
    assert await desk.refresh_priorities() == 1  # near is now 5 days out with a large premium: urgent
    assert (cases[far].priority, cases[near].priority) == ("high", "urgent")  # far's "high" is never lowered
    assert await desk.refresh_priorities() == 0
    assert kinds(memory_container, near) == ["priority_changed"]


async def test_assignment_event_becomes_a_notice_job(memory_container: AppContainer) -> None:
    team = await make_team(memory_container)
    [case_id] = await open_cases(memory_container, [team.branch1])
    await memory_container.desk.assignment().assign(case_id, Assignment(assignee_id=team.agents[1]),
                                                    branch_actor(team.manager, team.branch1))
    jobs = [r.job for r in store_of(memory_container).tables.outbox.values() if r.job.name == NOTIFY_ASSIGNEE]
    assert [(j.args["case_id"], j.args["assignee_id"], j.args["actor_id"]) for j in jobs] == [
        (case_id, team.agents[1], team.manager)]
    reactions = memory_container.desk.reactions()
    assert await reactions.notify_assigned(case_id, team.agents[1], team.manager, NOW.isoformat())
    published = memory_container.outside.user_events().published
    assert published[-1][0] == team.agents[1]
    assert published[-1][1]["type"] == "case.assigned"
    assert published[-1][1]["data"]["caseId"] == f"case-{case_id}"
    assert not await reactions.notify_assigned(case_id, team.agents[0], None, NOW.isoformat())  # not theirs
