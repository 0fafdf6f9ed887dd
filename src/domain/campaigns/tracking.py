"""Whether a tracking hit (an open pixel or a click redirect) came from a person, or why it did not.

Every hit is stored raw; `classify` gives the reason a hit is machine-made, or None for a person. Rules, first
match wins:

1. No user agent at all: `bot_user_agent` (browsers and mail clients always send one).
2. Opens only, mail privacy proxies (`privacy_proxy`), which fetch images whether or not anyone reads the mail:
   - Apple Mail Privacy Protection: the user agent is exactly `Mozilla/5.0`, nothing more (observed since
     2021-09-20, https://github.com/ua-parser/uap-core/issues/509), or the address is in Apple's 17.0.0.0/8. Apple
     Mail itself without MPP sends a full `Mozilla/5.0 (Macintosh; ...) AppleWebKit/605.1.15 (KHTML, like Gecko)`
     (https://github.com/ua-parser/uap-core/issues/528) and counts as a person. MPP's proxies are iCloud Private
     Relay's (https://wordtothewise.com/2021/09/apple-mpp-reporting-and-geolocation/), whose egress addresses are
     not all Apple's own: the bare user agent is the stronger signal.
   - Gmail: `Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)`
     (https://github.com/browscap/browscap/issues/1108, https://github.com/faisalman/ua-parser-js/issues/494).
   - Yahoo: `YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html` (same ua-parser-js issue,
     https://github.com/ua-parser/uap-core/pull/333).
3. Known link scanners and HTTP tools, opens and clicks (`scanner`): Barracuda, Mimecast, Proofpoint, Microsoft's
   `BingPreview` (`Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/534+ (KHTML, like Gecko) BingPreview/1.0b`,
   https://github.com/monperrus/crawler-user-agents/issues/36), `Safe Links` / `SafeLinks` (no documented user
   agent was found: Microsoft's Safe Links detonation mostly looks like a browser and is caught by rule 4),
   python-requests, curl, wget, Go-http-client and headless Chrome (`HeadlessChrome/<version>`,
   https://github.com/fnando/browser/issues/562).
4. Clicks only: a click before `delivered_at + scanner_window` (10 seconds by default) is a `scanner`. Security
   gateways fetch every link at delivery with ordinary browser user agents, so timing is the signal that catches
   them (https://github.com/mautic/mautic/issues/16263); a click timed before the delivery receipt is a gateway
   scanning before handing the mail over. Without a delivery time (SMS without receipts) this rule is skipped.
5. A user agent containing bot, crawler, spider or preview (Googlebot, Slackbot, SkypeUriPreview), WhatsApp's
   link previewer (`WhatsApp/2.17.190 A`, https://github.com/monperrus/crawler-user-agents/pull/33,
   https://github.com/allinurl/goaccess/issues/808), or a bare `Mozilla/5.0` on a click (no browser sends that):
   `bot_user_agent`.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["DEFAULT_SCANNER_WINDOW", "MachineReason", "classify", "is_apple_address"]

DEFAULT_SCANNER_WINDOW = timedelta(seconds=10)
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")


class MachineReason(StrEnum):
    PRIVACY_PROXY = "privacy_proxy"
    SCANNER = "scanner"
    BOT_USER_AGENT = "bot_user_agent"


_BARE_MOZILLA = "Mozilla/5.0"
_MAIL_PROXIES = re.compile(r"GoogleImageProxy|YahooMailProxy", re.IGNORECASE)
_SCANNERS = re.compile(
    r"Barracuda|Mimecast|Proofpoint|BingPreview|Safe ?Links|python-requests|\bcurl/|\bWget/|Go-http-client"
    r"|HeadlessChrome",
    re.IGNORECASE,
)
_BOTS = re.compile(r"bot|crawler|spider|preview|WhatsApp/", re.IGNORECASE)


def classify(kind: str, user_agent: str | None, ip: str | None, at: datetime, delivered_at: datetime | None,
             *, scanner_window: timedelta = DEFAULT_SCANNER_WINDOW) -> str | None:
    """None when a person made the hit; else `privacy_proxy`, `scanner` or `bot_user_agent` (see the module)."""
    if kind not in ("open", "click"):
        raise ValueError(f"a tracking hit is an open or a click, not {kind!r}")
    if at.tzinfo is None or (delivered_at is not None and delivered_at.tzinfo is None):
        raise ValueError("tracking times must be timezone-aware")
    agent = (user_agent or "").strip()
    if not agent:
        return MachineReason.BOT_USER_AGENT
    if kind == "open" and (agent == _BARE_MOZILLA or _MAIL_PROXIES.search(agent) or is_apple_address(ip)):
        return MachineReason.PRIVACY_PROXY
    if _SCANNERS.search(agent):
        return MachineReason.SCANNER
    if kind == "click" and delivered_at is not None and at < delivered_at + scanner_window:
        return MachineReason.SCANNER
    if agent == _BARE_MOZILLA or _BOTS.search(agent):
        return MachineReason.BOT_USER_AGENT
    return None


def is_apple_address(ip: str | None) -> bool:
    """Whether `ip` (IPv4, or IPv4 mapped into IPv6) is in Apple's 17.0.0.0/8; False for anything unparseable."""
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in APPLE_NETWORK
