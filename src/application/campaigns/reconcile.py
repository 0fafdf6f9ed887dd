"""Reconciliation of claims whose worker died mid-send: never resend blindly.

A recipient still `sending` after its lease may have reached the provider or not. The provider is asked for a
message with our reference (`cr-<recipient id>`):
- found: the recipient is `sent`, with the provider's message id;
- not found, from a provider that answers authoritatively: it never left, so it is `pending` again (sent later);
- the provider cannot be asked (`NotImplementedError`): `unknown`, for a person to decide.
A lookup that fails for now (the channel's *Unavailable, a network error) leaves the claim as it is: it is asked
again on a later batch.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from application.campaigns.ports import CampaignsUnitOfWork, ProviderLookup
from application.ports.email import EmailUnavailable
from application.ports.sms import SmsUnavailable
from application.ports.whatsapp import WhatsAppUnavailable
from domain.campaigns.model import Campaign, Recipient, RecipientStatus

__all__ = ["LOOKUP_FAILURES", "Reconciled", "reconcile_expired"]

LOOKUP_FAILURES = (EmailUnavailable, SmsUnavailable, WhatsAppUnavailable, OSError, TimeoutError)
UNRECONCILED = "unreconciled"


class Reconciled(msgspec.Struct, kw_only=True):
    """What one reconciliation did; `left` counts expired claims the provider could not be asked about now."""

    sent: int = 0
    pending: int = 0
    unknown: int = 0
    left: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.unknown


async def reconcile_expired(uow: CampaignsUnitOfWork, lookup: ProviderLookup, campaign: Campaign, now: datetime,
                            *, limit: int, rounds: int = 20) -> Reconciled:
    """Settle the campaign's expired claims in `uow` (saved, not committed), `limit` at a time."""
    assert campaign.id is not None
    result = Reconciled()
    for _ in range(rounds):
        claims = await uow.recipients.expired_claims(campaign.id, now, limit)
        if not claims:
            break
        settled: list[Recipient] = []
        for index, recipient in enumerate(claims):
            try:
                provider_id = await lookup.find(campaign.channel, recipient.reference)
            except NotImplementedError:
                _settle(recipient, RecipientStatus.UNKNOWN, None, now)
                recipient.error_code = UNRECONCILED
                recipient.error_message = "the worker stopped mid-send and the provider cannot say whether it left"
                result.unknown += 1
            except LOOKUP_FAILURES:
                result.left += len(claims) - index
                break
            else:
                if provider_id:
                    _settle(recipient, RecipientStatus.SENT, provider_id, now)
                    result.sent += 1
                else:
                    _settle(recipient, RecipientStatus.PENDING, None, now)
                    result.pending += 1
            settled.append(recipient)
        if settled:
            await uow.recipients.save_many(settled)
        if result.left or len(claims) < limit:
            break
    return result


def _settle(recipient: Recipient, status: RecipientStatus, provider_id: str | None, now: datetime) -> None:
    recipient.status = status
    recipient.lease_until = None
    if status is RecipientStatus.SENT:
        recipient.provider_message_id = provider_id
        recipient.sent_at = recipient.sent_at or now
        recipient.error_code = recipient.error_message = None
