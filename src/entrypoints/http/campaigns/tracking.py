"""Public tracking routes (no token): the e-mail open pixel `/t/o/{token}`, click redirects `/t/c/{token}` and the
SMS / WhatsApp short links `/s/{code}`.

The pixel is always the 1x1 transparent GIF with status 200, whatever the token, and even when recording fails
(a broken image would show in the reader's mail). A click on a link that is not ours is a 404 page. Redirects are
302 (RFC 9110 section 15.4.3) with `Referrer-Policy: no-referrer`, which the browser applies to the redirected
request (Fetch, "HTTP-redirect fetch", https://fetch.spec.whatwg.org/#http-redirect-fetch), so the destination
does not see our tracking URL; nothing is cached, so every visit is counted.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

import structlog
from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import PathParameter

from application.campaigns.tracking import TrackingKind, TrackingService
from domain.shared.errors import NotFound
from entrypoints.http.deps import container_of
from entrypoints.http.guard import public

__all__ = ["PIXEL", "TrackingController"]

log = structlog.get_logger("tracking")

# GIF89a, 1x1, one transparent colour (https://www.w3.org/Graphics/GIF/spec-gif89a.txt)
PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
_NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, private", "Pragma": "no-cache",
             "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
Tracking = NamedDependency[TrackingService]
Token = Annotated[str, PathParameter(description="The signed token of the message's pixel or link")]


def _tracking(state: State) -> TrackingService:
    service: TrackingService = container_of(state).campaigns.tracking()
    return service


def _client(request: Request[Any, Any, Any]) -> tuple[str | None, str | None]:
    return request.headers.get("user-agent"), request.client.host if request.client else None


def _not_found() -> Response[str]:
    body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
            f"<title>Link not valid</title></head><body><h1>Link not valid</h1><p>{html.escape(_NOT_FOUND_TEXT)}"
            "</p></body></html>")
    return Response(body, status_code=404, media_type=MediaType.HTML, headers=_NO_STORE)


_NOT_FOUND_TEXT = "This link is not valid; it may have been cut when it was copied. Use the link in your message."


class TrackingController(Controller):
    path = "/"
    tags = ["tracking"]
    dependencies = {"tracking": Provide(_tracking, sync_to_thread=False)}

    @get("/t/o/{token:str}", opt=public(), media_type="image/gif")
    async def open_pixel(self, token: Token, request: Request[Any, Any, Any], tracking: Tracking) -> Response[bytes]:
        """The open pixel: a 1x1 transparent GIF, always (an unknown token records nothing)."""
        agent, ip = _client(request)
        try:
            await tracking.open(token, agent, ip)
        except Exception:  # the pixel must load whatever happens behind it
            log.exception("tracking_open_failed")
        return Response(PIXEL, media_type="image/gif", headers=_NO_STORE)

    @get("/t/c/{token:str}", opt=public(), status_code=302, media_type=MediaType.HTML)
    async def click(self, token: Token, request: Request[Any, Any, Any], tracking: Tracking) -> Response[Any]:
        """A tracked e-mail link: 302 to the link as the message had it; 404 for a link that is not ours."""
        return await _redirect(tracking, token, request, TrackingKind.CLICK)

    @get("/s/{code:str}", opt=public(), status_code=302, media_type=MediaType.HTML)
    async def short_link(self, code: Token, request: Request[Any, Any, Any], tracking: Tracking) -> Response[Any]:
        """An SMS or WhatsApp short link: 302 to the link the message stood for; 404 for one that is not ours."""
        return await _redirect(tracking, code, request, TrackingKind.SHORT_LINK)


async def _redirect(tracking: TrackingService, token: str, request: Request[Any, Any, Any],
                    kind: TrackingKind) -> Response[Any]:
    agent, ip = _client(request)
    try:
        target = await tracking.click(token, agent, ip, kind=kind)
    except NotFound:
        return _not_found()
    return Response(b"", status_code=302, headers={**_NO_STORE, "Location": target})
