"""Commands of the CLI run after migrating (built-in roles, starter templates), create-admin, demo accounts."""

from __future__ import annotations

import asyncio
import getpass
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from entrypoints.container import AppContainer, build_container
from entrypoints.resources import open_resources
from entrypoints.settings import Settings

__all__ = ["DEMO_DOMAIN", "create_admin", "ensure_roles", "ensure_starter_templates", "seed_demo_users"]

T = TypeVar("T")
DEMO_DOMAIN = "demo.renewals.test"
_BRANCHED = {"manager", "agent", "renewals_specialist", "all_modules_manager"}
_CASE_WORKERS = ("agent", "renewals_specialist")  # demo users whose `own` scope needs cases to show


def _with_container(settings: Settings, work: Callable[[AppContainer], Awaitable[T]]) -> T:
    async def go() -> T:
        container = build_container(settings)
        async with open_resources(container):
            return await work(container)
    return asyncio.run(go())


def ensure_roles(settings: Settings) -> list[str]:
    """Insert any missing built-in role (run after every migration)."""
    return _with_container(settings, lambda c: c.identity.provisioning().ensure_built_in_roles())


def ensure_starter_templates(settings: Settings) -> int:
    """Insert any missing template of the starter library (run after every migration)."""
    return _with_container(settings, lambda c: c.messaging.templates().seed_starter_library())


def _ask_password(prompt: Callable[[str], str]) -> str:
    for _ in range(3):
        first = prompt("Password (12-128 characters): ")
        if first == prompt("Repeat the password: "):
            return first
        print("The passwords differ; try again.", file=sys.stderr)
    sys.exit("no password set")


def create_admin(settings: Settings, email: str, first_name: str, last_name: str,
                 prompt: Callable[[str], str] = getpass.getpass) -> None:
    """Create (or reset the password of) an administrator; the password is asked for, never an argument."""
    from domain.shared.errors import ValidationFailed

    password = _ask_password(prompt)

    async def work(container: AppContainer) -> None:
        identity = container.identity
        await identity.provisioning().ensure_built_in_roles()
        user, created = await identity.provisioning().provision(
            email=email, first_name=first_name, last_name=last_name, role_name="admin", password=password)
        verb = "created" if created else "updated (password reset)"
        print(f"administrator {user.email} {verb}; MFA set-up is required at first sign-in")

    try:
        _with_container(settings, work)
    except ValidationFailed as failed:
        sys.exit(f"refused: {failed}")


def seed_demo_users(settings: Settings) -> list[tuple[str, str, str]]:
    """Development only: one user per built-in role with a fresh random password; (role, email, password)."""
    if settings.is_production:
        raise RuntimeError("demo users are never created in production")
    from domain.identity.roles import BUILT_IN_ROLES

    async def work(container: AppContainer) -> list[tuple[str, str, str]]:
        identity = container.identity
        await identity.provisioning().ensure_built_in_roles()
        branch = await _first_branch(container)
        made: list[tuple[str, str, str]] = []
        for role in BUILT_IN_ROLES:
            password = f"demo-{secrets.token_urlsafe(12)}"
            email = f"{role.name.replace('_', '-')}@{DEMO_DOMAIN}"
            await identity.provisioning().provision(
                email=email, first_name="Demo", last_name=role.display_name, role_name=role.name,
                password=password, branch_id=branch if role.name in _BRANCHED else None)
            made.append((role.name, email, password))
        await _give_cases(container, [email for name, email, _ in made if name in _CASE_WORKERS], branch)
        return made

    return _with_container(settings, work)


async def _first_branch(container: AppContainer) -> int | None:
    from sqlalchemy import select

    from adapters.sqlalchemy.tables.identity import branches

    engine = container.adapters.engine()
    if engine is None:
        return None
    async with engine.connect() as conn:
        found = await conn.scalar(select(branches.c.id).order_by(branches.c.id).limit(1))
    return int(found) if found is not None else None


async def _give_cases(container: AppContainer, emails: list[str], branch: int | None, per_user: int = 15) -> None:
    """Assign some unassigned cases of the demo branch to each demo case worker who has none yet."""
    from sqlalchemy import select, update

    from adapters.sqlalchemy.tables.identity import users
    from adapters.sqlalchemy.tables.policies import policies, renewal_cases

    engine = container.adapters.engine()
    if engine is None or branch is None:
        return
    async with engine.begin() as conn:
        for email in emails:
            user_id = await conn.scalar(select(users.c.id).where(users.c.email == email))
            if user_id is None or await conn.scalar(
                    select(renewal_cases.c.id).where(renewal_cases.c.assigned_to == user_id).limit(1)):
                continue
            free = (select(renewal_cases.c.id).join(policies, policies.c.id == renewal_cases.c.policy_id)
                    .where(policies.c.branch_id == branch, renewal_cases.c.assigned_to.is_(None))
                    .order_by(renewal_cases.c.id).limit(per_user))
            await conn.execute(update(renewal_cases).where(renewal_cases.c.id.in_(free))
                               .values(assigned_to=user_id))
