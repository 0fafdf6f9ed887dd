"""Opens and clicks: the token port, the links a message tracks, and recording each hit.

Links. The links a message tracks are the http(s) links written in its text before rendering, in order of first
appearance without repeats: in an email's HTML the `href` values of its anchors, in an SMS every bare URL. The
text is the one the composer sends (composer.py): the variant's content, else the variant's template, else the
campaign's content, else its template. The composer replaces link number i with a click or short-link URL whose
token carries i, never the URL (`tracked_links` / `replace_links` here, so both sides count alike). A link may use
variables (`https://pay.example.in/r?p={policy_number}`): the redirect goes to it rendered with the recipient's
values captured at launch, HTML entities such as `&amp;` decoded, and anything a URL cannot hold percent-encoded.

Hits. Every hit with a valid token is stored raw with its classification (`domain.campaigns.tracking.classify`;
the scanner timing rule measures from delivery, or from the send when no delivery was reported), the link as
written (so analytics group clicks per link, not per person). The recipient's `opened_at` / `clicked_at` are set
by the first hit from a person only; a person's click counts as an open too (images are often blocked). A
recipient still `sending` is left alone (its worker is about to save it).
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import msgspec

from application.campaigns.ports import CampaignsUnitOfWork, TrackingHit
from domain.campaigns.model import Campaign, Recipient, RecipientStatus
from domain.campaigns.render import MissingValues, render
from domain.campaigns.tracking import DEFAULT_SCANNER_WINDOW, classify
from domain.shared.clock import Clock
from domain.shared.errors import NotFound

if TYPE_CHECKING:
    from application.campaigns.composer import CampaignTemplates

__all__ = [
    "TrackingKind", "TrackingLinkNotFound", "TrackingService", "TrackingToken", "TrackingTokens", "link_target",
    "replace_links", "tracked_links",
]

MAX_USER_AGENT = 512
MAX_IP = 45  # the longest textual IPv6 address (IPv4-mapped)
_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(https?://[^"'\s<>]+)\2""", re.IGNORECASE)
_BARE_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "["}
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # RFC 3986 reserved characters and `%`: kept as written


class TrackingKind(StrEnum):
    OPEN = "open"  # the e-mail's pixel, /t/o/{token}
    CLICK = "click"  # an e-mail link, /t/c/{token}
    SHORT_LINK = "short"  # an SMS or WhatsApp link, /s/{token}


class TrackingToken(msgspec.Struct, frozen=True, kw_only=True):
    recipient_id: int
    kind: TrackingKind
    link_index: int = 0


class TrackingTokens(Protocol):
    """Signed, compact tokens naming a recipient, the kind of hit and a link index; no personal data."""

    def sign(self, recipient_id: int, kind: TrackingKind, link_index: int = 0) -> str: ...

    def verify(self, token: str) -> TrackingToken | None:
        """What the token says, or None when it is not one we signed."""
        ...


class TrackingLinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("link", "of this address")


def _bare_url(match: re.Match[str]) -> str:
    """The URL without the sentence's punctuation after it (a closing bracket only when it has no opener)."""
    url = match.group(0).rstrip(_TRAILING)
    while url and url[-1] in _CLOSERS and url.count(_CLOSERS[url[-1]]) < url.count(url[-1]):
        url = url[:-1].rstrip(_TRAILING)
    return url


def tracked_links(text: str, channel: str) -> list[str]:
    """The links a message body tracks, unique, in order of first appearance (see the module docstring)."""
    found = [m.group(3) for m in _HREF.finditer(text)] if channel == "email" else \
        [_bare_url(m) for m in _BARE_URL.finditer(text)]
    return list(dict.fromkeys(link for link in found if link))


def replace_links(text: str, channel: str, url_for: Callable[[int], str | None]) -> str:
    """`text` with each tracked link replaced by `url_for(its index)`; a link it answers None for stays."""
    index = {link: i for i, link in enumerate(tracked_links(text, channel))}
    if channel == "email":
        def href(match: re.Match[str]) -> str:
            url = url_for(index[match.group(3)])
            return match.group(0) if url is None else f"{match.group(1)}{match.group(2)}{url}{match.group(2)}"
        return _HREF.sub(href, text)

    def bare(match: re.Match[str]) -> str:
        link = _bare_url(match)
        url = url_for(index[link]) if link in index else None
        return match.group(0) if url is None else url + match.group(0)[len(link):]
    return _BARE_URL.sub(bare, text)


def link_target(link: str, channel: str, values: dict[str, str]) -> str:
    """Where a tracked link sends the recipient: its variables filled in, HTML entities decoded for email."""
    url = html.unescape(link) if channel == "email" else link
    rendered = render(url, values) if "{" in url else url
    return quote(rendered, safe=_URL_SAFE)  # spaces, line breaks and non-ASCII from values are percent-encoded


def _ip_address(raw: str | None) -> str | None:
    """The client's address in its canonical text, or None when it is not an IP address."""
    try:
        return str(ipaddress.ip_address((raw or "").strip()[:MAX_IP]))
    except ValueError:
        return None


class TrackingService:
    def __init__(self, uow: Callable[[], CampaignsUnitOfWork], clock: Clock, tokens: TrackingTokens,
                 templates: CampaignTemplates, *, scanner_window: timedelta = DEFAULT_SCANNER_WINDOW) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = tokens
        self._templates = templates
        self._scanner_window = scanner_window

    async def open(self, token: str, user_agent: str | None, ip: str | None) -> None:
        """Record an open; a token that is not ours, or of another kind, is ignored (the pixel is served anyway)."""
        found = self._tokens.verify(token)
        if found is None or found.kind is not TrackingKind.OPEN:
            return
        async with self._uow() as uow:
            recipient = await uow.recipients.get(found.recipient_id)
            if recipient is None:
                return
            await self._record(uow, recipient, "open", user_agent, ip, None)
            await uow.commit()

    async def click(self, token: str, user_agent: str | None, ip: str | None, *,
                    kind: TrackingKind = TrackingKind.CLICK) -> str:
        """Record a click (or short-link visit) and return where to redirect; an unknown link is a 404."""
        found = self._tokens.verify(token)
        if found is None or found.kind is not kind:
            raise TrackingLinkNotFound()
        async with self._uow() as uow:
            recipient = await uow.recipients.get(found.recipient_id)
            campaign = None if recipient is None else await uow.campaigns.get(recipient.campaign_id)
            if recipient is None or campaign is None:
                raise TrackingLinkNotFound()
            target, link = await self._link(campaign, recipient, found.link_index)
            await self._record(uow, recipient, "click", user_agent, ip, link)
            await uow.commit()
        return target

    async def _link(self, campaign: Campaign, recipient: Recipient, index: int) -> tuple[str, str]:
        """Where link number `index` of the recipient's message leads, and that link as written."""
        text = await self._text(campaign, recipient.variant)
        kind = "email" if campaign.channel == "email" else "sms"
        links = tracked_links(text, kind)
        if index >= len(links):
            raise TrackingLinkNotFound()
        try:
            return link_target(links[index], kind, recipient.values), links[index]
        except MissingValues:
            raise TrackingLinkNotFound() from None

    async def _text(self, campaign: Campaign, variant_name: str | None) -> str:
        """The text the composer sent this variant (or the campaign's own)."""
        own = None if campaign.template_id is None else await self._templates.get(campaign.template_id)
        variant = next((v for v in campaign.variants if v.name == variant_name), None) if variant_name else None
        chosen = None
        if variant is not None and variant.template_id is not None:
            chosen = await self._templates.get(variant.template_id)
        if variant is not None and (variant.content is not None or chosen is not None):
            content = variant.content if variant.content is not None else (chosen.content if chosen else None)
        else:
            content = campaign.content
        template = chosen or own
        return content if content is not None else (template.content if template is not None else "")

    async def _record(self, uow: CampaignsUnitOfWork, recipient: Recipient, kind: str, user_agent: str | None,
                      ip: str | None, link: str | None) -> None:
        assert recipient.id is not None
        now = self._clock.now()
        agent = (user_agent or "")[:MAX_USER_AGENT] or None
        address = _ip_address(ip)
        reason = classify(kind, agent, address, now, recipient.delivered_at or recipient.sent_at,
                          scanner_window=self._scanner_window)
        await uow.tracking.record(TrackingHit(recipient_id=recipient.id, kind=kind, at=now, user_agent=agent,
                                              ip=address, link=link, machine_reason=reason))
        if reason is not None or recipient.status == RecipientStatus.SENDING:
            return
        first_open = recipient.opened_at is None
        first_click = kind == "click" and recipient.clicked_at is None
        if first_open:
            recipient.opened_at = now
        if first_click:
            recipient.clicked_at = now
        if first_open or first_click:
            await uow.recipients.save_many([recipient])
