"""The campaign engine on the in-memory unit of work, senders, token bucket and job queue, with a fixed clock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from adapters.crypto.tracking_tokens import HmacTrackingTokens
from adapters.crypto.unsubscribe_links import SignedUnsubscribeLinks
from adapters.crypto.unsubscribe_tokens import HmacUnsubscribeTokens
from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.email import InMemoryEmailSender
from adapters.memory.jobs import InMemoryJobQueue
from adapters.memory.opt_outs import InMemoryOptOuts
from adapters.memory.sms import InMemorySmsSender
from adapters.memory.store import MemoryStore
from adapters.memory.token_bucket import InMemoryTokenBucket
from adapters.memory.user_events import InMemoryUserEvents
from adapters.memory.whatsapp import InMemoryWhatsAppSender
from adapters.system.clock import FixedClock
from application.campaigns.ab_decider import AbDecider
from application.campaigns.composer import CampaignTemplate, TrackingLinks, unsubscribe_headers
from application.campaigns.config import CampaignsConfig
from application.campaigns.engine import SEND_CAMPAIGN_BATCH, BatchOutcome, CampaignEngine
from application.campaigns.engine_config import EngineConfig, QuietWindow
from application.campaigns.ports import AudienceCandidate, CampaignsUnitOfWork, TrackingHit
from application.campaigns.tracking import TrackingKind, TrackingService, TrackingToken
from application.ports.rate_limits import RateLimit
from application.ports.sms import OutboundSms, SentSms
from application.shared.events import EventRouter
from application.shared.outbox_relay import OutboxRelay
from domain.campaigns.model import Campaign, CampaignStatus, Recipient, RecipientStatus, Variant
from domain.messaging.model import Channel, Consent, ConsentSource

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 11:30 in Kolkata
OWNER = 7
PROVIDERS = {"email": "ses", "sms": "twilio", "whatsapp": "meta"}
TEMPLATES = {
    1: CampaignTemplate(channel="email", subject="Renew {policy_number}", content="<p>Dear {name}, renew now.</p>"),
    2: CampaignTemplate(channel="sms", content="Dear {name}, policy {policy_number} is due."),
    3: CampaignTemplate(channel="whatsapp", content="Dear {{1}}", name="renewal_reminder", variables=("name",)),
}
UNLIMITED = RateLimit(rate=0)


def config(**changes: Any) -> EngineConfig:
    base: dict[str, Any] = {"batch_size": 10, "batches_per_job": 1, "email_limit": UNLIMITED,
                            "sms_limit": UNLIMITED, "whatsapp_limit": UNLIMITED, "auto_pause_minimum": 10,
                            "auto_pause_window": 20}
    return EngineConfig(**{**base, **changes})


class Templates:
    async def get(self, template_id: int) -> CampaignTemplate | None:
        return TEMPLATES.get(template_id)


class Audience:
    """Writes `size` recipients for any audience (committed at once, as the SQL adapter's own transaction)."""

    def __init__(self, store: MemoryStore, size: int, zones: dict[int, str] | None = None) -> None:
        self._store, self.size, self._zones = store, size, zones or {}

    def address(self, channel: str, n: int) -> str:
        return f"c{n}@example.in" if channel == "email" else f"+9198{n:08d}"

    async def count(self, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        return {"eligible": self.size, "opted_out": 2, "no_address": 1}

    async def sample(self, channel: str, audience: dict[str, Any], limit: int) -> list[AudienceCandidate]:
        return []

    async def materialise(self, campaign_id: int, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        for n in range(1, self.size + 1):
            row_id = self._store.next_value("campaign_recipients.id")
            values = {"name": f"Customer {n}", "policy_number": f"POL-{n}"}
            if n in self._zones:
                values["timezone"] = self._zones[n]
            self._store.tables.campaign_recipients[row_id] = Recipient(
                id=row_id, campaign_id=campaign_id, customer_id=n, address=self.address(channel, n), values=values)
        return {"inserted": self.size, "opted_out": 2, "no_address": 1}


class Lookup:
    """The provider's answers by reference: a message id, None (never arrived) or unanswerable."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self.can_answer = True
        self.asked: list[str] = []

    async def find(self, channel: str, reference: str) -> str | None:
        self.asked.append(reference)
        if not self.can_answer:
            raise NotImplementedError("this provider cannot be asked")
        return self.found.get(reference)


@dataclass
class World:
    clock: FixedClock = field(default_factory=lambda: FixedClock(NOW))
    email: InMemoryEmailSender = field(default_factory=InMemoryEmailSender)
    sms: InMemorySmsSender = field(default_factory=InMemorySmsSender)
    whatsapp: InMemoryWhatsAppSender = field(default_factory=InMemoryWhatsAppSender)
    jobs: InMemoryJobQueue = field(default_factory=InMemoryJobQueue)
    events: InMemoryUserEvents = field(default_factory=InMemoryUserEvents)
    lookup: Lookup = field(default_factory=Lookup)
    ran: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.store = MemoryStore(self.clock)
        self.audience = Audience(self.store, 0)

    def uow(self) -> CampaignsUnitOfWork:
        return cast(CampaignsUnitOfWork, InMemoryCampaignsUnitOfWork(self.store, EventRouter()))

    def engine(self, settings: EngineConfig | None = None, sms: Any = None,
               tracking: TrackingLinks | None = None) -> CampaignEngine:
        return CampaignEngine(
            uow=self.uow, clock=self.clock, audience=self.audience, jobs=self.jobs, sms=sms or self.sms,
            email=self.email, whatsapp=self.whatsapp, limiter=InMemoryTokenBucket(), events=self.events,
            lookup=self.lookup, config=settings or config(), provider_names=PROVIDERS, templates=Templates(),
            tracking=tracking)

    async def campaign(self, channel: str = "sms", size: int = 10, **fields: Any) -> int:
        self.audience.size = size
        template = {"email": 1, "sms": 2, "whatsapp": 3}[channel]
        async with self.uow() as uow:
            added = await uow.campaigns.add(Campaign(id=None, name="May renewals", channel=channel,
                                                     template_id=template, created_by=OWNER, **fields))
            await uow.commit()
        assert added.id is not None
        return added.id

    async def set_status(self, campaign_id: int, status: CampaignStatus) -> None:
        async with self.uow() as uow:
            campaign = await uow.campaigns.get_for_update(campaign_id)
            assert campaign is not None
            campaign.move_to(status, self.clock.now(), reason="manual")
            await uow.campaigns.save(campaign)
            await uow.commit()

    async def run(self, engine: CampaignEngine, *, limit: int = 1000) -> list[BatchOutcome]:
        """Relay the outbox and run each queued send_batch job once, until none is left (or `limit`)."""
        outcomes = []
        for _ in range(limit):
            await OutboxRelay(uow=self.uow, queue=self.jobs).relay_pending()
            queued = [(key, job) for key, job in self.jobs.jobs.items() if key not in self.ran]
            if not queued:
                break
            key, job = queued[0]
            self.ran.add(key)
            assert job.name == SEND_CAMPAIGN_BATCH
            outcomes.append(await engine.send_batch(int(job.args["campaign_id"])))
        return outcomes

    def get(self, campaign_id: int) -> Campaign:
        return self.store.tables.campaigns[campaign_id]

    def recipients(self, campaign_id: int) -> list[Recipient]:
        return sorted((r for r in self.store.tables.campaign_recipients.values() if r.campaign_id == campaign_id),
                      key=lambda r: r.id or 0)

    def statuses(self, campaign_id: int) -> dict[str, int]:
        found: dict[str, int] = {}
        for recipient in self.recipients(campaign_id):
            found[recipient.status.value] = found.get(recipient.status.value, 0) + 1
        return found

    def sms_per_number(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for _, sms in self.sms.sent:
            found[sms.to] = found.get(sms.to, 0) + 1
        return found


@pytest.fixture
def world() -> World:
    return World()


async def test_launch_writes_the_audience_and_enqueues_one_job(world: World) -> None:
    campaign_id = await world.campaign(size=25)
    engine = world.engine()
    await engine.launch(campaign_id)
    campaign = world.get(campaign_id)
    assert campaign.status is CampaignStatus.ACTIVE and campaign.started_at == NOW
    assert campaign.target_count == 25 and campaign.excluded == {"opted_out": 2, "no_address": 1}
    rows = list(world.store.tables.outbox.values())
    assert [(r.job.name, r.job.args) for r in rows] == [(SEND_CAMPAIGN_BATCH, {"campaign_id": campaign_id})]
    assert world.statuses(campaign_id) == {"pending": 25} and world.sms.sent == []
    await engine.launch(campaign_id)  # again (a resume): nothing written twice
    assert len(world.recipients(campaign_id)) == 25


async def test_scheduled_campaign_waits_then_start_due_starts_it(world: World) -> None:
    campaign_id = await world.campaign(size=3, schedule_type="scheduled", scheduled_at=NOW + timedelta(minutes=30))
    engine = world.engine()
    await engine.launch(campaign_id)
    assert world.get(campaign_id).status is CampaignStatus.SCHEDULED and world.store.tables.outbox == {}
    assert await engine.start_due(NOW + timedelta(minutes=29)) == 0
    world.clock.advance(timedelta(minutes=30))
    assert await engine.start_due(world.clock.now()) == 1
    assert world.get(campaign_id).status is CampaignStatus.ACTIVE
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    assert len(world.sms.sent) == 3


async def test_batches_follow_the_checkpoint_and_send_each_recipient_once(world: World) -> None:
    campaign_id = await world.campaign(size=25)
    engine = world.engine(config(batch_size=10))
    await engine.launch(campaign_id)
    outcomes = await world.run(engine)
    assert [(o.outcome, o.sent) for o in outcomes] == [("sent", 10), ("sent", 10), ("completed", 5)]
    campaign = world.get(campaign_id)
    assert campaign.status is CampaignStatus.COMPLETED and campaign.completed_at == NOW
    assert campaign.checkpoint == max(r.id or 0 for r in world.recipients(campaign_id))
    assert sorted(world.sms_per_number().values()) == [1] * 25
    by_reference = {sms.reference: (pid, sms) for pid, sms in world.sms.sent}
    for recipient in world.recipients(campaign_id):
        provider_id, sms = by_reference[recipient.reference]
        assert (recipient.status, recipient.provider_message_id, recipient.sent_at) == (RecipientStatus.SENT,
                                                                                        provider_id, NOW)
        assert sms.body == f"Dear Customer {recipient.customer_id}, policy POL-{recipient.customer_id} is due."
    progress = [event["data"] for user, event in world.events.published if event["type"] == "campaign.progress"]
    assert all(user == OWNER for user, _ in world.events.published)
    assert [(p["sent"], p["pending"]) for p in progress] == [(10, 15), (20, 5), (25, 0)]
    assert progress[-1]["campaignId"] == f"campaign-{campaign_id}" and progress[-1]["status"] == "completed"


class PausingSms(InMemorySmsSender):
    """Sends, and after the `after`-th message a person pauses (or cancels) the campaign."""

    def __init__(self, world: World, campaign_id: int, after: int, status: CampaignStatus) -> None:
        super().__init__()
        self.world, self.campaign_id, self.after, self.status = world, campaign_id, after, status

    async def send(self, sms: OutboundSms) -> SentSms:
        sent = await super().send(sms)
        if len(self.sent) == self.after:
            await self.world.set_status(self.campaign_id, self.status)
        return sent


async def test_pause_at_30_percent_then_resume_sends_everyone_exactly_once(world: World) -> None:
    campaign_id = await world.campaign(size=100)
    sender = PausingSms(world, campaign_id, after=30, status=CampaignStatus.PAUSED)
    world.sms = sender
    engine = world.engine(config(batch_size=8, batches_per_job=1000), sms=sender)
    await engine.launch(campaign_id)
    outcomes = await world.run(engine)
    # the pause lands in the 4th batch (messages 25-32): that batch ends, the next one does not start
    assert [o.outcome for o in outcomes] == ["stopped"] and outcomes[0].sent == 32
    assert world.get(campaign_id).status is CampaignStatus.PAUSED
    assert world.statuses(campaign_id) == {"sent": 32, "pending": 68}
    world.clock.advance(timedelta(minutes=5))
    await world.set_status(campaign_id, CampaignStatus.ACTIVE)  # what PUT status does, then it launches again
    await engine.launch(campaign_id)
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    everyone = {world.audience.address("sms", n) for n in range(1, 101)}
    assert set(world.sms_per_number()) == everyone and sorted(world.sms_per_number().values()) == [1] * 100
    assert world.statuses(campaign_id) == {"sent": 100}


async def test_cancel_stops_within_one_batch_and_nothing_more_is_sent(world: World) -> None:
    campaign_id = await world.campaign(size=50)
    sender = PausingSms(world, campaign_id, after=12, status=CampaignStatus.CANCELLED)
    world.sms = sender
    engine = world.engine(config(batch_size=10, batches_per_job=1000), sms=sender)
    await engine.launch(campaign_id)
    assert [o.outcome for o in await world.run(engine)] == ["stopped"]
    assert world.statuses(campaign_id) == {"sent": 20, "pending": 30}
    assert await engine.send_batch(campaign_id) == BatchOutcome(outcome="stopped")
    assert len(sender.sent) == 20 and world.get(campaign_id).status is CampaignStatus.CANCELLED


async def test_a_failure_burst_pauses_the_campaign_and_tells_its_owner(world: World) -> None:
    campaign_id = await world.campaign(size=60)
    for n in range(11, 31):  # numbers 11..30 refused: after batch 2 the last 20 are 50% failed (not above the
        # threshold), after batch 3 100%
        world.sms.refuse(world.audience.address("sms", n), code="twilio:21610")
    engine = world.engine(config(batch_size=10, auto_pause_threshold=0.5))
    await engine.launch(campaign_id)
    outcomes = await world.run(engine)
    assert [o.outcome for o in outcomes] == ["sent", "sent", "stopped"]
    campaign = world.get(campaign_id)
    assert campaign.status is CampaignStatus.PAUSED and (campaign.paused_reason or "").startswith("auto: ")
    assert world.statuses(campaign_id) == {"sent": 10, "failed": 20, "pending": 30}
    assert {r.error_code for r in world.recipients(campaign_id) if r.status is RecipientStatus.FAILED} == {
        "twilio:21610"}
    paused = [(user, e["data"]) for user, e in world.events.published if e["type"] == "campaign.auto_paused"]
    assert paused == [(OWNER, {"campaignId": f"campaign-{campaign_id}", "name": "May renewals",
                               "reason": campaign.paused_reason, "failureRate": 1.0})]


async def _orphan_claims(world: World, campaign_id: int, count: int) -> list[Recipient]:
    """Claims left `sending` by a worker that died mid-batch; their lease has run out."""
    async with world.uow() as uow:
        claims = await uow.recipients.claim(campaign_id, after_id=0, limit=count, lease_until=NOW)
        await uow.commit()
    world.clock.advance(timedelta(seconds=1))
    return claims


async def test_reconciliation_trusts_the_provider_and_never_resends_blindly(world: World) -> None:
    campaign_id = await world.campaign(size=6)
    engine = world.engine()
    await engine.launch(campaign_id)
    orphans = await _orphan_claims(world, campaign_id, 4)
    world.lookup.found = {orphans[0].reference: "SM-found-0", orphans[1].reference: "SM-found-1"}
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    by_id = {r.id: r for r in world.recipients(campaign_id)}
    assert [by_id[o.id].provider_message_id for o in orphans[:2]] == ["SM-found-0", "SM-found-1"]
    assert all(by_id[o.id].status is RecipientStatus.SENT for o in orphans)
    sent_refs = [sms.reference for _, sms in world.sms.sent]
    # found ones are not sent again; the two the provider never saw are sent now, with the two never claimed
    assert sorted(sent_refs) == sorted([o.reference for o in orphans[2:]] + [
        r.reference for r in world.recipients(campaign_id) if r.id not in {o.id for o in orphans}])
    assert set(world.lookup.asked) == {o.reference for o in orphans}


async def test_a_provider_that_cannot_be_asked_leaves_the_orphans_unknown(world: World) -> None:
    campaign_id = await world.campaign(size=5)
    engine = world.engine()
    await engine.launch(campaign_id)
    orphans = await _orphan_claims(world, campaign_id, 2)
    world.lookup.can_answer = False
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    assert world.statuses(campaign_id) == {"unknown": 2, "sent": 3}
    assert {sms.reference for _, sms in world.sms.sent}.isdisjoint({o.reference for o in orphans})
    assert {r.error_code for r in world.recipients(campaign_id) if r.status is RecipientStatus.UNKNOWN} == {
        "unreconciled"}


async def test_live_claims_of_another_worker_make_a_second_chain_stand_down(world: World) -> None:
    campaign_id = await world.campaign(size=5)
    engine = world.engine()
    await engine.launch(campaign_id)
    async with world.uow() as uow:  # another worker's batch in flight: its lease runs for two minutes
        await uow.recipients.claim(campaign_id, after_id=0, limit=2, lease_until=NOW + timedelta(minutes=2))
        await uow.commit()
    assert (await engine.send_batch(campaign_id)).outcome == "busy"
    assert world.sms.sent == [] and world.lookup.asked == []


async def test_transient_errors_retry_later_and_give_up_after_max_attempts(world: World) -> None:
    campaign_id = await world.campaign(size=3)
    engine = world.engine(config(max_attempts=2, backoff_base_seconds=4))
    await engine.launch(campaign_id)
    world.sms.fail_next(1, code="twilio:20429", retry_after=9)
    first = await engine.send_batch(campaign_id)
    assert (first.outcome, first.retry_in, first.sent) == ("retry", 9, 0)
    assert world.statuses(campaign_id) == {"pending": 3}
    assert [(r.attempts, r.error_code) for r in world.recipients(campaign_id)] == [(1, "twilio:20429"), (0, None),
                                                                                  (0, None)]
    world.sms.fail_next(1)
    assert (await engine.send_batch(campaign_id)).outcome == "retry"
    failed = world.recipients(campaign_id)[0]
    assert (failed.status, failed.error_code, failed.attempts) == (RecipientStatus.FAILED, "gave_up", 2)
    assert (await engine.send_batch(campaign_id)).outcome == "completed"
    assert world.statuses(campaign_id) == {"failed": 1, "sent": 2}


async def test_quiet_hours_defer_and_start_due_resumes_when_the_window_opens(world: World) -> None:
    world.clock = FixedClock(datetime(2026, 11, 28, 17, 0, tzinfo=UTC))  # 22:30 in Kolkata, 17:00 in London
    world.__post_init__()
    world.audience = Audience(world.store, 4, zones={2: "Europe/London"})
    campaign_id = await world.campaign(size=4)
    engine = world.engine(config(quiet_hours=QuietWindow(default_timezone="Asia/Kolkata")))
    await engine.launch(campaign_id)
    sent, deferred = await world.run(engine)
    # the Londoner goes now; the others wait for 09:00 in Kolkata (03:30 UTC), nothing is dropped
    assert sent.outcome == "sent" and [sms.to for _, sms in world.sms.sent] == [world.audience.address("sms", 2)]
    assert deferred.outcome == "deferred" and deferred.retry_in == 10 * 3600 + 1800
    assert world.statuses(campaign_id) == {"pending": 3, "sent": 1}
    assert all(r.attempts == 0 for r in world.recipients(campaign_id) if r.status is RecipientStatus.PENDING)
    world.clock.advance(timedelta(hours=10, minutes=31))
    assert await engine.start_due(world.clock.now()) == 1
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    assert world.statuses(campaign_id) == {"sent": 4} and sorted(world.sms_per_number().values()) == [1] * 4


async def test_start_due_resumes_a_stalled_campaign_once_per_window(world: World) -> None:
    campaign_id = await world.campaign(size=4)
    engine = world.engine()
    await engine.launch(campaign_id)
    world.ran.update(world.jobs.jobs)  # the launch's job was lost with its worker
    await OutboxRelay(uow=world.uow, queue=world.jobs).relay_pending()
    world.ran.update(world.jobs.jobs)
    assert await engine.start_due(world.clock.now()) == 0  # not stalled yet
    world.clock.advance(timedelta(seconds=181))
    assert await engine.start_due(world.clock.now()) == 1
    assert await engine.start_due(world.clock.now()) == 1  # enqueued again under the same job id: one job
    assert [o.outcome for o in await world.run(engine)] == ["completed"] and len(world.sms.sent) == 4


async def _ab_campaign(world: World, channel: str, metric: str) -> tuple[CampaignEngine, int]:
    variants = [Variant(name="A", split_percent=50, content="A: Dear {name}", subject="Subject A"),
                Variant(name="B", split_percent=50, content="B: Dear {name}", subject="Subject B")]
    campaign_id = await world.campaign(channel=channel, size=1000, variants=variants, ab_test={
        "holdout_percent": 10, "test_percent": 20, "wait_minutes": 60, "metric": metric})
    engine = world.engine(config(batch_size=100, batches_per_job=100))
    await engine.launch(campaign_id)
    return engine, campaign_id


async def _hits(world: World, campaign_id: int, kind: str, human_share: dict[str, float],
                machine_share: dict[str, float]) -> None:
    """The provider reports: per variant, that share of the sent recipients opened/clicked (plus machine hits)."""
    sent = [r for r in world.recipients(campaign_id) if r.status is RecipientStatus.SENT]
    async with world.uow() as uow:
        for variant in ("A", "B"):
            arm = [r for r in sent if r.variant == variant]
            for r in arm[:round(len(arm) * human_share[variant])]:
                await uow.tracking.record(TrackingHit(recipient_id=r.id or 0, kind=kind, at=world.clock.now(),
                                                      user_agent="Mozilla/5.0 (X11; Linux) Firefox/130.0"))
            for r in arm[:round(len(arm) * machine_share[variant])]:
                await uow.tracking.record(TrackingHit(recipient_id=r.id or 0, kind=kind, at=world.clock.now(),
                                                      user_agent="Mozilla/5.0", machine_reason="privacy_proxy"))
        await uow.commit()


@pytest.mark.parametrize(("channel", "metric"), [("email", "open"), ("sms", "click")])
async def test_ab_test_sends_the_human_winner_to_the_remainder(world: World, channel: str, metric: str) -> None:
    engine, campaign_id = await _ab_campaign(world, channel, metric)
    split = world.statuses(campaign_id)
    assert split["held_out"] + split["pending"] + split["waiting"] == 1000
    assert 60 <= split["held_out"] <= 140 and 130 <= split["pending"] <= 230
    assert [o.outcome for o in await world.run(engine)] == ["waiting"]
    test_sample = [r for r in world.recipients(campaign_id) if r.status is RecipientStatus.SENT]
    assert len(test_sample) == split["pending"] and {r.variant for r in test_sample} == {"A", "B"}
    # A has more raw hits (machines), B more human ones: B must win
    await _hits(world, campaign_id, metric, human_share={"A": 0.1, "B": 0.4}, machine_share={"A": 0.9, "B": 0.0})
    decider = AbDecider(world.uow)
    assert await decider.decide_due(world.clock.now() + timedelta(minutes=59)) == 0
    world.clock.advance(timedelta(minutes=61))
    assert await decider.decide_due(world.clock.now()) == 1
    decision = world.get(campaign_id).ab_test["decision"]
    assert decision["winner"] == "B" and decision["metric"] == metric
    assert decision["rates"]["B"] == pytest.approx(0.4, abs=0.01) and decision["rates"]["A"] == pytest.approx(0.1,
                                                                                                            abs=0.02)
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    assert world.statuses(campaign_id) == {"held_out": split["held_out"], "sent": 1000 - split["held_out"]}
    remainder = [r for r in world.recipients(campaign_id) if r.id not in {t.id for t in test_sample}
                 and r.status is RecipientStatus.SENT]
    assert len(remainder) == split["waiting"] and {r.variant for r in remainder} == {"B"}
    texts = {m.tags["reference"]: m.subject for _, m in world.email.sent} if channel == "email" else {
        m.reference: m.body.split(":")[0] for _, m in world.sms.sent}
    assert {texts[r.reference][-1] for r in remainder} == {"B"}
    assert len(texts) == 1000 - split["held_out"]  # every one sent once, the holdout never
    assert await decider.decide_due(world.clock.now() + timedelta(days=1)) == 0  # decided once


async def test_whatsapp_sends_the_approved_template_with_the_values_in_order(world: World) -> None:
    campaign_id = await world.campaign(channel="whatsapp", size=2)
    engine = world.engine()
    await engine.launch(campaign_id)
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    sent = [m for _, m in world.whatsapp.sent]
    assert [(m.kind, m.template_name, [p.text for p in m.body_parameters]) for m in sent] == [
        ("template", "renewal_reminder", ["Customer 1"]), ("template", "renewal_reminder", ["Customer 2"])]


async def test_send_test_renders_sample_values_without_a_recipient(world: World) -> None:
    campaign_id = await world.campaign(channel="email", size=3)
    provider_id = await world.engine().send_test(campaign_id, "desk@example.in")
    ((sent_id, email),) = world.email.sent
    assert sent_id == provider_id and email.to == ("desk@example.in",)
    assert email.subject == "Renew POL-TEST-0001" and email.html == "<p>Dear Asha Rao, renew now.</p>"
    assert email.text == "Dear Asha Rao, renew now." and world.recipients(campaign_id) == []


async def test_tracked_links_and_pixel_lead_back_through_the_tracking_service(world: World) -> None:
    tokens = HmacTrackingTokens(b"campaign-engine-test-secret")
    links = TrackingLinks(tokens=tokens, urls=CampaignsConfig(public_base_url="https://t.example.in"))
    content = ('<html><body><p>Dear {name}, <a href="https://pay.example.in/r?p={policy_number}">renew</a> or '
               '<a href="https://www.example.in/help">ask us</a>.</p></body></html>')
    campaign_id = await world.campaign(channel="email", size=2, content=content, subject="Renew {policy_number}")
    engine = world.engine(tracking=links)
    await engine.launch(campaign_id)
    assert [o.outcome for o in await world.run(engine)] == ["completed"]
    (_, first), (_, second) = world.email.sent
    clicks = re.findall(r'href="https://t\.example\.in/t/c/([^"]+)"', first.html or "")
    pixels = re.findall(r'<img src="https://t\.example\.in/t/o/([^"]+)"', first.html or "")
    assert len(clicks) == 2 and len(pixels) == 1 and "pay.example.in" not in (first.html or "")
    assert clicks != re.findall(r'href="https://t\.example\.in/t/c/([^"]+)"', second.html or "")  # per person
    recipient = world.recipients(campaign_id)[0]
    assert [tokens.verify(t) for t in clicks] == [
        TrackingToken(recipient_id=recipient.id or 0, kind=TrackingKind.CLICK, link_index=i) for i in range(2)]
    tracking = TrackingService(world.uow, world.clock, tokens, Templates())
    world.clock.advance(timedelta(minutes=5))
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
    assert await tracking.click(clicks[0], browser, "203.0.113.7") == "https://pay.example.in/r?p=POL-1"
    assert await tracking.click(clicks[1], browser, "203.0.113.7") == "https://www.example.in/help"
    assert first.text == "Dear Customer 1, renew or ask us."  # the plain part: no tracking, no raw URL


class SlowSms(InMemorySmsSender):
    """Each send takes `seconds` on the fixed clock (the lease runs out during a long batch)."""

    def __init__(self, clock: FixedClock, seconds: float) -> None:
        super().__init__()
        self.clock, self.seconds = clock, seconds

    async def send(self, sms: OutboundSms) -> SentSms:
        self.clock.advance(timedelta(seconds=self.seconds))
        return await super().send(sms)


async def test_a_batch_never_sends_on_a_lease_about_to_expire(world: World) -> None:
    campaign_id = await world.campaign(size=10)
    slow = SlowSms(world.clock, 40)
    engine = world.engine(config(send_concurrency=1, lease_seconds=120, lease_margin=0.125), sms=slow)
    await engine.launch(campaign_id)
    first = await engine.send_batch(campaign_id)
    # sends at 0, 40 and 80 s; at 120 s only 0 s of the lease is left: the other seven go back untouched
    assert (first.outcome, first.sent) == ("sent", 3) and world.statuses(campaign_id) == {"sent": 3, "pending": 7}
    assert all(r.attempts == 0 for r in world.recipients(campaign_id) if r.status is RecipientStatus.PENDING)


class BrokenSms(InMemorySmsSender):
    """The second send fails in a way nobody mapped: whether it reached the provider is unknown."""

    async def send(self, sms: OutboundSms) -> SentSms:
        if len(self.sent) == 1:
            raise RuntimeError("connection dropped after the request left")
        return await super().send(sms)


async def test_an_unexpected_send_error_keeps_its_claim_for_reconciliation(world: World) -> None:
    campaign_id = await world.campaign(size=4)
    engine = world.engine(config(send_concurrency=1), sms=BrokenSms())
    await engine.launch(campaign_id)
    with pytest.raises(RuntimeError):
        await engine.send_batch(campaign_id)
    first, second, *rest = world.recipients(campaign_id)
    assert (first.status, second.status) == (RecipientStatus.SENT, RecipientStatus.SENDING)
    assert [(r.status, r.attempts) for r in rest] == [(RecipientStatus.PENDING, 0)] * 2
    world.clock.advance(timedelta(minutes=3))  # the lease ran out; the provider says it never arrived
    assert (await world.engine().send_batch(campaign_id)).outcome == "completed"
    assert world.statuses(campaign_id) == {"sent": 4} and world.lookup.asked == [second.reference]


async def test_a_rate_limit_paces_the_batch_through_the_shared_bucket(world: World) -> None:
    campaign_id = await world.campaign(size=6)
    limited = world.engine(config(sms_limit=RateLimit(rate=2, burst=1), batch_seconds=1, limiter_max_wait=0.0))
    await limited.launch(campaign_id)
    first = await limited.send_batch(campaign_id)
    # the batch is sized for one second at 2/s; the second token is not there without waiting: retried later
    assert (first.outcome, first.sent, first.retry_in) == ("retry", 1, 1.0)
    assert world.statuses(campaign_id) == {"sent": 1, "pending": 5}
    assert [r.attempts for r in world.recipients(campaign_id)] == [1, 0, 0, 0, 0, 0]


# --- consent during a long campaign, one-click unsubscribe (helper G1) ---------------------------------------

def engine_with(world: World, settings: EngineConfig | None = None, **ports: Any) -> CampaignEngine:
    """The world's engine with the opt-out read model and unsubscribe links given as `ports`."""
    return CampaignEngine(
        uow=world.uow, clock=world.clock, audience=world.audience, jobs=world.jobs, sms=world.sms,
        email=world.email, whatsapp=world.whatsapp, limiter=InMemoryTokenBucket(), events=world.events,
        lookup=world.lookup, config=settings or config(), provider_names=PROVIDERS, templates=Templates(), **ports)


def opt_out(world: World, channel: str, address: str) -> None:
    world.store.tables.consents[(channel, address)] = Consent(
        channel=Channel(channel), address=address, opted_in=False, source=ConsentSource.STOP_KEYWORD,
        updated_at=world.clock.now())


async def test_recipients_who_opt_out_during_the_campaign_are_skipped_not_sent(world: World) -> None:
    campaign_id = await world.campaign(size=25)
    opt_outs = InMemoryOptOuts(world.store)
    engine = engine_with(world, config(batch_size=10), opt_outs=opt_outs)
    await engine.launch(campaign_id)
    await OutboxRelay(uow=world.uow, queue=world.jobs).relay_pending()
    [key] = list(world.jobs.jobs)
    world.ran.add(key)
    assert (await engine.send_batch(campaign_id)).sent == 10  # the first batch goes out as launched
    opt_out(world, "sms", world.audience.address("sms", 15))  # a STOP reply arrives mid-campaign
    opt_out(world, "sms", world.audience.address("sms", 22))
    opt_out(world, "sms", world.audience.address("sms", 3))  # already sent: stays sent
    outcomes = await world.run(engine)
    assert [(o.outcome, o.sent, o.failed) for o in outcomes] == [("sent", 9, 0), ("completed", 4, 0)]
    skipped = [r for r in world.recipients(campaign_id) if r.error_code == "opted_out"]
    assert [(r.customer_id, r.status, r.attempts, r.sent_at) for r in skipped] == [
        (15, RecipientStatus.SKIPPED, 0, None), (22, RecipientStatus.SKIPPED, 0, None)]
    assert world.sms_per_number().keys().isdisjoint({r.address for r in skipped})
    assert len(world.sms.sent) == 23 and world.statuses(campaign_id) == {"sent": 23, "skipped": 2}
    assert world.get(campaign_id).status is CampaignStatus.COMPLETED
    assert opt_outs.queries == 3  # one query per batch


async def test_opt_outs_do_not_count_towards_the_auto_pause_check_of_their_batch(world: World) -> None:
    campaign_id = await world.campaign(size=10)
    for n in range(1, 9):
        opt_out(world, "sms", world.audience.address("sms", n))
    engine = engine_with(world, config(auto_pause_minimum=2, auto_pause_window=10),
                         opt_outs=InMemoryOptOuts(world.store))
    await engine.launch(campaign_id)
    [outcome] = await world.run(engine)
    assert (outcome.outcome, outcome.sent, outcome.failed) == ("completed", 2, 0)
    assert world.get(campaign_id).paused_reason is None


async def test_campaign_emails_carry_one_click_unsubscribe_headers(world: World) -> None:
    campaign_id = await world.campaign(channel="email", size=2)
    tokens = HmacUnsubscribeTokens(b"campaign-unsubscribe-test-secret")
    links = SignedUnsubscribeLinks(tokens, "https://desk.example.in/")
    engine = engine_with(world, unsubscribe=links)
    await engine.launch(campaign_id)
    await world.run(engine)
    assert len(world.email.sent) == 2
    for _, email in world.email.sent:
        assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        match = re.fullmatch(r"<https://desk\.example\.in/api/unsubscribe/([A-Za-z0-9_.-]+)>",
                             email.headers["List-Unsubscribe"])
        assert match is not None and tokens.verify(match.group(1)) == ("email", email.to[0])
    await engine.send_test(campaign_id, "desk@example.in")
    assert world.email.sent[-1][1].headers == {}  # a test send carries no unsubscribe link


async def test_the_unsubscribe_link_names_the_address_as_consents_key_it() -> None:
    tokens = HmacUnsubscribeTokens(b"campaign-unsubscribe-test-secret")
    url = SignedUnsubscribeLinks(tokens, "https://desk.example.in").url("email", " Asha.Rao@Example.IN ")
    assert tokens.verify(url.rsplit("/", 1)[1]) == ("email", "asha.rao@example.in")
    assert url.startswith("https://desk.example.in/api/unsubscribe/")
    assert unsubscribe_headers("https://x.in/u/1") == {"List-Unsubscribe": "<https://x.in/u/1>",
                                                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
