"""The reminder service's rules through the memory adapters: channel order and fallback, stops, stalls, batches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.store import MemoryStore
from application.ports.case_messages import CaseMessage, QueuedCaseMessage
from application.ports.uow import Job
from application.reminders.event_handlers import fall_back_job, stop_job
from application.reminders.job_names import FALL_BACK, STOP_FOR_CASE
from application.reminders.service import ReminderService
from application.reminders.views import LadderSpec, StepSpec
from application.shared.events import EventRouter
from domain.messaging.events import MessageFailed
from domain.policies.events import RenewalCaseClosed
from domain.policies.model import CaseStatus, PaymentStatus
from tests.unit.application.test_reminders_catch_up import Desk, T, at, memory_desk

DAY_30 = T - timedelta(days=30)
DAY_15 = T - timedelta(days=15)


def store_of(desk: Desk) -> MemoryStore:
    store: MemoryStore = desk.container.adapters.store()  # type: ignore[union-attr]
    return store


def customer_of(desk: Desk, case_id: int) -> int:
    tables = store_of(desk).tables
    return tables.policies[tables.cases[case_id].policy_id].customer_id


async def channels_of(desk: Desk, case_id: int) -> list[list[tuple[str, str]]]:
    sends = (await desk.service.for_case(case_id)).sends
    return [[(c.channel, c.status) for c in send.channels] for send in sends]


@pytest.fixture
async def desk_with_case() -> tuple[Desk, int]:
    desk = memory_desk()
    case_id = await desk.open_case(first_seen=T - timedelta(days=40))
    return desk, case_id


async def test_whatsapp_first_and_email_always_sms_kept_in_reserve(desk_with_case: tuple[Desk, int]) -> None:
    desk, case_id = desk_with_case
    await desk.run_day(DAY_30)
    assert await channels_of(desk, case_id) == [[("whatsapp", "queued"), ("sms", "standby"), ("email", "queued")]]
    message = desk.messenger.of_case(case_id)[0]
    policy_id = store_of(desk).tables.cases[case_id].policy_id
    assert (message.template, message.purpose, message.idempotency_key) == (
        "renewal_reminder_30_days", "reminder", f"reminder-{policy_id}-{T.isoformat()}--30-whatsapp")
    assert message.values == {"customer_name": "Asha Rao", "policy_number": message.values["policy_number"],
                              "renewal_date": T.isoformat(), "renewal_amount": "12500.00",
                              "renewal_link": "http://localhost:5173/renew/" + message.values["policy_number"]}


async def test_an_opted_out_channel_falls_back_to_the_next_at_queue_time(desk_with_case: tuple[Desk, int]) -> None:
    desk, case_id = desk_with_case
    desk.messenger.refuse("whatsapp", customer_of(desk, case_id))
    await desk.run_day(DAY_30)
    assert await channels_of(desk, case_id) == [[("whatsapp", "refused"), ("sms", "queued"), ("email", "queued")]]
    send = (await desk.service.for_case(case_id)).sends[0]
    assert (send.status, send.channels[0].code) == ("queued", "recipient_opted_out")


async def test_every_channel_refused_is_a_skipped_step_that_is_not_tried_again(
        desk_with_case: tuple[Desk, int]) -> None:
    desk, case_id = desk_with_case
    for channel in ("whatsapp", "sms", "email"):
        desk.messenger.refuse(channel, customer_of(desk, case_id), code="no_address", reason="no address")
    await desk.run_day(DAY_30)
    await desk.run_day(DAY_30 + timedelta(days=1))
    [send] = (await desk.service.for_case(case_id)).sends
    assert (send.status, send.reason) == ("skipped", "whatsapp: no_address; sms: no_address; email: no_address")
    assert desk.messenger.queued == []


async def test_a_failed_message_falls_back_to_the_next_channel_once(desk_with_case: tuple[Desk, int]) -> None:
    desk, case_id = desk_with_case
    await desk.run_day(DAY_30)
    (whatsapp, _), (email, _) = desk.messenger.queued
    assert await desk.service.fall_back(whatsapp, case_id, "63016") is True
    assert await desk.service.fall_back(whatsapp, case_id, "63016") is False  # the same failure again: nothing
    assert await channels_of(desk, case_id) == [[("whatsapp", "failed"), ("sms", "queued"), ("email", "queued")]]
    assert [m.channel for m in desk.messenger.of_case(case_id)] == ["whatsapp", "email", "sms"]
    sms = desk.messenger.queued[-1][0]
    assert await desk.service.fall_back(sms, case_id, "30005") is True  # no channel left after SMS
    assert await desk.service.fall_back(email, case_id, "bounce") is True  # an always channel has no fallback
    send = (await desk.service.for_case(case_id)).sends[0]
    assert (send.status, len(desk.messenger.queued)) == ("failed", 3)
    assert send.reason == "whatsapp: 63016; sms: 30005; email: bounce"


async def test_a_closed_or_paid_case_gets_nothing_and_closing_cancels_what_is_in_flight() -> None:
    desk = memory_desk()
    closed, paid, opened = [await desk.open_case(first_seen=T - timedelta(days=40)) for _ in range(3)]
    cases = store_of(desk).tables.cases
    cases[closed].status = CaseStatus.LOST
    cases[paid].payment_status = PaymentStatus.PAID
    await desk.run_day(DAY_30)
    assert set(desk.sent_on) == {opened}
    assert (await desk.service.for_case(closed)).stopped is True
    cases[opened].status = CaseStatus.RENEWED
    assert await desk.service.stop_for_case(opened) == 1
    assert await channels_of(desk, opened) == [[("whatsapp", "queued"), ("sms", "cancelled"), ("email", "queued")]]
    assert (await desk.service.for_case(opened)).sends[0].status == "cancelled"
    await desk.run_day(DAY_15)
    assert len(desk.sent_on[opened]) == 2  # the 30-day step only
    assert await desk.service.stop_for_case(opened) == 0


class Crashing:
    """A messenger that fails once (a worker dying mid-send), then queues normally."""

    def __init__(self, desk: Desk) -> None:
        self.desk, self.failed = desk, False

    async def queue(self, message: CaseMessage) -> QueuedCaseMessage:
        if not self.failed:
            self.failed = True
            raise ConnectionError("worker lost")
        return await self.desk.messenger.queue(message)


async def test_a_send_left_in_flight_by_a_stopped_worker_is_resumed_later(desk_with_case: tuple[Desk, int]) -> None:
    desk, case_id = desk_with_case
    service = desk.service
    real = service._dispatcher._messenger
    service._dispatcher._messenger = Crashing(desk)  # type: ignore[assignment]
    desk.go_to(DAY_30)
    with pytest.raises(ConnectionError):
        await service.send_due(DAY_30)
    service._dispatcher._messenger = real
    assert await channels_of(desk, case_id) == [[("whatsapp", "planned"), ("sms", "planned"), ("email", "planned")]]
    assert (await service.send_due(DAY_30)).resumed == 0  # too fresh: another worker may still be sending it
    desk.clock.advance(timedelta(minutes=16))
    report = await service.send_due(DAY_30)
    assert (report.resumed, report.sent) == (1, 0)
    assert await channels_of(desk, case_id) == [[("whatsapp", "queued"), ("sms", "standby"), ("email", "queued")]]


async def test_cases_are_read_in_batches_and_each_gets_its_step() -> None:
    desk = memory_desk()
    case_ids = [await desk.open_case(first_seen=T - timedelta(days=40)) for _ in range(7)]
    container = desk.container.reminders
    service = ReminderService(container.storage.reminders_uow, container.storage.candidates(),
                              desk.messenger, desk.clock, container.ladders(), batch_size=3)
    desk.go_to(DAY_30)
    report = await service.send_due(DAY_30)
    assert (report.checked, report.sent) == (7, 7)
    assert sorted(m.case_id for _, m in desk.messenger.queued) == sorted(case_ids * 2)  # WhatsApp and e-mail


async def test_each_policy_type_follows_its_own_ladder() -> None:
    desk = memory_desk()
    ladders = desk.container.reminders.ladders()
    await ladders.put("health", LadderSpec(steps=[
        StepSpec(offset_days=-10, channels=["sms", "email"], template="health_reminder", fallback=False)]), None)
    health = await desk.open_case(first_seen=T - timedelta(days=40), policy_type="health")
    motor = await desk.open_case(first_seen=T - timedelta(days=40))
    for offset in range(41):
        await desk.run_day(T - timedelta(days=40) + timedelta(days=offset))
    assert desk.sent_on[health] == [(T - timedelta(days=10), "health_reminder", "sms"),
                                    (T - timedelta(days=10), "health_reminder", "email")]
    assert [day for day, _, channel in desk.sent_on[motor] if channel == "whatsapp"] == [
        T + timedelta(days=o) for o in (-30, -15, -7, -1)]


def test_events_route_to_the_reminder_jobs_by_name() -> None:
    from application.reminders.event_handlers import subscribe
    router = EventRouter()
    subscribe(router)
    closed = RenewalCaseClosed(case_id=4, policy_id=9, status="renewed", at=at(T))
    failed = MessageFailed(message_id=12, case_id=4, customer_id=3, channel="whatsapp", purpose="reminder",
                           error_code="63016", at=at(T))
    receipt = MessageFailed(message_id=13, case_id=4, customer_id=3, channel="email", purpose="receipt",
                            error_code=None, at=at(T))
    assert router.jobs_for([closed, failed, receipt]) == [
        Job(name=STOP_FOR_CASE, key="reminders-stop-4", args={"case_id": 4}),
        Job(name=FALL_BACK, key="reminders-fall-back-12", args={"message_id": 12, "case_id": 4,
                                                                "error_code": "63016"})]
    assert stop_job(closed) is not None and fall_back_job(receipt) is None


async def test_the_worker_tasks_run_the_use_cases(desk_with_case: tuple[Desk, int]) -> None:
    from entrypoints.worker import reminders_tasks as tasks
    desk, case_id = desk_with_case
    desk.go_to(DAY_30)
    ctx = {"reminders": desk.container.reminders}
    assert await tasks.send_due_reminders(ctx) == 1
    assert await tasks.send_due_reminders(ctx) == 0
    whatsapp = desk.messenger.queued[0][0]
    assert await tasks.fall_back(ctx, whatsapp, case_id, "63016") is True
    assert desk.messenger.queued[-1][1].channel == "sms"
    assert await tasks.stop_reminders_for_case(ctx, case_id) == 1
