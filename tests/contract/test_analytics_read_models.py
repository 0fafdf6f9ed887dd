"""The analytics read models: the known figures of a seeded book on both, and agreement on random books."""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.memory.analytics import InMemoryDashboardCache
from adapters.redis.dashboard_cache import RedisDashboardCache
from application.analytics.ports import AnalyticsReadModel
from application.analytics.views import AgentsQuery, DashboardFigures, DashboardQuery, Tally
from application.shared.visibility import EVERYTHING, Visibility
from entrypoints.container import AppContainer
from tests.conftest import NOW, TEST_REDIS_URL
from tests.contract.analytics_support import Book, add_payment, day, patch_case, seed_book
from tests.factories import new_customer, new_policy
from tests.identity_support import add_branch, make_user

TODAY = NOW.date()
DEFAULT = DashboardQuery(date_from=TODAY - timedelta(days=30), date_to=TODAY + timedelta(days=30))


def reads(container: AppContainer) -> AnalyticsReadModel:
    found: AnalyticsReadModel = container.analytics.storage.read_model()
    return found


def d(value: str) -> Decimal:
    return Decimal(value)


def groups(figures: DashboardFigures, dimension: str) -> dict[str, Tally]:
    return {g.key: g.tally for g in figures.groups if g.dimension == dimension}


def counts(t: Tally) -> tuple[int, int, int, int, int, int, int]:
    return t.cases, t.new, t.in_progress, t.renewed, t.lapsed, t.lost, t.flagged_open


def money(t: Tally) -> tuple[Decimal, Decimal, Decimal]:
    return t.premium_due, t.premium_open, t.collected


async def test_the_dashboard_of_the_seeded_book(container: AppContainer) -> None:
    book = await seed_book(container)
    figures = await reads(container).dashboard(DEFAULT, EVERYTHING, TODAY)

    # c8 is due after the range; everything else is in it
    assert counts(figures.total) == (7, 1, 2, 2, 1, 1, 1)
    assert money(figures.total) == (d("28000"), d("8000"), d("12000"))
    assert (figures.due_this_week, figures.due_this_month) == (1, 2)  # c1 on the 29th; c5 on the 30th too
    by_branch = groups(figures, "branch")
    assert {k: counts(t) for k, t in by_branch.items()} == {
        str(book.b1): (2, 1, 0, 1, 0, 0, 0), str(book.b2): (4, 0, 2, 1, 1, 0, 1), "": (1, 0, 0, 0, 0, 1, 0)}
    assert by_branch[str(book.b2)].collected == d("9000")
    by_agent = groups(figures, "agent")
    assert {k: (t.cases, t.premium_due, t.collected) for k, t in by_agent.items()} == {
        str(book.agent_a): (3, d("6000"), d("3000")), str(book.agent_b): (3, d("16000"), d("9000")),
        "": (1, d("6000"), d("0"))}
    # the channel of the link that collected; the failed SMS link of c7 and the unpaid link of c1 count for nothing
    by_channel = groups(figures, "channel")
    assert {k: (t.cases, t.collected) for k, t in by_channel.items()} == {
        "whatsapp": (1, d("3000")), "sms": (1, d("2500")), "email": (1, d("6500")), "none": (4, d("0"))}
    by_type = groups(figures, "policy_type")
    assert {k: (t.cases, t.renewed, t.lapsed + t.lost, t.premium_due, t.collected) for k, t in by_type.items()} == {
        "motor": (3, 1, 0, d("10000"), d("6500")), "health": (2, 1, 1, d("7000"), d("3000")),
        "life": (2, 0, 1, d("11000"), d("2500"))}
    assert figures.labels["branch"] == {str(book.b1): "B1", str(book.b2): "B2"}
    assert figures.labels["agent"] == {str(book.agent_a): "Asha Agent", str(book.agent_b): "Bala Agent"}
    series = {(s.day - TODAY).days: (s.new_cases, s.renewed, s.failed, s.collected) for s in figures.series}
    assert series == {-10: (4, 0, 0, 0), -5: (0, 1, 0, d("6500")), -3: (4, 0, 0, 0), -2: (0, 1, 0, d("3000")),
                      -1: (0, 0, 1, d("2500")), 0: (0, 0, 1, 0)}


async def test_each_reach_counts_only_the_cases_it_sees(container: AppContainer) -> None:
    book = await seed_book(container)
    model = reads(container)

    async def cases(visibility: Visibility) -> int:
        return (await model.dashboard(DEFAULT, visibility, TODAY)).total.cases

    assert await cases(Visibility(reach="own", user_id=book.agent_a)) == 4  # c1-c3 and c7 escalated to A
    assert await cases(Visibility(reach="own", user_id=book.agent_b)) == 3
    assert await cases(Visibility(reach="branch", user_id=book.manager, branch_id=book.b1)) == 2  # c1, c3
    assert await cases(Visibility(reach="branch", user_id=book.manager, branch_id=None)) == 0  # own only
    assert await cases(EVERYTHING) == 7


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("branch_id", "b2", 4), ("policy_type", "life", 2), ("agent_id", "a", 3), ("policy_type", "travel", 0)])
async def test_filters_narrow_the_cases(container: AppContainer, field: str, value: str, expected: int) -> None:
    book = await seed_book(container)
    real: Any = {"b2": book.b2, "a": book.agent_a}.get(value, value)
    query = DashboardQuery(date_from=DEFAULT.date_from, date_to=DEFAULT.date_to, **{field: real})
    assert (await reads(container).dashboard(query, EVERYTHING, TODAY)).total.cases == expected


async def test_weekly_buckets_start_on_monday(container: AppContainer) -> None:
    await seed_book(container)
    query = DashboardQuery(date_from=TODAY - timedelta(days=30), date_to=TODAY, bucket="week")
    figures = await reads(container).dashboard(query, EVERYTHING, TODAY)
    assert [(s.day, s.new_cases, s.renewed, s.failed, s.collected) for s in figures.series] == [
        (date(2026, 11, 16), 4, 0, 0, 0),  # created on the 18th
        (date(2026, 11, 23), 4, 2, 2, d("12000")),
    ]


async def test_agent_performance(container: AppContainer) -> None:
    book = await seed_book(container)
    found = await reads(container).agents(AgentsQuery(date_from=DEFAULT.date_from, date_to=DEFAULT.date_to),
                                          EVERYTHING)
    rows = {a.user_id: a for a in found}
    assert set(rows) == {book.agent_a, book.agent_b}
    a, b = rows[book.agent_a], rows[book.agent_b]
    assert (a.name, a.branch_id, a.branch) == ("Asha Agent", book.b1, "B1")
    assert (a.tally.cases, a.tally.renewed, a.tally.collected) == (3, 1, d("3000"))
    assert (a.contacted, round(a.contact_hours, 6)) == (2, 53.0)  # 5 h after assignment, 48 h after creation
    assert (b.tally.cases, b.tally.lapsed, b.tally.collected) == (3, 1, d("9000"))
    assert (b.contacted, round(b.contact_hours, 6)) == (2, 2.0)  # a contact before the assignment counts 0 h
    # the range is on the assignment day: nothing was assigned in October
    october = AgentsQuery(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    assert await reads(container).agents(october, EVERYTHING) == []
    own = await reads(container).agents(AgentsQuery(date_from=DEFAULT.date_from, date_to=DEFAULT.date_to),
                                        Visibility(reach="own", user_id=book.agent_a))
    assert {r.user_id: r.tally.cases for r in own} == {book.agent_a: 3, book.agent_b: 1}  # c7 is escalated to A


# --- agreement on random books -------------------------------------------------------------------------------------

STATUSES = ("new", "contacted", "in_progress", "payment_pending", "renewed", "lapsed", "lost", "cancelled")
PAYMENT_STATUSES = ("created", "link_sent", "paid", "partially_paid", "failed", "expired", "refunded")


async def random_book(container: AppContainer, seed: int) -> Book:
    rnd = random.Random(seed)
    b1, b2 = await add_branch(container, "R1"), await add_branch(container, "R2")
    users = [await make_user(container, "agent", branch_id=b, first_name=f"R{n}", last_name="Agent")
             for n, b in enumerate((b1, b2, None))]
    ids = [u.id for u in users]
    book = Book(b1=b1, b2=b2, agent_a=int(ids[0] or 0), agent_b=int(ids[1] or 0), manager=int(ids[2] or 0))
    customer = await container.application.customers().register(new_customer())
    for _ in range(40):
        await container.application.policies().issue(new_policy(
            customer.id, renewal_in_days=rnd.randint(-29, 44), policy_type=rnd.choice(("motor", "health", "life")),
            premium_amount=Decimal(rnd.randint(100, 99999)) / 100, branch_id=rnd.choice((b1, b2, None))))
    await container.application.cases().open_due_cases()
    for case_id in await _case_ids(container):
        created = rnd.uniform(-40, 0)
        await patch_case(
            container, case_id, status=rnd.choice(STATUSES), assigned_to=rnd.choice([*ids, None]),
            escalated_to=rnd.choice([ids[0], None, None]), created_at=day(created),
            assigned_at=rnd.choice([None, day(created + rnd.uniform(0, 3))]),
            first_contact_date=rnd.choice([None, day(created + rnd.uniform(-1, 5))]),
            closed_at=rnd.choice([None, day(rnd.uniform(-30, 0))]),
            flags=rnd.choice([[], [{"code": "amount_mismatch"}]]))
        for _ in range(rnd.choice((0, 0, 1, 2))):
            amount = rnd.randint(100, 9999)
            paid = rnd.choice([None, str(amount), str(amount // 2)])
            await add_payment(container, case_id, rnd.choice(PAYMENT_STATUSES), str(amount), paid=paid,
                              refunded=rnd.choice(["0", "0", "10"]), channel=rnd.choice(["sms", "email", None]),
                              paid_at=None if paid is None else day(rnd.uniform(-30, 0)))
    return book


async def _case_ids(container: AppContainer) -> list[int]:
    from application.policies.ports import CaseFilters
    from application.shared.pagination import PageRequest

    page = await container.application.cases().list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    return [int(v.id) for v in sorted(page.items, key=lambda v: v.policy_id)]  # the same order on both


def normalised(figures: DashboardFigures) -> DashboardFigures:
    figures.groups.sort(key=lambda g: (g.dimension, g.key))
    return figures


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_memory_and_sql_agree_on_random_books(memory_container: AppContainer, sql_container: AppContainer,
                                                    seed: int) -> None:
    books = [await random_book(c, seed) for c in (memory_container, sql_container)]
    assert books[0] == books[1]
    book = books[0]
    visibilities = [EVERYTHING, Visibility(reach="own", user_id=book.agent_a),
                    Visibility(reach="branch", user_id=book.agent_b, branch_id=book.b2)]
    queries = [DEFAULT, DashboardQuery(date_from=TODAY - timedelta(days=45), date_to=TODAY + timedelta(days=10),
                                       bucket="week", policy_type="motor"),
               DashboardQuery(date_from=DEFAULT.date_from, date_to=DEFAULT.date_to, branch_id=book.b1,
                              agent_id=book.agent_a)]
    memory, sql = reads(memory_container), reads(sql_container)
    for visibility in visibilities:
        for query in queries:
            expected = normalised(await memory.dashboard(query, visibility, TODAY))
            assert normalised(await sql.dashboard(query, visibility, TODAY)) == expected, (visibility, query)
            if visibility is EVERYTHING and query is DEFAULT:  # the book is not trivially empty
                assert expected.total.cases > 10 and expected.total.collected > 0 and expected.series
        agents_query = AgentsQuery(date_from=DEFAULT.date_from, date_to=DEFAULT.date_to)
        in_memory = sorted(await memory.agents(agents_query, visibility), key=lambda a: a.user_id)
        in_sql = sorted(await sql.agents(agents_query, visibility), key=lambda a: a.user_id)
        assert [(a.user_id, a.name, a.branch_id, a.branch, a.tally, a.contacted) for a in in_sql] == [
            (a.user_id, a.name, a.branch_id, a.branch, a.tally, a.contacted) for a in in_memory]
        assert [round(a.contact_hours, 6) for a in in_sql] == [round(a.contact_hours, 6) for a in in_memory]


# --- the dashboard cache: Redis and its twin -----------------------------------------------------------------------

@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        yield InMemoryDashboardCache()
        return
    redis = Redis.from_url(TEST_REDIS_URL)
    await redis.flushdb()
    yield RedisDashboardCache(redis, prefix="test-cache")
    await redis.aclose()


async def test_the_cache_keeps_values_for_their_ttl_and_locks_one_holder(cache: Any) -> None:
    assert await cache.get("k") is None
    await cache.put("k", b"figures", 60)
    assert await cache.get("k") == b"figures"
    await cache.put("gone", b"old", 1)
    await asyncio.sleep(1.1)
    assert await cache.get("gone") is None
    assert await cache.try_lock("k", 30)
    assert not await cache.try_lock("k", 30)  # another holder (process) is refused
    await cache.unlock("k")
    assert await cache.try_lock("k", 30)
    await cache.unlock("k")
    assert await cache.try_lock("short", 1)
    await asyncio.sleep(1.1)
    assert await cache.try_lock("short", 30)  # a lock whose holder died expires
