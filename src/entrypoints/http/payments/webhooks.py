"""Payment webhooks (POST /api/webhooks/payments/{provider}: razorpay, stripe, dev) and the dev checkout page.

Webhooks carry no token: the provider's signature is checked before anything is read (a bad signature, or a Stripe
timestamp outside the tolerance, answers 403 `invalid_signature` and stores nothing; a signed body that cannot be
read is a 400). Each event is stored once per (provider, event id) with its `payments.apply_event` job, then 200.

The dev checkout page (not in production) is what the dev gateway's links open: GET
/api/payments/dev/pay/{reference} (also /api/payments/dev-checkout/{providerLinkId or reference}) shows the link with
a "Pay" button; pressing it makes the dev gateway's signed "paid" webhook and hands it to the same webhook intake
as POST /api/webhooks/payments/dev would (in process: `make run` needs no tunnel to itself).
"""

from __future__ import annotations

import asyncio
import html
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import PathParameter

from adapters.payments.dev import DevPaymentGateway, DevPaymentLink, dev_paid_event
from application.identity.errors import PermissionDenied
from application.payments.views import WebhookReceipt
from application.payments.webhooks import PaymentWebhookService
from application.ports.payments import InvalidSignature, MalformedWebhook
from entrypoints.container import AppContainer
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import public

__all__ = ["DevCheckoutController", "PaymentWebhookController", "WebhookSignatureRejected"]

MAX_WEBHOOK_BODY = 1024 * 1024
Webhooks = NamedDependency[PaymentWebhookService]
AnyRequest = Request[Any, Any, Any]
Provider = Annotated[str, PathParameter(description="razorpay, stripe or dev")]
LinkIdent = Annotated[str, PathParameter(description="The dev link id (`dev-plink-3`) or our reference (`pay-3`)")]
_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


class WebhookSignatureRejected(PermissionDenied):
    code = "invalid_signature"

    def __init__(self, provider: str) -> None:
        super().__init__(f"The request does not carry a valid {provider} signature")


def _webhooks(state: State) -> PaymentWebhookService:
    service: PaymentWebhookService = container_of(state).payments.webhooks()
    return service


class PaymentWebhookController(Controller):
    path = "/api/webhooks/payments"
    tags = ["webhooks"]
    request_max_body_size = MAX_WEBHOOK_BODY
    dependencies = {"webhooks": Provide(_webhooks, sync_to_thread=False)}

    @post("/{provider:str}", opt=public(), status_code=200, responses=error_responses(400, 403, 404))
    async def payment_webhook(self, provider: Provider, request: AnyRequest,
                              webhooks: Webhooks) -> Envelope[WebhookReceipt]:
        """A provider's signed event: stored once, applied by the worker (payment recorded, case renewed...)."""
        raw = await request.body()
        try:
            receipt = await webhooks.accept(provider.lower(), dict(request.headers), raw)
        except InvalidSignature as exc:
            raise WebhookSignatureRejected(provider) from exc
        except MalformedWebhook as exc:
            raise HTTPException(status_code=400, detail=f"The payload cannot be used: {exc}") from exc
        return ok(receipt)


def _page(title: str, text: str, *, form: str = "", status_code: int = 200) -> Response[str]:
    body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto;"
            f"padding:0 1rem}}button{{font-size:1rem;padding:.5rem 1.5rem}}.dev{{color:#a15c00}}</style></head><body>"
            f'<p class="dev">Development checkout: nothing is charged.</p><h1>{html.escape(title)}</h1>'
            f"<p>{text}</p>{form}</body></html>")
    return Response(body, media_type=MediaType.HTML, status_code=status_code, headers=_PAGE_HEADERS)


def _not_found() -> Response[str]:
    return _page("Payment link not found", "This payment link does not exist (or not on this server).",
                 status_code=404)


async def _find(container: AppContainer, ident: str) -> DevPaymentLink | None:
    """The dev link named by its id (`dev-plink-N`) or, the latest, by our reference (`pay-N`)."""
    if container.settings.is_production:
        return None
    gateway: DevPaymentGateway = container.payments.dev_gateway()
    links = await asyncio.to_thread(gateway.links)
    return next((link for link in reversed(links) if ident in (link.id, link.reference)), None)


def _describe(link: DevPaymentLink) -> str:
    who = f" for {html.escape(link.customer_name)}" if link.customer_name else ""
    return f"{html.escape(link.description)}{who}: <strong>{html.escape(str(link.amount))} {link.currency}</strong>."


class DevCheckoutController(Controller):
    path = "/api/payments"
    tags = ["payments"]
    include_in_schema = False
    request_max_body_size = 16 * 1024

    async def _show(self, request: AnyRequest, ident: str) -> Response[str]:
        link = await _find(container_of(request.app.state), ident)
        if link is None:
            return _not_found()
        form = '<form method="post"><button type="submit">Pay</button></form>'
        return _page("Pay your renewal", _describe(link), form=form)

    async def _pay(self, request: AnyRequest, ident: str) -> Response[str]:
        container = container_of(request.app.state)
        link = await _find(container, ident)
        if link is None:
            return _not_found()
        secret: str = container.payments.dev_secret()
        headers, body = dev_paid_event(secret, link, at=container.core.clock().now())
        webhooks: PaymentWebhookService = container.payments.webhooks()
        receipt = await webhooks.accept("dev", headers, body)
        again = "" if receipt.recorded else " (it had already been paid: nothing changes)"
        back = (f'<p><a href="{html.escape(link.callback_url, quote=True)}">Back to the site</a></p>'
                if link.callback_url else "")
        return _page("Payment received", f"{_describe(link)}{again}", form=back)

    @get("/dev/pay/{ident:str}", opt=public(), media_type=MediaType.HTML)
    async def dev_pay_page(self, ident: LinkIdent, request: AnyRequest) -> Response[str]:
        """The dev gateway's link: what would be paid, and a Pay button."""
        return await self._show(request, ident)

    @post("/dev/pay/{ident:str}", opt=public(), status_code=200, media_type=MediaType.HTML)
    async def dev_pay(self, ident: LinkIdent, request: AnyRequest) -> Response[str]:
        """Pay: the dev gateway's signed "paid" webhook goes to the webhook intake."""
        return await self._pay(request, ident)

    @get("/dev-checkout/{ident:str}", opt=public(), media_type=MediaType.HTML)
    async def dev_checkout_page(self, ident: LinkIdent, request: AnyRequest) -> Response[str]:
        return await self._show(request, ident)

    @post("/dev-checkout/{ident:str}", opt=public(), status_code=200, media_type=MediaType.HTML)
    async def dev_checkout_pay(self, ident: LinkIdent, request: AnyRequest) -> Response[str]:
        return await self._pay(request, ident)
