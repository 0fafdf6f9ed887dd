"""The identity persistence ports: users, roles, recovery codes, the audit trail and the principal source, run
against the in-memory and the PostgreSQL adapters under the same tests and a FixedClock."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import insert

from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.tables.identity import branches
from adapters.system.clock import FixedClock
from application.identity.repositories import IdentityUnitOfWork, UserFilters
from application.shared.pagination import PageRequest, SortKey
from domain.identity.model import Role, User, UserStatus
from domain.identity.permissions import Grant, Permission, Scope
from domain.shared.errors import Conflict, ValidationFailed
from entrypoints.container import AppContainer

GRANTS = (Grant(Permission.USERS_READ), Grant(Permission.CASES_READ, Scope.BRANCH),
          Grant(Permission.CASES_WRITE, Scope.OWN))


def uow(container: AppContainer) -> IdentityUnitOfWork:
    # the port's mutable attributes (and the base units' concrete outboxes) defeat a structural check
    return cast(IdentityUnitOfWork, container.adapters.identity_uow())


async def add_branch(container: AppContainer, code: str) -> int:
    engine = container.adapters.engine()
    if engine is None:
        store: MemoryStore = container.adapters.store()
        return store.add_branch(code)
    async with engine.begin() as conn:
        return int(await conn.scalar(insert(branches).values(code=code, name=f"Branch {code}")
                                     .returning(branches.c.id)))


def new_role(name: str = "agent", **overrides: Any) -> Role:
    values: dict[str, Any] = {"id": None, "name": name, "display_name": name.title(), "grants": GRANTS}
    values.update(overrides)
    return Role(**values)


def new_user(role_id: int, email: str = "asha@example.com", **overrides: Any) -> User:
    values: dict[str, Any] = {"id": None, "email": email, "password_hash": "$argon2id$v=19$x", "first_name": "Asha",
                              "last_name": "Rao", "role_id": role_id}
    values.update(overrides)
    return User(**values)


async def add_role(container: AppContainer, role: Role | None = None) -> int:
    async with uow(container) as unit:
        added = await unit.roles.add(role or new_role())
        await unit.commit()
    assert added.id is not None
    return added.id


async def add_users(container: AppContainer, *users: User) -> list[int]:
    async with uow(container) as unit:
        for user in users:
            await unit.users.add(user)
        await unit.commit()
    return [u.id for u in users if u.id is not None]


async def get_user(container: AppContainer, user_id: int) -> User | None:
    async with uow(container) as unit:
        return await unit.users.get(user_id)


# --- users --------------------------------------------------------------------------------------------------

async def test_a_user_is_added_read_back_and_saved(container: AppContainer, clock: FixedClock) -> None:
    role_id = await add_role(container)
    branch_id = await add_branch(container, "PUN")
    user = new_user(role_id, branch_id=branch_id, phone="+919876543210", department="Motor", job_title="Agent",
                    language="hi", mfa_secret="JBSWY3DPEHPK3PXP", password_reset_token="ab" * 32,
                    password_reset_expires=clock.now() + timedelta(hours=1), password_changed_at=clock.now())
    async with uow(container) as unit:
        added = await unit.users.add(user)
        await unit.commit()
    assert added is user and user.id is not None
    assert user.created_at == user.updated_at == clock.now()
    async with uow(container) as unit:
        assert await unit.users.get(user.id) == user
        assert await unit.users.get_by_email("asha@example.com") == user
        assert await unit.users.get_by_email("nobody@example.com") is None
        assert await unit.users.get(user.id + 100) is None
        assert await unit.users.branch_exists(branch_id) and not await unit.users.branch_exists(branch_id + 100)

    clock.advance(timedelta(minutes=5))
    changed = dataclasses.replace(user, email="asha.rao@example.com", status=UserStatus.INACTIVE, branch_id=None,
                                  last_login=clock.now(), mfa_enabled=True, password_reset_token=None,
                                  password_reset_expires=None)
    async with uow(container) as unit:
        await unit.users.save(changed)
        await unit.commit()
    assert changed.updated_at == clock.now()
    assert await get_user(container, user.id) == changed
    assert (changed.created_at, changed.status) == (user.created_at, UserStatus.INACTIVE)


async def test_a_duplicate_email_is_a_conflict_and_the_unit_writes_nothing(container: AppContainer) -> None:
    role_id = await add_role(container)
    await add_users(container, new_user(role_id, "taken@example.com"))
    with pytest.raises(Conflict) as raised:
        async with uow(container) as unit:
            await unit.users.add(new_user(role_id, "fresh@example.com"))
            await unit.users.add(new_user(role_id, "taken@example.com", first_name="Other"))
            await unit.commit()
    assert raised.value.field == "email"
    with pytest.raises(Conflict) as twice:
        async with uow(container) as unit:
            await unit.users.add(new_user(role_id, "twin@example.com"))
            await unit.users.add(new_user(role_id, "twin@example.com"))
    assert twice.value.field == "email"
    (other,) = await add_users(container, new_user(role_id, "other@example.com"))
    loaded = await get_user(container, other)
    assert loaded is not None
    with pytest.raises(Conflict) as on_save:
        async with uow(container) as unit:
            await unit.users.save(dataclasses.replace(loaded, email="taken@example.com"))
    assert on_save.value.field == "email"
    async with uow(container) as unit:
        page = await unit.users.list(UserFilters(), PageRequest())
        assert sorted(u.email for u in page.items) == ["other@example.com", "taken@example.com"]
        assert page.total == 2


async def test_unknown_role_or_branch_is_a_validation_error(container: AppContainer) -> None:
    role_id = await add_role(container)
    for user, field in ((new_user(role_id + 50), "roleId"), (new_user(role_id, branch_id=77), "branchId")):
        with pytest.raises(ValidationFailed) as raised:
            async with uow(container) as unit:
                await unit.users.add(user)
                await unit.commit()
        assert [d.field for d in raised.value.details] == [field]
    async with uow(container) as unit:
        assert (await unit.users.list(UserFilters(), PageRequest())).total == 0


async def test_users_are_filtered_sorted_and_paged(container: AppContainer, clock: FixedClock) -> None:
    agent, manager = await add_role(container), await add_role(container, new_role("manager"))
    pune, goa = await add_branch(container, "PUN"), await add_branch(container, "GOA")
    ids = await add_users(
        container,
        new_user(agent, "ravi@example.com", first_name="Ravi", last_name="Das", branch_id=pune),
        new_user(agent, "asha@example.com", first_name="Asha", last_name="Rao", branch_id=goa,
                 last_login=clock.now()),
        new_user(manager, "meera_k@example.com", first_name="Meera", last_name="Das", branch_id=pune,
                 last_login=clock.now() - timedelta(days=1)),
        new_user(agent, "old@example.com", first_name="Zed", last_name="Rao", status=UserStatus.INACTIVE),
    )
    ravi, asha, meera, zed = ids

    async def listed(filters: UserFilters = UserFilters(), **page: Any) -> tuple[list[int | None], int]:
        async with uow(container) as unit:
            found = await unit.users.list(filters, PageRequest(**page))
        return [u.id for u in found.items], found.total

    assert await listed() == ([meera, ravi, asha, zed], 4)  # lastName, firstName, id
    assert await listed(UserFilters(q=" DAS ")) == ([meera, ravi], 2)
    assert await listed(UserFilters(q="_k@")) == ([meera], 1)  # _ is no wildcard
    assert await listed(UserFilters(q="%")) == ([], 0)
    assert await listed(UserFilters(q="ASHA@EX")) == ([asha], 1)
    assert await listed(UserFilters(role_id=(agent,), status=("active",))) == ([ravi, asha], 2)
    assert await listed(UserFilters(branch_id=(pune, goa), role_id=(agent, manager))) == ([meera, ravi, asha], 3)
    assert await listed(sort=(SortKey("lastLogin"),)) == ([meera, asha, ravi, zed], 4)  # NULLs last
    assert await listed(sort=(SortKey("lastLogin", descending=True),)) == ([zed, ravi, asha, meera], 4)
    assert await listed(sort=(SortKey("email", descending=True),)) == ([ravi, zed, meera, asha], 4)
    assert await listed(sort=(SortKey("createdAt"),)) == ([ravi, asha, meera, zed], 4)  # ties: by id
    assert await listed(page=2, limit=3) == ([zed], 4)
    assert await listed(UserFilters(q="das"), sort=(SortKey("firstName", True),), limit=1) == ([ravi], 2)
    with pytest.raises(ValidationFailed):
        await listed(sort=(SortKey("password_hash"),))
    async with uow(container) as unit:
        assert await unit.users.count_with_role(agent) == 3
        assert await unit.users.count_with_role(agent, active_only=True) == 2
        assert await unit.users.count_with_role(manager + 100) == 0


# --- roles --------------------------------------------------------------------------------------------------

async def test_roles_are_added_listed_saved_and_deleted(container: AppContainer, clock: FixedClock) -> None:
    async with uow(container) as unit:
        admin = await unit.roles.add(new_role("admin", is_system=True, requires_mfa=True, description="All"))
        clerk = await unit.roles.add(new_role("clerk", grants=()))
        agent = await unit.roles.add(new_role("agent"))
        await unit.commit()
    assert admin.id is not None and agent.id is not None and clerk.id is not None
    assert admin.created_at == admin.updated_at == clock.now()
    async with uow(container) as unit:
        assert await unit.roles.get(agent.id) == agent
        assert (await unit.roles.get(agent.id) or agent).grants == GRANTS
        assert await unit.roles.get_by_name("admin") == admin
        assert await unit.roles.get_by_name("nobody") is None
        assert [r.name for r in await unit.roles.list()] == ["admin", "agent", "clerk"]
        with pytest.raises(Conflict) as raised:
            await unit.roles.add(new_role("agent"))
        assert raised.value.field == "name"

    clock.advance(timedelta(hours=1))
    changed = dataclasses.replace(agent, display_name="Field agent", grants=(Grant(Permission.CASES_READ,
                                                                                   Scope.ALL),))
    async with uow(container) as unit:
        await unit.roles.save(changed)
        await unit.users.add(new_user(clerk.id))
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.roles.get(agent.id) == changed and changed.updated_at == clock.now()
        with pytest.raises(Conflict):
            await unit.roles.save(dataclasses.replace(changed, name="admin"))
        with pytest.raises(Conflict):  # the clerk role still has a user
            await unit.roles.delete(clerk.id)
        await unit.roles.delete(agent.id)
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.roles.get(agent.id) is None
        assert [r.name for r in await unit.roles.list()] == ["admin", "clerk"]


# --- atomic statements --------------------------------------------------------------------------------------

async def test_a_totp_step_is_claimed_once_and_only_moving_forward(container: AppContainer) -> None:
    (user_id,) = await add_users(container, new_user(await add_role(container)))

    async def claim(step: int, *, commit: bool = True) -> bool:
        async with uow(container) as unit:
            claimed = await unit.users.claim_totp_step(user_id, step)
            if commit:
                await unit.commit()
        return claimed

    assert await claim(1000, commit=False)  # rolled back: the step is still free
    assert await claim(1000)
    assert not await claim(1000)
    assert not await claim(999)
    assert await claim(1001)
    assert sorted(await asyncio.gather(claim(1005), claim(1005))) == [False, True]
    user = await get_user(container, user_id)
    assert user is not None and user.mfa_last_step == 1005
    async with uow(container) as unit:  # saving a stale copy never moves the step back
        await unit.users.save(dataclasses.replace(user, mfa_last_step=None, first_name="Asha K"))
        await unit.commit()
    assert (await get_user(container, user_id) or user).mfa_last_step == 1005
    async with uow(container) as unit:
        assert not await unit.users.claim_totp_step(user_id + 100, 5000)


async def test_a_reset_token_is_taken_once_before_it_expires(container: AppContainer, clock: FixedClock) -> None:
    role_id = await add_role(container)
    live, expired = await add_users(
        container,
        new_user(role_id, password_reset_token="a" * 64, password_reset_expires=clock.now() + timedelta(hours=1)),
        new_user(role_id, "late@example.com", password_reset_token="b" * 64,
                 password_reset_expires=clock.now() - timedelta(seconds=1)))
    async with uow(container) as unit:
        assert await unit.users.take_reset_token("b" * 64, clock.now()) is None
        assert await unit.users.take_reset_token("c" * 64, clock.now()) is None
        assert await unit.users.take_reset_token("a" * 64, clock.now()) == live
        assert await unit.users.take_reset_token("a" * 64, clock.now()) is None
        await unit.commit()
    user = await get_user(container, live)
    assert user is not None and (user.password_reset_token, user.password_reset_expires) == (None, None)
    assert expired != live


async def test_recovery_codes_are_replaced_and_each_used_once(container: AppContainer, clock: FixedClock) -> None:
    role_id = await add_role(container)
    alice, bob = await add_users(container, new_user(role_id), new_user(role_id, "bob@example.com"))
    async with uow(container) as unit:
        await unit.users.replace_recovery_codes(alice, ["h1", "h2", "h3"], clock.now())
        await unit.users.replace_recovery_codes(bob, ["h1"], clock.now())
        assert await unit.users.unused_recovery_codes(alice) == ["h1", "h2", "h3"]
        await unit.commit()

    async def use(code: str, user_id: int = alice) -> bool:
        async with uow(container) as unit:
            used = await unit.users.use_recovery_code(user_id, code, clock.now())
            await unit.commit()
        return used

    assert await use("h2")
    assert not await use("h2")
    assert not await use("h9")
    assert sorted(await asyncio.gather(use("h3"), use("h3"))) == [False, True]
    async with uow(container) as unit:
        assert await unit.users.unused_recovery_codes(alice) == ["h1"]
        assert await unit.users.unused_recovery_codes(bob) == ["h1"]
        assert await unit.users.use_recovery_code(alice, "h1", clock.now())
        # no commit: the code stays unused
    async with uow(container) as unit:
        assert await unit.users.unused_recovery_codes(alice) == ["h1"]
        await unit.users.replace_recovery_codes(alice, ["n1", "n2", "n1"], clock.now())
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.users.unused_recovery_codes(alice) == ["n1", "n2"]
        assert not await unit.users.use_recovery_code(alice, "h1", clock.now())
        assert await unit.users.unused_recovery_codes(bob) == ["h1"]
