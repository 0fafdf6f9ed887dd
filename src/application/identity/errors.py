"""Errors of the identity use cases; the HTTP layer maps them to 401, 403 and 429."""

from __future__ import annotations

from domain.shared.errors import DomainError

__all__ = ["AuthenticationFailed", "PermissionDenied", "TooManyAttempts"]


class AuthenticationFailed(DomainError):
    """Credentials or a token were not accepted; the message never says which part was wrong."""

    code = "unauthorized"

    def __init__(self, message: str = "Invalid email or password", *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason  # for logs and the audit trail, never for the client


class PermissionDenied(DomainError):
    """Authenticated, but the caller's role does not grant the action (records they cannot see are NotFound)."""

    code = "forbidden"

    def __init__(self, message: str = "You are not allowed to do this") -> None:
        super().__init__(message)


class TooManyAttempts(DomainError):
    """Throttled: the same answer whether or not the account exists; retry after `retry_after` seconds."""

    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many attempts; try again later")
        self.retry_after = retry_after
