"""Campaign analytics on the in-memory campaigns unit of work: the funnel from the recipients, raw and human rates
from the tracking hits, rates in percent with one decimal, the timeline, the best variants and links, the A/B
decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.store import MemoryStore
from application.campaigns.analytics import (
    AnalyticsService,
    LinkPerformance,
    RecipientScanStatistics,
    TimelinePoint,
    VariantPerformance,
    percent,
)
from application.campaigns.errors import CampaignNotFound
from application.campaigns.ports import TrackingHit
from domain.campaigns.model import Campaign, CampaignStatus, Recipient, RecipientStatus, Variant
from domain.shared.errors import ValidationFailed
from tests.unit.application import campaigns_support
from tests.unit.application.campaigns_support import NOW

clock, store, uow = campaigns_support.clock, campaigns_support.store, campaigns_support.uow  # the shared fixtures

T0 = datetime(2026, 5, 1, 8, 10, tzinfo=UTC)


@pytest.fixture
def analytics(uow: Callable[[], InMemoryCampaignsUnitOfWork]) -> AnalyticsService:
    return AnalyticsService(uow, RecipientScanStatistics(uow, page_size=3), top_links=2)


def add_campaign(store: MemoryStore, *, variants: list[Variant] | None = None,
                 ab_test: dict[str, object] | None = None) -> int:
    campaign_id = store.next_value("campaigns.id")
    store.tables.campaigns[campaign_id] = Campaign(id=campaign_id, name="May (Email)", channel="email",
                                                   status=CampaignStatus.ACTIVE, variants=variants or [],
                                                   ab_test=dict(ab_test or {}))
    return campaign_id


def add_recipient(store: MemoryStore, campaign_id: int, status: RecipientStatus = RecipientStatus.SENT, *,
                  variant: str | None = None, delivered: bool = True, opened: datetime | None = None,
                  clicked: datetime | None = None, converted: bool = False) -> int:
    recipient_id = store.next_value("campaign_recipients.id")
    sent = status is RecipientStatus.SENT
    store.tables.campaign_recipients[recipient_id] = Recipient(
        id=recipient_id, campaign_id=campaign_id, customer_id=recipient_id, address=f"c{recipient_id}@example.in",
        status=status, variant=variant, sent_at=T0 if sent else None,
        delivered_at=T0 + timedelta(minutes=1) if sent and delivered else None, opened_at=opened, clicked_at=clicked,
        converted_at=NOW + timedelta(days=1) if converted else None)
    return recipient_id


async def hit(uow: Callable[[], InMemoryCampaignsUnitOfWork], recipient_id: int, kind: str,
              reason: str | None = None, link: str | None = None) -> None:
    async with uow() as unit:
        await unit.tracking.record(TrackingHit(recipient_id=recipient_id, kind=kind, at=NOW, link=link,
                                               machine_reason=reason))
        await unit.commit()


def test_percent_has_one_decimal_rounded_half_up() -> None:
    assert [percent(89, 138), percent(34, 138), percent(12, 138), percent(1, 8), percent(1, 0)] == [
        64.5, 24.6, 8.7, 12.5, 0.0]
    assert percent(1, 16) == 6.3  # 6.25: half up, where float rounding would give 6.2


async def test_the_funnel_comes_from_the_recipients_with_raw_and_human_opens(
        analytics: AnalyticsService, store: MemoryStore, uow: Callable[[], InMemoryCampaignsUnitOfWork]) -> None:
    campaign_id = add_campaign(store)
    opened_by_people = [add_recipient(store, campaign_id, opened=T0 + timedelta(hours=1)) for _ in range(3)]
    clicker = add_recipient(store, campaign_id, opened=T0 + timedelta(hours=1), clicked=T0 + timedelta(hours=1),
                            converted=True)
    proxied = [add_recipient(store, campaign_id) for _ in range(2)]
    add_recipient(store, campaign_id, delivered=False)
    add_recipient(store, campaign_id, RecipientStatus.FAILED)
    add_recipient(store, campaign_id, RecipientStatus.UNKNOWN)
    add_recipient(store, campaign_id, RecipientStatus.PENDING)
    for recipient_id in (*opened_by_people, clicker):
        await hit(uow, recipient_id, "open")
    for recipient_id in proxied:
        await hit(uow, recipient_id, "open", "privacy_proxy")
        await hit(uow, recipient_id, "open", "privacy_proxy")
    await hit(uow, clicker, "click", link="https://example.in/pay")
    await hit(uow, proxied[0], "click", "scanner", link="https://example.in/pay")
    await hit(uow, opened_by_people[0], "open", "privacy_proxy")  # a person's recipient with a machine hit too

    result = await analytics.analytics(campaign_id)
    metrics = result.metrics
    assert (metrics.sent, metrics.delivered, metrics.failed, metrics.unknown, metrics.pending) == (7, 6, 1, 1, 1)
    assert (metrics.human_opened, metrics.opened, metrics.human_clicked, metrics.clicked) == (4, 6, 1, 2)
    assert (metrics.converted, metrics.rate_base) == (1, "delivered")
    assert (metrics.open_rate, metrics.human_open_rate, metrics.click_rate, metrics.human_click_rate,
            metrics.conversion_rate) == (100.0, 66.7, 33.3, 16.7, 16.7)
    assert metrics.machine_opens == {"privacy_proxy": 5} and metrics.machine_clicks == {"scanner": 1}
    assert result.top_performing_content == [LinkPerformance(link="https://example.in/pay", clicks=2, human_clicks=1,
                                                             unique_human_clicks=1)]
    assert result.ab_test is None and result.campaign_id == f"campaign-{campaign_id}"


async def test_rates_are_over_sent_while_no_delivery_is_reported(analytics: AnalyticsService,
                                                                 store: MemoryStore) -> None:
    campaign_id = add_campaign(store)
    add_recipient(store, campaign_id, delivered=False, clicked=NOW, opened=NOW)
    for _ in range(2):
        add_recipient(store, campaign_id, delivered=False)
    metrics = (await analytics.analytics(campaign_id)).metrics
    assert (metrics.rate_base, metrics.click_rate, metrics.open_rate) == ("sent", 33.3, 33.3)


async def test_the_timeline_counts_each_event_in_its_hour_or_day(analytics: AnalyticsService,
                                                                 store: MemoryStore) -> None:
    campaign_id = add_campaign(store)
    add_recipient(store, campaign_id, opened=datetime(2026, 5, 1, 10, 59, tzinfo=UTC))
    add_recipient(store, campaign_id, opened=datetime(2026, 5, 2, 0, 30, tzinfo=UTC))
    hourly = (await analytics.analytics(campaign_id, "hour")).timeline
    assert hourly == [TimelinePoint(at=datetime(2026, 5, 1, 8, tzinfo=UTC), sent=2, delivered=2),
                      TimelinePoint(at=datetime(2026, 5, 1, 10, tzinfo=UTC), opened=1),
                      TimelinePoint(at=datetime(2026, 5, 2, 0, tzinfo=UTC), opened=1)]
    daily = (await analytics.analytics(campaign_id, "day")).timeline
    assert daily == [TimelinePoint(at=datetime(2026, 5, 1, tzinfo=UTC), sent=2, delivered=2, opened=1),
                     TimelinePoint(at=datetime(2026, 5, 2, tzinfo=UTC), opened=1)]
    with pytest.raises(ValidationFailed):
        await analytics.analytics(campaign_id, "week")
    with pytest.raises(CampaignNotFound):
        await analytics.analytics(99)


async def test_variants_rank_by_the_test_metric_and_the_decision_is_shown(
        analytics: AnalyticsService, store: MemoryStore, uow: Callable[[], InMemoryCampaignsUnitOfWork]) -> None:
    decision = {"winner": "B", "metric": "click", "rates": {"A": 0.25, "B": 0.5}, "lift": 1.0, "p_value": 0.4,
                "reason": "highest click rate", "stats": {"A": {"exposed": 4, "successes": 1}}}
    campaign_id = add_campaign(store, variants=[Variant(name="A", split_percent=50), Variant(name="B",
                                                                                           split_percent=50)],
                               ab_test={"metric": "click", "decision": decision})
    add_recipient(store, campaign_id, variant="A", opened=NOW, clicked=NOW)
    for _ in range(3):
        add_recipient(store, campaign_id, variant="A", opened=NOW)
    for clicked in (NOW, NOW, None, None):
        add_recipient(store, campaign_id, variant="B", clicked=clicked)
    add_recipient(store, campaign_id, RecipientStatus.HELD_OUT, variant="holdout")
    for link, times in (("https://a.example", 1), ("https://b.example", 3), ("https://c.example", 2)):
        for _ in range(times):
            await hit(uow, 1, "click", link=link)
    result = await analytics.analytics(campaign_id)
    content = result.top_performing_content
    assert content[:2] == [
        VariantPerformance(variant="B", sent=4, opened=0, clicked=2, replied=0, converted=0, metric="click", rate=50.0),
        VariantPerformance(variant="A", sent=4, opened=4, clicked=1, replied=0, converted=0, metric="click", rate=25.0)]
    assert [c.link for c in content[2:] if isinstance(c, LinkPerformance)] == ["https://b.example",
                                                                              "https://c.example"]
    assert result.metrics.held_out == 1
    assert result.ab_test is not None and (result.ab_test["winner"], result.ab_test["pValue"]) == ("B", 0.4)
    encoded = msgspec.json.decode(msgspec.json.encode(result))
    assert encoded["topPerformingContent"][0]["kind"] == "variant"
    assert encoded["topPerformingContent"][2] == {"kind": "link", "link": "https://b.example", "clicks": 3,
                                                  "humanClicks": 3, "uniqueHumanClicks": 1}
