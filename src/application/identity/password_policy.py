"""Checking a new password against the policy and hashing it off the event loop."""

from __future__ import annotations

import asyncio

from domain.identity.model import User
from domain.identity.passwords import CommonPasswords, PasswordHasher, check_password, normalise_password

__all__ = ["PasswordPolicy", "context_words"]


def context_words(user: User) -> list[str]:
    """Words about the user a password must not equal."""
    local = user.email.partition("@")[0]
    return [user.email, local, user.first_name, user.last_name, f"{user.first_name}{user.last_name}"]


class PasswordPolicy:
    def __init__(self, *, hasher: PasswordHasher, common: CommonPasswords) -> None:
        self._hasher = hasher
        self._common = common

    def check(self, password: str, user: User | None = None, *, field: str = "password") -> None:
        check_password(password, common=self._common, field=field,
                       context_words=context_words(user) if user else ())

    async def hash_new(self, password: str, user: User | None = None, *, field: str = "password") -> str:
        """Check `password` (12-128 characters, not common, not about the user) and hash it."""
        self.check(password, user, field=field)
        return await asyncio.to_thread(self._hasher.hash, normalise_password(password))
