"""Refusals of the payments use cases, each a domain error the HTTP layer maps to its status code."""

from __future__ import annotations

from domain.shared.errors import Conflict, DomainError, FieldError, ValidationFailed

__all__ = ["IdempotencyKeyReused", "LinkNotSent", "PaymentProviderRefused", "PaymentProviderUnavailable"]


class IdempotencyKeyReused(ValidationFailed):
    code = "idempotency_key_reused"

    @classmethod
    def of(cls, key: str, payment_public_id: str) -> IdempotencyKeyReused:
        return cls([FieldError("Idempotency-Key", f"'{key}' was used for {payment_public_id} with another body")])


class PaymentProviderRefused(ValidationFailed):
    """The payment provider refused the request for good (amount, currency, payment id...): 422."""

    code = "payment_provider_refused"

    @classmethod
    def because(cls, field: str, message: str) -> PaymentProviderRefused:
        return cls([FieldError(field, message)])


class PaymentProviderUnavailable(DomainError):
    """The payment provider cannot be reached or is failing: the HTTP layer answers 503, try again later."""

    code = "payment_provider_unavailable"


class LinkNotSent(Conflict):
    """The link was made but messaging refused to send it on that channel (opt-out, no address...): 409."""

    code = "link_not_sent"
