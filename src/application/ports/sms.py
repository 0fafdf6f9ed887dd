"""The SMS port: one text to one E.164 number in, the provider's message id out."""

from __future__ import annotations

from typing import Protocol

import msgspec

__all__ = ["OutboundSms", "SentSms", "SmsRejected", "SmsSender", "SmsUnavailable"]


class OutboundSms(msgspec.Struct, frozen=True, kw_only=True):
    """A rendered SMS; `reference` is our own message id (`msg-N`), echoed to status callbacks where possible.

    `dlt_entity_id` and `dlt_template_id` carry India's DLT registration for providers that accept them.
    """

    to: str  # E.164, e.g. +919876543210
    body: str
    reference: str
    sender_id: str | None = None  # alphanumeric sender or long code; the deployment's default when None
    dlt_entity_id: str | None = None
    dlt_template_id: str | None = None


class SentSms(msgspec.Struct, frozen=True, kw_only=True):
    provider_message_id: str
    status: str = "sent"  # the provider's first status, mapped to ours: queued | sent
    segments: int | None = None
    cost: str | None = None  # decimal string in `currency` when the provider reports it
    currency: str | None = None


class SmsRejected(Exception):
    """The provider refused this message for good (invalid number, unsubscribed recipient...): do not retry."""

    def __init__(self, message: str, *, code: str = "rejected") -> None:
        super().__init__(message)
        self.code = code


class SmsUnavailable(Exception):
    """The provider could not be reached, failed (5xx) or asked us to slow down (429): retry later."""

    def __init__(self, message: str, *, code: str = "unavailable", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class SmsSender(Protocol):
    async def send(self, sms: OutboundSms) -> SentSms:
        """Hand the message to the provider; raises SmsRejected or SmsUnavailable."""
        ...
