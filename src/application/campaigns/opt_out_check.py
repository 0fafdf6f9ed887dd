"""Consent during a long campaign: before a batch is sent, its recipients who opted out since launch are decided.

The audience excluded opted-out customers at launch; a campaign sending for hours or paused for days meets new
STOP replies, unsubscribe clicks, bounces and complaints. Each batch asks `OptOuts` once for its addresses; those
opted out become `skipped` with error code `opted_out` (kept apart from send failures: not counted in the batch's
failures, and their claim is not an attempt) and are never handed to a sender.
"""

from __future__ import annotations

from collections.abc import Sequence

from application.campaigns.ports import CampaignsUnitOfWork, OptOuts
from domain.campaigns.model import Campaign, Recipient, RecipientStatus

__all__ = ["OPTED_OUT", "skip_opted_out"]

OPTED_OUT = "opted_out"


async def skip_opted_out(uow: CampaignsUnitOfWork, opt_outs: OptOuts, campaign: Campaign,
                         claims: Sequence[Recipient]) -> int:
    """Mark the claims whose address opted out of the campaign's channel and save them in `uow`; how many."""
    if not claims:
        return 0
    opted = await opt_outs.opted_out(campaign.channel, [r.address for r in claims])
    skipped = [r for r in claims if r.address in opted]
    for recipient in skipped:
        recipient.status, recipient.lease_until = RecipientStatus.SKIPPED, None
        recipient.attempts = max(0, recipient.attempts - 1)
        recipient.error_code = OPTED_OUT
        recipient.error_message = f"opted out of {campaign.channel} after the campaign was launched"
    if skipped:
        await uow.recipients.save_many(skipped)
    return len(skipped)
