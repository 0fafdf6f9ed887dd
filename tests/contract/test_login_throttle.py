"""The login throttle port: Redis sorted sets and their in-memory twin, under the same tests and a FixedClock."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from adapters.memory.login_throttle import InMemoryLoginThrottle
from adapters.redis.redis_login_throttle import RedisLoginThrottle
from adapters.system.clock import FixedClock
from application.identity.ports import LoginThrottle
from domain.identity.throttling import ACCOUNT_LIMIT, DELAY, IP_LIMIT, ThrottleDecision, ThrottlePolicy
from tests.conftest import TEST_REDIS_URL

Make = Callable[..., LoginThrottle]  # (policy=ThrottlePolicy()) -> a fresh throttle on the shared clock

OWNER = "owner@example.com"
NOBODY = "nobody@example.com"  # no such account: the caller passes the key all the same
ATTACKER_IP = "203.0.113.66"
OWNER_IP = "198.51.100.7"


def ip_number(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def refused(retry_after: float, reason: str) -> ThrottleDecision:
    return ThrottleDecision(allowed=False, retry_after=retry_after, reason=reason)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis.from_url(TEST_REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest, clock: FixedClock) -> Make:
    if request.param == "memory":
        def make_memory(policy: ThrottlePolicy = ThrottlePolicy()) -> LoginThrottle:
            return InMemoryLoginThrottle(clock, policy)
        return make_memory
    client: Redis = request.getfixturevalue("redis_client")

    def make_redis(policy: ThrottlePolicy = ThrottlePolicy()) -> LoginThrottle:
        return RedisLoginThrottle(client, clock, policy)
    return make_redis


async def fail(throttle: LoginThrottle, account: str, ip: str) -> None:
    """A login attempt the throttle lets through and whose password is wrong."""
    assert (await throttle.check(account, ip)).allowed
    await throttle.record_failure(account, ip)


async def test_five_failures_are_free_then_the_client_waits_1_2_4_8_16_seconds(make: Make, clock: FixedClock) -> None:
    throttle = make()
    for _ in range(5):
        await fail(throttle, OWNER, ATTACKER_IP)
    for delay in (1.0, 2.0, 4.0, 8.0, 16.0):
        assert await throttle.check(OWNER, ATTACKER_IP) == refused(delay, DELAY)
        clock.advance(seconds(delay / 2))
        assert await throttle.check(OWNER, ATTACKER_IP) == refused(delay / 2, DELAY)
        clock.advance(seconds(delay / 2))
        await fail(throttle, OWNER, ATTACKER_IP)
    assert await throttle.check(OWNER, ATTACKER_IP) == refused(32.0, DELAY)


async def test_the_delay_is_capped_at_15_minutes(make: Make) -> None:
    throttle = make()
    for _ in range(40):
        await throttle.record_failure(OWNER, ATTACKER_IP)
    assert await throttle.check(OWNER, ATTACKER_IP) == refused(900.0, DELAY)


async def test_the_101st_failure_within_an_hour_is_refused_even_from_101_ips_and_the_lock_slides_away(
    make: Make, clock: FixedClock,
) -> None:
    throttle = make()
    for i in range(100):  # one failure per IP: no client ever reaches its own delay
        await fail(throttle, OWNER, ip_number(i))
        clock.advance(seconds(10))
    # 1000 s after the first failure: the 101st attempt is refused whoever makes it, until that failure is 1 h old
    assert await throttle.check(OWNER, ip_number(100)) == refused(2600.0, ACCOUNT_LIMIT)
    assert await throttle.check(OWNER, OWNER_IP) == refused(2600.0, ACCOUNT_LIMIT)
    clock.advance(seconds(2599))
    assert await throttle.check(OWNER, OWNER_IP) == refused(1.0, ACCOUNT_LIMIT)
    clock.advance(seconds(1))
    # the oldest failure has left the window: the owner on a clean client gets in, not locked out for ever
    assert (await throttle.check(OWNER, OWNER_IP)).allowed
    # the window slides: one more failure fills it again until the next oldest (10 s younger) leaves
    await throttle.record_failure(OWNER, ip_number(100))
    assert await throttle.check(OWNER, OWNER_IP) == refused(10.0, ACCOUNT_LIMIT)
    clock.advance(seconds(10))
    assert (await throttle.check(OWNER, OWNER_IP)).allowed
    await throttle.record_success(OWNER, OWNER_IP)
    clock.advance(seconds(3600))
    assert (await throttle.check(OWNER, ip_number(5))).allowed  # an hour later nothing is left of the attack


async def test_another_client_with_the_right_password_gets_in_while_the_attackers_client_waits(make: Make) -> None:
    throttle = make()
    for _ in range(8):
        await throttle.record_failure(OWNER, ATTACKER_IP)
    assert await throttle.check(OWNER, ATTACKER_IP) == refused(8.0, DELAY)
    assert (await throttle.check(OWNER, OWNER_IP)).allowed
    await throttle.record_success(OWNER, OWNER_IP)
    assert await throttle.check(OWNER, ATTACKER_IP) == refused(8.0, DELAY)  # the owner's login frees only them


async def test_an_unknown_account_is_throttled_exactly_like_a_known_one(make: Make, clock: FixedClock) -> None:
    throttle = make()
    await throttle.record_success(OWNER, OWNER_IP)  # the known account has logged in before

    async def attack(account: str, ips: list[str]) -> list[ThrottleDecision]:
        seen = []
        for step in range(9):
            ip = ips[0] if step < 7 else ips[step - 6]
            decision = await throttle.check(account, ip)
            seen.append(decision)
            if decision.allowed:
                await throttle.record_failure(account, ip)
            else:
                seen.append(await throttle.check(account, ips[-1]))
            clock.advance(seconds(1))
        return seen

    known = await attack(OWNER, [ip_number(i) for i in range(4)])
    unknown = await attack(NOBODY, [ip_number(i) for i in range(10, 14)])
    assert known == unknown
    assert any(not decision.allowed for decision in known)


async def test_a_success_clears_the_clients_delay_but_not_the_accounts_hourly_count(make: Make) -> None:
    throttle = make()
    for _ in range(7):
        await throttle.record_failure(OWNER, OWNER_IP)  # the owner mistyped seven times
    assert await throttle.check(OWNER, OWNER_IP) == refused(4.0, DELAY)
    await throttle.record_success(OWNER, OWNER_IP)
    assert (await throttle.check(OWNER, OWNER_IP)).allowed
    for i in range(92):
        await fail(throttle, OWNER, ip_number(i))
    assert (await throttle.check(OWNER, ATTACKER_IP)).allowed  # 99 failures in the hour
    await throttle.record_failure(OWNER, ATTACKER_IP)
    assert await throttle.check(OWNER, ATTACKER_IP) == refused(3600.0, ACCOUNT_LIMIT)
    assert await throttle.check(OWNER, OWNER_IP) == refused(3600.0, ACCOUNT_LIMIT)


async def test_a_success_does_not_reset_the_ip_count(make: Make) -> None:
    throttle = make(ThrottlePolicy(ip_limit=10))
    for i in range(9):
        await fail(throttle, f"victim{i}@example.com", ATTACKER_IP)
    await throttle.record_success("attacker@example.com", ATTACKER_IP)  # the attacker's own account
    await fail(throttle, "victim9@example.com", ATTACKER_IP)
    assert await throttle.check("victim10@example.com", ATTACKER_IP) == refused(3600.0, IP_LIMIT)


async def test_one_ip_is_refused_after_1000_failures_in_an_hour_across_accounts(
    make: Make, clock: FixedClock,
) -> None:
    throttle = make()
    for i in range(1000):  # credential stuffing: one attempt per account
        await fail(throttle, f"user{i}@example.com", ATTACKER_IP)
        clock.advance(seconds(1))
    assert await throttle.check("user1000@example.com", ATTACKER_IP) == refused(2600.0, IP_LIMIT)
    assert await throttle.check("user0@example.com", ATTACKER_IP) == refused(2600.0, IP_LIMIT)
    assert (await throttle.check("user0@example.com", OWNER_IP)).allowed  # the accounts themselves are not locked
    clock.advance(seconds(2600))
    assert (await throttle.check("user1000@example.com", ATTACKER_IP)).allowed


async def test_a_bounded_history_decides_as_the_full_one_would(make: Make, clock: FixedClock) -> None:
    throttle = make()
    for _ in range(130):  # recorded without checking: more than any limit keeps
        await throttle.record_failure(OWNER, ATTACKER_IP)
        clock.advance(seconds(1))
    # the account keeps its 100 newest failures, 1..100 s old; the oldest of them leaves the window first
    assert await throttle.check(OWNER, OWNER_IP) == refused(3600.0 - 100, ACCOUNT_LIMIT)
    assert await throttle.check(OWNER, ATTACKER_IP) == refused(3600.0 - 100, ACCOUNT_LIMIT)
    clock.advance(seconds(3499))
    assert await throttle.check(OWNER, OWNER_IP) == refused(1.0, ACCOUNT_LIMIT)
    clock.advance(seconds(1))
    assert await throttle.check(OWNER, OWNER_IP) == ThrottleDecision(True)
    assert await throttle.check(OWNER, ATTACKER_IP) == ThrottleDecision(True)  # its 15-minute delay ran out


# --- Redis only: what is stored ---------------------------------------------------------------------------

async def test_redis_keys_hash_the_account_expire_after_the_window_and_stay_bounded(
    redis_client: Redis, clock: FixedClock,
) -> None:
    throttle = RedisLoginThrottle(redis_client, clock)
    for _ in range(120):
        await throttle.record_failure(OWNER, ATTACKER_IP)
    hashed = hashlib.sha256(OWNER.encode()).hexdigest()
    keys = sorted(key.decode() for key in await redis_client.keys("*"))
    assert keys == [
        f"throttle:login:account:{hashed}",
        f"throttle:login:ip:{ATTACKER_IP}",
        f"throttle:login:pair:{hashed}:{ATTACKER_IP}",
    ]
    assert not any("owner" in key or "example" in key for key in keys)
    for key in keys:
        assert 0 < await redis_client.ttl(key) <= 3600
    assert await redis_client.zcard(keys[0]) == 100
    assert await redis_client.zcard(keys[1]) == 120
    assert await redis_client.zcard(keys[2]) == ThrottlePolicy().pair_history == 15
    await throttle.record_success(OWNER, ATTACKER_IP)
    assert not await redis_client.exists(keys[2])
    assert await redis_client.exists(keys[0], keys[1]) == 2
