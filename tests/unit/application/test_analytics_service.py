"""The analytics service on the in-memory adapters: validation, the views, the 60-second cache, single flight."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.analytics import InMemoryAnalyticsReadModel, InMemoryDashboardCache
from adapters.system.clock import FixedClock
from application.analytics.service import AnalyticsService, rate, scope_key
from application.analytics.views import AgentFigures, AgentsQuery, DashboardFigures, DashboardQuery, Tally
from application.shared.visibility import EVERYTHING, Visibility
from domain.shared.errors import ValidationFailed
from entrypoints.container import AppContainer
from tests.contract.analytics_support import patch_case, seed_book

TODAY = date(2026, 11, 28)


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingReads:
    """Counts computations and can hold them until released."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def dashboard(self, query: DashboardQuery, visibility: Visibility, today: date) -> DashboardFigures:
        self.calls += 1
        await self.gate.wait()
        found: DashboardFigures = await self.inner.dashboard(query, visibility, today)
        return found

    async def agents(self, query: AgentsQuery, visibility: Visibility) -> list[AgentFigures]:
        self.calls += 1
        found: list[AgentFigures] = await self.inner.agents(query, visibility)
        return found


def service_for(container: AppContainer, clock: FixedClock, ticker: Ticker | None = None,
                cache: InMemoryDashboardCache | None = None) -> tuple[AnalyticsService, CountingReads]:
    reads = CountingReads(InMemoryAnalyticsReadModel(container.adapters.store(), "Asia/Kolkata"))
    cache = cache or InMemoryDashboardCache(now=ticker or Ticker())
    return AnalyticsService(reads, cache, clock, ttl=60), reads


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [d.field for d in exc.value.details]


def test_queries_are_validated(memory_container: AppContainer, clock: FixedClock) -> None:
    service, _ = service_for(memory_container, clock)
    query = service.dashboard_query()
    assert (query.date_from, query.date_to, query.bucket) == (TODAY - timedelta(days=30), TODAY + timedelta(days=30),
                                                              "day")
    with pytest.raises(ValidationFailed) as exc:
        service.dashboard_query(date_from=TODAY, date_to=TODAY - timedelta(days=1))
    assert fields_of(exc) == ["to"]
    with pytest.raises(ValidationFailed) as exc:
        service.dashboard_query(date_from=TODAY - timedelta(days=731), date_to=TODAY)
    assert fields_of(exc) == ["to"]
    assert service.dashboard_query(date_from=TODAY - timedelta(days=730), date_to=TODAY).date_to == TODAY
    with pytest.raises(ValidationFailed) as exc:
        service.dashboard_query(bucket="month")
    assert fields_of(exc) == ["bucket"]
    assert service.dashboard_query(policy_type="  ").policy_type is None


async def test_the_view_of_the_book(memory_container: AppContainer, clock: FixedClock) -> None:
    book = await seed_book(memory_container)
    service, _ = service_for(memory_container, clock)
    view = await service.dashboard(service.dashboard_query(), EVERYTHING)
    s = view.summary
    assert (s.total_cases, s.in_progress, s.renewed, s.pending_action, s.errors, s.pending, s.lapsed, s.lost) == (
        7, 2, 2, 1, 1, 3, 1, 1)
    assert (s.renewal_rate, s.payment_collected, s.payment_pending, s.premium_due) == (0.5, 12000, 8000, 28000)
    assert [(r.key, r.label, r.due) for r in view.by_branch] == [
        (f"branch-{book.b2}", "B2", 4), (f"branch-{book.b1}", "B1", 2), ("none", "No branch", 1)]
    assert [(r.key, r.label) for r in view.by_agent][-1] == ("unassigned", "Unassigned")
    assert len(view.time_series) == 61 and view.generated_at == clock.now() and view.stale_after_seconds == 60
    weekly = await service.dashboard(service.dashboard_query(bucket="week"), EVERYTHING)
    assert {p.date.weekday() for p in weekly.time_series} == {0}
    assert sum(p.new_cases for p in weekly.time_series) == sum(p.new_cases for p in view.time_series) == 8


async def test_agents_view(memory_container: AppContainer, clock: FixedClock) -> None:
    book = await seed_book(memory_container)
    service, _ = service_for(memory_container, clock)
    rows = (await service.agents(EVERYTHING)).agents
    assert [(r.user_id, r.cases_handled, r.open, r.avg_hours_to_first_contact) for r in rows] == [
        (f"user-{book.agent_a}", 3, 2, 26.5), (f"user-{book.agent_b}", 3, 1, 1.0)]
    assert rows[0].branch_id == f"branch-{book.b1}" and rows[1].renewal_rate == 0.5


async def test_figures_are_reused_for_the_ttl_then_recomputed(memory_container: AppContainer,
                                                               clock: FixedClock) -> None:
    book = await seed_book(memory_container)
    ticker = Ticker()
    service, reads = service_for(memory_container, clock, ticker)
    query = service.dashboard_query()
    first = await service.dashboard(query, EVERYTHING)
    await patch_case(memory_container, book.cases["c1"], status="renewed")
    clock.advance(timedelta(seconds=59))
    ticker.now += 59
    assert await service.dashboard(query, EVERYTHING) == first and reads.calls == 1
    ticker.now += 1
    again = await service.dashboard(query, EVERYTHING)
    assert reads.calls == 2 and again.summary.renewed == 3 and again.generated_at == first.generated_at + timedelta(
        seconds=59)
    # each reach has its own entry
    own = await service.dashboard(query, Visibility(reach="own", user_id=book.agent_b))
    assert reads.calls == 3 and own.summary.total_cases == 3


async def test_one_computation_per_key_at_a_time(memory_container: AppContainer, clock: FixedClock) -> None:
    await seed_book(memory_container)
    service, reads = service_for(memory_container, clock)
    reads.gate.clear()
    query = service.dashboard_query()
    waiting = [asyncio.create_task(service.dashboard(query, EVERYTHING)) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert reads.calls == 1
    reads.gate.set()
    views = await asyncio.gather(*waiting)
    assert reads.calls == 1 and all(v == views[0] for v in views)


async def test_another_process_computing_is_waited_for(memory_container: AppContainer, clock: FixedClock) -> None:
    await seed_book(memory_container)
    cache = InMemoryDashboardCache(now=Ticker())
    service, reads = service_for(memory_container, clock, cache=cache)
    other, _ = service_for(memory_container, clock, cache=cache)
    query = service.dashboard_query()
    key = f"analytics:dashboard:v1:all:{msgspec.json.encode(query).decode()}"
    assert await cache.try_lock(key, 30)  # the other process holds the lock...
    waiting = asyncio.create_task(service.dashboard(query, EVERYTHING))
    await asyncio.sleep(0.12)
    assert not waiting.done()
    computed = await other.refresh_dashboard(query)  # ...and puts its answer
    assert await waiting == computed and reads.calls == 0


def test_scope_keys_name_the_reach() -> None:
    assert scope_key(EVERYTHING) == "all"
    assert scope_key(Visibility(reach="own", user_id=4)) == "own:4"
    assert scope_key(Visibility(reach="branch", user_id=4, branch_id=2)) == "branch:4:2"
    assert scope_key(Visibility(reach="branch", user_id=4)) == "own:4"  # no branch: only their own cases


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_a_renewal_rate_is_a_share_or_nothing(renewed: int, failed: int) -> None:
    value = rate(renewed, failed)
    if renewed + failed == 0:
        assert value is None
    else:
        assert value is not None and 0.0 <= value <= 1.0
        assert abs(value - renewed / (renewed + failed)) <= 0.00005


def test_an_empty_tally_is_zero() -> None:
    assert Tally().cases == 0 and Tally().collected == 0
