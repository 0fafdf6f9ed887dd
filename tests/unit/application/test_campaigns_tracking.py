"""Tracking: signed compact tokens, the links a body tracks, and opens / clicks recorded raw and classified, with
the recipient's first human open and click, on the in-memory campaigns unit of work."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from adapters.crypto.tracking_tokens import HmacTrackingTokens
from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.system.clock import FixedClock
from application.campaigns.composer import CampaignTemplate
from application.campaigns.tracking import (
    TrackingKind,
    TrackingService,
    TrackingToken,
    link_target,
    replace_links,
    tracked_links,
)
from domain.campaigns.model import Campaign, CampaignStatus, Recipient, RecipientStatus, Variant
from domain.shared.errors import NotFound
from tests.unit.application import campaigns_support
from tests.unit.application.campaigns_support import NOW

clock, store, uow = campaigns_support.clock, campaigns_support.store, campaigns_support.uow  # the shared fixtures

SECRET = b"tracking-test-secret-0123456789"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
EMAIL_BODY = ('<p>Dear {name}, <a href="https://pay.example.in/r?p={policy_number}&amp;src=mail">pay</a> or '
              "<a href='https://example.in/faq'>read</a>; again <a href=\"https://example.in/faq\">faq</a></p>")
TEMPLATE_BODY = '<a href="https://example.in/from-template">renew</a>'


class FakeTemplates:
    async def get(self, template_id: int) -> CampaignTemplate | None:
        return CampaignTemplate(channel="email", content=TEMPLATE_BODY) if template_id == 9 else None


@pytest.fixture
def tokens() -> HmacTrackingTokens:
    return HmacTrackingTokens(SECRET)


@pytest.fixture
def tracking(uow: Callable[[], InMemoryCampaignsUnitOfWork], clock: FixedClock,
             tokens: HmacTrackingTokens) -> TrackingService:
    return TrackingService(uow, clock, tokens, FakeTemplates())


def add_recipient(store: MemoryStore, *, channel: str = "email", content: str | None = EMAIL_BODY,
                  template_id: int | None = None, variants: list[Variant] | None = None, variant: str | None = None,
                  delivered_at: datetime | None = NOW - timedelta(minutes=5),
                  status: RecipientStatus = RecipientStatus.SENT) -> Recipient:
    campaign_id = store.next_value("campaigns.id")
    store.tables.campaigns[campaign_id] = Campaign(
        id=campaign_id, name="May", channel=channel, status=CampaignStatus.ACTIVE, content=content,
        template_id=template_id, variants=variants or [])
    recipient_id = store.next_value("campaign_recipients.id")
    recipient = Recipient(id=recipient_id, campaign_id=campaign_id, customer_id=3, address="asha@example.in",
                          status=status, variant=variant, values={"name": "Asha", "policy_number": "POL-7"},
                          sent_at=NOW - timedelta(minutes=6), delivered_at=delivered_at)
    store.tables.campaign_recipients[recipient_id] = recipient
    return recipient


def hits(store: MemoryStore) -> list[tuple[str, str | None, str | None]]:
    return [(row.hit.kind, row.hit.link, row.hit.machine_reason) for row in store.tables.tracking_hits]


def test_tokens_are_short_signed_and_carry_no_personal_data(tokens: HmacTrackingTokens) -> None:
    token = tokens.sign(1234, TrackingKind.CLICK, 3)
    assert len(token) == 22 and token.isascii() and "=" not in token
    assert tokens.verify(token) == TrackingToken(recipient_id=1234, kind=TrackingKind.CLICK, link_index=3)
    assert b"asha" not in base64.urlsafe_b64decode(token + "==")
    assert tokens.verify(tokens.sign(1234, TrackingKind.OPEN)) == TrackingToken(recipient_id=1234,
                                                                                 kind=TrackingKind.OPEN)
    flipped = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    assert tokens.verify(flipped) is None
    assert HmacTrackingTokens(b"another-secret-0123456789").verify(token) is None
    for bad in ("", token + "A", token[:-1], token[:21] + "*", "x" * 22):
        assert tokens.verify(bad) is None
    with pytest.raises(ValueError):
        tokens.sign(0, TrackingKind.OPEN)
    with pytest.raises(ValueError):
        tokens.sign(1, TrackingKind.CLICK, 256)
    with pytest.raises(ValueError):
        HmacTrackingTokens(b"short")


def test_links_are_read_and_replaced_in_one_order() -> None:
    assert tracked_links(EMAIL_BODY, "email") == ["https://pay.example.in/r?p={policy_number}&amp;src=mail",
                                                  "https://example.in/faq"]
    rewritten = replace_links(EMAIL_BODY, "email", lambda i: f"https://t.example/t/c/{i}")
    assert rewritten.count('href="https://t.example/t/c/1"') == 1 and "href='https://t.example/t/c/1'" in rewritten
    assert 'href="https://t.example/t/c/0"' in rewritten and "pay.example.in" not in rewritten
    sms = "Renew at https://pay.example.in/r/{policy_number}. FAQ: https://example.in/faq, or https://example.in/faq"
    assert tracked_links(sms, "sms") == ["https://pay.example.in/r/{policy_number}", "https://example.in/faq"]
    assert replace_links(sms, "sms", lambda i: f"https://s.example/s/{i}") == (
        "Renew at https://s.example/s/0. FAQ: https://s.example/s/1, or https://s.example/s/1")
    assert tracked_links("(see https://example.in/faq) or https://example.in/A_(b).", "whatsapp") == [
        "https://example.in/faq", "https://example.in/A_(b)"]
    assert link_target(tracked_links(EMAIL_BODY, "email")[0], "email", {"policy_number": "POL-7"}) == (
        "https://pay.example.in/r?p=POL-7&src=mail")
    assert link_target("https://x.example/r?n={name}", "sms", {"name": "Ásha R\r\nSet-Cookie: a=b"}) == (
        "https://x.example/r?n=%C3%81sha%20R%0D%0ASet-Cookie:%20a=b")


async def test_a_human_open_is_recorded_once_and_a_privacy_proxy_open_is_raw_only(
        tracking: TrackingService, tokens: HmacTrackingTokens, store: MemoryStore, clock: FixedClock) -> None:
    recipient = add_recipient(store)
    assert recipient.id is not None
    token = tokens.sign(recipient.id, TrackingKind.OPEN)
    await tracking.open(token, "Mozilla/5.0", "17.58.1.2")  # Apple Mail Privacy Protection
    assert store.tables.campaign_recipients[recipient.id].opened_at is None
    await tracking.open(token, CHROME, "203.0.113.9")
    clock.advance(timedelta(hours=1))
    await tracking.open(token, CHROME, "not an address")
    assert store.tables.campaign_recipients[recipient.id].opened_at == NOW
    assert hits(store) == [("open", None, "privacy_proxy"), ("open", None, None), ("open", None, None)]
    assert [row.hit.ip for row in store.tables.tracking_hits] == ["17.58.1.2", "203.0.113.9", None]


async def test_bad_or_foreign_open_tokens_record_nothing(tracking: TrackingService, tokens: HmacTrackingTokens,
                                                         store: MemoryStore) -> None:
    recipient = add_recipient(store)
    assert recipient.id is not None
    await tracking.open("not-a-token", CHROME, None)
    await tracking.open(tokens.sign(recipient.id, TrackingKind.CLICK), CHROME, None)
    await tracking.open(tokens.sign(recipient.id + 100, TrackingKind.OPEN), CHROME, None)
    assert store.tables.tracking_hits == []


async def test_a_scanner_click_right_after_delivery_is_not_a_human_click_and_a_later_browser_click_is(
        tracking: TrackingService, tokens: HmacTrackingTokens, store: MemoryStore, clock: FixedClock) -> None:
    recipient = add_recipient(store, delivered_at=NOW - timedelta(seconds=1))
    assert recipient.id is not None
    token = tokens.sign(recipient.id, TrackingKind.CLICK, 0)
    target = await tracking.click(token, CHROME, "198.51.100.4")
    assert target == "https://pay.example.in/r?p=POL-7&src=mail"
    saved = store.tables.campaign_recipients[recipient.id]
    assert (saved.clicked_at, saved.opened_at) == (None, None)
    clock.advance(timedelta(minutes=30))
    assert await tracking.click(tokens.sign(recipient.id, TrackingKind.CLICK, 1), CHROME, None) == (
        "https://example.in/faq")
    saved = store.tables.campaign_recipients[recipient.id]
    later = NOW + timedelta(minutes=30)
    assert (saved.clicked_at, saved.opened_at) == (later, later)  # a person's click counts as an open too
    link = "https://pay.example.in/r?p={policy_number}&amp;src=mail"
    assert hits(store) == [("click", link, "scanner"), ("click", "https://example.in/faq", None)]


async def test_clicks_without_a_link_to_follow_are_404(tracking: TrackingService, tokens: HmacTrackingTokens,
                                                       store: MemoryStore) -> None:
    recipient = add_recipient(store)
    assert recipient.id is not None
    for token in ("forged", tokens.sign(recipient.id, TrackingKind.OPEN), tokens.sign(recipient.id + 7,
                                                                                      TrackingKind.CLICK),
                  tokens.sign(recipient.id, TrackingKind.CLICK, 2), tokens.sign(recipient.id, TrackingKind.SHORT_LINK)):
        with pytest.raises(NotFound):
            await tracking.click(token, CHROME, None)
    assert store.tables.tracking_hits == []


async def test_short_links_variants_and_template_bodies(tracking: TrackingService, tokens: HmacTrackingTokens,
                                                        store: MemoryStore) -> None:
    sms = add_recipient(store, channel="sms", content="Renew: https://pay.example.in/{policy_number}.",
                        delivered_at=None)
    assert sms.id is not None
    assert await tracking.click(tokens.sign(sms.id, TrackingKind.SHORT_LINK), CHROME, None, kind=TrackingKind.SHORT_LINK
                                ) == "https://pay.example.in/POL-7"
    variants = [Variant(name="A", split_percent=50, content='<a href="https://example.in/a">a</a>'),
                Variant(name="B", split_percent=50, template_id=9)]
    first = add_recipient(store, content=None, variants=variants, variant="A")
    second = add_recipient(store, content=None, variants=variants, variant="B")
    templated = add_recipient(store, content=None, template_id=9)
    assert first.id and second.id and templated.id
    assert await tracking.click(tokens.sign(first.id, TrackingKind.CLICK), CHROME, None) == "https://example.in/a"
    for recipient in (second, templated):
        assert recipient.id is not None
        assert await tracking.click(tokens.sign(recipient.id, TrackingKind.CLICK), CHROME, None) == (
            "https://example.in/from-template")


async def test_a_recipient_still_being_sent_keeps_its_row_but_the_hit_is_stored(
        tracking: TrackingService, tokens: HmacTrackingTokens, store: MemoryStore) -> None:
    recipient = add_recipient(store, status=RecipientStatus.SENDING)
    assert recipient.id is not None
    await tracking.open(tokens.sign(recipient.id, TrackingKind.OPEN), CHROME, None)
    assert store.tables.campaign_recipients[recipient.id].opened_at is None
    assert hits(store) == [("open", None, None)]
