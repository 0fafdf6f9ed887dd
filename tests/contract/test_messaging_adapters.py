"""Messaging's templates and outbound messages, run against the in-memory and the PostgreSQL adapters."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from application.messaging.ports import MessageFilters, TemplateFilters
from application.shared.pagination import PageRequest, SortKey
from domain.messaging.delivery import MessageStatus
from domain.messaging.model import Channel, Message, Template
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.messaging_support import clock, engine, full_message, full_template, links, uow
from tests.contract.round_trips import unset_fields


async def _add_template(container: AppContainer, template: Template) -> Template:
    async with uow(container) as unit:
        added = await unit.templates.add(template)
        await unit.commit()
    return added


async def _add_message(container: AppContainer, message: Message) -> Message:
    async with uow(container) as unit:
        added = await unit.messages.add(message)
        await unit.commit()
    return added


STAMPED = frozenset({"created_at", "updated_at"})


# --- templates ----------------------------------------------------------------------------------------

async def test_a_template_round_trips_every_field_through_add_get_and_save(container: AppContainer) -> None:
    link = await links(container)
    given = full_template(name="Payment link", channel=Channel.EMAIL, created_by=link.user_id)
    added = await _add_template(container, replace(given))
    assert added.id is not None and added.created_at == NOW and added.updated_at == NOW
    async with uow(container) as unit:
        found = await unit.templates.get(added.id)
    assert found == replace(given, id=added.id, created_at=NOW, updated_at=NOW)
    assert unset_fields(given, Template(id=None, name="", channel=Channel.SMS, content=""), stamped=STAMPED) == []

    clock(container).advance(timedelta(minutes=5))
    changed = replace(found, name="Payment link v2", channel=Channel.WHATSAPP, content="Pay {amount}",
                      variables=["amount"], subject=None, category="payment", language="en", is_active=True,
                      dlt_template_id=None)
    async with uow(container) as unit:
        await unit.templates.save(changed)
        await unit.commit()
    async with uow(container) as unit:
        saved = await unit.templates.get(added.id)
    assert saved == replace(changed, created_at=NOW, updated_at=NOW + timedelta(minutes=5))


async def test_reads_are_copies_and_uncommitted_writes_are_dropped(container: AppContainer) -> None:
    added = await _add_template(container, full_template())
    assert added.id is not None
    async with uow(container) as unit:
        found = await unit.templates.get(added.id)
        assert found is not None
        found.variables.append("mutated")
        await unit.templates.add(full_template(name="never committed"))
    async with uow(container) as unit:
        again = await unit.templates.get(added.id)
        assert again is not None and again.variables == ["name", "policy_number", "date"]
        assert await unit.templates.find("never committed", Channel.SMS, "hi") is None


async def test_find_matches_the_name_in_any_case_on_its_channel_and_language(container: AppContainer) -> None:
    added = await _add_template(container, full_template(name="Lapse Notice", language="en"))
    async with uow(container) as unit:
        found = await unit.templates.find("lapse notice", Channel.SMS)
        assert found is not None and found.id == added.id
        assert await unit.templates.find("lapse notice", Channel.EMAIL) is None
        assert await unit.templates.find("lapse notice", Channel.SMS, "hi") is None


async def test_a_name_is_unique_per_channel_and_language_whatever_its_case(container: AppContainer) -> None:
    first = await _add_template(container, full_template(name="Reminder", language="en"))
    await _add_template(container, full_template(name="Reminder", language="ta"))  # another language
    await _add_template(container, full_template(name="Reminder", language="en", channel=Channel.EMAIL))
    async with uow(container) as unit:
        with pytest.raises(Conflict) as added_twice:
            await unit.templates.add(full_template(name="REMINDER", language="en"))
        other = await unit.templates.add(full_template(name="Other", language="en"))  # the unit is still usable
        await unit.commit()
    assert added_twice.value.field == "name"
    async with uow(container) as unit:
        assert await unit.templates.get(other.id or 0) is not None
        with pytest.raises(Conflict) as renamed:
            await unit.templates.save(replace(other, name="reminder"))
    assert renamed.value.field == "name"
    async with uow(container) as unit:
        await unit.templates.save(replace(first, content="Renamed in its own case is fine", name="REMINDER"))
        await unit.commit()


async def test_saving_or_deleting_a_missing_template(container: AppContainer) -> None:
    async with uow(container) as unit:
        with pytest.raises(NotFound):
            await unit.templates.save(full_template(id=999))
        assert await unit.templates.delete(999) is False


async def test_deleting_a_template_keeps_its_messages_without_the_link(container: AppContainer) -> None:
    link = await links(container)
    message = await _add_message(container, full_message(link))
    async with uow(container) as unit:
        assert await unit.templates.delete(link.template_id) is True
        await unit.commit()
    async with uow(container) as unit:
        assert await unit.templates.get(link.template_id) is None
        assert await unit.templates.delete(link.template_id) is False
        kept = await unit.messages.get(message.id or 0)
    assert kept is not None and kept.template_id is None and kept.body == message.body


async def test_template_lists_filter_page_and_put_the_newest_first(container: AppContainer) -> None:
    ids = []
    for n, (channel, active) in enumerate([(Channel.SMS, True), (Channel.EMAIL, True), (Channel.SMS, False),
                                           (Channel.WHATSAPP, True), (Channel.SMS, True)]):
        ids.append((await _add_template(container, full_template(
            name=f"Renewal_{n}%" if n % 2 else f"Renewal {n}", channel=channel, is_active=active))).id)
        if n != 3:  # the 4th and 5th share a creation time: the larger id comes first
            clock(container).advance(timedelta(minutes=1))
    async with uow(container) as unit:
        everything = await unit.templates.list(TemplateFilters(), PageRequest(limit=10))
        assert [t.id for t in everything.items] == ids[::-1] and everything.total == 5
        second = await unit.templates.list(TemplateFilters(), PageRequest(page=2, limit=2))
        assert [t.id for t in second.items] == [ids[2], ids[1]] and second.total == 5
        sms = await unit.templates.list(TemplateFilters(channels=(Channel.SMS, Channel.WHATSAPP)), PageRequest())
        assert [t.id for t in sms.items] == [ids[4], ids[3], ids[2], ids[0]]
        inactive = await unit.templates.list(TemplateFilters(active=False), PageRequest())
        assert [t.id for t in inactive.items] == [ids[2]]
        named = await unit.templates.list(TemplateFilters(q="renewal_"), PageRequest())
        assert [t.id for t in named.items] == [ids[3], ids[1]]
        literal = await unit.templates.list(TemplateFilters(q="L_1%"), PageRequest())  # % and _ are not wildcards
        assert [t.id for t in literal.items] == [ids[1]]
        by_name = await unit.templates.list(TemplateFilters(), PageRequest(sort=(SortKey("name"),)))
        assert [t.name for t in by_name.items] == sorted(t.name for t in everything.items)
        with pytest.raises(ValidationFailed):
            await unit.templates.list(TemplateFilters(), PageRequest(sort=(SortKey("content"),)))


# --- messages -----------------------------------------------------------------------------------------

async def test_a_message_round_trips_every_field_through_add_get_and_save(container: AppContainer) -> None:
    link = await links(container)
    given = full_message(link)
    added = await _add_message(container, replace(given, times=dict(given.times)))
    assert added.id is not None and (added.created_at, added.updated_at) == (NOW, NOW)
    async with uow(container) as unit:
        found = await unit.messages.get(added.id)
    assert found == replace(given, id=added.id, created_at=NOW, updated_at=NOW)
    assert unset_fields(given, Message(id=None, channel=Channel.EMAIL, recipient="", body=""), stamped=STAMPED) == []

    clock(container).advance(timedelta(seconds=30))
    changed = replace(found, channel=Channel.SMS, recipient="+14155550100", body="b", status=MessageStatus.READ,
                      subject=None, html=None, customer_id=None, case_id=None, campaign_id=None, template_id=None,
                      whatsapp_template=None, whatsapp_language=None, parameters=[], transactional=False,
                      headers={}, provider="twilio", provider_message_id="SM1", error_code=None, error_text=None,
                      cost=Decimal("-0.07900"), currency="USD", encoding="UCS-2", segments=1, attempts=4,
                      not_before=None, idempotency_key=None, request_hash=None, created_by=None,
                      times={"read": NOW + timedelta(seconds=1)})
    async with uow(container) as unit:
        await unit.messages.save(changed)
        await unit.commit()
    async with uow(container) as unit:
        saved = await unit.messages.get(added.id)
    assert saved == replace(changed, created_at=NOW, updated_at=NOW + timedelta(seconds=30))


async def test_a_message_with_only_the_required_fields(container: AppContainer) -> None:
    added = await _add_message(container, Message(id=None, channel=Channel.EMAIL, recipient="a@example.in",
                                                  body="Hello"))
    async with uow(container) as unit:
        found = await unit.messages.get(added.id or 0)
        assert found == Message(id=added.id, channel=Channel.EMAIL, recipient="a@example.in", body="Hello",
                                created_at=NOW, updated_at=NOW)
        assert await unit.messages.get((added.id or 0) + 1) is None
        with pytest.raises(NotFound):
            await unit.messages.save(replace(found, id=(added.id or 0) + 1))


async def test_the_idempotency_key_finds_the_users_message_and_is_used_once(container: AppContainer) -> None:
    link = await links(container)
    mine = await _add_message(container, full_message(link, provider_message_id=None, idempotency_key="k1"))
    anonymous = await _add_message(container, full_message(provider_message_id=None, idempotency_key="k1"))
    async with uow(container) as unit:
        found = await unit.messages.find_by_idempotency_key(link.user_id, "k1")
        assert found is not None and found.id == mine.id
        found = await unit.messages.find_by_idempotency_key(None, "k1")
        assert found is not None and found.id == anonymous.id
        assert await unit.messages.find_by_idempotency_key(link.user_id, "k2") is None
        assert await unit.messages.find_by_idempotency_key(link.user_id + 1, "k1") is None
        for created_by in (link.user_id, None):
            with pytest.raises(Conflict) as again:
                await unit.messages.add(full_message(provider_message_id=None, idempotency_key="k1",
                                                     created_by=created_by))
            assert again.value.field == "idempotencyKey"
        await unit.messages.add(full_message(provider_message_id=None, idempotency_key=None))
        await unit.messages.add(full_message(provider_message_id=None, idempotency_key=None))  # no key, no limit
        await unit.commit()


async def test_the_provider_message_id_finds_one_message(container: AppContainer) -> None:
    first = await _add_message(container, full_message(provider_message_id="SMabc", idempotency_key=None))
    second = await _add_message(container, full_message(provider_message_id=None, idempotency_key=None))
    async with uow(container) as unit:
        found = await unit.messages.find_by_provider_id("SMabc")
        assert found is not None and found.id == first.id
        assert await unit.messages.find_by_provider_id("SMother") is None
        with pytest.raises(Conflict) as taken:
            await unit.messages.save(replace(second, provider_message_id="SMabc"))
        assert taken.value.field == "providerMessageId"
        await unit.messages.save(replace(second, provider_message_id="SMdef"))
        await unit.commit()
    async with uow(container) as unit:
        found = await unit.messages.find_by_provider_id("SMdef")
        assert found is not None and found.id == second.id


async def test_message_lists_filter_page_and_put_the_newest_first(container: AppContainer) -> None:
    link = await links(container)
    specs = [(Channel.SMS, MessageStatus.QUEUED, link.customer_id, None, None, "+911"),
             (Channel.EMAIL, MessageStatus.SENT, link.customer_id, link.case_id, None, "a@x.in"),
             (Channel.SMS, MessageStatus.DELIVERED, None, link.case_id, link.campaign_id, "+911"),
             (Channel.WHATSAPP, MessageStatus.FAILED, None, None, link.campaign_id, "+912")]
    ids = []
    for channel, status, customer_id, case_id, campaign_id, recipient in specs:
        ids.append((await _add_message(container, Message(
            id=None, channel=channel, recipient=recipient, body="x", status=status, customer_id=customer_id,
            case_id=case_id, campaign_id=campaign_id))).id)
        clock(container).advance(timedelta(minutes=10))

    async def listed(page: PageRequest | None = None, **filters: object) -> list[int | None]:
        async with uow(container) as unit:
            found = await unit.messages.list(MessageFilters(**filters), page or PageRequest())  # type: ignore[arg-type]
        return [m.id for m in found.items]

    assert await listed() == ids[::-1]
    assert await listed(PageRequest(page=2, limit=3)) == [ids[0]]
    assert await listed(channels=(Channel.SMS,)) == [ids[2], ids[0]]
    assert await listed(statuses=("sent", "failed")) == [ids[3], ids[1]]
    assert await listed(customer_id=link.customer_id) == [ids[1], ids[0]]
    assert await listed(case_id=link.case_id) == [ids[2], ids[1]]
    assert await listed(campaign_id=link.campaign_id) == [ids[3], ids[2]]
    assert await listed(recipient="+911") == [ids[2], ids[0]]
    assert await listed(created_from=NOW + timedelta(minutes=10), created_to=NOW + timedelta(minutes=30)) \
        == [ids[2], ids[1]]
    assert await listed(PageRequest(sort=(SortKey("createdAt"),)), channels=(Channel.SMS,)) == [ids[0], ids[2]]
    async with uow(container) as unit:
        page = await unit.messages.list(MessageFilters(channels=(Channel.SMS, Channel.EMAIL)),
                                        PageRequest(page=1, limit=2))
        assert (page.total, page.page, page.limit, len(page.items)) == (3, 1, 2, 2)
        with pytest.raises(ValidationFailed):
            await unit.messages.list(MessageFilters(), PageRequest(sort=(SortKey("body"),)))


async def test_get_for_update_and_find_by_provider_id_lock_the_row(sql_container: AppContainer) -> None:
    message = await _add_message(sql_container, full_message(idempotency_key=None))

    async def locked() -> bool:
        async with engine(sql_container).connect() as conn:
            try:
                await conn.execute(text("SELECT id FROM messages WHERE id = :id FOR UPDATE NOWAIT"),
                                   {"id": message.id})
            except DBAPIError:
                return True
            return False

    assert await locked() is False
    async with uow(sql_container) as unit:
        assert await unit.messages.get(message.id or 0) is not None
        assert await locked() is False  # a plain read takes no lock
        assert await unit.messages.get_for_update(message.id or 0) is not None
        assert await locked() is True
    assert await locked() is False  # released when the unit ends
    async with uow(sql_container) as unit:
        assert await unit.messages.find_by_provider_id("wamid.ABC123") is not None
        assert await locked() is True


@pytest.mark.parametrize("kind", ["message", "template"])
async def test_concurrent_units_adding_one_unique_key_leave_one_record(container: AppContainer, kind: str) -> None:
    async def add() -> bool:
        async with uow(container) as unit:
            try:
                if kind == "message":
                    await unit.messages.add(full_message(provider_message_id=None, idempotency_key="same"))
                else:
                    await unit.templates.add(full_template(name="Same"))
                await asyncio.sleep(0)  # the other unit adds before this one commits
                await unit.commit()
            except Conflict:
                return False
            return True

    assert sorted(await asyncio.gather(*(add() for _ in range(5)))) == [False] * 4 + [True]
    async with uow(container) as unit:
        messages = await unit.messages.list(MessageFilters(), PageRequest())
        templates = await unit.templates.list(TemplateFilters(), PageRequest())
    assert (messages.total, templates.total) == ((1, 0) if kind == "message" else (0, 1))
