"""Campaign recipients (claims, leases, set-based writes, counters) on the in-memory and PostgreSQL adapters."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from application.shared.pagination import PageRequest
from domain.campaigns.model import Recipient, RecipientStatus
from domain.shared.errors import NotFound
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.campaigns_support import (
    add_campaign,
    add_customers,
    add_recipients,
    clock,
    engine,
    full_recipient,
    is_sql,
    issue_due_policy,
    uow,
)
from tests.contract.round_trips import unset_fields

S = RecipientStatus


# --- recipients ---------------------------------------------------------------------------------------

async def test_recipients_round_trip_every_field_and_duplicates_are_skipped(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    other = await add_campaign(container)
    first, second = await add_customers(container, 2)
    policy_id, _ = await issue_due_policy(container, first)
    given = full_recipient(campaign.id or 0, first, policy_id=policy_id)
    assert unset_fields(given, Recipient(id=None, campaign_id=0, customer_id=0, address="")) == []
    async with uow(container) as unit:
        inserted = await unit.recipients.add_many([
            given, replace(given, address="dup in the batch"), full_recipient(other.id or 0, first),
            full_recipient(campaign.id or 0, second, status=S.PENDING, provider_message_id=None)])
        await unit.commit()
    assert inserted == 3
    async with uow(container) as unit:
        assert await unit.recipients.add_many([replace(given, address="dup of a row")]) == 0
        assert await unit.recipients.add_many([]) == 0
        page = await unit.recipients.list(campaign.id or 0, (), PageRequest(limit=10))
        by_provider = await unit.recipients.find_by_provider_id(f"SM{first}")
        assert await unit.recipients.find_by_provider_id("SM-none") is None
        assert await unit.recipients.get(999) is None
    assert page.total == 2
    stored = page.items[0]
    assert stored == replace(given, id=stored.id)
    assert by_provider is not None and by_provider.id == stored.id
    async with uow(container) as unit:
        assert await unit.recipients.get(stored.id or 0) == stored


async def test_recipient_lists_filter_by_status_and_page_in_id_order(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 5)
    async with uow(container) as unit:
        await unit.recipients.save_many([replace(rows[1], status=S.FAILED), replace(rows[3], status=S.SENT)])
        await unit.commit()
    async with uow(container) as unit:
        failed_or_sent = await unit.recipients.list(campaign.id or 0, ("failed", "sent"), PageRequest(limit=10))
        second_page = await unit.recipients.list(campaign.id or 0, (), PageRequest(page=2, limit=2))
    assert [r.id for r in failed_or_sent.items] == [rows[1].id, rows[3].id] and failed_or_sent.total == 2
    assert [r.id for r in second_page.items] == [rows[2].id, rows[3].id] and second_page.total == 5


async def test_claim_takes_the_next_recipients_in_id_order_with_a_lease(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 6)
    ids = [r.id for r in rows]
    lease = NOW + timedelta(minutes=2)
    async with uow(container) as unit:
        await unit.recipients.save_many([replace(rows[1], status=S.SENT)])
        await unit.commit()
    async with uow(container) as unit:
        claimed = await unit.recipients.claim(campaign.id or 0, after_id=ids[0] or 0, limit=3, lease_until=lease)
        await unit.commit()
    assert [r.id for r in claimed] == [ids[2], ids[3], ids[4]]
    assert all(r.status is S.SENDING and r.lease_until == lease and r.attempts == 1 for r in claimed)
    async with uow(container) as unit:
        assert await unit.recipients.get(ids[2] or 0) == claimed[0]
        rest = await unit.recipients.claim(campaign.id or 0, after_id=0, limit=10, lease_until=lease)
        await unit.commit()
    assert [r.id for r in rest] == [ids[0], ids[5]]
    async with uow(container) as unit:
        again = await unit.recipients.claim(campaign.id or 0, after_id=0, limit=1, lease_until=lease,
                                            statuses=(S.SENDING, S.UNKNOWN))
        assert await unit.recipients.claim(campaign.id or 0, after_id=0, limit=10, lease_until=lease) == []
    assert [(r.id, r.attempts) for r in again] == [(ids[0], 2)]


async def test_two_open_units_never_claim_the_same_recipient(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 6)
    lease = NOW + timedelta(minutes=2)
    async with uow(container) as first, uow(container) as second:
        mine = await first.recipients.claim(campaign.id or 0, after_id=0, limit=4, lease_until=lease)
        # without SKIP LOCKED this claim would wait for `first` forever
        theirs = await asyncio.wait_for(
            second.recipients.claim(campaign.id or 0, after_id=0, limit=4, lease_until=lease), timeout=5)
        await second.commit()
        await first.commit()
    assert [r.id for r in mine] == [r.id for r in rows[:4]]
    assert [r.id for r in theirs] == [r.id for r in rows[4:]]


async def test_concurrent_claims_partition_the_recipients(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 12)
    lease = NOW + timedelta(minutes=2)

    async def claim_all() -> list[int]:
        taken: list[int] = []
        while True:
            async with uow(container) as unit:
                batch = await unit.recipients.claim(campaign.id or 0, after_id=0, limit=2, lease_until=lease)
                await asyncio.sleep(0)  # let the other worker run while this one holds its rows
                await unit.commit()
            if not batch:
                return taken
            taken.extend(r.id or 0 for r in batch)

    first, second, third = await asyncio.gather(claim_all(), claim_all(), claim_all())
    assert sorted(first + second + third) == sorted(r.id or 0 for r in rows)  # each exactly once
    async with uow(container) as unit:
        page = await unit.recipients.list(campaign.id or 0, ("sending",), PageRequest(limit=100))
    assert page.total == 12 and all(r.attempts == 1 for r in page.items)


async def test_expired_claims_are_the_sending_ones_whose_lease_passed(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 4)
    async with uow(container) as unit:
        await unit.recipients.save_many([
            replace(rows[0], status=S.SENDING, lease_until=NOW - timedelta(seconds=1)),
            replace(rows[1], status=S.SENDING, lease_until=NOW + timedelta(seconds=1)),
            replace(rows[2], status=S.SENT, lease_until=NOW - timedelta(minutes=1)),
            replace(rows[3], status=S.SENDING, lease_until=NOW - timedelta(minutes=1))])
        await unit.commit()
    async with uow(container) as unit:
        assert [r.id for r in await unit.recipients.expired_claims(campaign.id or 0, NOW, 10)] == [rows[0].id,
                                                                                                   rows[3].id]
        assert [r.id for r in await unit.recipients.expired_claims(campaign.id or 0, NOW, 1)] == [rows[0].id]
        later = await unit.recipients.expired_claims(campaign.id or 0, NOW + timedelta(minutes=1), 10)
    assert [r.id for r in later] == [rows[0].id, rows[1].id, rows[3].id]
    async with uow(container) as holder, uow(container) as other:
        held = await holder.recipients.expired_claims(campaign.id or 0, NOW, 1)
        skipped = await asyncio.wait_for(other.recipients.expired_claims(campaign.id or 0, NOW, 10), timeout=5)
    assert [r.id for r in held] == [rows[0].id] and [r.id for r in skipped] == [rows[3].id]


async def test_save_many_writes_every_field_and_refuses_an_unknown_recipient(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    row = (await add_recipients(container, campaign.id or 0, 1))[0]
    changed = full_recipient(campaign.id or 0, row.customer_id, id=row.id, status=S.FAILED)
    async with uow(container) as unit:
        await unit.recipients.save_many([changed])
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.recipients.get(row.id or 0) == changed
        with pytest.raises(NotFound):
            await unit.recipients.save_many([replace(changed, id=99999)])


async def test_set_status_moves_one_status_and_may_set_the_variant(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    other = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 4, status=S.WAITING)
    foreign = await add_recipients(container, other.id or 0, 1, status=S.WAITING)
    async with uow(container) as unit:
        await unit.recipients.save_many([replace(rows[0], status=S.HELD_OUT, variant="A")])
        assert await unit.recipients.set_status(campaign.id or 0, S.WAITING, S.PENDING, variant="B") == 3
        assert await unit.recipients.set_status(campaign.id or 0, S.HELD_OUT, S.HELD_OUT) == 1
        await unit.commit()
    async with uow(container) as unit:
        page = await unit.recipients.list(campaign.id or 0, (), PageRequest(limit=10))
        untouched = await unit.recipients.get(foreign[0].id or 0)
    assert [(r.status, r.variant) for r in page.items] == [(S.HELD_OUT, "A")] + [(S.PENDING, "B")] * 3
    assert untouched is not None and untouched.status is S.WAITING


async def test_recent_outcomes_are_the_last_decided_newest_first(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 5)
    for row, status in ((rows[3], S.FAILED), (rows[0], S.SENT), (rows[4], S.UNKNOWN), (rows[1], S.FAILED)):
        clock(container).advance(timedelta(seconds=1))
        async with uow(container) as unit:
            await unit.recipients.save_many([replace(row, status=status)])
            await unit.commit()
    async with uow(container) as unit:
        assert await unit.recipients.recent_outcomes(campaign.id or 0, 3) == [S.FAILED, S.UNKNOWN, S.SENT]
        assert await unit.recipients.recent_outcomes(campaign.id or 0, 10) == [S.FAILED, S.UNKNOWN, S.SENT,
                                                                               S.FAILED]


async def test_counters_agree_with_the_recipients(container: AppContainer) -> None:
    campaign = await add_campaign(container)
    rows = await add_recipients(container, campaign.id or 0, 8)
    cid = campaign.id or 0
    changes = [replace(rows[0], status=S.SENT, sent_at=NOW, delivered_at=NOW, opened_at=NOW),
               replace(rows[1], status=S.SENT, sent_at=NOW, delivered_at=NOW, clicked_at=NOW, replied_at=NOW),
               replace(rows[2], status=S.SENT, sent_at=NOW, converted_at=NOW),
               replace(rows[3], status=S.FAILED), replace(rows[4], status=S.UNKNOWN),
               replace(rows[5], status=S.HELD_OUT), replace(rows[6], status=S.WAITING)]
    async with uow(container) as unit:
        await unit.recipients.save_many(changes)
        await unit.recipients.claim(cid, after_id=0, limit=1, lease_until=NOW)  # rows[7] -> sending
        found = await unit.campaigns.counters(cid)  # sees the unit's own writes
        listed = (await unit.recipients.list(cid, (), PageRequest(limit=100))).items
        await unit.commit()
    by_status = Counter(r.status.value for r in listed)
    assert {s.value: found[s.value] for s in S} == {s.value: by_status[s.value] for s in S}
    assert found["total"] == len(listed) == 8
    for name in ("delivered", "opened", "clicked", "replied", "converted"):
        assert found[name] == sum(1 for r in listed if getattr(r, f"{name}_at") is not None), name
    assert (found["sent"], found["delivered"], found["opened"], found["clicked"], found["converted"]) == (3, 2, 1, 1, 1)
    async with uow(container) as unit:
        assert await unit.campaigns.counters(cid) == found
        assert (await unit.campaigns.counters(99999))["total"] == 0
    if is_sql(container):  # the stored snapshot columns follow at the next save
        async with uow(container) as unit:
            current = await unit.campaigns.get(cid)
            assert current is not None
            await unit.campaigns.save(current)
            await unit.commit()
        async with engine(container).connect() as conn:
            row = (await conn.execute(text(
                "SELECT sent_count, failed_count, unknown_count, delivered_count, opened_count, clicked_count, "
                "replied_count, converted_count FROM campaigns WHERE id = :id"), {"id": cid})).one()
        assert tuple(row) == (3, 1, 1, 2, 1, 1, 1, 1)


async def test_a_stale_copy_never_clears_a_first_stamp_written_meanwhile(container: AppContainer) -> None:
    """The tracking endpoint and the sender hold copies of a row: saving one must not undo the other's stamps."""
    campaign = await add_campaign(container)
    assert campaign.id is not None
    [recipient] = await add_recipients(container, campaign.id, 1)
    stale = replace(recipient)
    async with uow(container) as unit:
        await unit.recipients.save_many([replace(recipient, status=RecipientStatus.SENT, sent_at=NOW,
                                                 opened_at=NOW + timedelta(minutes=1),
                                                 replied_at=NOW + timedelta(minutes=2))])
        await unit.commit()
    async with uow(container) as unit:
        await unit.recipients.save_many([replace(stale, status=RecipientStatus.SENT, attempts=3)])
        await unit.commit()
    async with uow(container) as unit:
        found = await unit.recipients.get(recipient.id or 0)
    assert found is not None and found.attempts == 3
    assert (found.opened_at, found.replied_at) == (NOW + timedelta(minutes=1), NOW + timedelta(minutes=2))
