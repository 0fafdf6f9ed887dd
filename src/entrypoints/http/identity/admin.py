"""User and role administration, the permission catalogue and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from application.identity.audit import AuditService
from application.identity.commands import NewRole, NewUser, RoleChanges, UserChanges
from application.identity.mfa import MfaService
from application.identity.principal import ClientInfo, Principal
from application.identity.repositories import AuditFilters, UserFilters
from application.identity.roles import RoleService, permission_catalogue
from application.identity.users import UserService
from application.identity.views import RoleView, UserView
from domain.identity.model import UserStatus
from domain.identity.permissions import Permission as P
from entrypoints.http.envelope import Envelope, error_responses, ok, pagination_of
from entrypoints.http.guard import requires
from entrypoints.http.identity.deps import IDENTITY_DEPENDENCIES
from entrypoints.http.identity.schemas import AuditList, PermissionList, RoleList, UserList
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, id_values, page_request, text_values
from entrypoints.http.params import Csv, Limit, Page, Sort

__all__ = ["AuditController", "PermissionController", "RoleController", "UserController"]

Users = NamedDependency[UserService]
Roles = NamedDependency[RoleService]
Mfa = NamedDependency[MfaService]
Audit = NamedDependency[AuditService]
Caller = NamedDependency[Principal]
Client = NamedDependency[ClientInfo]
Ident = Annotated[str, PathParameter(description="Public id such as `user-7`, or the bare number")]
USER_SORT = ("lastName", "firstName", "email", "createdAt", "lastLogin", "id")
AUDIT_SORT = ("occurredAt", "id")


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]
    dependencies = IDENTITY_DEPENDENCIES

    @get("/", opt=requires(P.USERS_READ), responses=error_responses(422),
         description=f"Sort whitelist: {', '.join(USER_SORT)}; default `lastName,firstName`.")
    async def list_users(self, users: Users, page: Page = 1, limit: Limit = 20, sort: Sort = None,
                         q: Annotated[str | None, QueryParameter(description="Matches email and names")] = None,
                         role: Csv = None, branch: Csv = None,
                         status: Csv = None) -> Envelope[UserList]:
        """List users; `q` matches email and names."""
        request = page_request(page, limit, sort, USER_SORT, "lastName,firstName")
        filters = UserFilters(q=q, role_id=id_values(role, "role", "role"),
                              branch_id=id_values(branch, "branch", "branch"),
                              status=enum_values(status, UserStatus, "status"))
        result = await users.list(filters, request)
        return ok(UserList(users=result.items, pagination=pagination_of(result)))

    @post("/", opt=requires(P.USERS_WRITE), status_code=201, responses=error_responses(400, 403, 409, 422))
    async def create_user(self, data: JSONBody[NewUser], users: Users, principal: Caller,
                          client: Client) -> Envelope[UserView]:
        """Create a user; without `password` they are `pending` and receive an invitation link."""
        return ok(await users.create(principal, data, client))

    @get("/{user_id:str}", opt=requires(P.USERS_READ), responses=error_responses(404))
    async def get_user(self, user_id: Ident, users: Users) -> Envelope[UserView]:
        return ok(await users.get(path_id(user_id, "user")))

    @patch("/{user_id:str}", opt=requires(P.USERS_WRITE), responses=error_responses(400, 403, 404, 409, 422))
    async def update_user(self, user_id: Ident, data: JSONBody[UserChanges], users: Users, principal: Caller,
                          client: Client) -> Envelope[UserView]:
        """Change some fields, the role included (effective on the user's next request)."""
        return ok(await users.update(principal, path_id(user_id, "user"), data, client))

    @post("/{user_id:str}/deactivate", opt=requires(P.USERS_WRITE), status_code=200,
          responses=error_responses(403, 404, 409))
    async def deactivate_user(self, user_id: Ident, users: Users, principal: Caller,
                              client: Client) -> Envelope[UserView]:
        """The user can no longer sign in; their sessions end on their next request."""
        return ok(await users.deactivate(principal, path_id(user_id, "user"), client))

    @post("/{user_id:str}/activate", opt=requires(P.USERS_WRITE), status_code=200,
          responses=error_responses(403, 404, 409))
    async def activate_user(self, user_id: Ident, users: Users, principal: Caller,
                            client: Client) -> Envelope[UserView]:
        return ok(await users.activate(principal, path_id(user_id, "user"), client))

    @post("/{user_id:str}/mfa/reset", opt=requires(P.USERS_WRITE), status_code=204,
          responses=error_responses(403, 404))
    async def reset_user_mfa(self, user_id: Ident, mfa: Mfa, principal: Caller, client: Client) -> None:
        """Clear a user's MFA (lost device); their sessions end and they set MFA up again at next sign-in."""
        await mfa.reset(principal, path_id(user_id, "user"), client)


class RoleController(Controller):
    path = "/api/roles"
    tags = ["roles"]
    dependencies = IDENTITY_DEPENDENCIES

    @get("/", opt=requires(P.USERS_READ))
    async def list_roles(self, roles: Roles) -> Envelope[RoleList]:
        """Every role with its grants, page keys and number of users."""
        return ok(RoleList(roles=await roles.list()))

    @post("/", opt=requires(P.ROLES_MANAGE), status_code=201, responses=error_responses(400, 403, 409, 422))
    async def create_role(self, data: JSONBody[NewRole], roles: Roles, principal: Caller,
                          client: Client) -> Envelope[RoleView]:
        """A custom role; nobody can grant more than their own role holds."""
        return ok(await roles.create(principal, data, client))

    @get("/{role_id:str}", opt=requires(P.USERS_READ), responses=error_responses(404))
    async def get_role(self, role_id: Ident, roles: Roles) -> Envelope[RoleView]:
        return ok(await roles.get(path_id(role_id, "role")))

    @patch("/{role_id:str}", opt=requires(P.ROLES_MANAGE), responses=error_responses(400, 403, 404, 409, 422))
    async def update_role(self, role_id: Ident, data: JSONBody[RoleChanges], roles: Roles, principal: Caller,
                          client: Client) -> Envelope[RoleView]:
        """Change a role; its users get the new grants on their next request."""
        return ok(await roles.update(principal, path_id(role_id, "role"), data, client))

    @delete("/{role_id:str}", opt=requires(P.ROLES_MANAGE), status_code=204, responses=error_responses(403, 404, 409))
    async def delete_role(self, role_id: Ident, roles: Roles, principal: Caller, client: Client) -> None:
        """Delete a custom role that no user holds."""
        await roles.delete(principal, path_id(role_id, "role"), client)


class PermissionController(Controller):
    path = "/api/permissions"
    tags = ["roles"]

    @get("/", opt=requires(P.USERS_READ), sync_to_thread=False)
    def list_permissions(self) -> Envelope[PermissionList]:
        """The permission catalogue: each action, whether it takes a scope, and the pages it opens."""
        return ok(PermissionList(permissions=permission_catalogue()))


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]
    dependencies = IDENTITY_DEPENDENCIES

    @get("/", opt=requires(P.AUDIT_READ), responses=error_responses(422))
    async def list_audit(self, audit: Audit, page: Page = 1, limit: Limit = 50, sort: Sort = None,
                         actor: Csv = None, action: Csv = None, entity_type: Annotated[
                             str | None, QueryParameter(name="entityType")] = None,
                         entity_id: Annotated[int | None, QueryParameter(name="entityId")] = None,
                         occurred_from: Annotated[datetime | None, QueryParameter(name="from")] = None,
                         occurred_to: Annotated[datetime | None, QueryParameter(name="to")] = None,
                         ) -> Envelope[AuditList]:
        """Security and change events, newest first. `action` takes exact actions or prefixes such as `auth.`."""
        request = page_request(page, limit, sort, AUDIT_SORT, "-occurredAt")
        filters = AuditFilters(actor_id=id_values(actor, "user", "actor"), action=text_values(action),
                               entity_type=text_values(entity_type), entity_id=entity_id,
                               occurred_from=occurred_from, occurred_to=occurred_to)
        result = await audit.list(filters, request)
        return ok(AuditList(entries=result.items, pagination=pagination_of(result)))
