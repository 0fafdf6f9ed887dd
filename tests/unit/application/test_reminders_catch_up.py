"""THE catch-up must-show: policies first seen at T-40, T-20, T-5 and T+1 each receive exactly the ladder's steps
from then on, over 60 simulated days of daily runs with an injected clock, through the real ReminderService (memory
adapters, a hypothesis test over creation dates, and once on PostgreSQL). Also the harness the other reminder tests
use (`Desk`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from adapters.memory.case_messenger import InMemoryCaseMessenger
from adapters.sqlalchemy.tables.policies import renewal_cases
from adapters.system.clock import FixedClock
from application.policies.commands import NewPolicy
from application.policies.ports import CaseFilters
from application.policies.views import CaseView
from application.reminders.service import ReminderService
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.reminders.ladder import DEFAULT_LADDER, Ladder, plan
from entrypoints.container import AppContainer, build_memory_container
from tests.conftest import settings_for_tests
from tests.factories import new_customer

T = date(2027, 3, 15)  # the renewal date of every policy in the simulations
SIMULATION_START = T - timedelta(days=40)
SIMULATED_DAYS = 60
RUN_AT = time(6, 0)  # 06:00 UTC: the same calendar day in Asia/Kolkata


def at(day: date) -> datetime:
    return datetime.combine(day, RUN_AT, tzinfo=UTC)


@dataclass
class Desk:
    """A container with an in-memory CaseMessenger, a clock to move, and helpers to open cases and run days."""

    container: AppContainer
    clock: FixedClock
    messenger: InMemoryCaseMessenger = field(default_factory=InMemoryCaseMessenger)
    sent_on: dict[int, list[tuple[date, str, str]]] = field(default_factory=dict)  # case -> (day, template, channel)

    @classmethod
    def wrap(cls, container: AppContainer, clock: FixedClock) -> Desk:
        desk = cls(container, clock)
        container.bridges.case_messenger.override(providers.Object(desk.messenger))
        return desk

    @property
    def service(self) -> ReminderService:
        service: ReminderService = self.container.reminders.reminders()
        return service

    def go_to(self, day: date) -> None:
        self.clock.advance(at(day) - self.clock.now())

    async def open_case(self, *, renewal: date = T, grace: int = 30, policy_type: str = "motor",
                        first_seen: date | None = None) -> int:
        """Issue a policy renewing on `renewal` and open its case today (the day it is first seen)."""
        if first_seen is not None:
            self.go_to(first_seen)
        app = self.container.application
        customer = await app.customers().register(new_customer())
        policy = await app.policies().issue(NewPolicy(
            customer_id=customer.id, policy_type=policy_type, premium_amount=Decimal("12500.00"),
            start_date=renewal - timedelta(days=365), end_date=renewal, renewal_date=renewal,
            grace_period_days=grace))
        await app.cases().open_due_cases()
        case_id = next(int(c.id) for c in (await self._cases()) if int(c.policy_id) == int(policy.id))
        engine = self.container.adapters.engine()
        if engine is not None:  # PostgreSQL stamps created_at with its own now(): the injected clock decides
            async with engine.begin() as conn:
                await conn.execute(update(renewal_cases).where(renewal_cases.c.id == case_id)
                                   .values(created_at=self.clock.now()))
        return case_id

    async def _cases(self) -> list[CaseView]:
        page = await self.container.application.cases().list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
        return list(page.items)

    async def run_day(self, day: date) -> None:
        """Move the clock to `day` and run the daily job, noting what each case was sent that day."""
        self.go_to(day)
        before = len(self.messenger.queued)
        await self.service.send_due(day)
        for _, message in self.messenger.queued[before:]:
            self.sent_on.setdefault(message.case_id, []).append((day, message.template, message.channel))


def expected_sends(ladder: Ladder, first_seen: date, until: date, grace: int) -> list[tuple[date, str, str]]:
    """What the ladder gives a term first seen on `first_seen` with daily runs: each step's fallback channel that
    is queued first (WhatsApp here) and its always channels, on the step's day."""
    return [(day, step.template, channel) for day, step in plan(ladder, T, first_seen, until, grace)
            for channel in (step.channels[:1] if step.fallback else step.channels) + step.always]


def memory_desk() -> Desk:
    clock = FixedClock(at(SIMULATION_START))
    container = build_memory_container(settings_for_tests(REDIS_URL=""))
    container.core.clock.override(clock)
    return Desk.wrap(container, clock)


async def simulate(desk: Desk, first_seen: dict[str, date], grace: int = 30) -> dict[str, int]:
    """Open each named case on its first-seen day and run the job every day of the simulation."""
    cases: dict[str, int] = {}
    for offset in range(SIMULATED_DAYS + 1):
        day = SIMULATION_START + timedelta(days=offset)
        for name, seen in first_seen.items():
            if seen == day:
                cases[name] = await desk.open_case(first_seen=day, grace=grace)
        await desk.run_day(day)
    return cases


FIRST_SEEN = {"T-40": T - timedelta(days=40), "T-20": T - timedelta(days=20), "T-5": T - timedelta(days=5),
              "T+1": T + timedelta(days=1)}
UNTIL = SIMULATION_START + timedelta(days=SIMULATED_DAYS)
STEPS_FROM = {"T-40": (-30, -15, -7, -1, 3), "T-20": (-15, -7, -1, 3), "T-5": (-1, 3), "T+1": (3,)}


async def _check_the_four(desk: Desk) -> None:
    cases = await simulate(desk, FIRST_SEEN)
    for name, case_id in cases.items():
        got = desk.sent_on.get(case_id, [])
        assert got == expected_sends(DEFAULT_LADDER, FIRST_SEEN[name], UNTIL, 30), name
        offsets = tuple(s.offset_days for s in (await desk.service.for_case(case_id)).sends)
        assert offsets == STEPS_FROM[name], name
        # every step on its own day, never two on one day: no burst
        days = [day for day, _, channel in got if channel == "whatsapp"]
        assert days == [T + timedelta(days=o) for o in STEPS_FROM[name]], name


async def test_the_four_first_seen_dates_get_exactly_the_steps_from_then_on_in_memory() -> None:
    await _check_the_four(memory_desk())


async def test_the_four_first_seen_dates_get_exactly_the_steps_from_then_on_on_postgres(
        sql_container: AppContainer, clock: FixedClock) -> None:
    clock.advance(at(SIMULATION_START) - clock.now())
    await _check_the_four(Desk.wrap(sql_container, clock))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=-40, max_value=20).flatmap(
    lambda seen: st.tuples(st.just(seen), st.integers(min_value=max(0, seen), max_value=30))))
async def test_any_first_seen_date_gets_exactly_the_ladders_steps_from_then_on(drawn: tuple[int, int]) -> None:
    """A case is opened on any day up to the end of its grace period (the grace period drawn too)."""
    seen, grace = drawn
    desk = memory_desk()
    first_seen = T + timedelta(days=seen)
    cases = await simulate(desk, {"p": first_seen}, grace=grace)
    got = desk.sent_on.get(cases["p"], [])
    assert got == expected_sends(DEFAULT_LADDER, first_seen, UNTIL, grace)
    # the ladder's rule in words: every step on or after the first-seen day, up to the grace period's end
    wanted = [o for o in DEFAULT_LADDER.offsets if first_seen <= T + timedelta(days=o) <= T + timedelta(days=grace)]
    assert [day for day, _, channel in got if channel == "whatsapp"] == [T + timedelta(days=o) for o in wanted]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seen=st.integers(min_value=-40, max_value=2),
       down=st.sets(st.integers(min_value=0, max_value=SIMULATED_DAYS), max_size=40))
async def test_missed_days_never_make_a_burst_nor_go_back(seen: int, down: set[int]) -> None:
    """With the worker down on any days, a case still gets at most one step a day, each step at most once, in
    increasing order, none before it was first seen; and a run the same day again sends nothing."""
    desk = memory_desk()
    first_seen = T + timedelta(days=seen)
    case_id = 0
    for offset in range(SIMULATED_DAYS + 1):
        day = SIMULATION_START + timedelta(days=offset)
        if day == first_seen:
            case_id = await desk.open_case(first_seen=day)
        if offset not in down:
            await desk.run_day(day)
            await desk.run_day(day)  # a second run (or a second worker) the same day sends nothing more
    steps = [(day, template) for day, template, channel in desk.sent_on.get(case_id, []) if channel == "whatsapp"]
    days = [day for day, _ in steps]
    assert len(days) == len(set(days))
    offsets = [next(s.offset_days for s in DEFAULT_LADDER.steps if s.template == template) for _, template in steps]
    assert offsets == sorted(set(offsets))
    assert all(T + timedelta(days=o) >= first_seen for o in offsets)
    assert all(day >= T + timedelta(days=o) for (day, _), o in zip(steps, offsets, strict=True))
