"""One-click unsubscribe (/api/unsubscribe/{token}, no token needed) and the desk's consent API
(/api/communication/consents).

RFC 8058 (https://www.rfc-editor.org/rfc/rfc8058): an e-mail carries `List-Unsubscribe: <https://.../api/unsubscribe/
TOKEN>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; the mailbox provider then POSTs the form body
`List-Unsubscribe=One-Click` to that URL, without cookies or credentials, and the POST alone must unsubscribe.
A GET must change nothing (link scanners and previews follow links): it shows a page whose button POSTs.
"""

from __future__ import annotations

import html
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter, QueryParameter

from application.identity.principal import Principal
from application.messaging.consent import ConsentService, InvalidUnsubscribeLink
from application.messaging.consent_views import ConsentView, SetConsent
from domain.identity.permissions import Permission as P
from domain.messaging.model import Channel
from domain.shared.errors import ValidationFailed
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, public, requires
from entrypoints.http.ids import path_id

__all__ = ["ConsentController", "ConsentList", "UnsubscribeController"]

Consents = NamedDependency[ConsentService]
Caller = NamedDependency[Principal]
Token = Annotated[str, PathParameter(description="The token of the unsubscribe link")]
ChannelQ = Annotated[str | None, QueryParameter(description="`email`, `sms` or `whatsapp`")]
AddressQ = Annotated[str | None, QueryParameter(description="The e-mail address or phone number")]
CustomerQ = Annotated[str | None, QueryParameter(description="`customer-3`: the customer's consents per channel")]
_CHANNEL_NAMES = {"email": "e-mails", "sms": "text messages", "whatsapp": "WhatsApp messages"}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


class ConsentList(msgspec.Struct, kw_only=True):
    consents: list[ConsentView]


def _consents(state: State) -> ConsentService:
    service: ConsentService = container_of(state).messaging.consents()
    return service


def _masked(address: str) -> str:
    """`as***@example.in` / `+91******3210`: enough for its owner to recognise, little for anyone else."""
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:2]}***@{domain}"
    return address[:3] + "*" * max(0, len(address) - 7) + address[-4:]


def _page(title: str, text: str, *, button: bool = False, status_code: int = 200) -> Response[str]:
    form = ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form>') if button else ""
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto;"
            f"padding:0 1rem}}button{{font-size:1rem;padding:.5rem 1.5rem}}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>")
    return Response(body, media_type=MediaType.HTML, status_code=status_code, headers=_PAGE_HEADERS)


def _invalid_page() -> Response[str]:
    return _page("Link not valid", "This unsubscribe link is not valid; it may have been cut when it was copied. "
                 "Use the link in the message you received.", status_code=404)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


class UnsubscribeController(Controller):
    path = "/api/unsubscribe"
    tags = ["consent"]
    request_max_body_size = 16 * 1024
    dependencies = {"consents": Provide(_consents, sync_to_thread=False)}

    @get("/{token:str}", opt=public(), media_type=MediaType.HTML, responses=error_responses(404))
    async def unsubscribe_page(self, token: Token, consents: Consents) -> Response[str]:
        """A page that asks to confirm; it changes nothing (mail scanners open links)."""
        try:
            view = await consents.unsubscribe_target(token)
        except InvalidUnsubscribeLink:
            return _invalid_page()
        what = _CHANNEL_NAMES.get(view.channel, view.channel)
        if not view.opted_in:
            return _page("You are unsubscribed", f"{_masked(view.address)} no longer receives our {what}.")
        return _page("Unsubscribe", f"Stop sending {what} to {_masked(view.address)}? Messages about payments you "
                     "make are still sent.", button=True)

    @post("/{token:str}", opt=public(), status_code=200, responses=error_responses(404))
    async def unsubscribe(self, token: Token, request: Request[Any, Any, Any], consents: Consents) -> Response[Any]:
        """RFC 8058 one-click unsubscribe (body `List-Unsubscribe=One-Click`, or the page's button). JSON when
        asked for (`Accept: application/json`), else a page."""
        try:
            view = await consents.unsubscribe(token)
        except InvalidUnsubscribeLink:
            if _wants_json(request):
                raise
            return _invalid_page()
        if _wants_json(request):
            return Response(ok(view), media_type=MediaType.JSON)
        what = _CHANNEL_NAMES.get(view.channel, view.channel)
        return _page("You are unsubscribed", f"{_masked(view.address)} no longer receives our {what}.")


class ConsentController(Controller):
    path = "/api/communication/consents"
    tags = ["consent"]
    dependencies = {"consents": Provide(_consents, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/", opt=requires(P.CUSTOMERS_READ), responses=error_responses(404, 422))
    async def get_consents(self, consents: Consents, channel: ChannelQ = None, address: AddressQ = None,
                           customer: CustomerQ = None) -> Envelope[ConsentList]:
        """`?channel=&address=`: that recipient's decision (or the default that applies, source `default`);
        `?customer=customer-3` (optionally with `channel`): the customer's, per channel they have an address on."""
        if customer is not None:
            found = await consents.list_for_customer(path_id(customer, "customer"))
            if channel:
                found = [view for view in found if view.channel == channel.strip().lower()]
            return ok(ConsentList(consents=found))
        if not channel or not address:
            missing = [name for name, value in (("channel", channel), ("address", address)) if not value]
            raise ValidationFailed.on(missing[0], "give channel and address, or customer")
        kind = channel.strip().lower()
        if kind not in {c.value for c in Channel}:
            raise ValidationFailed.on("channel", f"must be one of: {', '.join(c.value for c in Channel)}")
        return ok(ConsentList(consents=[await consents.get(kind, address)]))

    @put("/", opt=requires(P.CUSTOMERS_WRITE), status_code=200, responses=error_responses(404, 422))
    async def set_consent(self, data: JSONBody[SetConsent], consents: Consents,
                          principal: Caller) -> Envelope[ConsentView]:
        """Record a recipient's decision for one channel (source `manual`): by `address`, or by `customerId`
        (their e-mail for email, their phone for sms and whatsapp)."""
        return ok(await consents.set(data, principal.user_id))
