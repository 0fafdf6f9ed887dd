"""Operator use cases without a signed-in caller: built-in roles, the first administrator, demo accounts."""

from __future__ import annotations

from collections.abc import Callable

from application.identity.password_policy import PasswordPolicy
from application.identity.repositories import IdentityUnitOfWork
from domain.identity.model import Role, User, UserStatus
from domain.identity.roles import BUILT_IN_ROLES
from domain.shared.clock import Clock
from domain.shared.contact import normalise_email
from domain.shared.errors import ValidationFailed

__all__ = ["ProvisioningService"]


class ProvisioningService:
    def __init__(self, *, uow: Callable[[], IdentityUnitOfWork], passwords: PasswordPolicy, clock: Clock) -> None:
        self._uow = uow
        self._passwords = passwords
        self._clock = clock

    async def ensure_built_in_roles(self) -> list[str]:
        """Insert the built-in roles that are missing (their grants as the domain defines); the names added."""
        added: list[str] = []
        async with self._uow() as uow:
            for built_in in BUILT_IN_ROLES:
                if await uow.roles.get_by_name(built_in.name) is None:
                    await uow.roles.add(Role(
                        id=None, name=built_in.name, display_name=built_in.display_name,
                        description=built_in.description, grants=built_in.grants, is_system=True,
                        requires_mfa=built_in.requires_mfa))
                    added.append(built_in.name)
            await uow.commit()
        return added

    async def provision(
        self, *, email: str, first_name: str, last_name: str, role_name: str, password: str,
        branch_id: int | None = None,
    ) -> tuple[User, bool]:
        """Create the user with this password, or set the password of the existing one; (user, created)."""
        address = normalise_email(email)
        async with self._uow() as uow:
            role = await uow.roles.get_by_name(role_name)
            if role is None or role.id is None:
                raise ValidationFailed.on("role", f"no role named {role_name!r}; run the migrations first")
            user = await uow.users.get_by_email(address)
            created = user is None
            if user is None:
                user = User(id=None, email=address, password_hash="!", first_name=first_name,
                            last_name=last_name, role_id=role.id, branch_id=branch_id)
            user.password_hash = await self._passwords.hash_new(password, user)
            user.status, user.password_changed_at = UserStatus.ACTIVE, self._clock.now()
            if created:
                user = await uow.users.add(user)
            else:
                await uow.users.save(user)
            await uow.commit()
        return user, created
