"""Messages other contexts send to a case's customer (reminders, payment links, receipts, lapse notices).

Reminders and payments queue through this port; the messaging context implements it (templates by name, the
customer's address, consent, quiet hours, rate limits, delivery), so neither reaches into messaging's tables.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

__all__ = ["CaseMessage", "CaseMessenger", "QueuedCaseMessage"]

Purpose = Literal["reminder", "payment_link", "receipt", "lapse_notice", "desk"]


class CaseMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One templated message about a case; `template` is a template *name* (e.g. renewal_reminder_15_days).

    `values` fill the template's `{name}` variables (the customer's name is filled in by messaging);
    `idempotency_key` makes a repeated call answer the first message instead of queueing another one.
    """

    channel: Literal["email", "sms", "whatsapp"]
    customer_id: int
    case_id: int
    template: str
    values: dict[str, str]
    purpose: Purpose
    idempotency_key: str
    transactional: bool = False  # receipts: sent to opted-out recipients and outside quiet hours
    language: str = "en"


class QueuedCaseMessage(msgspec.Struct, frozen=True, kw_only=True):
    """`queued` with the message id, or `refused` with a code (recipient_opted_out, no_address, unknown_template,
    whatsapp_window_closed, validation_failed) and a reason a person can read."""

    status: Literal["queued", "refused"]
    message_id: int | None = None
    code: str | None = None
    reason: str | None = None


class CaseMessenger(Protocol):
    async def queue(self, message: CaseMessage) -> QueuedCaseMessage:
        """Queue the message for delivery (committed on return) or say why it cannot be sent."""
        ...
