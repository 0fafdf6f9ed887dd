"""Consent use cases on the in-memory unit of work: defaults, manual decisions, one-click unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.crypto.unsubscribe_tokens import HmacUnsubscribeTokens
from adapters.memory.messaging import InMemoryCustomerDirectory
from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser
from adapters.system.clock import FixedClock
from application.messaging.consent import ConsentService, InvalidUnsubscribeLink
from application.messaging.consent_views import SetConsent
from application.shared.events import EventRouter
from domain.messaging.model import Channel, Consent, ConsentSource
from domain.policies.model import Customer
from domain.shared.errors import NotFound, ValidationFailed

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TOKENS = HmacUnsubscribeTokens(b"0123456789abcdef0123456789abcdef")


class Desk:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.store = MemoryStore(self.clock)
        customers = self.store.tables.customers
        customers[1] = Customer(customer_code="C-1", first_name="Asha", last_name="Rao", email="asha@example.in",
                                phone="+919876543210", id=1)
        customers[2] = Customer(customer_code="C-2", first_name="Ravi", last_name="K", email="ravi@example.in",
                                phone=None, id=2, communication_preferences={"email": False, "whatsapp": True})
        self.service = ConsentService(lambda: InMemoryMessagingUnitOfWork(self.store, EventRouter()), self.clock,
                                      TOKENS, InMemoryCustomerDirectory(self.store),
                                      phones=PhonenumbersPhoneNormaliser("IN"))

    def stored(self, channel: Channel, address: str) -> Consent | None:
        return self.store.tables.consents.get((channel.value, address))


@pytest.fixture
def desk() -> Desk:
    return Desk()


async def test_without_a_decision_the_default_applies(desk: Desk) -> None:
    email = await desk.service.get("email", " Asha@Example.IN ")
    assert (email.address, email.customer_id, email.opted_in, email.source, email.updated_at) == (
        "asha@example.in", "customer-1", True, "default", None)
    whatsapp = await desk.service.get("whatsapp", "98765 43210")
    assert (whatsapp.address, whatsapp.opted_in, whatsapp.source) == ("+919876543210", False, "default")
    assert whatsapp.reason is not None and "explicit opt-in" in whatsapp.reason
    stated = await desk.service.get("email", "ravi@example.in")  # the upload's preferences say no
    assert (stated.opted_in, stated.source, stated.customer_id) == (False, "default", "customer-2")
    stranger = await desk.service.get("sms", "+14155550100")
    assert (stranger.opted_in, stranger.customer_id) == (True, None)


async def test_a_desk_user_sets_a_decision_by_customer_or_address(desk: Desk) -> None:
    view = await desk.service.set(SetConsent(channel="whatsapp", customer_id="customer-1", opted_in=True,
                                             reason=" Asked on the phone "), user_id=7)
    assert (view.address, view.customer_id, view.opted_in, view.source, view.reason, view.updated_at) == (
        "+919876543210", "customer-1", True, "manual", "Asked on the phone", NOW)
    assert (await desk.service.get("whatsapp", "+919876543210")).opted_in is True
    by_address = await desk.service.set(SetConsent(channel="email", address="ASHA@example.in", opted_in=False),
                                        user_id=7)
    assert (by_address.address, by_address.customer_id) == ("asha@example.in", "customer-1")
    stored = desk.stored(Channel.EMAIL, "asha@example.in")
    assert stored is not None and (stored.opted_in, stored.source) == (False, ConsentSource.MANUAL)


@pytest.mark.parametrize(("cmd", "fields"), [
    (SetConsent(channel="fax", address="x", opted_in=True), {"channel"}),
    (SetConsent(channel="sms", opted_in=True), {"address"}),
    (SetConsent(channel="sms", customer_id="policy-1", opted_in=True, reason="x" * 501), {"customerId", "reason"}),
    (SetConsent(channel="email", address="not-an-address", opted_in=True), {"address"}),
    (SetConsent(channel="sms", customer_id="customer-2", opted_in=True), {"customerId"}),  # no phone on file
])
async def test_invalid_decisions_name_every_bad_field_and_store_nothing(
        desk: Desk, cmd: SetConsent, fields: set[str]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await desk.service.set(cmd, user_id=7)
    assert {detail.field for detail in raised.value.details} == fields
    assert desk.store.tables.consents == {}


async def test_unknown_customers_are_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound):
        await desk.service.set(SetConsent(channel="sms", customer_id="customer-99", opted_in=True), user_id=7)
    with pytest.raises(NotFound):
        await desk.service.list_for_customer(99)


async def test_one_click_unsubscribe_opts_the_address_out(desk: Desk) -> None:
    token = TOKENS.sign("email", "asha@example.in")
    before = await desk.service.unsubscribe_target(token)
    assert (before.opted_in, before.source) == (True, "default")
    view = await desk.service.unsubscribe(token)
    assert (view.opted_in, view.source, view.customer_id, view.updated_at) == (
        False, "unsubscribe_link", "customer-1", NOW)
    desk.clock.advance(timedelta(minutes=5))
    again = await desk.service.unsubscribe(token)  # mail clients and people click twice: nothing changes
    assert (again.source, again.updated_at) == ("unsubscribe_link", NOW)


async def test_an_earlier_opt_out_keeps_its_source_when_the_link_is_used(desk: Desk) -> None:
    bounced = Consent(channel=Channel.EMAIL, address="asha@example.in", opted_in=False, source=ConsentSource.BOUNCE,
                      reason="General", updated_at=NOW - timedelta(days=1))
    desk.store.tables.consents[("email", "asha@example.in")] = bounced
    view = await desk.service.unsubscribe(TOKENS.sign("email", "asha@example.in"))
    assert (view.source, view.reason) == ("bounce", "General")


@pytest.mark.parametrize("token", ["", "nonsense", TOKENS.sign("email", "asha@example.in")[:-3] + "abc",
                                   TOKENS.sign("pigeon", "asha@example.in")])
async def test_invalid_links_are_not_found(desk: Desk, token: str) -> None:
    with pytest.raises(InvalidUnsubscribeLink):
        await desk.service.unsubscribe(token)
    with pytest.raises(NotFound):
        await desk.service.unsubscribe_target(token)
    assert desk.store.tables.consents == {}


async def test_a_customer_s_consents_per_channel_with_an_address(desk: Desk) -> None:
    await desk.service.set(SetConsent(channel="sms", customer_id="1", opted_in=False, reason="asked"), user_id=7)
    views = await desk.service.list_for_customer(1)
    assert [(v.channel, v.address, v.opted_in, v.source) for v in views] == [
        ("email", "asha@example.in", True, "default"), ("sms", "+919876543210", False, "manual"),
        ("whatsapp", "+919876543210", False, "default")]
    assert [v.channel for v in await desk.service.list_for_customer(2)] == ["email"]  # no phone on file
