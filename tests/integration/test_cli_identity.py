"""The operator commands: create-admin asks for the password; seed-demo's demo sign-ins work."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest

from application.identity.principal import ClientInfo
from domain.identity.roles import BUILT_IN_ROLES
from entrypoints.cli_identity import create_admin, seed_demo_users
from entrypoints.container import AppContainer
from entrypoints.resources import open_resources
from tests.conftest import settings_for_tests


def answers(*values: str) -> Iterator[str]:
    yield from values


def test_create_admin_takes_the_password_from_the_prompt_and_refuses_a_weak_one(
        sql_container: AppContainer, capsys: pytest.CaptureFixture[str]) -> None:
    weak = answers("password1234", "password1234")
    with pytest.raises(SystemExit, match="too common"):
        create_admin(settings_for_tests(), "root@desk.test", "Root", "Admin", prompt=lambda _: next(weak))
    typed = answers("mismatch-one-aaaa", "mismatch-two-bbbb", "correct horse battery", "correct horse battery")
    create_admin(settings_for_tests(), "Root@Desk.test", "Root", "Admin", prompt=lambda _: next(typed))
    assert "administrator root@desk.test created" in capsys.readouterr().out


async def test_the_created_admin_signs_in_and_must_set_up_mfa(sql_container: AppContainer) -> None:
    typed = answers("correct horse battery", "correct horse battery")
    # create_admin runs its own event loop: call the use case it wraps from this test's loop instead
    await sql_container.identity.provisioning().ensure_built_in_roles()
    await sql_container.identity.provisioning().provision(
        email="root@desk.test", first_name="Root", last_name="Admin", role_name="admin", password=next(typed))
    async with open_resources(sql_container):
        result = await sql_container.identity.auth().login("root@desk.test", "correct horse battery", ClientInfo())
    assert result.mfa_setup_required and result.access_token and result.refresh_token is None


def test_demo_users_are_one_per_role_and_never_in_production(sql_container: AppContainer) -> None:
    made = seed_demo_users(settings_for_tests())
    assert [role for role, _, _ in made] == [role.name for role in BUILT_IN_ROLES]
    assert all(email.endswith("@demo.renewals.test") and len(password) >= 12 for _, email, password in made)
    with pytest.raises(RuntimeError, match="never"):
        seed_demo_users(msgspec.structs.replace(settings_for_tests(), app_env="production"))
