"""The e-mail port: one outbound message in, the provider's message id out."""

from __future__ import annotations

from typing import Protocol

import msgspec

__all__ = ["EmailAttachment", "EmailRejected", "EmailSender", "EmailUnavailable", "OutboundEmail", "SentEmail"]


class EmailAttachment(msgspec.Struct, frozen=True, kw_only=True):
    filename: str
    content_type: str
    content: bytes


class OutboundEmail(msgspec.Struct, frozen=True, kw_only=True):
    """A message ready to send; `from_address` falls back to the deployment's sender address."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: str | None = None
    from_address: str | None = None
    headers: dict[str, str] = {}
    attachments: tuple[EmailAttachment, ...] = ()
    tags: dict[str, str] = {}  # provider tags (e.g. SES message tags) that come back with delivery events


class SentEmail(msgspec.Struct, frozen=True, kw_only=True):
    provider_message_id: str


class EmailRejected(Exception):
    """The provider refused this message for good (bad address, unverified sender...): do not retry."""

    def __init__(self, message: str, *, code: str = "rejected") -> None:
        super().__init__(message)
        self.code = code


class EmailUnavailable(Exception):
    """The provider could not be reached or asked us to slow down: retry later."""

    def __init__(self, message: str, *, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code


class EmailSender(Protocol):
    async def send(self, email: OutboundEmail) -> SentEmail:
        """Hand the message to the provider; raises EmailRejected or EmailUnavailable."""
        ...
