"""Typed integer ids; the HTTP layer shows them as public ids such as `policy-42`."""

from __future__ import annotations

from typing import ClassVar

__all__ = ["BatchId", "BranchId", "CaseId", "CustomerId", "EntityId", "PolicyId", "RoleId", "UserId", "parse_public_id"]


class EntityId(int):
    """An integer key that knows the prefix of its public form."""

    prefix: ClassVar[str] = "id"

    def public(self) -> str:
        return f"{self.prefix}-{int(self)}"


class CustomerId(EntityId):
    prefix = "customer"


class PolicyId(EntityId):
    prefix = "policy"


class CaseId(EntityId):
    prefix = "case"


class UserId(EntityId):
    prefix = "user"


class RoleId(EntityId):
    prefix = "role"


class BranchId(EntityId):
    prefix = "branch"


class BatchId(EntityId):
    prefix = "batch"


def parse_public_id(value: str | int, prefix: str) -> int | None:
    """Return the integer key of `prefix-N` or `N`; None when malformed or out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = value.strip()
        if text.startswith(f"{prefix}-"):
            text = text[len(prefix) + 1:]
        if not text.isascii() or not text.isdigit():
            return None
        number = int(text)
    return number if 0 < number <= 2**31 - 1 else None
