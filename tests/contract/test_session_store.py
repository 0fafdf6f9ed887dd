"""The session store port: PostgreSQL and its in-memory twin under the same tests and a FixedClock."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.memory.session_store import InMemorySessionStore
from adapters.sqlalchemy.session_store import SqlAlchemySessionStore
from adapters.sqlalchemy.tables.identity import users
from adapters.system.clock import FixedClock
from application.identity.ports import SessionStore
from domain.identity.sessions import REFRESH_REUSE, DeviceSession, RefreshOutcome, hash_refresh_token
from entrypoints.container import AppContainer

SESSION_TTL = timedelta(days=30)
REFRESH_TTL = timedelta(days=7)
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1"


@dataclass(frozen=True)
class Setup:
    store: SessionStore
    alice: int = 1  # any user ids will do for the memory store
    bob: int = 2
    session_factory: async_sessionmaker[AsyncSession] | None = None  # postgres only: to insert the users


@pytest.fixture(params=["memory", "postgres"])
def setup(request: pytest.FixtureRequest) -> Setup:
    ids = (f"sess{n}" for n in itertools.count(1))
    if request.param == "memory":
        return Setup(InMemorySessionStore(new_id=lambda: next(ids)))
    container: AppContainer = request.getfixturevalue("sql_container")
    factory: async_sessionmaker[AsyncSession] = container.adapters.session_factory()
    return Setup(SqlAlchemySessionStore(factory, new_id=lambda: next(ids)), session_factory=factory)


@pytest.fixture
async def env(setup: Setup) -> Setup:
    """The setup with, on postgres, two real users to own the sessions."""
    if setup.session_factory is None:
        return setup
    async with setup.session_factory() as s, s.begin():
        rows = await s.execute(insert(users).returning(users.c.id), [
            {"email": f"{name}@example.com", "password_hash": "!", "first_name": name.title(), "last_name": "Test"}
            for name in ("alice", "bob")])
        alice, bob = rows.scalars().all()
    return replace(setup, alice=alice, bob=bob)


def h(token: str) -> str:
    return hash_refresh_token(token)


async def start(env: Setup, clock: FixedClock, token: str, *, user: int | None = None, agent: str | None = LAPTOP,
                ip: str | None = "198.51.100.7", refresh_ttl: timedelta = REFRESH_TTL) -> DeviceSession:
    return await env.store.start(user_id=env.alice if user is None else user, token_hash=h(token),
                                 user_agent=agent, ip_address=ip, now=clock.now(), session_ttl=SESSION_TTL,
                                 refresh_ttl=refresh_ttl)


async def rotate(env: Setup, clock: FixedClock, token: str, new: str) -> tuple[RefreshOutcome, DeviceSession | None]:
    return await env.store.rotate(token_hash=h(token), new_token_hash=h(new), now=clock.now(),
                                  refresh_ttl=REFRESH_TTL)


async def test_a_started_session_is_listed_with_its_device(env: Setup, clock: FixedClock) -> None:
    t0 = clock.now()
    laptop = await start(env, clock, "r-laptop")
    assert laptop == DeviceSession(id="sess1", user_id=env.alice, user_agent=LAPTOP, ip_address="198.51.100.7",
                                   created_at=t0, last_used_at=t0, expires_at=t0 + SESSION_TTL, revoked_at=None,
                                   version=1)
    clock.advance(timedelta(minutes=5))
    phone = await start(env, clock, "r-phone", agent=PHONE, ip="2001:db8::1")
    await start(env, clock, "r-bob", user=env.bob)
    assert await env.store.active(env.alice, now=clock.now()) == [phone, laptop]
    clock.advance(timedelta(minutes=5))
    outcome, rotated = await rotate(env, clock, "r-laptop", "r-laptop-2")  # the laptop is now the latest used
    assert outcome is RefreshOutcome.ROTATED
    assert rotated == replace(laptop, last_used_at=clock.now())
    assert await env.store.active(env.alice, now=clock.now()) == [rotated, phone]
    assert await env.store.get("sess1") == rotated


async def test_device_details_too_long_for_their_columns_are_cut(env: Setup, clock: FixedClock) -> None:
    session = await start(env, clock, "r1", agent="A" * 600, ip=None)
    assert session.user_agent == "A" * 500
    assert session.ip_address is None
    assert await env.store.get(session.id) == session


async def test_rotation_then_reuse_of_a_rotated_token_revokes_the_family(env: Setup, clock: FixedClock) -> None:
    session = await start(env, clock, "r1")
    other = await start(env, clock, "r-other")
    clock.advance(timedelta(hours=1))
    assert (await rotate(env, clock, "r1", "r2"))[0] is RefreshOutcome.ROTATED
    clock.advance(timedelta(hours=1))
    assert (await rotate(env, clock, "r2", "r3"))[0] is RefreshOutcome.ROTATED
    clock.advance(timedelta(minutes=1))

    outcome, revoked = await rotate(env, clock, "r1", "r-thief")  # a stolen copy of the first token
    assert outcome is RefreshOutcome.REUSED
    assert revoked == replace(session, last_used_at=clock.now() - timedelta(minutes=1), revoked_at=clock.now(),
                              revoked_reason=REFRESH_REUSE, version=2)
    assert await env.store.get(session.id) == revoked
    assert await env.store.active(env.alice, now=clock.now()) == [other]
    # the owner's newest token is dead too, and so is any token the thief was trying to obtain
    assert await rotate(env, clock, "r3", "r4") == (RefreshOutcome.REVOKED, revoked)
    assert (await rotate(env, clock, "r-thief", "r5"))[0] is RefreshOutcome.UNKNOWN
    assert (await rotate(env, clock, "r2", "r6"))[0] is RefreshOutcome.REVOKED  # revoked once, not again
    assert await env.store.get(session.id) == revoked


async def test_an_expired_refresh_token_is_refused_without_revoking(env: Setup, clock: FixedClock) -> None:
    session = await start(env, clock, "r1", refresh_ttl=timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    assert await rotate(env, clock, "r1", "r2") == (RefreshOutcome.EXPIRED, session)
    assert await env.store.active(env.alice, now=clock.now()) == [session]


async def test_the_session_ends_at_its_absolute_expiry_whatever_the_refreshes(env: Setup, clock: FixedClock) -> None:
    session = await start(env, clock, "r1")
    for n in range(1, 5):  # a refresh every 6 days keeps each token fresh, but not the session
        clock.advance(timedelta(days=6))
        assert (await rotate(env, clock, f"r{n}", f"r{n + 1}"))[0] is RefreshOutcome.ROTATED
    clock.advance(session.expires_at - clock.now() - timedelta(seconds=1))
    assert (await rotate(env, clock, "r5", "r6"))[0] is RefreshOutcome.ROTATED
    clock.advance(timedelta(seconds=1))
    assert (await rotate(env, clock, "r6", "r7"))[0] is RefreshOutcome.EXPIRED
    assert await env.store.active(env.alice, now=clock.now()) == []
    assert await env.store.revoke(session.id, user_id=env.alice, now=clock.now(), reason="logout") is False
    assert await env.store.revoke_all(env.alice, now=clock.now(), reason="logout_all") == 0


async def test_an_unknown_token_is_unknown(env: Setup, clock: FixedClock) -> None:
    await start(env, clock, "r1")
    assert await rotate(env, clock, "never-issued", "r2") == (RefreshOutcome.UNKNOWN, None)
    assert await env.store.get("no-such-session") is None


async def test_revoke_ends_only_the_users_own_live_session(env: Setup, clock: FixedClock) -> None:
    laptop = await start(env, clock, "r-laptop")
    phone = await start(env, clock, "r-phone", agent=PHONE)
    clock.advance(timedelta(minutes=1))
    store = env.store
    assert await store.revoke(laptop.id, user_id=env.bob, now=clock.now(), reason="logout") is False
    assert await store.get(laptop.id) == laptop
    assert await store.revoke(laptop.id, user_id=env.alice, now=clock.now(), reason="logout") is True
    ended = replace(laptop, revoked_at=clock.now(), revoked_reason="logout", version=2)
    assert await store.get(laptop.id) == ended
    assert await store.revoke(laptop.id, user_id=env.alice, now=clock.now(), reason="logout") is False
    assert await store.get(laptop.id) == ended  # the version is bumped once only
    assert await store.active(env.alice, now=clock.now()) == [phone]
    assert (await rotate(env, clock, "r-laptop", "r2"))[0] is RefreshOutcome.REVOKED


async def test_revoke_all_keeps_the_excepted_session_and_other_users(env: Setup, clock: FixedClock) -> None:
    sessions = [await start(env, clock, f"r{n}") for n in range(3)]
    bobs = await start(env, clock, "r-bob", user=env.bob)
    await env.store.revoke(sessions[0].id, user_id=env.alice, now=clock.now(), reason="logout")
    clock.advance(timedelta(minutes=1))
    now = clock.now()
    assert await env.store.revoke_all(env.alice, now=now, reason="password_changed",
                                      except_session=sessions[2].id) == 1
    assert await env.store.active(env.alice, now=now) == [sessions[2]]
    assert await env.store.get(sessions[1].id) == replace(sessions[1], revoked_at=now,
                                                          revoked_reason="password_changed", version=2)
    assert await env.store.revoke_all(env.alice, now=now, reason="deactivated") == 1
    assert await env.store.active(env.alice, now=now) == []
    assert await env.store.active(env.bob, now=now) == [bobs]
    assert (await env.store.get(sessions[0].id) or sessions[0]).revoked_reason == "logout"


async def test_get_reflects_version_bumps(env: Setup, clock: FixedClock) -> None:
    session = await start(env, clock, "r1")
    assert (await env.store.get(session.id) or session).version == 1
    await rotate(env, clock, "r1", "r2")
    assert (await env.store.get(session.id) or session).version == 1  # refreshing keeps the access tokens valid
    await env.store.revoke_all(env.alice, now=clock.now(), reason="role_changed")
    assert (await env.store.get(session.id) or session).version == 2


async def test_two_concurrent_refreshes_with_one_token_give_at_most_one_success(
    env: Setup, clock: FixedClock,
) -> None:
    session = await start(env, clock, "r1")
    clock.advance(timedelta(minutes=1))
    results = await asyncio.gather(rotate(env, clock, "r1", "r-a"), rotate(env, clock, "r1", "r-b"))
    assert sorted(outcome for outcome, _ in results) == [RefreshOutcome.REUSED, RefreshOutcome.ROTATED]
    winner = "r-a" if results[0][0] is RefreshOutcome.ROTATED else "r-b"
    revoked = await env.store.get(session.id)
    assert revoked is not None
    assert (revoked.revoked_at, revoked.revoked_reason, revoked.version) == (clock.now(), REFRESH_REUSE, 2)
    assert await env.store.active(env.alice, now=clock.now()) == []
    assert (await rotate(env, clock, winner, "r2"))[0] is RefreshOutcome.REVOKED
