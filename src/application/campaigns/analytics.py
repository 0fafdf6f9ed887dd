"""A campaign's analytics as the specification shapes them: the funnel with its rates, a timeline by hour or day,
the best content by variant and by link, and the A/B decision.

Figures. `sent`, `delivered`, `replied`, `converted`, `failed`, `unknown` and the human figures are the recipients'
(`CampaignRepository.counters`): a recipient's `opened_at` / `clicked_at` are set by people only (tracking) or by a
provider's read report, so `humanOpened` / `humanClicked` are those counts. `opened` / `clicked` are the raw
figures: the human ones plus the recipients whose every hit was a machine's (privacy proxies, scanners, bots), from
the tracking hits. Rates are percentages with one decimal (half up) over `delivered`, as the specification's example
(89 opened of 138 delivered = 64.5); while no delivery has been reported (SMS without receipts) over `sent`;
`rateBase` says which. The timeline buckets are UTC hours or days.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import msgspec

from application.campaigns.errors import CampaignNotFound, public_campaign_id
from application.campaigns.ports import CampaignsUnitOfWork
from application.shared.pagination import PageRequest
from domain.campaigns.model import Campaign, RecipientStatus
from domain.shared.errors import ValidationFailed

__all__ = [
    "BUCKETS", "AnalyticsService", "CampaignAnalytics", "CampaignStatistics", "LinkPerformance", "Metrics",
    "RecipientScanStatistics", "TimelinePoint", "VariantPerformance", "percent",
]

BUCKETS = ("hour", "day")
EVENTS = ("sent", "delivered", "opened", "clicked", "replied", "converted")
_METRIC_FIELD = {"open": "opened", "click": "clicked", "reply": "replied", "conversion": "converted"}


class TimelinePoint(msgspec.Struct, kw_only=True, rename="camel"):
    at: datetime  # the start of the hour or day (UTC)
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0
    converted: int = 0


class CampaignStatistics(Protocol):
    """Set-based figures of one campaign's recipients that the counters do not break down."""

    async def timeline(self, campaign_id: int, bucket: str) -> builtins.list[TimelinePoint]:
        """Recipients sent, delivered, opened, clicked, replied, converted per UTC hour or day (by the time of
        each event), oldest first, only buckets with an event."""
        ...

    async def by_variant(self, campaign_id: int) -> dict[str, dict[str, int]]:
        """Per A/B variant name: recipients `sent` (status sent), `delivered`, `opened`, `clicked`, `replied`,
        `converted`; recipients without a variant are left out."""
        ...


class Metrics(msgspec.Struct, kw_only=True, rename="camel"):
    sent: int
    delivered: int
    opened: int
    clicked: int
    replied: int
    converted: int
    open_rate: float
    click_rate: float
    reply_rate: float
    conversion_rate: float
    human_opened: int
    human_clicked: int
    human_open_rate: float
    human_click_rate: float
    failed: int
    unknown: int
    pending: int
    held_out: int
    rate_base: str  # delivered | sent
    machine_opens: dict[str, int]  # reason -> hits
    machine_clicks: dict[str, int]


class VariantPerformance(msgspec.Struct, kw_only=True, rename="camel", tag="variant", tag_field="kind"):
    variant: str
    sent: int
    opened: int
    clicked: int
    replied: int
    converted: int
    metric: str  # the A/B test's metric
    rate: float  # that metric's rate over sent, in percent


class LinkPerformance(msgspec.Struct, kw_only=True, rename="camel", tag="link", tag_field="kind"):
    link: str  # as written in the message (variables unfilled)
    clicks: int  # every hit
    human_clicks: int
    unique_human_clicks: int  # recipients


class CampaignAnalytics(msgspec.Struct, kw_only=True, rename="camel"):
    campaign_id: str
    bucket: str
    metrics: Metrics
    timeline: list[TimelinePoint]
    top_performing_content: list[VariantPerformance | LinkPerformance]
    ab_test: dict[str, Any] | None  # the decision: winner, rates, lift, pValue, reason, stats


def percent(part: int, whole: int) -> float:
    """`part` of `whole` in percent with one decimal, half up; 0.0 of nothing."""
    if whole <= 0:
        return 0.0
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


class AnalyticsService:
    def __init__(self, uow: Callable[[], CampaignsUnitOfWork], statistics: CampaignStatistics, *,
                 top_links: int = 10) -> None:
        self._uow = uow
        self._statistics = statistics
        self._top_links = top_links

    async def analytics(self, campaign_id: int, bucket: str = "hour") -> CampaignAnalytics:
        if bucket not in BUCKETS:
            raise ValidationFailed.on("bucket", f"must be one of: {', '.join(BUCKETS)}")
        async with self._uow() as uow:
            campaign = await uow.campaigns.get(campaign_id)
            if campaign is None:
                raise CampaignNotFound(campaign_id)
            counters = await uow.campaigns.counters(campaign_id)
            hits = await uow.tracking.summary(campaign_id)
        timeline = await self._statistics.timeline(campaign_id, bucket)
        variants = await self._statistics.by_variant(campaign_id) if campaign.variants else {}
        decision = campaign.ab_test.get("decision")
        return CampaignAnalytics(
            campaign_id=public_campaign_id(campaign_id), bucket=bucket, metrics=_metrics(counters, hits),
            timeline=timeline, top_performing_content=[*self._variants(campaign, variants), *self._links(hits)],
            ab_test={_camel(k): v for k, v in decision.items()} if isinstance(decision, dict) else None)

    @staticmethod
    def _variants(campaign: Campaign, figures: dict[str, dict[str, int]]) -> builtins.list[VariantPerformance]:
        metric = str(campaign.ab_test.get("metric", "open"))
        field = _METRIC_FIELD.get(metric, "opened")
        found = []
        for variant in campaign.variants:
            got = figures.get(variant.name, {})
            sent = got.get("sent", 0)
            found.append(VariantPerformance(
                variant=variant.name, sent=sent, opened=got.get("opened", 0), clicked=got.get("clicked", 0),
                replied=got.get("replied", 0), converted=got.get("converted", 0), metric=metric,
                rate=percent(got.get(field, 0), sent)))
        return sorted(found, key=lambda v: -v.rate)

    def _links(self, hits: dict[str, Any]) -> builtins.list[LinkPerformance]:
        found = [LinkPerformance(link=link, clicks=int(f.get("raw", 0)), human_clicks=int(f.get("human", 0)),
                                 unique_human_clicks=int(f.get("unique_human", 0)))
                 for link, f in dict(hits.get("by_link") or {}).items()]
        found.sort(key=lambda link: (-link.human_clicks, -link.clicks, link.link))
        return found[:self._top_links]


def _metrics(counters: dict[str, int], hits: dict[str, Any]) -> Metrics:
    sent, delivered = counters.get("sent", 0), counters.get("delivered", 0)
    human_opened, human_clicked = counters.get("opened", 0), counters.get("clicked", 0)
    opens, clicks = dict(hits.get("open") or {}), dict(hits.get("click") or {})
    # recipients whose every hit was a machine's: they have no opened_at / clicked_at
    opened = human_opened + max(0, int(opens.get("unique_raw", 0)) - int(opens.get("unique_human", 0)))
    clicked = human_clicked + max(0, int(clicks.get("unique_raw", 0)) - int(clicks.get("unique_human", 0)))
    base, base_name = (delivered, "delivered") if delivered else (sent, "sent")
    reasons = dict(hits.get("machine_reasons") or {})
    return Metrics(
        sent=sent, delivered=delivered, opened=opened, clicked=clicked, replied=counters.get("replied", 0),
        converted=counters.get("converted", 0), open_rate=percent(opened, base), click_rate=percent(clicked, base),
        reply_rate=percent(counters.get("replied", 0), base),
        conversion_rate=percent(counters.get("converted", 0), base), human_opened=human_opened,
        human_clicked=human_clicked, human_open_rate=percent(human_opened, base),
        human_click_rate=percent(human_clicked, base), failed=counters.get(RecipientStatus.FAILED.value, 0),
        unknown=counters.get(RecipientStatus.UNKNOWN.value, 0),
        pending=counters.get(RecipientStatus.PENDING.value, 0) + counters.get(RecipientStatus.WAITING.value, 0),
        held_out=counters.get(RecipientStatus.HELD_OUT.value, 0), rate_base=base_name,
        machine_opens=dict(reasons.get("open") or {}), machine_clicks=dict(reasons.get("click") or {}))


class RecipientScanStatistics:
    """`CampaignStatistics` by reading the campaign's recipients page by page: right on any adapter, linear in the
    campaign's size (one GROUP BY in SQL does the same in one query for large campaigns)."""

    def __init__(self, uow: Callable[[], CampaignsUnitOfWork], *, page_size: int = 5_000) -> None:
        self._uow = uow
        self._page_size = page_size

    async def _recipients(self, campaign_id: int) -> builtins.list[Any]:
        found: builtins.list[Any] = []
        async with self._uow() as uow:
            number = 1
            while True:
                page = await uow.recipients.list(campaign_id, (), PageRequest(page=number, limit=self._page_size))
                found.extend(page.items)
                if len(page.items) < self._page_size:
                    return found
                number += 1

    async def timeline(self, campaign_id: int, bucket: str) -> builtins.list[TimelinePoint]:
        points: dict[datetime, TimelinePoint] = {}
        for recipient in await self._recipients(campaign_id):
            for event in EVENTS:
                at: datetime | None = getattr(recipient, f"{event}_at")
                if at is None:
                    continue
                start = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
                if bucket == "day":
                    start = start.replace(hour=0)
                point = points.setdefault(start, TimelinePoint(at=start))
                setattr(point, event, getattr(point, event) + 1)
        return [points[at] for at in sorted(points)]

    async def by_variant(self, campaign_id: int) -> dict[str, dict[str, int]]:
        figures: dict[str, dict[str, int]] = {}
        for recipient in await self._recipients(campaign_id):
            if recipient.variant is None:
                continue
            got = figures.setdefault(recipient.variant, dict.fromkeys(EVENTS, 0))
            got["sent"] += recipient.status == RecipientStatus.SENT
            for event in EVENTS[1:]:
                got[event] += getattr(recipient, f"{event}_at") is not None
        return figures
