"""The shared rate limiter: the Redis token bucket (db 13) and its in-memory twin under the same tests.

The in-memory bucket runs on a fake clock whose sleep moves time on, so its waits are exact; the Redis bucket
refills by the Redis server's clock, so its tests pass real (short) time and allow for the milliseconds a round
trip takes. The concurrency tests use real time on purpose: they measure what a provider would see.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.memory.token_bucket import InMemoryTokenBucket
from adapters.redis.token_bucket import RedisTokenBucket
from application.ports.rate_limits import RateLimit, RateLimiter
from tests.contract.email_support import free_port

REDIS_URL = "redis://127.0.0.1:6379/13"
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class FakeTime:
    """A monotonic clock that stands still; its sleep moves it on."""

    now: float = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class LimiterUnderTest:
    limiter: RateLimiter  # sleeps with `sleeps` below
    make: Callable[[Sleep], RateLimiter]  # a limiter on the same clock with this sleep (Redis: same buckets too)
    workers: Callable[[int], list[RateLimiter]]  # limiters on real time sharing buckets, as worker processes would
    elapse: Sleep  # let this much time pass for the buckets
    tolerance: float  # how much sooner than computed a wait may be (time passes during a Redis round trip)
    sleeps: list[float]  # what `limiter` was asked to sleep

    def assert_wait(self, wait: float, expected: float) -> None:
        assert expected - self.tolerance <= wait <= expected + 1e-9


@dataclass
class FakeProvider:
    """Answers 429 to a call when more than `limit` calls (this one included) landed in the last second."""

    limit: int
    clock: Callable[[], float] = time.monotonic
    recent: deque[float] = field(default_factory=deque)
    answers: Counter[int] = field(default_factory=Counter)

    def send(self) -> int:
        now = self.clock()
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        self.recent.append(now)
        status = 429 if len(self.recent) > self.limit else 200
        self.answers[status] += 1
        return status


def most_in_one_second(times: list[float]) -> int:
    """The largest number of `times` in any window [t, t + 1 s)."""
    ordered, most, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def recording_sleep(record: list[float], then: Sleep | None = None) -> Sleep:
    async def sleep(seconds: float) -> None:
        record.append(seconds)
        if then is not None:
            await then(seconds)
    return sleep


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on db 13; its keys are deleted afterwards."""
    prefix = f"test:ratelimit:{uuid.uuid4().hex}:"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def redis_clients() -> AsyncIterator[Callable[[], Redis]]:
    """Makes clients of db 13, closed afterwards."""
    made: list[Redis] = []

    def make() -> Redis:
        made.append(Redis.from_url(REDIS_URL))
        return made[-1]
    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def under_test(request: pytest.FixtureRequest) -> LimiterUnderTest:
    sleeps: list[float] = []
    if request.param == "memory":
        fake, shared = FakeTime(), InMemoryTokenBucket()  # one process: its workers are tasks sharing the object
        return LimiterUnderTest(
            InMemoryTokenBucket(fake.clock, recording_sleep(sleeps, fake.sleep)),
            lambda sleep: InMemoryTokenBucket(fake.clock, sleep),
            lambda count: [shared] * count, fake.sleep, 1e-9, sleeps,
        )
    clients: Callable[[], Redis] = request.getfixturevalue("redis_clients")
    prefix: str = request.getfixturevalue("redis_prefix")
    client = clients()
    return LimiterUnderTest(
        RedisTokenBucket(client, key_prefix=prefix, sleep=recording_sleep(sleeps, asyncio.sleep)),
        lambda sleep: RedisTokenBucket(client, key_prefix=prefix, sleep=sleep),
        lambda count: [RedisTokenBucket(clients(), key_prefix=prefix) for _ in range(count)],
        asyncio.sleep, 0.02, sleeps,
    )


# --- both buckets ------------------------------------------------------------------------------------------

async def test_the_burst_is_granted_at_once_then_refused_with_the_wait_for_the_missing_tokens(
    under_test: LimiterUnderTest,
) -> None:
    limiter, limit = under_test.limiter, RateLimit(rate=10, burst=3)
    assert [await limiter.reserve("sms", limit) for _ in range(3)] == [0.0, 0.0, 0.0]
    under_test.assert_wait(await limiter.reserve("sms", limit), 0.1)
    under_test.assert_wait(await limiter.reserve("sms", limit, tokens=2), 0.2)
    under_test.assert_wait(await limiter.reserve("sms", limit), 0.1)  # the refusals took nothing


async def test_tokens_refill_at_the_rate_and_never_beyond_the_burst(under_test: LimiterUnderTest) -> None:
    limiter, limit = under_test.limiter, RateLimit(rate=20, burst=2)
    assert await limiter.reserve("wa", limit, tokens=2) == 0.0
    await under_test.elapse(0.05)  # one token
    assert await limiter.reserve("wa", limit) == 0.0
    under_test.assert_wait(await limiter.reserve("wa", limit), 0.05)
    await under_test.elapse(0.5)  # ten tokens' worth, but the bucket holds two
    assert [await limiter.reserve("wa", limit) for _ in range(2)] == [0.0, 0.0]
    under_test.assert_wait(await limiter.reserve("wa", limit), 0.05)


async def test_a_changed_limit_applies_at_once_and_the_bucket_never_holds_more_than_the_new_burst(
    under_test: LimiterUnderTest,
) -> None:
    limiter, slow, fast = under_test.limiter, RateLimit(rate=1, burst=3), RateLimit(rate=20, burst=2)
    assert await limiter.reserve("email", slow, tokens=3) == 0.0
    await under_test.elapse(0.2)  # 0.2 token at the old rate, 4 at the new one
    assert [await limiter.reserve("email", fast) for _ in range(2)] == [0.0, 0.0]
    under_test.assert_wait(await limiter.reserve("email", fast), 0.05)


async def test_more_tokens_than_the_burst_or_fewer_than_one_are_refused(under_test: LimiterUnderTest) -> None:
    limiter, limit = under_test.limiter, RateLimit(rate=5, burst=3)
    with pytest.raises(ValueError, match="at most 3"):
        await limiter.reserve("email", limit, tokens=4)
    with pytest.raises(ValueError, match="at most 3"):
        await limiter.acquire("email", limit, tokens=4)
    with pytest.raises(ValueError, match="at least one"):
        await limiter.reserve("email", limit, tokens=0)
    with pytest.raises(ValueError, match="rate"):
        await limiter.reserve("email", RateLimit(rate=-1, burst=3))
    assert await limiter.reserve("email", limit, tokens=3) == 0.0  # the whole burst at once is fine


async def test_rate_zero_is_unlimited(under_test: LimiterUnderTest) -> None:
    limiter, unlimited = under_test.limiter, RateLimit(rate=0)
    assert {await limiter.reserve("internal", unlimited) for _ in range(500)} == {0.0}
    assert await limiter.acquire("internal", unlimited, tokens=1000, max_wait=0)
    assert under_test.sleeps == []


async def test_buckets_are_independent(under_test: LimiterUnderTest) -> None:
    limiter, limit = under_test.limiter, RateLimit(rate=1, burst=2)
    assert await limiter.reserve("longcode:1", limit, tokens=2) == 0.0
    under_test.assert_wait(await limiter.reserve("longcode:1", limit), 1.0)
    assert await limiter.reserve("longcode:2", limit, tokens=2) == 0.0
    under_test.assert_wait(await limiter.reserve("longcode:1", limit), 1.0)


async def test_acquire_is_granted_at_once_or_after_one_sleep_of_exactly_the_wait(
    under_test: LimiterUnderTest,
) -> None:
    limiter, limit = under_test.limiter, RateLimit(rate=20, burst=1)
    assert await limiter.acquire("sms", limit)
    assert under_test.sleeps == []
    assert await limiter.acquire("sms", limit)
    assert len(under_test.sleeps) == 1
    under_test.assert_wait(under_test.sleeps[0], 0.05)
    under_test.assert_wait(await limiter.reserve("sms", limit), 0.05)  # the token it slept for is spent


async def test_concurrent_acquirers_queue_each_for_its_own_turn_and_give_up_beyond_max_wait(
    under_test: LimiterUnderTest,
) -> None:
    booked: list[float] = []
    limiter = under_test.make(recording_sleep(booked))  # records the waits without letting time pass
    limit = RateLimit(rate=10, burst=1)
    assert await limiter.reserve("email", limit) == 0.0
    granted = await asyncio.gather(*(limiter.acquire("email", limit, max_wait=0.25) for _ in range(3)))
    assert sorted(granted) == [False, True, True]
    assert len(booked) == 2  # one sleep each, no polling
    for wait, turn in zip(sorted(booked), (0.1, 0.2), strict=True):
        under_test.assert_wait(wait, turn)
    under_test.assert_wait(await limiter.reserve("email", limit), 0.3)  # two booked, the refused one took none


# --- Redis only --------------------------------------------------------------------------------------------

async def test_the_redis_bucket_is_a_hash_on_the_server_clock_that_expires_once_full_again(
    redis_clients: Callable[[], Redis], redis_prefix: str,
) -> None:
    redis_client = redis_clients()
    limiter = RedisTokenBucket(redis_client, key_prefix=redis_prefix)
    limit = RateLimit(rate=50, burst=4)
    assert await limiter.reserve("wa", limit, tokens=3) == 0.0
    key = limiter.key("wa")
    assert key == f"{redis_prefix}wa"
    assert [k.decode() async for k in redis_client.scan_iter(match=f"{redis_prefix}*")] == [key]
    stored: dict[bytes, bytes] = await redis_client.hgetall(key)  # type: ignore[misc]
    assert set(stored) == {b"tokens", b"at"}
    assert float(stored[b"tokens"]) == pytest.approx(1.0, abs=0.05)
    seconds, microseconds = await redis_client.time()
    assert 0 <= seconds * 1_000_000 + microseconds - float(stored[b"at"]) < 1_000_000
    assert 0 < await redis_client.pttl(key) <= 60  # three tokens at 50/s
    await asyncio.sleep(0.07)
    assert not await redis_client.exists(key)
    assert await limiter.reserve("wa", limit, tokens=4) == 0.0  # gone means full


async def test_an_unlimited_rate_never_touches_redis() -> None:
    nowhere = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2)
    limiter = RedisTokenBucket(nowhere)
    assert await limiter.reserve("internal", RateLimit(rate=0)) == 0.0
    assert await limiter.acquire("internal", RateLimit(rate=0), tokens=10)
    with pytest.raises(RedisConnectionError):  # the same client does reach for Redis when there is a limit
        await limiter.reserve("internal", RateLimit(rate=1))
    await nowhere.aclose()


async def test_four_worker_clients_of_25_tasks_share_one_bucket_at_its_rate_and_never_beyond(
    redis_clients: Callable[[], Redis], redis_prefix: str,
) -> None:
    limit, wanted = RateLimit(rate=50, burst=5), 300
    # one client each, as four worker processes would have
    limiters = [RedisTokenBucket(redis_clients(), key_prefix=redis_prefix) for _ in range(4)]
    grants: list[tuple[float, int, int]] = []  # (time, client, task)
    refused: list[int] = []
    finished = asyncio.Event()

    async def sender(client_no: int, task_no: int) -> None:
        while len(grants) < wanted:
            if not await limiters[client_no].acquire("whatsapp", limit, max_wait=10.0):
                refused.append(task_no)
            elif len(grants) < wanted:
                grants.append((time.monotonic(), client_no, task_no))
        finished.set()

    tasks = [asyncio.create_task(sender(c, t)) for c in range(4) for t in range(25)]
    try:
        await asyncio.wait_for(finished.wait(), timeout=20)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    times = sorted(at for at, _client, _task in grants)
    assert refused == []
    assert len(times) == wanted
    assert most_in_one_second(times) <= limit.rate + limit.burst
    sustained = (wanted - limit.burst) / (times[-1] - times[0])
    assert sustained >= 0.9 * limit.rate
    per_client = Counter(client for _at, client, _task in grants)
    assert min(per_client.values()) >= 60  # a fair share is 75
    per_task = Counter((client, task) for _at, client, task in grants)
    assert len(per_task) == 100
    assert 2 <= min(per_task.values()) <= max(per_task.values()) <= 4  # a fair share is 3


async def test_a_provider_fed_through_the_limiter_by_concurrent_senders_never_answers_429(
    under_test: LimiterUnderTest,
) -> None:
    limit, sends = RateLimit(rate=100, burst=5), 200
    strict = FakeProvider(limit=3)
    assert [strict.send() for _ in range(4)] == [200, 200, 200, 429]  # the fake provider does refuse

    provider = FakeProvider(limit=int(limit.rate) + limit.burst)
    workers = under_test.workers(4)

    async def sender(limiter: RateLimiter) -> None:
        while sum(provider.answers.values()) < sends:
            assert await limiter.acquire("sms", limit, max_wait=5.0)
            if sum(provider.answers.values()) < sends:
                provider.send()

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(sender(limiter) for limiter in workers for _ in range(3))), timeout=10)
    assert provider.answers == Counter({200: sends})
    assert time.monotonic() - started >= (sends - limit.burst) / limit.rate * 0.95
