"""Commands of the identity context; they double as the HTTP request bodies (camelCase)."""

from __future__ import annotations

import msgspec
from msgspec import UNSET, UnsetType

__all__ = ["NewRole", "NewUser", "RoleChanges", "UserChanges"]


class NewUser(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Create a user; without `password` they are `pending` and get an invitation email with a set-password link."""

    email: str
    first_name: str
    last_name: str
    role_id: str | int
    branch_id: str | int | None = None
    phone: str | None = None
    department: str | None = None
    job_title: str | None = None
    language: str = "en"
    password: str | None = None


class UserChanges(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Change some fields of a user; absent fields stay. Status moves through deactivate/activate."""

    email: str | UnsetType = UNSET
    first_name: str | UnsetType = UNSET
    last_name: str | UnsetType = UNSET
    role_id: str | int | UnsetType = UNSET
    branch_id: str | int | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    department: str | UnsetType | None = UNSET
    job_title: str | UnsetType | None = UNSET
    language: str | UnsetType = UNSET


class NewRole(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A custom role: `permissions` maps each permission to its scope, e.g. {"cases:read": "branch"}."""

    name: str
    display_name: str
    permissions: dict[str, str]
    description: str | None = None
    requires_mfa: bool = False


class RoleChanges(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    display_name: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    permissions: dict[str, str] | UnsetType = UNSET
    requires_mfa: bool | UnsetType = UNSET
    name: str | UnsetType = UNSET
