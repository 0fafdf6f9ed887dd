"""Classifying tracking hits: privacy proxies, link scanners (by user agent and by timing), bots, and people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.campaigns.tracking import MachineReason, classify, is_apple_address

DELIVERED = datetime(2025, 5, 10, 9, 0, tzinfo=UTC)
LATER = DELIVERED + timedelta(minutes=20)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
          "Safari/537.36")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.4 Mobile/15E148 Safari/604.1")
APPLE_MAIL = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
GMAIL_PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
BING_PREVIEW = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b"
HEADLESS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/143.0.7499.4 Safari/537.36")
PERSON_IP = "203.0.113.9"


def open_hit(agent: str | None, ip: str | None = PERSON_IP) -> str | None:
    return classify("open", agent, ip, LATER, DELIVERED)


def click_hit(agent: str | None, at: datetime = LATER, delivered_at: datetime | None = DELIVERED) -> str | None:
    return classify("click", agent, PERSON_IP, at, delivered_at)


@pytest.mark.parametrize("agent", [CHROME, IPHONE_SAFARI, APPLE_MAIL, "Microsoft Office/16.0 (Windows NT 10.0)"])
def test_people_are_none(agent: str) -> None:
    assert open_hit(agent) is None
    assert click_hit(agent) is None


@pytest.mark.parametrize(("agent", "ip"), [
    ("Mozilla/5.0", PERSON_IP),  # Apple Mail Privacy Protection's bare user agent
    (APPLE_MAIL, "17.58.63.12"),  # fetched from Apple's network
    (APPLE_MAIL, "::ffff:17.1.2.3"),
    (GMAIL_PROXY, "66.249.84.1"),
    (YAHOO_PROXY, PERSON_IP),
])
def test_mail_privacy_proxy_opens(agent: str, ip: str) -> None:
    assert open_hit(agent, ip) == "privacy_proxy"


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Barracuda Sentinel)", "Mimecast-URL-Protect/1.0", "Proofpoint URL Defense",
    BING_PREVIEW, "Microsoft Safe Links", "python-requests/2.31.0", "curl/8.5.0", "Wget/1.21", "Go-http-client/2.0",
    HEADLESS,
])
def test_known_scanners_on_clicks_and_opens_even_much_later(agent: str) -> None:
    assert click_hit(agent, at=DELIVERED + timedelta(days=2)) == "scanner"
    assert open_hit(agent) == "scanner"


def test_the_issue_scenario_a_click_one_second_after_delivery_is_a_scanner_a_later_one_a_person() -> None:
    assert click_hit(CHROME, at=DELIVERED + timedelta(seconds=1)) == "scanner"
    assert click_hit(CHROME, at=DELIVERED + timedelta(minutes=5)) is None


def test_the_scanner_window_edges() -> None:
    assert click_hit(CHROME, at=DELIVERED + timedelta(seconds=9.999)) == "scanner"
    assert click_hit(CHROME, at=DELIVERED + timedelta(seconds=10)) is None
    assert click_hit(CHROME, at=DELIVERED - timedelta(seconds=30)) == "scanner"  # scanned before the receipt
    assert classify("click", CHROME, PERSON_IP, DELIVERED + timedelta(seconds=20), DELIVERED,
                    scanner_window=timedelta(seconds=30)) == "scanner"


def test_without_a_delivery_time_timing_cannot_tell() -> None:
    assert click_hit(CHROME, at=DELIVERED, delivered_at=None) is None


def test_opens_right_after_delivery_are_people() -> None:
    assert classify("open", CHROME, PERSON_IP, DELIVERED + timedelta(seconds=1), DELIVERED) is None


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Slackbot-LinkExpanding 1.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5", "SomeCrawler/1.0", "WhatsApp/2.17.190 A",
    "Mozilla/5.0 (compatible; MJ12bot/v1.4.8)", "baiduspider",
])
def test_bot_user_agents(agent: str) -> None:
    assert click_hit(agent) == "bot_user_agent"
    assert open_hit(agent) == "bot_user_agent"


@pytest.mark.parametrize("agent", [None, "", "   "])
def test_no_user_agent_is_a_bot(agent: str | None) -> None:
    assert click_hit(agent) == "bot_user_agent"


def test_a_bare_mozilla_click_is_a_bot_and_an_apple_address_click_a_person() -> None:
    assert click_hit("Mozilla/5.0") == "bot_user_agent"
    assert classify("click", CHROME, "17.5.7.9", LATER, DELIVERED) is None


def test_reasons_are_plain_strings() -> None:
    reason = open_hit(GMAIL_PROXY)
    assert reason == MachineReason.PRIVACY_PROXY and isinstance(reason, str)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="open or a click"):
        classify("bounce", CHROME, PERSON_IP, LATER, DELIVERED)
    with pytest.raises(ValueError, match="timezone-aware"):
        classify("click", CHROME, PERSON_IP, LATER.replace(tzinfo=None), DELIVERED)


@pytest.mark.parametrize(("ip", "apple"), [
    ("17.0.0.0", True), ("17.255.255.255", True), ("16.255.255.255", False), ("18.0.0.1", False),
    ("::ffff:17.0.0.1", True), ("2001:db8::1", False), ("not an ip", False), (None, False), ("", False),
])
def test_apple_addresses(ip: str | None, apple: bool) -> None:
    assert is_apple_address(ip) is apple


@given(seconds=st.floats(min_value=-3600, max_value=86_400, allow_nan=False))
def test_a_browser_click_is_a_scanner_exactly_inside_the_window(seconds: float) -> None:
    at = DELIVERED + timedelta(seconds=seconds)
    expected = "scanner" if at < DELIVERED + timedelta(seconds=10) else None
    assert click_hit(CHROME, at=at) == expected
