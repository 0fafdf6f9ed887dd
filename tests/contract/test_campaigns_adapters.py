"""Campaigns, recipients, segments and tracking hits, run against the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from application.campaigns.ports import CampaignFilters, SavedSegment, TrackingHit
from application.shared.pagination import PageRequest, SortKey
from domain.campaigns.model import Campaign, CampaignStatus, RecipientStatus
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.campaigns_support import (
    add_campaign,
    add_recipients,
    clock,
    full_campaign,
    links,
    uow,
)
from tests.contract.round_trips import unset_fields

S = RecipientStatus


# --- campaigns ----------------------------------------------------------------------------------------

async def test_a_campaign_round_trips_every_field_through_add_get_and_save(container: AppContainer) -> None:
    link = await links(container)
    given = full_campaign(link)
    assert unset_fields(given, Campaign(id=None, name="", channel=""),
                  stamped=frozenset({"created_at", "updated_at", "completed_at"})) == []
    async with uow(container) as unit:
        added = await unit.campaigns.add(replace(given))
        await unit.commit()
    assert added.id is not None and added.created_at == NOW and added.updated_at == NOW
    async with uow(container) as unit:
        found = await unit.campaigns.get(added.id)
    assert found == replace(given, id=added.id, created_at=NOW, updated_at=NOW)

    clock(container).advance(timedelta(minutes=5))
    changed = replace(found, name="Renamed", channel="whatsapp", status=CampaignStatus.COMPLETED, subject=None,
                      content=None, variants=[], ab_test={}, paused_reason=None, excluded={}, checkpoint=7,
                      completed_at=NOW, audience={"kind": "all"}, segment_id=None, upload_id=None)
    async with uow(container) as unit:
        locked = await unit.campaigns.get_for_update(added.id)
        assert locked == found
        await unit.campaigns.save(changed)
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.campaigns.get(added.id) == replace(changed, updated_at=NOW + timedelta(minutes=5))


async def test_a_campaign_without_group_key_gets_one_and_unsaved_changes_are_dropped(
        container: AppContainer) -> None:
    first = await add_campaign(container)
    second = await add_campaign(container)
    assert first.group_key is not None and second.group_key is not None and first.group_key != second.group_key
    async with uow(container) as unit:
        found = await unit.campaigns.get(first.id or 0)
        assert found is not None
        found.audience["mutated"] = True
        await unit.campaigns.save(replace(found, name="never committed"))
        await unit.campaigns.add(Campaign(id=None, name="never added", channel="sms"))
    async with uow(container) as unit:
        again = await unit.campaigns.get(first.id or 0)
        listed = await unit.campaigns.list(CampaignFilters(), PageRequest(limit=10))
    assert again is not None and again.name == "Renewals" and again.audience == {}
    assert [c.name for c in listed.items] == ["Renewals", "Renewals"]


async def test_saving_a_missing_campaign_is_not_found(container: AppContainer) -> None:
    async with uow(container) as unit:
        with pytest.raises(NotFound):
            await unit.campaigns.save(Campaign(id=999, name="x", channel="sms"))
        assert await unit.campaigns.get(999) is None


async def test_campaign_lists_filter_by_status_channel_and_group_and_page_newest_first(
        container: AppContainer) -> None:
    group = full_campaign().group_key
    made = []
    for n, (channel, status) in enumerate([("email", CampaignStatus.DRAFT), ("sms", CampaignStatus.ACTIVE),
                                           ("whatsapp", CampaignStatus.DRAFT), ("sms", CampaignStatus.PAUSED)]):
        made.append(await add_campaign(container, name=f"C{n}", channel=channel, status=status,
                                       group_key=group if n < 2 else None))
        clock(container).advance(timedelta(minutes=1))

    async def names(filters: CampaignFilters, page: PageRequest | None = None) -> tuple[list[str], int]:
        async with uow(container) as unit:
            found = await unit.campaigns.list(filters, page or PageRequest(limit=10))
        return [c.name for c in found.items], found.total

    assert await names(CampaignFilters()) == (["C3", "C2", "C1", "C0"], 4)
    assert await names(CampaignFilters(statuses=("draft",))) == (["C2", "C0"], 2)
    assert await names(CampaignFilters(channels=("sms", "email"))) == (["C3", "C1", "C0"], 3)
    assert await names(CampaignFilters(statuses=("draft", "active"), channels=("sms",))) == (["C1"], 1)
    assert await names(CampaignFilters(group_key=str(group))) == (["C1", "C0"], 2)
    assert await names(CampaignFilters(group_key="not-a-uuid")) == ([], 0)
    assert await names(CampaignFilters(), PageRequest(page=2, limit=3)) == (["C0"], 4)
    assert await names(CampaignFilters(), PageRequest(limit=2, sort=(SortKey("name"),))) == (["C0", "C1"], 4)
    with pytest.raises(ValidationFailed):
        await names(CampaignFilters(), PageRequest(sort=(SortKey("budget"),)))


async def test_due_lists_scheduled_campaigns_whose_time_came_and_active_ones_with_pending_recipients(
        container: AppContainer) -> None:
    past = await add_campaign(container, status=CampaignStatus.SCHEDULED, scheduled_at=NOW - timedelta(minutes=1))
    now = await add_campaign(container, status=CampaignStatus.SCHEDULED, scheduled_at=NOW)
    await add_campaign(container, status=CampaignStatus.SCHEDULED, scheduled_at=NOW + timedelta(minutes=1))
    await add_campaign(container, status=CampaignStatus.DRAFT, scheduled_at=NOW - timedelta(days=1))
    busy = await add_campaign(container, status=CampaignStatus.ACTIVE)
    idle = await add_campaign(container, status=CampaignStatus.ACTIVE)
    paused = await add_campaign(container, status=CampaignStatus.PAUSED)
    crashed = await add_campaign(container, status=CampaignStatus.ACTIVE)
    await add_recipients(container, busy.id or 0, 1)
    await add_recipients(container, idle.id or 0, 1, status=S.SENT)
    await add_recipients(container, paused.id or 0, 1)
    await add_recipients(container, crashed.id or 0, 1, status=S.SENDING, lease_until=NOW - timedelta(seconds=1))
    await add_recipients(container, idle.id or 0, 1, status=S.SENDING, lease_until=NOW + timedelta(seconds=1))
    async with uow(container) as unit:
        assert await unit.campaigns.due(NOW) == [past.id, now.id, busy.id, crashed.id]


# --- segments -----------------------------------------------------------------------------------------

async def test_segments_round_trip_list_newest_first_and_names_are_unique(container: AppContainer) -> None:
    link = await links(container)  # adds "Due soon"
    tree = {"all": [{"field": "policy.policy_type", "op": "in", "value": ["motor", "health"]},
                    {"not": {"field": "customer.city", "op": "eq", "value": "Pune"}}]}
    clock(container).advance(timedelta(minutes=1))
    async with uow(container) as unit:
        added = await unit.segments.add(SavedSegment(id=None, name="Motor outside Pune", filter=tree,
                                                     created_by=link.user_id))
        with pytest.raises(Conflict) as taken:
            await unit.segments.add(SavedSegment(id=None, name="Due soon", filter=tree))
        await unit.commit()  # the unit stays usable after the conflict
    assert taken.value.field == "name"
    assert added.id is not None and added.created_at == NOW + timedelta(minutes=1)
    async with uow(container) as unit:
        assert await unit.segments.get(added.id) == added
        assert await unit.segments.get(999) is None
        listed = await unit.segments.list()
    assert [s.name for s in listed] == ["Motor outside Pune", "Due soon"]
    assert listed[0].filter == tree and listed[0].created_by == link.user_id


# --- tracking -----------------------------------------------------------------------------------------

async def test_tracking_summary_counts_raw_and_human_hits_per_variant_and_link(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    other = await add_campaign(container)
    a1, a2, b1 = await add_recipients(container, campaign.id or 0, 3)
    elsewhere = (await add_recipients(container, other.id or 0, 1))[0]
    async with uow(container) as unit:
        await unit.recipients.save_many([replace(a1, variant="A"), replace(a2, variant="A"),
                                         replace(b1, variant="B")])
        await unit.commit()
    link, pdf = "https://renew.example/p/1", "https://renew.example/doc.pdf"
    hits = [
        TrackingHit(recipient_id=a1.id or 0, kind="open", at=NOW, user_agent="Mozilla/5.0", ip="203.0.113.7"),
        TrackingHit(recipient_id=a1.id or 0, kind="open", at=NOW, machine_reason="privacy_proxy", ip="not an ip"),
        TrackingHit(recipient_id=a1.id or 0, kind="open", at=NOW + timedelta(hours=1)),
        TrackingHit(recipient_id=a2.id or 0, kind="open", at=NOW, machine_reason="privacy_proxy"),
        TrackingHit(recipient_id=a1.id or 0, kind="click", at=NOW, link=link, machine_reason="scanner"),
        TrackingHit(recipient_id=a1.id or 0, kind="click", at=NOW, link=link, ip="2001:db8::1"),
        TrackingHit(recipient_id=b1.id or 0, kind="click", at=NOW, link=link),
        TrackingHit(recipient_id=b1.id or 0, kind="click", at=NOW, link=pdf, machine_reason="bot_user_agent"),
        TrackingHit(recipient_id=elsewhere.id or 0, kind="open", at=NOW),
    ]
    async with uow(container) as unit:
        for hit in hits:
            await unit.tracking.record(hit)
        with pytest.raises(NotFound):
            await unit.tracking.record(TrackingHit(recipient_id=99999, kind="open", at=NOW))
        await unit.commit()
    async with uow(container) as unit:
        await unit.tracking.record(TrackingHit(recipient_id=b1.id or 0, kind="open", at=NOW))  # never committed
    async with uow(container) as unit:
        summary = await unit.tracking.summary(campaign.id or 0)
        nothing = await unit.tracking.summary(99999)

    def figures(raw: int, human: int, unique_raw: int, unique_human: int) -> dict[str, int]:
        return {"raw": raw, "human": human, "unique_raw": unique_raw, "unique_human": unique_human}

    assert summary == {
        "open": figures(4, 2, 2, 1), "click": figures(4, 2, 2, 2),
        "by_variant": {"A": {"open": figures(4, 2, 2, 1), "click": figures(2, 1, 1, 1)},
                       "B": {"open": figures(0, 0, 0, 0), "click": figures(2, 1, 1, 1)}},
        "by_link": {pdf: figures(1, 0, 1, 0), link: figures(3, 2, 2, 2)},
        "machine_reasons": {"open": {"privacy_proxy": 2}, "click": {"scanner": 1, "bot_user_agent": 1}}}
    assert nothing["open"] == figures(0, 0, 0, 0) and nothing["by_link"] == {} and nothing["by_variant"] == {}
