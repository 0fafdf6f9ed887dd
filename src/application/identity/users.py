"""User administration: list, create (with password or invitation), change, deactivate and activate."""

from __future__ import annotations

from collections.abc import Callable

from application.identity.audit import entry
from application.identity.commands import NewUser, UserChanges
from application.identity.grants_policy import ensure_within
from application.identity.password_policy import PasswordPolicy
from application.identity.passwords import password_link_job
from application.identity.ports import SessionStore
from application.identity.principal import ClientInfo, Principal
from application.identity.repositories import IdentityUnitOfWork, UserFilters
from application.identity.views import UserView
from application.shared.commands import set_fields
from application.shared.pagination import Page, PageRequest
from application.shared.validation import FieldCollector
from domain.identity.model import Role, User, UserStatus
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser
from domain.shared.errors import Conflict, NotFound, ValidationFailed

__all__ = ["LANGUAGES", "UserService"]

# the frontend's 13 portal languages
LANGUAGES = ("as", "bn", "en", "gu", "hi", "kn", "ml", "mr", "or", "pa", "ta", "te", "ur")
_OPTIONAL_TEXT = {"department": 100, "job_title": 100}


class UserService:
    def __init__(
        self, *, uow: Callable[[], IdentityUnitOfWork], sessions: SessionStore, passwords: PasswordPolicy,
        phones: PhoneNumberNormaliser, clock: Clock,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._passwords = passwords
        self._phones = phones
        self._clock = clock

    async def list(self, filters: UserFilters, page: PageRequest) -> Page[UserView]:
        async with self._uow() as uow:
            found = await uow.users.list(filters, page)
            roles = {r.id: r for r in await uow.roles.list()}
        return Page(items=[UserView.of(u, roles.get(u.role_id)) for u in found.items], page=found.page,
                    limit=found.limit, total=found.total)

    async def get(self, user_id: int) -> UserView:
        async with self._uow() as uow:
            user = await _user(uow, user_id)
            return UserView.of(user, await uow.roles.get(user.role_id))

    def _collect(self, fields: dict[str, object]) -> FieldCollector:
        check = FieldCollector(self._phones)
        for name, value in fields.items():
            if name in ("first_name", "last_name"):
                check.name(name, str(value))
            elif name == "email":
                check.email(str(value))
            elif name == "phone":
                check.phone(value if isinstance(value, str) else None)
            elif name == "role_id":
                check.reference(name, value if isinstance(value, (str, int)) else None, "role")
            elif name == "branch_id":
                check.reference(name, value if isinstance(value, (str, int)) else None, "branch")
            elif name == "language":
                check.choice(name, str(value), LANGUAGES)
            elif name in _OPTIONAL_TEXT:
                check.values[name] = " ".join(str(value).split())[:_OPTIONAL_TEXT[name]] or None if value else None
        check.raise_if_invalid()
        return check

    async def _role(self, uow: IdentityUnitOfWork, actor: Principal, role_id: int) -> Role:
        role = await uow.roles.get(role_id)
        if role is None:
            raise ValidationFailed.on("roleId", "does not exist")
        ensure_within(actor, role.grants)
        return role

    async def create(self, actor: Principal, command: NewUser, client: ClientInfo) -> UserView:
        fields = {n: getattr(command, n) for n in ("email", "first_name", "last_name", "role_id", "branch_id",
                                                  "phone", "department", "job_title", "language")}
        values = self._collect(fields).values
        if values["role_id"] is None:
            raise ValidationFailed.on("roleId", "is required")
        async with self._uow() as uow:
            role = await self._role(uow, actor, values["role_id"])
            if values["branch_id"] is not None and not await uow.users.branch_exists(values["branch_id"]):
                raise ValidationFailed.on("branchId", "does not exist")
            user = User(id=None, password_hash="!", status=UserStatus.PENDING, **values)
            if command.password is not None:
                user.password_hash = await self._passwords.hash_new(command.password, user)
                user.status, user.password_changed_at = UserStatus.ACTIVE, self._clock.now()
            if await uow.users.get_by_email(user.email) is not None:
                raise Conflict("email is already taken", field="email")
            user = await uow.users.add(user)
            if command.password is None:
                uow.outbox.add(password_link_job(user_id=user.id, invitation=True))
            uow.audit.add(entry("user.created", client, actor_id=actor.user_id, entity_id=user.id,
                                role=role.name, invited=command.password is None))
            await uow.commit()
        return UserView.of(user, role)

    async def update(self, actor: Principal, user_id: int, changes: UserChanges, client: ClientInfo) -> UserView:
        values = self._collect(set_fields(changes)).values
        async with self._uow() as uow:
            user = await _user(uow, user_id)
            old_role = user.role_id
            if "role_id" in values:
                if values["role_id"] is None:
                    raise ValidationFailed.on("roleId", "is required")
                await self._role(uow, actor, values["role_id"])
            if values.get("branch_id") is not None and not await uow.users.branch_exists(values["branch_id"]):
                raise ValidationFailed.on("branchId", "does not exist")
            if ("email" in values and values["email"] != user.email
                    and await uow.users.get_by_email(values["email"]) is not None):
                raise Conflict("email is already taken", field="email")
            for name, value in values.items():
                setattr(user, name, value)
            await uow.users.save(user)
            role = await uow.roles.get(user.role_id)
            if user.role_id != old_role:
                uow.audit.add(entry("user.role_changed", client, actor_id=actor.user_id, entity_id=user.id,
                                    from_role=old_role, to_role=user.role_id))
            uow.audit.add(entry("user.updated", client, actor_id=actor.user_id, entity_id=user.id,
                                fields=sorted(values)))
            await uow.commit()
        return UserView.of(user, role)

    async def deactivate(self, actor: Principal, user_id: int, client: ClientInfo) -> UserView:
        """The user cannot sign in any more and every session of theirs ends on its next request."""
        if user_id == actor.user_id:
            raise Conflict("You cannot deactivate yourself")
        view = await self._set_status(actor, user_id, UserStatus.INACTIVE, client)
        await self._sessions.revoke_all(user_id, now=self._clock.now(), reason="deactivated")
        return view

    async def activate(self, actor: Principal, user_id: int, client: ClientInfo) -> UserView:
        return await self._set_status(actor, user_id, UserStatus.ACTIVE, client)

    async def _set_status(self, actor: Principal, user_id: int, status: UserStatus,
                          client: ClientInfo) -> UserView:
        async with self._uow() as uow:
            user = await _user(uow, user_id)
            if status is UserStatus.ACTIVE and user.status is UserStatus.PENDING:
                raise Conflict("The user has not accepted the invitation yet")
            role = await uow.roles.get(user.role_id)
            if role is not None:
                ensure_within(actor, role.grants)  # no power over users who hold more than the actor
            if user.status is not status:
                user.status = status
                await uow.users.save(user)
                action = "user.deactivated" if status is UserStatus.INACTIVE else "user.activated"
                uow.audit.add(entry(action, client, actor_id=actor.user_id, entity_id=user.id))
                await uow.commit()
        return UserView.of(user, role)


async def _user(uow: IdentityUnitOfWork, user_id: int) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user
