"""Campaign statistics: the SQL GROUP BY gives what reading every recipient gives (the in-memory side's way)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from adapters.sqlalchemy.repositories.campaign_statistics import SqlCampaignStatistics
from application.campaigns.analytics import RecipientScanStatistics
from domain.campaigns.model import RecipientStatus
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.campaigns_support import add_campaign, add_recipients, uow


async def test_sql_statistics_agree_with_reading_every_recipient(sql_container: AppContainer) -> None:
    campaign = await add_campaign(sql_container, channel="email")
    assert campaign.id is not None
    recipients = await add_recipients(sql_container, campaign.id, 12)
    changed = []
    for i, recipient in enumerate(recipients):
        sent = NOW - timedelta(hours=i % 3, minutes=5 * i)
        changed.append(replace(
            recipient, status=RecipientStatus.SENT if i % 4 else RecipientStatus.FAILED, variant="AB"[i % 2] if i < 10
            else None, sent_at=sent if i % 4 else None, delivered_at=sent + timedelta(minutes=1) if i % 2 else None,
            opened_at=sent + timedelta(days=1) if i % 3 == 0 and i % 4 else None,
            clicked_at=sent + timedelta(hours=2) if i == 5 else None))
    async with uow(sql_container) as unit:
        await unit.recipients.save_many(changed)
        await unit.commit()
    sql = SqlCampaignStatistics(sql_container.adapters.session_factory())
    scan = RecipientScanStatistics(lambda: uow(sql_container))
    for bucket in ("hour", "day"):
        expected = await scan.timeline(campaign.id, bucket)
        assert await sql.timeline(campaign.id, bucket) == expected and len(expected) > 1
    expected_variants = await scan.by_variant(campaign.id)
    assert await sql.by_variant(campaign.id) == expected_variants and set(expected_variants) == {"A", "B"}
    assert await sql.timeline(campaign.id + 1, "day") == [] and await sql.by_variant(campaign.id + 1) == {}
