"""A/B tests on the worker's side: the split of the audience at launch, and the decision once the test has waited.

At launch (`assign_arms`) each recipient gets its arm from the domain's deterministic `assign` (seeded with the
campaign): holdout -> `held_out` (never sent), a test variant -> pending with that variant, the remainder ->
`waiting`. When the test sample has been sent the engine notes `ab_test["test_sent_at"]`; `AbDecider.decide_due`
then waits `wait_minutes` and decides from the recipients of the test sample that were sent: for open and click
rates the successes are the recipients with a human hit (TrackingStore's `unique_human` per variant, so privacy
proxies, scanners and bots do not vote), for reply and conversion rates those with `replied_at` / `converted_at`.
The decision and its numbers go into `ab_test["decision"]`; the remainder becomes pending with the winner's
variant and one `campaigns.send_batch` is enqueued, all in one unit of work. A test without a remainder (test
percent 100) is decided for the record only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from application.campaigns.ports import CampaignFilters, CampaignsUnitOfWork
from application.ports.uow import Job
from application.shared.pagination import PageRequest, SortKey
from domain.campaigns.ab_test import ABTest, Metric, VariantSplit, assign, decide
from domain.campaigns.model import Campaign, CampaignStatus, RecipientStatus

__all__ = ["AbDecider", "ab_test_of", "assign_arms"]

PAGE = 1000
LOOK_BACK = timedelta(days=8)  # longer than the longest wait: older campaigns were decided long ago
_SEND_BATCH = "campaigns.send_batch"  # engine.SEND_CAMPAIGN_BATCH (the engine imports this module)
_DECIDABLE = (CampaignStatus.ACTIVE.value, CampaignStatus.PAUSED.value, CampaignStatus.COMPLETED.value)


def ab_test_of(campaign: Campaign) -> ABTest:
    """The campaign's A/B configuration as the domain's rules take it (validated when the campaign was made)."""
    settings = campaign.ab_test
    return ABTest(variants=tuple(VariantSplit(v.name, v.split_percent) for v in campaign.variants),
                  holdout_percent=int(settings.get("holdout_percent", 0)),
                  test_percent=int(settings.get("test_percent", 100)),
                  wait_minutes=int(settings.get("wait_minutes", 0)),
                  metric=Metric(settings.get("metric", Metric.OPEN.value)))


async def assign_arms(uow: CampaignsUnitOfWork, campaign: Campaign) -> dict[str, int]:
    """Give each pending recipient without a variant its arm; the count per arm."""
    assert campaign.id is not None
    config, seed = ab_test_of(campaign), f"campaign-{campaign.id}"
    counts: dict[str, int] = {}
    page = 1
    while True:
        found = await uow.recipients.list(campaign.id, (), PageRequest(page=page, limit=PAGE))
        changed = []
        for recipient in found.items:
            if recipient.status is not RecipientStatus.PENDING or recipient.variant is not None:
                continue
            arm = assign(recipient.id or 0, config, seed)
            if arm == "holdout":
                recipient.status = RecipientStatus.HELD_OUT
            elif arm == "remainder":
                recipient.status = RecipientStatus.WAITING
            else:
                recipient.variant = arm.removeprefix("test:")
            counts[arm] = counts.get(arm, 0) + 1
            changed.append(recipient)
        if changed:
            await uow.recipients.save_many(changed)
        if page * PAGE >= found.total or not found.items:
            return counts
        page += 1


class AbDecider:
    def __init__(self, uow: Callable[[], CampaignsUnitOfWork]) -> None:
        self._uow = uow

    async def decide_due(self, now: datetime) -> int:
        """Decide every test whose sample was sent at least `wait_minutes` ago; how many were decided."""
        decided = 0
        for campaign_id in await self._due(now):
            decided += await self._decide(campaign_id, now)
        return decided

    async def _due(self, now: datetime) -> list[int]:
        due: list[int] = []
        page = 1
        newest_first = (SortKey("updatedAt", descending=True),)
        async with self._uow() as uow:
            while True:
                found = await uow.campaigns.list(CampaignFilters(statuses=_DECIDABLE),
                                                 PageRequest(page=page, limit=100, sort=newest_first))
                due.extend(c.id or 0 for c in found.items if _ready(c, now))
                oldest = found.items[-1].updated_at if found.items else None
                if not found.items or page * 100 >= found.total or (oldest is not None and oldest < now - LOOK_BACK):
                    return due
                page += 1

    async def _decide(self, campaign_id: int, now: datetime) -> int:
        async with self._uow() as uow:
            campaign = await uow.campaigns.get_for_update(campaign_id)
            if campaign is None or not _ready(campaign, now):
                return 0
            config = ab_test_of(campaign)
            stats = await _stats(uow, campaign, config.metric)
            decision = decide(stats, config.metric)
            campaign.ab_test = {**campaign.ab_test, "decision": {**decision.to_dict(), "decided_at": now.isoformat()}}
            moved = await uow.recipients.set_status(campaign_id, RecipientStatus.WAITING, RecipientStatus.PENDING,
                                                    variant=decision.winner)
            if moved and campaign.status is CampaignStatus.ACTIVE:
                uow.outbox.add(Job(name=_SEND_BATCH, args={"campaign_id": campaign_id},
                                   key=f"campaign-{campaign_id}-ab-decided"))
            await uow.campaigns.save(campaign)
            await uow.commit()
        return 1


def _ready(campaign: Campaign, now: datetime) -> bool:
    settings = campaign.ab_test
    sent_at = settings.get("test_sent_at")
    if not campaign.variants or not sent_at or settings.get("decision"):
        return False
    waited = now - datetime.fromisoformat(str(sent_at))
    return waited >= timedelta(minutes=int(settings.get("wait_minutes", 0)))


async def _stats(uow: CampaignsUnitOfWork, campaign: Campaign, metric: Metric) -> dict[str, tuple[int, int]]:
    """variant -> (recipients of the test sample sent, those of them who succeeded by `metric`), in variant order."""
    assert campaign.id is not None
    exposed = {v.name: 0 for v in campaign.variants}
    succeeded = dict.fromkeys(exposed, 0)
    page = 1
    while True:
        found = await uow.recipients.list(campaign.id, (RecipientStatus.SENT.value,),
                                          PageRequest(page=page, limit=PAGE))
        for recipient in found.items:
            if recipient.variant not in exposed:
                continue
            exposed[recipient.variant] += 1
            moment = recipient.replied_at if metric is Metric.REPLY else recipient.converted_at
            if metric in (Metric.REPLY, Metric.CONVERSION) and moment is not None:
                succeeded[recipient.variant] += 1
        if page * PAGE >= found.total or not found.items:
            break
        page += 1
    if metric in (Metric.OPEN, Metric.CLICK):
        by_variant = (await uow.tracking.summary(campaign.id)).get("by_variant", {})
        for name in exposed:
            figures = by_variant.get(name, {}).get(metric.value, {})
            succeeded[name] = min(exposed[name], int(figures.get("unique_human", 0)))
    return {name: (exposed[name], succeeded[name]) for name in exposed}
