"""Login throttling through the real AuthService, argon2 hasher and in-memory throttle on a FixedClock.

ThrottlePolicy (domain/identity/throttling.py): per account at most 100 failures per sliding hour from all
clients; per (account, IP) 5 free failures, then a delay of 1 s doubling per failure; per IP 1000 failures.
Every attempt here verifies a real argon2id hash (the OWASP parameters), so the loops stay as short as the
limits allow.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.memory.login_throttle import InMemoryLoginThrottle
from adapters.system.clock import FixedClock
from application.identity.auth import AuthService
from application.identity.errors import AuthenticationFailed, TooManyAttempts
from application.identity.principal import ClientInfo
from application.identity.repositories import AuditFilters
from application.identity.views import LoginResult
from application.shared.pagination import PageRequest
from domain.identity.model import User
from domain.identity.throttling import ThrottlePolicy
from entrypoints.container import AppContainer
from tests.identity_support import make_user

OWNER = "owner@example.com"
NOBODY = "nobody@example.com"  # no such account
PASSWORD = "correct horse battery staple"
POLICY = ThrottlePolicy()
STEP = timedelta(seconds=1)  # between the attacker's attempts: the oldest failure is the first to leave


def client(ip: str) -> ClientInfo:
    return ClientInfo(ip=ip, user_agent="pytest")


def attacker_ip(i: int) -> str:
    return f"203.0.{i // 256}.{i % 256}"


@pytest.fixture
async def owner(memory_container: AppContainer) -> User:
    encoded = memory_container.identity.hasher().hash(PASSWORD)
    return await make_user(memory_container, "agent", email=OWNER, password_hash=encoded)


@pytest.fixture
def auth(memory_container: AppContainer) -> AuthService:
    service: AuthService = memory_container.identity.auth()
    return service


def signed_in(result: LoginResult, user: User) -> bool:
    return result.access_token is not None and result.user is not None and result.user.id == user.id


async def fail(auth: AuthService, email: str, ip: str, password: str = "wrong password 123") -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as failed:
        await auth.login(email, password, client(ip))
    return failed.value


async def refused(auth: AuthService, email: str, ip: str, password: str = PASSWORD) -> TooManyAttempts:
    with pytest.raises(TooManyAttempts) as throttled:
        await auth.login(email, password, client(ip))
    assert throttled.value.retry_after > 0
    return throttled.value


def test_the_container_throttles_in_memory_with_the_default_policy(memory_container: AppContainer) -> None:
    throttle = memory_container.identity.throttle()
    assert isinstance(throttle, InMemoryLoginThrottle)
    assert (POLICY.account_limit, POLICY.free_attempts, POLICY.ip_limit, POLICY.window) == (100, 5, 1000, 3600.0)


async def test_a_distributed_attack_locks_the_account_for_an_hour_not_for_ever(
        auth: AuthService, owner: User, clock: FixedClock, memory_container: AppContainer) -> None:
    for i in range(POLICY.account_limit):  # 100 failures, each from its own IP: no pair delay, no IP limit
        clock.advance(STEP)
        await fail(auth, OWNER, attacker_ip(i))
    clock.advance(STEP)
    # the 101st attempt, with the right password from an address never seen, is refused
    refusal = await refused(auth, OWNER, "198.51.100.7")
    oldest_leaves_in = POLICY.window - POLICY.account_limit * STEP.total_seconds()  # first failure at +1 s
    assert refusal.retry_after == pytest.approx(oldest_leaves_in)
    assert str(refusal) == "Too many attempts; try again later"
    again = await refused(auth, OWNER, attacker_ip(0), "wrong password 123")
    assert again.retry_after == pytest.approx(oldest_leaves_in)  # refusals are not failures: nothing grew
    throttle = memory_container.identity.throttle()
    assert len(throttle.failures[("account", OWNER)]) == POLICY.account_limit
    logged = await memory_container.identity.audit().list(AuditFilters(action=("auth.login_throttled",)),
                                                          PageRequest(limit=10))
    assert [(e.data["account"], e.data["reason"]) for e in logged.items] == [(OWNER, "account_limit")] * 2

    clock.advance(timedelta(seconds=refusal.retry_after - 1))
    assert (await refused(auth, OWNER, "198.51.100.8")).retry_after == pytest.approx(1)
    clock.advance(STEP)  # the oldest failure leaves the window
    result = await auth.login(OWNER, PASSWORD, client("198.51.100.9"))
    assert signed_in(result, owner)


async def test_an_unknown_account_is_throttled_exactly_like_a_known_one(
        auth: AuthService, owner: User, clock: FixedClock) -> None:
    known: list[AuthenticationFailed] = []
    unknown: list[AuthenticationFailed] = []
    for i in range(POLICY.account_limit):
        clock.advance(STEP)
        known.append(await fail(auth, OWNER, attacker_ip(i)))
        unknown.append(await fail(auth, NOBODY, attacker_ip(1000 + i)))
    assert {(type(e), str(e), e.code) for e in known + unknown} == {
        (AuthenticationFailed, "Invalid email or password", "unauthorized")}
    assert ({e.reason for e in known}, {e.reason for e in unknown}) == ({"bad_password"}, {"unknown_account"})
    clock.advance(STEP)
    on_known = await refused(auth, OWNER, "198.51.100.7")
    on_unknown = await refused(auth, NOBODY, "198.51.100.7")
    assert (str(on_known), on_known.retry_after) == (str(on_unknown), on_unknown.retry_after)
    # and lifted alike: the unknown account then fails as a plain wrong password, the owner signs in
    clock.advance(timedelta(seconds=on_known.retry_after))
    assert str(await fail(auth, NOBODY, "198.51.100.8", PASSWORD)) == "Invalid email or password"
    assert signed_in(await auth.login(OWNER, PASSWORD, client("198.51.100.8")), owner)


async def test_one_client_gets_a_growing_delay_that_spares_the_owner_elsewhere(
        auth: AuthService, owner: User, clock: FixedClock) -> None:
    attacker, home = "203.0.113.66", "198.51.100.7"
    for _ in range(POLICY.free_attempts):  # five free failures, no clock movement
        await fail(auth, OWNER, attacker)
    first = await refused(auth, OWNER, attacker)  # the 6th attempt waits, even with the right password
    assert first.retry_after == pytest.approx(POLICY.base_delay)
    # the same account from another address is untouched: a wrong password fails normally, the right one works
    assert (await fail(auth, OWNER, home)).reason == "bad_password"
    assert signed_in(await auth.login(OWNER, PASSWORD, client(home)), owner)
    assert (await refused(auth, OWNER, attacker)).retry_after == pytest.approx(POLICY.base_delay)

    clock.advance(timedelta(seconds=POLICY.base_delay))
    await fail(auth, OWNER, attacker)  # the 6th failure doubles the wait
    assert (await refused(auth, OWNER, attacker)).retry_after == pytest.approx(2 * POLICY.base_delay)
    clock.advance(timedelta(seconds=2 * POLICY.base_delay))
    assert signed_in(await auth.login(OWNER, PASSWORD, client(attacker)), owner)
    # a success clears that client's delay: its next mistakes are free again
    for _ in range(POLICY.free_attempts):
        await fail(auth, OWNER, attacker)
    await refused(auth, OWNER, attacker)
