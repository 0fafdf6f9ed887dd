"""The campaign sending engine, the worker's side of campaigns: launch, batches, test sends, due campaigns.

`launch` writes the audience once (AudienceSource.materialise), splits it for an A/B test, and moves the campaign
to active (or scheduled) with ONE `campaigns.send_batch` job in the outbox. A `send_batch` job runs batches for
about `job_seconds`, then enqueues the next job (in the last batch's own unit of work) while work remains. A batch:
1. locks the campaign (not active: `stopped`, so pause and cancel act within one batch), reconciles expired claims
   (reconcile.py), and on a job's first batch ends `busy` when another worker holds live claims (two chains of jobs
   for one campaign fold into one);
2. claims up to `batch_limit` pending recipients after the keyset checkpoint (from the start again once the end
   is reached: retries and deferrals), with a lease, and commits the claims; those whose address opted out since
   launch are failed `opted_out` in the same commit (one `OptOuts` query per batch, opt_out_check.py);
3. renders (templates compiled once per batch) and sends with at most `send_concurrency` in flight, one token of
   the shared bucket "<channel>:<provider>" each; a recipient outside quiet hours goes back to pending untouched;
   the first transient error stops the batch (the rest go back untouched) and the job is retried after a backoff;
4. records each outcome in a new unit of work, with the counters, the auto-pause check (notifying the owner), the
   completion (or `waiting`: an A/B test's remainder waits for ab_decider) and the progress event.
`start_due` (cron) starts scheduled campaigns whose time came and resumes active ones that stalled (a worker died:
no progress for `stall_seconds`); that is also how a quiet-hours deferral resumes once the window opens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal
from uuid import uuid4

import msgspec

from application.campaigns.ab_decider import assign_arms
from application.campaigns.composer import Batch, CampaignTemplates, Composer, TrackingLinks
from application.campaigns.engine_config import EngineConfig
from application.campaigns.errors import CampaignNotFound, public_campaign_id
from application.campaigns.opt_out_check import skip_opted_out
from application.campaigns.ports import (
    AudienceSource,
    CampaignFilters,
    CampaignsUnitOfWork,
    OptOuts,
    ProviderLookup,
    UnsubscribeLinks,
)
from application.campaigns.reconcile import reconcile_expired
from application.ports.email import EmailSender
from application.ports.jobs import JobQueue
from application.ports.rate_limits import RateLimiter
from application.ports.sms import SmsSender
from application.ports.uow import Job
from application.ports.user_events import UserEvents
from application.ports.whatsapp import WhatsAppSender
from application.shared.pagination import PageRequest
from domain.campaigns.auto_pause import should_pause
from domain.campaigns.model import Campaign, CampaignStatus, Recipient
from domain.shared.clock import Clock

__all__ = ["SEND_CAMPAIGN_BATCH", "BatchOutcome", "CampaignEngine"]

SEND_CAMPAIGN_BATCH = "campaigns.send_batch"
Outcome = Literal["sent", "completed", "waiting", "deferred", "retry", "busy", "stopped"]


class BatchOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What the worker does next. `retry`: run this job again in `retry_in` s (the provider or the rate limit
    said not now). Anything else: nothing (`sent`: the next job is enqueued; `deferred`: quiet hours, start_due
    resumes it; `waiting`: the A/B decision resumes it; `busy`: another job runs it; `stopped`, `completed`)."""

    outcome: Outcome
    retry_in: float | None = None
    sent: int = 0
    failed: int = 0


class CampaignEngine:
    def __init__(self, *, uow: Callable[[], CampaignsUnitOfWork], clock: Clock, audience: AudienceSource,
                 jobs: JobQueue, sms: SmsSender, email: EmailSender, whatsapp: WhatsAppSender,
                 limiter: RateLimiter, events: UserEvents, lookup: ProviderLookup, config: EngineConfig,
                 provider_names: dict[str, str], templates: CampaignTemplates,
                 tracking: TrackingLinks | None = None, opt_outs: OptOuts | None = None,
                 unsubscribe: UnsubscribeLinks | None = None,
                 new_key: Callable[[], str] = lambda: uuid4().hex[:12]) -> None:
        self._uow = uow
        self._clock = clock
        self._new_key = new_key  # makes each launch/resume job id unique (arq refuses a seen id for an hour)
        self._audience = audience
        self._jobs = jobs
        self._limiter = limiter
        self._events = events
        self._lookup = lookup
        self._config = config
        self._providers = provider_names
        self._opt_outs = opt_outs
        self._composer = Composer(templates=templates, email=email, sms=sms, whatsapp=whatsapp, config=config,
                                  tracking=tracking, limiter=limiter, clock=clock, provider_names=provider_names,
                                  unsubscribe=unsubscribe)

    # --- launch and scheduling ---------------------------------------------------------------------------

    async def launch(self, campaign_id: int) -> None:
        """Write the audience once, split it for an A/B test, and start (or schedule) the campaign; called again
        on resume, it only enqueues the next batch."""
        async with self._uow() as uow:
            campaign = await uow.campaigns.get(campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            total = (await uow.campaigns.counters(campaign_id))["total"]
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE):
            return
        written = None if total else await self._audience.materialise(campaign_id, campaign.channel,
                                                                     campaign.audience)
        now = self._clock.now()
        async with self._uow() as uow:
            campaign = await uow.campaigns.get_for_update(campaign_id)
            if campaign is None or campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED,
                                                           CampaignStatus.ACTIVE):
                return
            if written is not None:
                campaign.target_count = (await uow.campaigns.counters(campaign_id))["total"]
                campaign.excluded = {k: int(v) for k, v in written.items() if k != "inserted"}
            if campaign.variants and "arms" not in campaign.ab_test:  # once, even if a launch died half-way
                campaign.ab_test = {**campaign.ab_test, "arms": await assign_arms(uow, campaign)}
            later = campaign.scheduled_at is not None and campaign.scheduled_at > now
            target = CampaignStatus.SCHEDULED if later else CampaignStatus.ACTIVE
            if campaign.status is not target and not (later and campaign.status is CampaignStatus.ACTIVE):
                campaign.move_to(target, now)
            if campaign.status is CampaignStatus.ACTIVE:
                uow.outbox.add(_send_job(campaign_id, f"launch-{now.timestamp():.0f}-{self._new_key()}"))
            await uow.campaigns.save(campaign)
            await uow.commit()

    async def start_due(self, now: datetime) -> int:
        """Launch the scheduled campaigns whose time has come and resume the active ones that stalled; how many."""
        async with self._uow() as uow:
            due = await uow.campaigns.due(now)
            active = await uow.campaigns.list(CampaignFilters(statuses=(CampaignStatus.ACTIVE.value,)),
                                              PageRequest(page=1, limit=1000))
            scheduled = [c for c in (await _get_many(uow, due)) if c.status is CampaignStatus.SCHEDULED]
        for campaign in scheduled:
            await self.launch(campaign.id or 0)
        stalled_before = now - timedelta(seconds=self._config.stall_seconds)
        stalled = [c for c in active.items if (c.updated_at is None or c.updated_at < stalled_before)
                   and not _awaiting_decision(c)]
        window = int(now.timestamp() // self._config.stall_seconds)
        for campaign in stalled:
            job = _send_job(campaign.id or 0, f"resume-{window}")
            await self._jobs.enqueue(job, job_id=job.key or "")
        return len(scheduled) + len(stalled)

    # --- sending -----------------------------------------------------------------------------------------

    async def send_batch(self, campaign_id: int) -> BatchOutcome:
        """Run batches for about `job_seconds`; see the module docstring."""
        started = self._clock.now()
        sent = failed = 0
        for number in range(self._config.batches_per_job):
            last = (number + 1 >= self._config.batches_per_job
                    or (self._clock.now() - started).total_seconds() >= self._config.job_seconds)
            outcome = await self._one_batch(campaign_id, first=number == 0, last=last)
            sent, failed = sent + outcome.sent, failed + outcome.failed
            if outcome.outcome != "sent" or last:
                return msgspec.structs.replace(outcome, sent=sent, failed=failed)
        raise AssertionError("unreachable: the last batch returns")  # pragma: no cover

    async def _one_batch(self, campaign_id: int, *, first: bool, last: bool) -> BatchOutcome:
        now = self._clock.now()
        async with self._uow() as uow:
            campaign = await uow.campaigns.get_for_update(campaign_id)
            if campaign is None or campaign.status is not CampaignStatus.ACTIVE:
                return BatchOutcome(outcome="stopped")
            reconciled = await reconcile_expired(uow, self._lookup, campaign, now,
                                                 limit=self._config.reconcile_limit)
            if first and (await uow.campaigns.counters(campaign_id))["sending"] > reconciled.left:
                await uow.commit()
                return BatchOutcome(outcome="busy")
            lease_until = now + timedelta(seconds=self._config.lease_seconds)
            claims = await self._claim(uow, campaign, lease_until)
            skipped = 0 if self._opt_outs is None else await skip_opted_out(uow, self._opt_outs, campaign, claims)
            await uow.commit()  # the campaign is saved (checkpoint, counters) with the outcomes
        batch = Batch(claims=claims, lease_until=lease_until, started=now, checkpoint=campaign.checkpoint,
                      skipped=skipped)
        if claims:
            await self._composer.deliver(campaign, batch)
        outcome = await self._record(campaign_id, batch, enqueue_next=last)
        if batch.error is not None:
            raise batch.error
        return outcome

    async def _claim(self, uow: CampaignsUnitOfWork, campaign: Campaign, lease_until: datetime) -> list[Recipient]:
        """The next recipients after the checkpoint, from the start again once the end is reached."""
        assert campaign.id is not None
        limit = self._config.batch_limit(campaign.channel)
        claims = await uow.recipients.claim(campaign.id, after_id=campaign.checkpoint, limit=limit,
                                            lease_until=lease_until)
        if not claims and campaign.checkpoint:
            campaign.checkpoint = 0
            claims = await uow.recipients.claim(campaign.id, after_id=0, limit=limit, lease_until=lease_until)
        if claims:
            campaign.checkpoint = max(r.id or 0 for r in claims)
        return claims

    async def _record(self, campaign_id: int, batch: Batch, *, enqueue_next: bool) -> BatchOutcome:
        """Save the outcomes; pause, complete or enqueue the next job; tell the owner."""
        now = self._clock.now()
        paused_rate: float | None = None
        async with self._uow() as uow:
            campaign = await uow.campaigns.get_for_update(campaign_id)
            if campaign is None:
                return BatchOutcome(outcome="stopped")
            if batch.claims:
                await uow.recipients.save_many(batch.claims)
                campaign.checkpoint = batch.checkpoint
            if batch.failed and campaign.status is CampaignStatus.ACTIVE:
                paused_rate = await self._auto_pause(uow, campaign, now)
            counts = await uow.campaigns.counters(campaign_id)
            outcome = self._next_step(campaign, batch, counts, now)
            if outcome.outcome == "completed":
                campaign.move_to(CampaignStatus.COMPLETED, now)
            if outcome.outcome == "sent" and enqueue_next:
                uow.outbox.add(_send_job(campaign_id, f"after-{campaign.checkpoint}-{now.timestamp():.3f}"))
            await uow.campaigns.save(campaign)
            await uow.commit()
        await self._tell_owner(campaign, batch, counts, now, paused_rate)
        return outcome

    def _next_step(self, campaign: Campaign, batch: Batch, counts: dict[str, int], now: datetime) -> BatchOutcome:
        figures = {"sent": batch.sent, "failed": batch.failed}
        if campaign.status is not CampaignStatus.ACTIVE:
            return BatchOutcome(outcome="stopped", **figures)
        if batch.retry_in is not None:
            return BatchOutcome(outcome="retry", retry_in=batch.retry_in, **figures)
        if counts.get("pending", 0) == 0 and counts.get("sending", 0) == 0:
            if counts.get("waiting", 0):
                campaign.ab_test = {**campaign.ab_test, "test_sent_at": campaign.ab_test.get("test_sent_at")
                                    or now.isoformat()}
                return BatchOutcome(outcome="waiting", **figures)
            if campaign.variants and not campaign.ab_test.get("test_sent_at"):
                campaign.ab_test = {**campaign.ab_test, "test_sent_at": now.isoformat()}
            return BatchOutcome(outcome="completed", **figures)
        if not batch.claims:  # pending ones locked by another worker, or only others' claims left
            return BatchOutcome(outcome="busy", **figures)
        if batch.deferred_until is not None and batch.sent + batch.failed == 0:
            return BatchOutcome(outcome="deferred", retry_in=(batch.deferred_until - now).total_seconds(), **figures)
        return BatchOutcome(outcome="sent", **figures)

    async def _auto_pause(self, uow: CampaignsUnitOfWork, campaign: Campaign, now: datetime) -> float | None:
        """Pause the campaign when its latest sends fail too often; the failure rate when it did."""
        config = self._config
        outcomes = await uow.recipients.recent_outcomes(campaign.id or 0, config.auto_pause_window)
        pause, rate = should_pause([s.value for s in outcomes], config.auto_pause_window,
                                   config.auto_pause_threshold, config.auto_pause_minimum)
        if not pause:
            return None
        campaign.move_to(CampaignStatus.PAUSED, now, reason=f"auto: {rate:.0%} of the last {len(outcomes)} sends "
                                                            f"failed (threshold {config.auto_pause_threshold:.0%})")
        return rate

    async def _tell_owner(self, campaign: Campaign, batch: Batch, counts: dict[str, int], now: datetime,
                          paused_rate: float | None) -> None:
        if campaign.created_by is None:
            return
        public_id = public_campaign_id(campaign.id or 0)
        seconds = (now - batch.started).total_seconds()
        done = batch.sent + batch.failed
        await self._events.publish(campaign.created_by, "campaign.progress", {
            "campaignId": public_id, "status": campaign.status.value, "sent": counts.get("sent", 0),
            "failed": counts.get("failed", 0), "pending": counts.get("pending", 0) + counts.get("sending", 0),
            "unknown": counts.get("unknown", 0), "rate": round(done / seconds, 1) if seconds > 0 else None})
        if paused_rate is not None:
            await self._events.publish(campaign.created_by, "campaign.auto_paused", {
                "campaignId": public_id, "name": campaign.name, "reason": campaign.paused_reason,
                "failureRate": round(paused_rate, 4)})

    # --- test sends --------------------------------------------------------------------------------------

    async def send_test(self, campaign_id: int, to: str) -> str:
        """Render with sample values and send one message to `to` (no recipient row); the provider's id."""
        async with self._uow() as uow:
            campaign = await uow.campaigns.get(campaign_id)
        if campaign is None:
            raise CampaignNotFound(campaign_id)
        compiled = await self._composer.compile(campaign, tracked=False)
        now = self._clock.now()
        sample = Recipient(id=None, campaign_id=campaign_id, customer_id=0, address=to,
                           values=dict(self._config.sample_values))
        message = compiled.message(sample, reference=f"{public_campaign_id(campaign_id)}-test-{now.timestamp():.0f}")
        provider = self._providers.get(campaign.channel, campaign.channel)
        await self._limiter.acquire(f"{campaign.channel}:{provider}", self._config.limit_for(campaign.channel),
                                    max_wait=self._config.limiter_max_wait)
        return await self._composer.send(message)


def _send_job(campaign_id: int, why: str) -> Job:
    return Job(name=SEND_CAMPAIGN_BATCH, args={"campaign_id": campaign_id}, key=f"campaign-{campaign_id}-{why}")


def _awaiting_decision(campaign: Campaign) -> bool:
    return bool(campaign.variants and campaign.ab_test.get("test_sent_at") and not campaign.ab_test.get("decision"))


async def _get_many(uow: CampaignsUnitOfWork, ids: Sequence[int]) -> list[Campaign]:
    found = [await uow.campaigns.get(campaign_id) for campaign_id in ids]
    return [c for c in found if c is not None]
