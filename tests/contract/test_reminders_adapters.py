"""The reminders adapters behave alike in memory and on PostgreSQL: ladders, sends and their claims, candidates,
and two daily jobs running at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from adapters.sqlalchemy.tables.policies import policies, renewal_cases
from adapters.system.clock import FixedClock
from application.ports.case_messages import CaseMessage, QueuedCaseMessage
from application.reminders.ports import ReminderSend
from application.reminders.service import ReminderService
from domain.reminders.ladder import Ladder, Step
from entrypoints.container import AppContainer
from tests.factories import TODAY, add_staff
from tests.unit.application.test_reminders_catch_up import Desk

RENEWAL = TODAY + timedelta(days=20)


def send_of(case_id: int, policy_id: int, offset: int, **overrides: object) -> ReminderSend:
    values: dict[str, object] = {"case_id": case_id, "policy_id": policy_id, "term_end_date": RENEWAL,
                                 "offset_days": offset, "template": "t", "due_on": RENEWAL + timedelta(days=offset),
                                 "channels": [{"channel": "sms", "role": "fallback", "status": "planned"}]}
    values.update(overrides)
    return ReminderSend(**values)  # type: ignore[arg-type]


async def set_case(container: AppContainer, case_id: int, **values: object) -> None:
    engine = container.adapters.engine()
    if engine is None:
        case = container.adapters.store().tables.cases[case_id]  # type: ignore[union-attr]
        for key, value in values.items():
            setattr(case, key, value)
        return
    async with engine.begin() as conn:
        await conn.execute(update(renewal_cases).where(renewal_cases.c.id == case_id).values(**values))


async def set_policy_status(container: AppContainer, case_id: int, status: str) -> None:
    engine = container.adapters.engine()
    if engine is None:
        tables = container.adapters.store().tables  # type: ignore[union-attr]
        tables.policies[tables.cases[case_id].policy_id].status = status
        return
    async with engine.begin() as conn:
        policy_id = (await conn.execute(renewal_cases.select().where(renewal_cases.c.id == case_id))).one().policy_id
        await conn.execute(update(policies).where(policies.c.id == policy_id).values(status=status))


async def test_ladders_are_saved_replaced_listed_and_deleted(container: AppContainer) -> None:
    _, (user,) = await add_staff(container, branch_count=0, user_branches=[None])
    health = Ladder("health", (Step(-10, ("sms",), "a", fallback=False, always=("email",)),
                               Step(2, ("whatsapp",), "b")))
    uow_factory = container.reminders.storage.reminders_uow
    async with uow_factory() as uow:
        await uow.ladders.save(health, user)
        await uow.ladders.save(Ladder("*", (Step(-5, ("email",), "c"),)), None)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.ladders.get("health")
        assert stored is not None and (stored.ladder, stored.updated_by) == (health, user)
        assert [s.ladder.policy_type for s in await uow.ladders.all()] == ["*", "health"]
        await uow.ladders.save(Ladder("health", (Step(-1, ("sms",), "d"),)), None)
        assert await uow.ladders.delete("*") is True and await uow.ladders.delete("life") is False
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.ladder.offsets for s in await uow.ladders.all()] == [(-1,)]
        await uow.ladders.delete("health")  # no commit: nothing changes
    async with uow_factory() as uow:
        assert await uow.ladders.get("health") is not None


async def test_a_step_is_claimed_once_and_saved_back(container: AppContainer, clock: FixedClock) -> None:
    desk = Desk.wrap(container, clock)
    case_id = await desk.open_case(renewal=RENEWAL)
    policy_id = await _policy_of(desk, case_id)
    uow_factory = container.reminders.storage.reminders_uow
    async with uow_factory() as uow:
        first = send_of(case_id, policy_id, -15)
        assert await uow.sends.claim(first) is True and first.id is not None
        assert await uow.sends.claim(send_of(case_id, policy_id, -15, template="other")) is False
        assert await uow.sends.claim(send_of(case_id, policy_id, -30)) is True
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sends.claim(send_of(case_id, policy_id, -15)) is False
        assert await uow.sends.claim(send_of(case_id, policy_id, -7)) is True  # rolled back below
    async with uow_factory() as uow:
        sends = await uow.sends.of_case(case_id, lock=True)
        assert [s.offset_days for s in sends] == [-30, -15]
        assert sends[1].created_at == clock.now()
        sends[1].status, sends[1].reason = "skipped", "sms: no_address"
        sends[1].channels[0].update(status="refused", code="no_address")
        await uow.sends.save(sends[1])
        await uow.commit()
    async with uow_factory() as uow:
        saved = (await uow.sends.of_case(case_id))[1]
        assert (saved.status, saved.reason, saved.channels) == (
            "skipped", "sms: no_address", [{"channel": "sms", "role": "fallback", "status": "refused",
                                            "code": "no_address"}])
        assert await uow.sends.stalled(clock.now(), 10) == []
        assert [s.offset_days for s in await uow.sends.stalled(clock.now() + timedelta(seconds=1), 10)] == [-30]


async def _policy_of(desk: Desk, case_id: int) -> int:
    candidate = await desk.container.reminders.storage.candidates().get(case_id)
    assert candidate is not None
    return candidate.policy_id


async def test_candidates_are_open_unpaid_cases_in_their_window_in_id_order(
        container: AppContainer, clock: FixedClock) -> None:
    desk = Desk.wrap(container, clock)
    ids = [await desk.open_case(renewal=RENEWAL) for _ in range(6)]
    await set_case(container, ids[1], status="renewed")
    await set_case(container, ids[2], payment_status="paid")
    await set_policy_status(container, ids[3], "cancelled")
    candidates = container.reminders.storage.candidates()
    due = await candidates.due(TODAY, after_case_id=0, limit=100, earliest_offset=-30)
    assert [c.case_id for c in due] == [ids[0], ids[4], ids[5]]
    assert len(await candidates.due(RENEWAL + timedelta(days=30), after_case_id=0, limit=100,
                                    earliest_offset=-30)) == 3  # the last day of the grace period
    assert await candidates.due(RENEWAL + timedelta(days=31), after_case_id=0, limit=100, earliest_offset=-30) == []
    assert await candidates.due(TODAY, after_case_id=0, limit=100, earliest_offset=-19) == []  # not yet in window
    assert [c.case_id for c in await candidates.due(TODAY, after_case_id=ids[0], limit=1, earliest_offset=-30)] == [
        ids[4]]
    first = due[0]
    assert (first.renewal_date, first.term_end_date, first.grace_days, first.customer_name, first.first_seen,
            first.sent, first.policy_type) == (RENEWAL, RENEWAL, 30, "Asha Rao", TODAY, frozenset(), "motor")
    assert str(first.renewal_amount) == "12500.00"
    assert await candidates.get(ids[1]) is None and await candidates.get(999) is None
    async with container.reminders.storage.reminders_uow() as uow:
        await uow.sends.claim(send_of(ids[0], first.policy_id, -30))
        await uow.commit()
    assert (await candidates.get(ids[0])).sent == frozenset({-30})  # type: ignore[union-attr]


async def test_first_seen_is_the_opening_day_in_the_business_time_zone(
        container: AppContainer, clock: FixedClock) -> None:
    clock.advance(datetime(2026, 11, 28, 20, 0, tzinfo=UTC) - clock.now())  # 01:30 on the 29th in Kolkata
    desk = Desk.wrap(container, clock)
    case_id = await desk.open_case(renewal=RENEWAL)
    candidate = await container.reminders.storage.candidates().get(case_id)
    assert candidate is not None and candidate.first_seen == date(2026, 11, 29)


class CountingMessenger:
    """Counts every queue call (the in-memory messenger would hide a double send behind its idempotency keys)."""

    def __init__(self, desk: Desk) -> None:
        self.desk, self.calls = desk, 0

    async def queue(self, message: CaseMessage) -> QueuedCaseMessage:
        self.calls += 1
        await asyncio.sleep(0)
        return await self.desk.messenger.queue(message)


@pytest.mark.parametrize("cases", [12])
async def test_two_daily_jobs_at_once_send_each_step_once(container: AppContainer, clock: FixedClock,
                                                          cases: int) -> None:
    desk = Desk.wrap(container, clock)
    for _ in range(cases):
        await desk.open_case(renewal=TODAY + timedelta(days=30))
    counting = CountingMessenger(desk)
    services = container.reminders
    workers = [ReminderService(services.storage.reminders_uow, services.storage.candidates(), counting, clock,
                               services.ladders(), batch_size=5) for _ in range(2)]
    reports = await asyncio.gather(*(worker.send_due(TODAY) for worker in workers))
    assert sum(r.sent for r in reports) == cases
    assert counting.calls == 2 * cases  # WhatsApp and e-mail of the 30-day step, once per case
    again = await asyncio.gather(*(worker.send_due(TODAY) for worker in workers))
    assert sum(r.sent for r in again) == 0 and counting.calls == 2 * cases
