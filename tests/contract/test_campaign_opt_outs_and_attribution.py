"""OptOuts (a read model over customer_consents) and Attributions (replies, conversions) on both adapter sets."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.memory.campaign_attribution import InMemoryAttributions
from adapters.memory.opt_outs import InMemoryOptOuts
from adapters.sqlalchemy.read_models.opt_outs import SqlOptOuts
from adapters.sqlalchemy.repositories.campaign_attribution import SqlAttributions
from application.campaigns.ports import Attributions, OptOuts
from application.shared.pagination import PageRequest
from domain.campaigns.model import Recipient, RecipientStatus
from domain.messaging.model import Channel, Consent, ConsentSource
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.campaigns_support import (
    add_campaign,
    add_customers,
    full_recipient,
    is_sql,
    issue_due_policy,
    messaging_uow,
    store,
    uow,
)


def opt_outs(container: AppContainer) -> OptOuts:
    if is_sql(container):
        return SqlOptOuts(container.adapters.session_factory())
    return InMemoryOptOuts(store(container))


def attributions(container: AppContainer) -> Attributions:
    if is_sql(container):
        return SqlAttributions(container.adapters.session_factory())
    return InMemoryAttributions(store(container))


async def decide(container: AppContainer, channel: Channel, address: str, opted_in: bool) -> None:
    async with messaging_uow(container) as unit:
        await unit.consents.put(Consent(channel=channel, address=address, opted_in=opted_in,
                                        source=ConsentSource.STOP_KEYWORD, updated_at=NOW))
        await unit.commit()


async def test_opted_out_names_the_addresses_whose_latest_decision_is_an_opt_out(container: AppContainer) -> None:
    await decide(container, Channel.SMS, "+919800000001", False)
    await decide(container, Channel.SMS, "+919800000002", True)
    await decide(container, Channel.WHATSAPP, "+919800000003", False)
    await decide(container, Channel.EMAIL, "ravi@example.in", False)
    reader = opt_outs(container)
    sms = await reader.opted_out("sms", ["+919800000001", "+919800000002", "+919800000003", "+919800000009"])
    assert sms == {"+919800000001"}  # opted back in, other channel and unknown ones are not
    assert await reader.opted_out("whatsapp", ["+919800000003", "+919800000001"]) == {"+919800000003"}
    assert await reader.opted_out("email", ["Ravi@Example.in", "other@example.in"]) == {"Ravi@Example.in"}
    assert await reader.opted_out("sms", []) == set()
    await decide(container, Channel.SMS, "+919800000001", True)
    assert await reader.opted_out("sms", ["+919800000001"]) == set()


async def _sent(container: AppContainer, channel: str, customer_id: int, address: str, sent_at: datetime,
                policy_id: int | None = None) -> tuple[int, int]:
    """A campaign of `channel` with one recipient sent at `sent_at`: (campaign id, recipient id)."""
    campaign = await add_campaign(container, channel=channel)
    async with uow(container) as unit:
        await unit.recipients.add_many([full_recipient(
            campaign.id or 0, customer_id, address=address, status=RecipientStatus.SENT, sent_at=sent_at,
            policy_id=policy_id, replied_at=None, converted_at=None, opened_at=None)])
        await unit.commit()
        page = await unit.recipients.list(campaign.id or 0, (), PageRequest(limit=10))
    return campaign.id or 0, page.items[0].id or 0


async def _recipient(container: AppContainer, recipient_id: int) -> Recipient:
    async with uow(container) as unit:
        found = await unit.recipients.get(recipient_id)
    assert found is not None
    return found


async def test_a_reply_marks_the_latest_send_to_that_address_in_the_window_once(container: AppContainer) -> None:
    (customer,) = await add_customers(container, 1)
    phone = "+919811112222"
    _, older = await _sent(container, "sms", customer, phone, NOW - timedelta(days=3))
    _, latest = await _sent(container, "sms", customer, phone, NOW - timedelta(days=1))
    _, whatsapp = await _sent(container, "whatsapp", customer, phone, NOW - timedelta(hours=1))
    _, too_old = await _sent(container, "sms", customer, "+919833334444", NOW - timedelta(days=8))
    marks = attributions(container)
    found = await marks.mark_replied("sms", phone, sent_since=NOW - timedelta(days=7), at=NOW)
    assert found is not None and found.recipient_id == latest
    assert (await _recipient(container, latest)).replied_at == NOW
    assert (await _recipient(container, older)).replied_at is None
    assert (await _recipient(container, whatsapp)).replied_at is None
    again = await marks.mark_replied("sms", phone, sent_since=NOW - timedelta(days=7), at=NOW + timedelta(hours=1))
    assert again is None and (await _recipient(container, latest)).replied_at == NOW
    assert (await _recipient(container, older)).replied_at is None  # never moves on to an older send
    assert await marks.mark_replied("sms", "+919833334444", sent_since=NOW - timedelta(days=7), at=NOW) is None
    assert (await _recipient(container, too_old)).replied_at is None


async def test_an_email_reply_matches_whatever_the_case(container: AppContainer) -> None:
    (customer,) = await add_customers(container, 1)
    _, sent = await _sent(container, "email", customer, "Asha.R@Example.in", NOW - timedelta(hours=2))
    found = await attributions(container).mark_replied("email", "asha.r@example.in",
                                                       sent_since=NOW - timedelta(days=7), at=NOW)
    assert found is not None and found.recipient_id == sent


async def test_a_conversion_credits_each_send_about_the_renewal_in_the_window_once(container: AppContainer) -> None:
    first, second = await add_customers(container, 2)
    policy, _ = await issue_due_policy(container, first)
    other_policy, _ = await issue_due_policy(container, first)
    c_email, email = await _sent(container, "email", first, "a@example.in", NOW - timedelta(days=20), policy)
    c_sms, sms = await _sent(container, "sms", first, "+919800000001", NOW - timedelta(days=2), policy)
    _, general = await _sent(container, "sms", first, "+919800000001", NOW - timedelta(days=5))  # no policy
    _, other = await _sent(container, "sms", first, "+919800000001", NOW - timedelta(days=1), other_policy)
    _, stale = await _sent(container, "email", first, "a@example.in", NOW - timedelta(days=31), policy)
    _, stranger = await _sent(container, "sms", second, "+919800000002", NOW - timedelta(days=1))
    marks = attributions(container)
    found = await marks.mark_converted(first, policy, sent_since=NOW - timedelta(days=30), at=NOW)
    assert [a.recipient_id for a in found] == [sms, general, email]  # the most recent first
    assert {a.campaign_id for a in found} >= {c_email, c_sms}
    for recipient_id in (sms, general, email):
        assert (await _recipient(container, recipient_id)).converted_at == NOW
    for recipient_id in (other, stale, stranger):
        assert (await _recipient(container, recipient_id)).converted_at is None
    assert await marks.mark_converted(first, policy, sent_since=NOW - timedelta(days=30), at=NOW) == []
    by_customer = await marks.mark_converted(first, None, sent_since=NOW - timedelta(days=30), at=NOW)
    assert [a.recipient_id for a in by_customer] == [other]
