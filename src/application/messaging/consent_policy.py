"""Who may be sent what: the consent rule, and the port that signs one-click unsubscribe tokens.

The rule (api.md, "Consent defaults"): an explicit consent decision for the (channel, address) wins; else the
customer's stated preference for the channel (the upload's `communication_preferences`); else email and SMS are
allowed and WhatsApp is not, because WhatsApp's business policy requires an explicit opt-in. Transactional
messages (receipts) are sent whatever this says; the callers decide that.
"""

from __future__ import annotations

from typing import Protocol

from application.messaging.ports import CustomerContact, MessagingUnitOfWork
from domain.messaging.model import Channel, Consent, ConsentSource

__all__ = ["ConsentPolicy", "UnsubscribeTokens", "describe_consent"]

_ALLOWED_BY_DEFAULT = frozenset({Channel.EMAIL, Channel.SMS})


class UnsubscribeTokens(Protocol):
    """Signed, unguessable tokens for the RFC 8058 one-click unsubscribe link of an e-mail."""

    def sign(self, channel: str, address: str) -> str:
        """A URL-safe token naming (channel, address)."""
        ...

    def verify(self, token: str) -> tuple[str, str] | None:
        """The (channel, address) the token was signed for; None when it is forged or malformed."""
        ...


_SOURCES = {
    ConsentSource.STOP_KEYWORD: "by a STOP reply", ConsentSource.UNSUBSCRIBE_LINK: "with the unsubscribe link",
    ConsentSource.BOUNCE: "after a hard bounce", ConsentSource.COMPLAINT: "after a spam complaint",
    ConsentSource.MANUAL: "by a desk user", ConsentSource.IMPORT: "in the uploaded book",
}


def describe_consent(consent: Consent) -> str:
    """`opted out by a STOP reply (stop_keyword) on 2026-11-28 09:00 UTC: replied STOP`."""
    verb = "opted in" if consent.opted_in else "opted out"
    how = _SOURCES.get(consent.source, "")
    when = f" on {consent.updated_at:%Y-%m-%d %H:%M %Z}".rstrip() if consent.updated_at else ""
    why = f": {consent.reason}" if consent.reason else ""
    return f"{verb} {how} ({consent.source.value}){when}{why}".replace("  ", " ")


class ConsentPolicy:
    async def allowed(self, uow: MessagingUnitOfWork, channel: Channel, address: str,
                      contact: CustomerContact | None) -> tuple[bool, str]:
        """(whether `address` may receive non-transactional messages on `channel`, the reason in words).

        `address` is normalised as consents store it: the e-mail in lower case, or the E.164 number.
        """
        consent = await uow.consents.get(channel, address)
        if consent is not None:
            return consent.opted_in, describe_consent(consent)
        if contact is not None and channel.value in contact.preferences:
            allowed = bool(contact.preferences[channel.value])
            stated = "allow" if allowed else "exclude"
            return allowed, f"the customer's communication preferences {stated} {channel.value}"
        if channel in _ALLOWED_BY_DEFAULT:
            return True, f"{channel.value} is allowed unless the customer opts out"
        return False, f"no {channel.value} opt-in on record ({channel.value} needs an explicit opt-in)"
