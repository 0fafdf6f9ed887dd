"""Users, roles and signed-in tokens on either container, without paying for argon2 where it is not tested."""

from __future__ import annotations

import itertools
from typing import Any

from application.identity.principal import ClientInfo
from domain.identity.model import Role, User, UserStatus
from domain.identity.permissions import Grant, Permission, Scope
from entrypoints.container import AppContainer

_numbers = itertools.count(1)
EVERYTHING_ROLE = "test_everything"


async def ensure_roles(container: AppContainer) -> None:
    await container.identity.provisioning().ensure_built_in_roles()


async def role_id(container: AppContainer, name: str) -> int:
    """The id of the role `name`; `test_everything` (every grant at scope all, no MFA) is made on demand."""
    await ensure_roles(container)
    async with container.adapters.identity_uow() as uow:
        role = await uow.roles.get_by_name(name)
        if role is None and name == EVERYTHING_ROLE:
            role = await uow.roles.add(Role(id=None, name=name, display_name="Test: everything",
                                            grants=tuple(Grant(p, Scope.ALL) for p in Permission)))
            await uow.commit()
        assert role is not None and role.id is not None, name
        return role.id


async def add_branch(container: AppContainer, code: str | None = None) -> int:
    code = code or f"BR{next(_numbers)}"
    engine = container.adapters.engine()
    if engine is None:
        return container.adapters.store().add_branch(code)  # type: ignore[no-any-return]
    from sqlalchemy import insert

    from adapters.sqlalchemy.tables.identity import branches
    async with engine.begin() as conn:
        return int(await conn.scalar(insert(branches).values(code=code, name=f"Branch {code}")
                                     .returning(branches.c.id)))


async def make_user(container: AppContainer, role: str, *, branch_id: int | None = None,
                    email: str | None = None, password_hash: str = "!", **fields: Any) -> User:
    """A user with role `role` (a built-in role's name or `test_everything`); no usable password by default."""
    rid = await role_id(container, role)
    n = next(_numbers)
    user = User(id=None, email=email or f"{role.replace('_', '-')}{n}@staff.test", password_hash=password_hash,
                first_name=fields.pop("first_name", "Test"), last_name=fields.pop("last_name", f"User{n}"),
                role_id=rid, branch_id=branch_id, status=fields.pop("status", UserStatus.ACTIVE), **fields)
    async with container.adapters.identity_uow() as uow:
        user = await uow.users.add(user)
        await uow.commit()
    return user


async def token_for(container: AppContainer, user: User, *, user_agent: str = "pytest") -> str:
    """A signed-in access token for `user` on a new session, as a successful login would give."""
    session_id, _, version = await container.identity.auth().start_session(user, ClientInfo(user_agent=user_agent))
    assert user.id is not None
    token, _ = container.identity.tokens().issue(user_id=user.id, session_id=session_id, session_version=version)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
