"""Password policy (length, common and context words; no composition rules) and the hasher port."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Protocol

from domain.shared.errors import ValidationFailed

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "CommonPasswords", "PasswordHasher", "check_password", "normalise_password"]

MIN_LENGTH = 12
MAX_LENGTH = 128


class CommonPasswords(Protocol):
    def __contains__(self, password: str) -> bool:
        """Whether `password` is in the list of common or breached passwords, ignoring case."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str:
        """Return an encoded, salted hash of `password` that carries its own parameters."""
        ...

    def verify(self, encoded: str, password: str) -> bool:
        """Whether `password` matches `encoded`; False (never an error) on mismatch or a malformed hash."""
        ...

    def needs_rehash(self, encoded: str) -> bool:
        """Whether `encoded` was made with weaker parameters than the hasher's current ones."""
        ...


def normalise_password(password: str) -> str:
    """The NFKC form of `password`: what the policy measures and what should be hashed and verified."""
    return unicodedata.normalize("NFKC", password)


def check_password(
    password: str,
    *,
    common: CommonPasswords,
    field: str = "password",
    context_words: Iterable[str] = (),
) -> None:
    """Raise ValidationFailed unless `password` is 12-128 code points (NFKC), not common, not a context word."""
    normalised = normalise_password(password)
    length = len(normalised)
    if length < MIN_LENGTH:
        raise ValidationFailed.on(field, f"must be at least {MIN_LENGTH} characters")
    if length > MAX_LENGTH:
        raise ValidationFailed.on(field, f"must be at most {MAX_LENGTH} characters")
    folded = normalised.casefold()
    if folded in common or normalised.lower() in common:
        raise ValidationFailed.on(field, "is too common; choose a less predictable password")
    for word in context_words:
        if word and normalise_password(word).casefold() == folded:
            raise ValidationFailed.on(field, "must not be your name, email or another word about you")
