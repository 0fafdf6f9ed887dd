"""Refusals of a send; each subclasses the domain error the HTTP layer maps to the right status code.

409 `recipient_opted_out` (Conflict); 422 `whatsapp_window_closed`, `whatsapp_template_not_approved`,
`unknown_template` and `idempotency_key_reused` (ValidationFailed, naming the field); 404 `not_found` (NotFound).
"""

from __future__ import annotations

from domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed

__all__ = [
    "IdempotencyKeyReused",
    "MessageNotFound",
    "RecipientOptedOut",
    "UnknownTemplate",
    "WhatsAppTemplateNotApproved",
    "WhatsAppWindowClosed",
]


class RecipientOptedOut(Conflict):
    """The recipient does not accept (non-transactional) messages on this channel."""

    code = "recipient_opted_out"

    def __init__(self, channel: str, address: str, reason: str) -> None:
        super().__init__(f"{address} does not accept {channel} messages: {reason}", field="to")
        self.channel = channel
        self.address = address
        self.reason = reason


class WhatsAppWindowClosed(ValidationFailed):
    """Free text (or media) outside the 24-hour customer-service window: only approved templates may go."""

    code = "whatsapp_window_closed"

    @classmethod
    def for_number(cls, phone: str, hours: int) -> WhatsAppWindowClosed:
        return cls([FieldError("message", f"{phone} has not written to us in the last {hours} hours (or the window "
                                          "closes before the message may be sent): send an approved template")])


class WhatsAppTemplateNotApproved(ValidationFailed):
    code = "whatsapp_template_not_approved"

    @classmethod
    def named(cls, name: str, language: str, status: str) -> WhatsAppTemplateNotApproved:
        return cls([FieldError("templateId", f"WhatsApp template '{name}' ({language}) is {status}, not approved")])


class UnknownTemplate(ValidationFailed):
    code = "unknown_template"

    @classmethod
    def named(cls, ident: str, detail: str = "") -> UnknownTemplate:
        return cls([FieldError("templateId", f"no template '{ident}'{detail}")])


class IdempotencyKeyReused(ValidationFailed):
    """The Idempotency-Key was used before with another request body."""

    code = "idempotency_key_reused"

    @classmethod
    def of(cls, key: str, first_message: str) -> IdempotencyKeyReused:
        return cls([FieldError("Idempotency-Key", f"'{key}' was already used for {first_message} with another "
                                                  "request body; use a new key for a new message")])


class MessageNotFound(NotFound):
    def __init__(self, message_id: int) -> None:
        super().__init__("message", f"msg-{message_id}")
