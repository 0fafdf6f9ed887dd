"""The audit trail and the principal source, run against the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import insert

from adapters.sqlalchemy.tables.identity import users
from adapters.system.clock import FixedClock
from application.identity.ports import SessionStore
from application.identity.repositories import AuditFilters, PrincipalRecord, PrincipalSource
from application.shared.pagination import PageRequest, SortKey
from domain.identity.model import AuditEntry, UserStatus
from domain.identity.permissions import grants_to_json
from domain.shared.errors import ValidationFailed
from entrypoints.container import AppContainer
from tests.contract.test_identity_adapters import (
    GRANTS,
    add_branch,
    add_role,
    add_users,
    get_user,
    new_role,
    new_user,
    uow,
)

TTL = timedelta(days=30)


async def test_audit_entries_are_written_on_commit_and_listed_newest_first(
        container: AppContainer, clock: FixedClock) -> None:
    role_id = await add_role(container)
    alice, bob = await add_users(container, new_user(role_id), new_user(role_id, "bob@example.com"))
    t0 = clock.now()
    async with uow(container) as unit:
        unit.audit.add(AuditEntry("auth.login_failed", "user", data={"reason": "password"}, ip_address="203.0.113.9",
                                  user_agent="U" * 600, request_id="req-1"))
        unit.audit.add(AuditEntry("auth.login", "user", alice, actor_id=alice, occurred_at=t0 + timedelta(minutes=1)))
        unit.audit.add(AuditEntry("authz.denied", "case", 7, actor_id=bob, occurred_at=t0 + timedelta(minutes=2)))
        unit.audit.add(AuditEntry("user_role.changed", "user", bob, actor_id=alice,
                                  occurred_at=t0 + timedelta(minutes=2)))
        unit.audit.add(AuditEntry("userxrole.changed", "user", bob, actor_id=alice,
                                  occurred_at=t0 + timedelta(minutes=3)))
        await unit.commit()

    async def listed(filters: AuditFilters = AuditFilters(), **page: object) -> tuple[list[str], int]:
        async with uow(container) as unit:
            found = await unit.audit.list(filters, PageRequest(**page))  # type: ignore[arg-type]
        return [e.action for e in found.items], found.total

    everything = ["userxrole.changed", "user_role.changed", "authz.denied", "auth.login", "auth.login_failed"]
    assert await listed() == (everything, 5)
    assert await listed(page=2, limit=2) == (everything[2:4], 5)
    assert await listed(sort=(SortKey("occurredAt"),)) == (everything[::-1], 5)
    assert await listed(AuditFilters(action=("auth.",))) == (["auth.login", "auth.login_failed"], 2)
    assert await listed(AuditFilters(action=("user_role.", "authz.denied"))) == (
        ["user_role.changed", "authz.denied"], 2)
    assert await listed(AuditFilters(action=("auth.login",))) == (["auth.login"], 1)
    assert await listed(AuditFilters(actor_id=(alice,))) == (
        ["userxrole.changed", "user_role.changed", "auth.login"], 3)
    assert await listed(AuditFilters(entity_type=("user",), entity_id=bob)) == (
        ["userxrole.changed", "user_role.changed"], 2)
    assert await listed(AuditFilters(occurred_from=t0 + timedelta(minutes=1),
                                     occurred_to=t0 + timedelta(minutes=3))) == (everything[1:4], 3)
    with pytest.raises(ValidationFailed):
        await listed(sort=(SortKey("action"),))

    async with uow(container) as unit:
        oldest = (await unit.audit.list(AuditFilters(action=("auth.login_failed",)), PageRequest())).items[0]
    assert oldest == AuditEntry("auth.login_failed", "user", data={"reason": "password"}, ip_address="203.0.113.9",
                                user_agent="U" * 500, request_id="req-1", occurred_at=t0, id=oldest.id)
    assert oldest.id is not None


async def test_audit_entries_of_a_unit_without_commit_are_dropped(container: AppContainer) -> None:
    async with uow(container) as unit:
        unit.audit.add(AuditEntry("auth.logout", "user"))
    async with uow(container) as unit:
        unit.audit.add(AuditEntry("auth.logout", "user"))
        await unit.rollback()
    with pytest.raises(ValidationFailed) as raised:  # an actor that does not exist
        async with uow(container) as unit:
            unit.audit.add(AuditEntry("auth.logout", "user", actor_id=4242))
            await unit.commit()
    assert raised.value.details[0].field == "actorId"
    async with uow(container) as unit:
        assert (await unit.audit.list(AuditFilters(), PageRequest())).total == 0


# --- principal source ---------------------------------------------------------------------------------------

async def start_session(container: AppContainer, clock: FixedClock, user_id: int, token: str) -> str:
    sessions: SessionStore = container.adapters.session_store()
    session = await sessions.start(user_id=user_id, token_hash=token * 64, user_agent=None, ip_address=None,
                                   now=clock.now(), session_ttl=TTL, refresh_ttl=TTL)
    return session.id


async def test_the_principal_is_the_session_with_its_user_and_role(container: AppContainer,
                                                                   clock: FixedClock) -> None:
    role_id = await add_role(container, new_role("manager", requires_mfa=True))
    branch_id = await add_branch(container, "PUN")
    alice, bob = await add_users(container, new_user(role_id, branch_id=branch_id, mfa_enabled=True),
                                 new_user(role_id, "bob@example.com"))
    principals: PrincipalSource = container.adapters.principal_source()
    session_id = await start_session(container, clock, alice, "a")
    assert await principals.load(session_id) == PrincipalRecord(
        session_id=session_id, session_version=1, session_revoked=False, session_expires_at=clock.now() + TTL,
        user_id=alice, user_active=True, email="asha@example.com", branch_id=branch_id, role_id=role_id,
        role_name="manager", permissions=grants_to_json(GRANTS), requires_mfa=True, mfa_enabled=True)
    assert await principals.load("no-such-session") is None

    sessions: SessionStore = container.adapters.session_store()
    assert await sessions.revoke(session_id, user_id=alice, now=clock.now(), reason="logout")
    revoked = await principals.load(session_id)
    assert revoked is not None and (revoked.session_revoked, revoked.session_version) == (True, 2)

    bob_session = await start_session(container, clock, bob, "b")
    user = await get_user(container, bob)
    assert user is not None
    async with uow(container) as unit:
        await unit.users.save(dataclasses.replace(user, status=UserStatus.INACTIVE))
        await unit.commit()
    inactive = await principals.load(bob_session)
    assert inactive is not None and (inactive.user_active, inactive.session_revoked) == (False, False)
    assert (inactive.branch_id, inactive.mfa_enabled, inactive.email) == (None, False, "bob@example.com")


@pytest.mark.postgres
async def test_a_user_row_without_a_role_reads_as_role_zero(sql_container: AppContainer, clock: FixedClock) -> None:
    engine = sql_container.adapters.engine()
    assert engine is not None
    async with engine.begin() as conn:
        user_id = int(await conn.scalar(insert(users).values(
            email="legacy@example.com", password_hash="!", first_name="Old", last_name="Row").returning(users.c.id)))
    user = await get_user(sql_container, user_id)
    assert user is not None and user.role_id == 0
    principal = await sql_container.adapters.principal_source().load(
        await start_session(sql_container, clock, user_id, "c"))
    assert principal is not None
    assert (principal.role_id, principal.role_name, principal.permissions, principal.requires_mfa) == (0, "", {}, False)
    with pytest.raises(ValidationFailed):  # saving needs a real role
        async with uow(sql_container) as unit:
            await unit.users.save(user)
