"""Consent use cases: read a recipient's decision (or the default that applies), set it, one-click unsubscribe.

Decisions are kept per (channel, address): the e-mail address in lower case, or the E.164 phone number. Without a
decision the rule of `consent_policy.ConsentPolicy` applies, shown with source `default`. `record_decision` is
the one writer that provider events use too: a decision older than the one on record changes nothing, so
webhooks applied out of order cannot undo a newer choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from application.messaging.consent_policy import ConsentPolicy, UnsubscribeTokens
from application.messaging.consent_views import DEFAULT_SOURCE, ConsentView, SetConsent, public_customer_id
from application.messaging.ports import CustomerDirectory, MessagingUnitOfWork
from domain.messaging.model import Channel, Consent, ConsentSource
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser, normalise_email
from domain.shared.errors import FieldError, NotFound, ValidationFailed
from domain.shared.ids import parse_public_id

__all__ = ["ConsentService", "InvalidUnsubscribeLink", "record_decision"]

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MAX_REASON = 500
_CHANNELS = ", ".join(channel.value for channel in Channel)


class InvalidUnsubscribeLink(NotFound):
    """The token of an unsubscribe link is forged, damaged or names no channel we know (404)."""

    def __init__(self) -> None:
        super().__init__("unsubscribe link", "")
        self.args = ("This unsubscribe link is not valid; it may have been cut when it was copied",)


async def record_decision(uow: MessagingUnitOfWork, consent: Consent, *, unless_newer: bool = True) -> bool:
    """Store `consent` unless (with `unless_newer`) the decision on record is more recent; True if stored."""
    current = await uow.consents.get(consent.channel, consent.address)
    if unless_newer and current is not None and current.updated_at is not None and consent.updated_at is not None \
            and current.updated_at > consent.updated_at:
        return False
    if current is not None and consent.customer_id is None:
        consent.customer_id = current.customer_id
    await uow.consents.put(consent)
    return True


def _channel(value: str, field: str = "channel") -> Channel:
    try:
        return Channel(value.strip().lower())
    except ValueError:
        raise ValidationFailed.on(field, f"must be one of: {_CHANNELS}") from None


class ConsentService:
    def __init__(self, uow: Callable[[], MessagingUnitOfWork], clock: Clock, tokens: UnsubscribeTokens,
                 directory: CustomerDirectory, *, phones: PhoneNumberNormaliser | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._directory = directory
        self._phones = phones
        self._policy = ConsentPolicy()

    def address_of(self, channel: Channel, raw: str, field: str = "address") -> str:
        """`raw` as decisions are keyed: the e-mail in lower case, or the phone number in E.164."""
        if channel is Channel.EMAIL:
            return normalise_email(raw, field=field)
        if self._phones is not None:
            return self._phones.to_e164(raw, field=field)
        text = raw.strip().replace(" ", "").replace("-", "")
        if _E164.fullmatch(text) is None:
            raise ValidationFailed.on(field, "must be a phone number in E.164 form, e.g. +919876543210")
        return text

    async def get(self, channel: str | Channel, address: str) -> ConsentView:
        """The decision on record, else the default that applies (source `default`)."""
        kind = _channel(channel) if isinstance(channel, str) else channel
        return await self._view(kind, self.address_of(kind, address))

    async def _view(self, channel: Channel, address: str) -> ConsentView:
        async with self._uow() as uow:
            consent = await uow.consents.get(channel, address)
            if consent is not None:
                return ConsentView.of(consent)
            contact = await self._directory.by_address(channel, address)
            allowed, reason = await self._policy.allowed(uow, channel, address, contact)
        return ConsentView(channel=channel.value, address=address,
                           customer_id=public_customer_id(contact.customer_id if contact else None),
                           opted_in=allowed, source=DEFAULT_SOURCE, reason=reason, updated_at=None)

    async def set(self, cmd: SetConsent, user_id: int | None) -> ConsentView:
        """A desk user records a decision (source `manual`); `user_id` is the caller (kept for the audit trail
        once decisions carry their author)."""
        del user_id  # Consent has no author column yet
        errors: list[FieldError] = []
        channel: Channel | None = None
        try:
            channel = _channel(cmd.channel)
        except ValidationFailed as exc:
            errors.extend(exc.details)
        customer_id = None
        if cmd.customer_id is not None:
            customer_id = parse_public_id(cmd.customer_id, "customer")
            if customer_id is None:
                errors.append(FieldError("customerId", "is not a valid customer id"))
        if cmd.address is None and cmd.customer_id is None:
            errors.append(FieldError("address", "give the address or the customerId"))
        reason = (cmd.reason or "").strip() or None
        if reason is not None and len(reason) > _MAX_REASON:
            errors.append(FieldError("reason", f"must be at most {_MAX_REASON} characters"))
        if errors or channel is None:
            raise ValidationFailed(errors)
        address = await self._address_for(channel, cmd.address, customer_id)
        if customer_id is None:
            contact = await self._directory.by_address(channel, address)
            customer_id = contact.customer_id if contact else None
        consent = Consent(channel=channel, address=address, opted_in=cmd.opted_in, source=ConsentSource.MANUAL,
                          reason=reason, customer_id=customer_id, updated_at=self._clock.now())
        async with self._uow() as uow:
            await record_decision(uow, consent, unless_newer=False)
            await uow.commit()
        return ConsentView.of(consent)

    async def _address_for(self, channel: Channel, address: str | None, customer_id: int | None) -> str:
        if address is not None:
            return self.address_of(channel, address)
        assert customer_id is not None
        contact = await self._directory.contact(customer_id)
        if contact is None:
            raise NotFound("customer", public_customer_id(customer_id))
        on_file = contact.email if channel is Channel.EMAIL else contact.phone
        if not on_file:
            kind = "e-mail address" if channel is Channel.EMAIL else "phone number"
            raise ValidationFailed.on("customerId", f"the customer has no {kind} on file; give the address")
        return self.address_of(channel, on_file, field="customerId")

    def _target(self, token: str) -> tuple[Channel, str]:
        found = self._tokens.verify(token)
        if found is None:
            raise InvalidUnsubscribeLink()
        try:
            return Channel(found[0]), found[1]
        except ValueError:
            raise InvalidUnsubscribeLink() from None

    async def unsubscribe_target(self, token: str) -> ConsentView:
        """What the link would unsubscribe, as it stands now (the confirmation page); 404 for a bad token."""
        channel, address = self._target(token)
        return await self._view(channel, address)

    async def unsubscribe(self, token: str) -> ConsentView:
        """RFC 8058 one-click unsubscribe (source `unsubscribe_link`); an address already opted out stays as is."""
        channel, address = self._target(token)
        contact = await self._directory.by_address(channel, address)
        async with self._uow() as uow:
            current = await uow.consents.get(channel, address)
            if current is not None and not current.opted_in:
                return ConsentView.of(current)
            consent = Consent(channel=channel, address=address, opted_in=False, source=ConsentSource.UNSUBSCRIBE_LINK,
                              reason="unsubscribe link", customer_id=contact.customer_id if contact else None,
                              updated_at=self._clock.now())
            await record_decision(uow, consent, unless_newer=False)
            await uow.commit()
        return ConsentView.of(consent)

    async def list_for_customer(self, customer_id: int) -> list[ConsentView]:
        """The decision (or default) for each channel the customer has an address on."""
        contact = await self._directory.contact(customer_id)
        if contact is None:
            raise NotFound("customer", public_customer_id(customer_id))
        views: list[ConsentView] = []
        for channel in Channel:
            raw = contact.email if channel is Channel.EMAIL else contact.phone
            if not raw:
                continue
            try:
                address = self.address_of(channel, raw)
            except ValidationFailed:
                continue  # an address on file that no message could be sent to either
            views.append(await self._view(channel, address))
        return views
