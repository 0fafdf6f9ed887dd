"""Role administration and the permission catalogue; no caller can grant more than they hold."""

from __future__ import annotations

import re
from collections.abc import Callable

from application.identity.audit import entry
from application.identity.commands import NewRole, RoleChanges
from application.identity.grants_policy import ensure_within
from application.identity.principal import ClientInfo, Principal
from application.identity.repositories import IdentityUnitOfWork
from application.identity.views import PermissionView, RoleView
from application.shared.commands import set_fields
from domain.identity.model import Role
from domain.identity.pages import PAGES_BY_PERMISSION
from domain.identity.permissions import Permission, Scope, grants_to_json, parse_grants
from domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed

__all__ = ["RoleService", "permission_catalogue"]

_NAME = re.compile(r"[a-z][a-z0-9_]{1,49}")
_LOCKED = "admin"  # the platform administrator's grants cannot be edited: nobody can lock everyone out


def permission_catalogue() -> list[PermissionView]:
    return [PermissionView(permission=str(p), area=p.area, action=p.action, scoped=p.scoped,
                           scopes=[str(s) for s in Scope] if p.scoped else [str(Scope.ALL)],
                           pages=sorted(PAGES_BY_PERMISSION[p])) for p in Permission]


def _display_name(value: str) -> str:
    text = " ".join(value.split())
    if not 1 <= len(text) <= 100:
        raise ValidationFailed.on("displayName", "must be 1 to 100 characters")
    return text


def _description(value: str | None) -> str | None:
    if value is not None and len(value) > 2000:
        raise ValidationFailed.on("description", "must be at most 2000 characters")
    return value.strip() or None if value else None


class RoleService:
    def __init__(self, *, uow: Callable[[], IdentityUnitOfWork]) -> None:
        self._uow = uow

    async def list(self) -> list[RoleView]:
        async with self._uow() as uow:
            return [RoleView.of(r, await uow.users.count_with_role(r.id or 0)) for r in await uow.roles.list()]

    async def get(self, role_id: int) -> RoleView:
        async with self._uow() as uow:
            role = await _role(uow, role_id)
            return RoleView.of(role, await uow.users.count_with_role(role_id))

    async def create(self, actor: Principal, command: NewRole, client: ClientInfo) -> RoleView:
        errors: list[FieldError] = []
        if not _NAME.fullmatch(command.name):
            errors.append(FieldError("name", "must be 2-50 of a-z, 0-9 and _, starting with a letter"))
        try:
            display = _display_name(command.display_name)
            description = _description(command.description)
            grants = parse_grants(command.permissions)
        except ValidationFailed as failed:
            errors.extend(failed.details)
        if errors:
            raise ValidationFailed(errors)
        ensure_within(actor, grants)
        async with self._uow() as uow:
            if await uow.roles.get_by_name(command.name) is not None:
                raise Conflict("name is already taken", field="name")
            role = await uow.roles.add(Role(id=None, name=command.name, display_name=display,
                                            description=description, grants=tuple(grants),
                                            requires_mfa=command.requires_mfa))
            uow.audit.add(entry("role.created", client, actor_id=actor.user_id, entity_type="role",
                                entity_id=role.id, permissions=grants_to_json(grants),
                                requires_mfa=role.requires_mfa))
            await uow.commit()
        return RoleView.of(role, 0)

    async def update(self, actor: Principal, role_id: int, changes: RoleChanges, client: ClientInfo) -> RoleView:
        fields = set_fields(changes)
        async with self._uow() as uow:
            role = await _role(uow, role_id)
            before = grants_to_json(role.grants)
            ensure_within(actor, role.grants)  # no power over a role that holds more than the actor
            if "name" in fields and fields["name"] != role.name:
                if role.is_system:
                    raise Conflict("A built-in role cannot be renamed", field="name")
                if not _NAME.fullmatch(fields["name"]):
                    raise ValidationFailed.on("name", "must be 2-50 of a-z, 0-9 and _, starting with a letter")
                if await uow.roles.get_by_name(fields["name"]) is not None:
                    raise Conflict("name is already taken", field="name")
                role.name = fields["name"]
            if "display_name" in fields:
                role.display_name = _display_name(fields["display_name"])
            if "description" in fields:
                role.description = _description(fields["description"])
            if "permissions" in fields:
                if role.name == _LOCKED:
                    raise Conflict("The administrator role's permissions cannot be changed", field="permissions")
                grants = parse_grants(fields["permissions"])
                ensure_within(actor, grants)
                role.grants = tuple(grants)
            if "requires_mfa" in fields:
                if role.name == _LOCKED and not fields["requires_mfa"]:
                    raise Conflict("The administrator role always requires MFA", field="requiresMfa")
                role.requires_mfa = bool(fields["requires_mfa"])
            await uow.roles.save(role)
            uow.audit.add(entry("role.updated", client, actor_id=actor.user_id, entity_type="role",
                                entity_id=role.id, before=before, after=grants_to_json(role.grants),
                                fields=sorted(fields), requires_mfa=role.requires_mfa))
            await uow.commit()
            return RoleView.of(role, await uow.users.count_with_role(role_id))

    async def delete(self, actor: Principal, role_id: int, client: ClientInfo) -> None:
        async with self._uow() as uow:
            role = await _role(uow, role_id)
            if role.is_system:
                raise Conflict("A built-in role cannot be deleted")
            ensure_within(actor, role.grants)
            users = await uow.users.count_with_role(role_id)
            if users:
                raise Conflict(f"The role still has {users} user(s); move them to another role first")
            await uow.roles.delete(role_id)
            uow.audit.add(entry("role.deleted", client, actor_id=actor.user_id, entity_type="role",
                                entity_id=role_id, name=role.name, permissions=grants_to_json(role.grants)))
            await uow.commit()


async def _role(uow: IdentityUnitOfWork, role_id: int) -> Role:
    role = await uow.roles.get(role_id)
    if role is None:
        raise NotFound("role", role_id)
    return role
