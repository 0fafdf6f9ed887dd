"""Errors the domain raises; the HTTP layer maps each kind to one status code."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Conflict", "DomainError", "FieldError", "InvalidTransition", "NotFound", "ValidationFailed"]


class DomainError(Exception):
    """Base of every error the domain and application raise on purpose."""

    code = "domain_error"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass(eq=False)
class ValidationFailed(DomainError):
    """One or more fields break a rule; carries every offending field."""

    details: list[FieldError] = field(default_factory=list)
    code = "validation_failed"

    def __str__(self) -> str:
        return "; ".join(f"{d.field}: {d.message}" for d in self.details) or "validation failed"

    @classmethod
    def on(cls, field_name: str, message: str) -> ValidationFailed:
        return cls([FieldError(field_name, message)])


class NotFound(DomainError):
    """The record does not exist, or is not visible to the caller."""

    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} was not found")
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """A unique key is taken or the state forbids the change."""

    code = "conflict"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(Conflict):
    """A state machine refused a transition; names the current state."""

    code = "invalid_transition"

    def __init__(self, kind: str, current: str, requested: str) -> None:
        super().__init__(f"{kind} cannot move from '{current}' to '{requested}'")
        self.current = current
        self.requested = requested
