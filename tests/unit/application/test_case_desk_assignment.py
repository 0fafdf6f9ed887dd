"""Assignment (manual, bulk, round-robin, capacity) and the desk's reactions to other contexts' events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.policies.desk_commands import (
    Assignment,
    AutoAssignment,
    BulkAssignment,
    CapacityChange,
    StatusChange,
)
from application.policies.desk_event_handlers import MESSAGE_SENT, PAYMENT_FLAGGED, PAYMENT_LINK_SENT
from application.policies.desk_jobs import FLAG_CASE, MARK_PAYMENT_PENDING, RECORD_CONTACT
from domain.messaging.events import MessageSent
from domain.payments.events import PaymentFlagged, PaymentLinkSent
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from entrypoints.container import AppContainer, build_router
from tests.case_desk_support import ADMIN, branch_actor, ids, make_team, open_cases
from tests.conftest import NOW


def store_of(container: AppContainer) -> MemoryStore:
    store: MemoryStore = container.adapters.store()
    return store


async def test_manual_assignment_checks_the_assignee_scope_and_capacity(memory_container: AppContainer) -> None:
    team = await make_team(memory_container)
    first, second = await open_cases(memory_container, [team.branch1, team.branch1])
    assign = memory_container.desk.assignment()
    manager = branch_actor(team.manager, team.branch1)
    for bad in (team.viewer, team.other_agent, 9999):  # cannot hold cases / other branch / unknown
        with pytest.raises(ValidationFailed) as refused:
            await assign.assign(first, Assignment(assignee_id=f"user-{bad}"), manager)
        assert refused.value.details[0].field == "assigneeId"
    await assign.set_capacity(team.agents[0], CapacityChange(max_open_cases=1), manager)
    view = await assign.assign(first, Assignment(assignee_id=team.agents[0]), manager)
    assert (view.assigned_to, view.assigned_at) == (team.agents[0], NOW)
    with pytest.raises(Conflict) as full:
        await assign.assign(second, Assignment(assignee_id=team.agents[0]), manager)
    assert full.value.field == "assigneeId"
    with pytest.raises(ValidationFailed) as no_force:
        await assign.assign(second, Assignment(assignee_id=team.agents[0], force=True), manager)
    assert no_force.value.details[0].field == "force"
    assert (await assign.assign(second, Assignment(assignee_id=team.agents[0], force=True), ADMIN)).assigned_to
    capacity = await assign.capacity(team.agents[0], manager)
    assert (capacity.max_open_cases, capacity.open_cases, capacity.available) == (1, 2, 0)
    with pytest.raises(NotFound):
        await assign.capacity(team.other_agent, manager)
    with pytest.raises(ValidationFailed):
        await assign.set_capacity(team.viewer, CapacityChange(max_open_cases=3), manager)


async def test_bulk_assignment_is_all_or_nothing_naming_each_bad_case(memory_container: AppContainer) -> None:
    team = await make_team(memory_container)
    ok1, ok2, closed = await open_cases(memory_container, [team.branch1] * 3)
    await memory_container.desk.cases().change_status(closed, StatusChange(status="lost", reason="sold"), ADMIN)
    assign = memory_container.desk.assignment()
    with pytest.raises(ValidationFailed) as refused:
        await assign.bulk_assign(BulkAssignment(case_ids=[f"case-{ok1}", closed, 777, "nope", ok2],
                                                assignee_id=team.agents[1]), ADMIN)
    assert [d.field for d in refused.value.details] == ["caseIds[3]", "caseIds[1]", "caseIds[2]"]
    assert all(c.assigned_to is None for c in store_of(memory_container).tables.cases.values())
    done = await assign.bulk_assign(BulkAssignment(case_ids=[ok2, ok1], assignee_id=team.agents[1]), ADMIN)
    assert [c.assigned_to for c in done.cases] == [team.agents[1]] * 2
    rows = [e for e in store_of(memory_container).tables.case_events.values() if e.kind == "assigned"]
    assert sorted(e.case_id for e in rows) == [ok1, ok2] and {e.data["how"] for e in rows} == {"bulk"}


async def test_round_robin_takes_turns_and_respects_capacity(memory_container: AppContainer) -> None:
    team = await make_team(memory_container)
    cases = await open_cases(memory_container, [team.branch1] * 6 + [None])
    assign = memory_container.desk.assignment()
    a1, a2, a3 = team.agents
    await assign.set_capacity(a1, CapacityChange(max_open_cases=1), ADMIN)
    await assign.set_capacity(a3, CapacityChange(max_open_cases=2), ADMIN)
    result = await assign.auto_assign(AutoAssignment(case_ids=ids(cases)), ADMIN)
    given = [int(a.assignee_id) for a in sorted(result.assigned, key=lambda a: int(a.case_id))]
    assert given == [a1, a2, a3, a2, a3, a2]  # a1 full after one, a3 after two; a2 has no limit
    assert [(int(s.case_id), s.reason) for s in result.skipped] == [(cases[6], "no_branch")]
    again = await assign.auto_assign(AutoAssignment(case_ids=ids(cases[:2])), ADMIN)
    assert {s.reason for s in again.skipped} == {"already_assigned"} and not again.assigned
    more = await open_cases(memory_container, [team.branch1] * 2)
    await assign.set_capacity(a2, CapacityChange(max_open_cases=3), ADMIN)
    last = await assign.auto_assign(AutoAssignment(), branch_actor(team.manager, team.branch1))
    assert [s.reason for s in last.skipped] == ["no_agent_with_room"] * 2 and sorted(
        int(s.case_id) for s in last.skipped) == more
    with pytest.raises(ValidationFailed):
        await assign.auto_assign(AutoAssignment(branch_id=team.branch2), branch_actor(team.manager, team.branch1))


async def test_least_recently_assigned_agent_goes_first(memory_container: AppContainer, clock: FixedClock) -> None:
    team = await make_team(memory_container)
    first, second, third = await open_cases(memory_container, [team.branch1] * 3)
    assign = memory_container.desk.assignment()
    a1, a2, a3 = team.agents
    await assign.assign(first, Assignment(assignee_id=a1), ADMIN)
    clock.advance(timedelta(minutes=5))
    await assign.assign(second, Assignment(assignee_id=a2), ADMIN)
    result = await assign.auto_assign(AutoAssignment(case_ids=ids([third])), ADMIN)
    assert [int(a.assignee_id) for a in result.assigned] == [a3]  # never assigned before a1 and a2


async def test_sent_messages_count_as_contacts_once_each(memory_container: AppContainer) -> None:
    [case_id] = await open_cases(memory_container, [None])
    reactions = memory_container.desk.reactions()
    later = NOW + timedelta(hours=2)
    assert await reactions.record_contact(case_id, 41, "whatsapp", "reminder", NOW)
    assert not await reactions.record_contact(case_id, 41, "whatsapp", "reminder", NOW)
    assert await reactions.record_contact(case_id, 42, "email", None, later)
    case = store_of(memory_container).tables.cases[case_id]
    assert (case.communication_attempts, case.first_contact_date, case.last_contact_date) == (2, NOW, later)
    assert case.status == "contacted"
    assert not await reactions.record_contact(404, 43, "sms", None, NOW)


async def test_payment_link_and_flags_reach_the_case_once(memory_container: AppContainer) -> None:
    first, lost = await open_cases(memory_container, [None, None])
    await memory_container.desk.cases().change_status(lost, StatusChange(status="lost", reason="no"), ADMIN)
    reactions = memory_container.desk.reactions()
    assert await reactions.mark_payment_pending(first, 7, "email", "https://pay/x", 3, None, NOW)
    assert not await reactions.mark_payment_pending(first, 7, "email", "https://pay/x", 3, None, NOW)
    assert await reactions.mark_payment_pending(lost, 8, "sms", "https://pay/y", None, None, NOW)
    cases = store_of(memory_container).tables.cases
    assert (cases[first].status, cases[lost].status) == ("payment_pending", "lost")
    assert await reactions.flag(first, 7, "partial_payment", "Paid 100.00 of 12500.00", NOW,
                                {"expected": "12500.00", "received": "100.00"})
    assert not await reactions.flag(first, 7, "partial_payment", "again", NOW)
    assert cases[first].payment_status == "partial"
    assert [(f["code"], f["paymentId"], f["received"]) for f in cases[first].flags] == [
        ("partial_payment", 7, "100.00")]


def test_the_desk_subscribes_to_the_published_event_names() -> None:
    published = (MessageSent.name, PaymentLinkSent.name, PaymentFlagged.name)
    assert published == (MESSAGE_SENT, PAYMENT_LINK_SENT, PAYMENT_FLAGGED)
    router = build_router()
    jobs = router.jobs_for([
        MessageSent(message_id=5, case_id=2, customer_id=1, channel="sms", purpose="reminder", at=NOW),
        PaymentLinkSent(payment_id=3, case_id=2, channel="email", url="https://p", message_id=None, actor_id=4,
                        at=NOW),
        PaymentFlagged(payment_id=3, case_id=2, code="amount_mismatch", message="m", expected="10.00",
                       received="12.00", currency="INR", at=NOW)])
    desk = {j.name: j.args for j in jobs if j.name.startswith("desk.")}
    assert desk[RECORD_CONTACT] == {"case_id": 2, "message_id": 5, "channel": "sms", "purpose": "reminder",
                                    "at": NOW.isoformat()}
    assert desk[MARK_PAYMENT_PENDING]["actor_id"] == 4 and desk[MARK_PAYMENT_PENDING]["payment_id"] == 3
    assert desk[FLAG_CASE]["details"] == {"expected": "10.00", "received": "12.00", "currency": "INR"}
