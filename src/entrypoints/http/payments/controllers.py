"""Payment links for a case, the payments of a case, refunds.

POST /api/cases/{id}/payment-link and POST /api/cases/{id}/payments/offline (cases:write; the case must be within
the caller's scope, else 404; a closed case
409; `Idempotency-Key` as for messaging's sends); GET /api/payments?caseId= and GET /api/payments/{id}
(payments:read); POST /api/payments/{id}/refund (payments:refund). A provider that cannot be reached is a 503.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from application.identity.principal import Principal
from application.payments.errors import PaymentProviderUnavailable
from application.payments.offline import OfflinePayment, OfflinePaymentService
from application.payments.service import PaymentService
from application.payments.views import NewPaymentLink, PaymentLinkCreated, PaymentView, RefundRequest
from domain.identity.permissions import Permission as P
from domain.shared.errors import ValidationFailed
from domain.shared.ids import parse_public_id
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, Pagination, error_responses, ok, pagination_of
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import page_request
from entrypoints.http.params import Limit, Page

__all__ = ["CasePaymentLinkController", "PaymentController", "PaymentList"]

Payments = NamedDependency[PaymentService]
Caller = NamedDependency[Principal]
CaseIdent = Annotated[str, PathParameter(description="Public id such as `case-7`, or the bare number")]
PaymentIdent = Annotated[str, PathParameter(description="Public id such as `pay-3`, or the bare number")]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", description="Any unique text (a UUID): retrying with the same key and body answers the "
                                        "first link again; another body with that key is a 422")]


class PaymentList(msgspec.Struct, kw_only=True):
    payments: list[PaymentView]
    pagination: Pagination


def _payments(state: State) -> PaymentService:
    service: PaymentService = container_of(state).payments.service()
    return service


def _unavailable(exc: PaymentProviderUnavailable) -> HTTPException:
    return HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": "30"})


class CasePaymentLinkController(Controller):
    path = "/api/cases"
    tags = ["payments"]
    dependencies = {"payments": Provide(_payments, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @post("/{case_id:str}/payment-link", opt=requires(P.CASES_WRITE), status_code=201,
          responses=error_responses(404, 409, 422))
    async def create_payment_link(self, case_id: CaseIdent, data: JSONBody[NewPaymentLink], payments: Payments,
                                  principal: Caller, idempotency_key: IdempotencyKey = None,
                                  ) -> Envelope[PaymentLinkCreated]:
        """Make a hosted payment link for the case's renewal amount (or `amount`) and send it on `channel`
        (template `payment_link`); the case then becomes payment_pending. 409 for a closed or paid case, or when
        messaging refuses the channel (`link_not_sent`: opted out, no address...)."""
        try:
            created = await payments.create_link(path_id(case_id, "case"), data,
                                                 principal.visibility(P.CASES_WRITE), principal.user_id,
                                                 idempotency_key)
        except PaymentProviderUnavailable as exc:
            raise _unavailable(exc) from exc
        return ok(created)

    @post("/{case_id:str}/payments/offline", opt=requires(P.CASES_WRITE), status_code=201,
          responses=error_responses(404, 409, 422))
    async def record_offline_payment(self, case_id: CaseIdent, data: JSONBody[OfflinePayment], state: State,
                                     principal: Caller) -> Envelope[PaymentView]:
        """Record money taken at the desk (cash, cheque, transfer, card terminal, UPI) with its reference: applied
        like a provider's "paid" event (the full amount renews the policy and sends the receipt; less is flagged
        partial). The same method and reference twice is a 409; offline payments are refunded outside the system."""
        service: OfflinePaymentService = container_of(state).payments.offline()
        return ok(await service.record(path_id(case_id, "case"), data, principal.visibility(P.CASES_WRITE),
                                       principal.user_id))


class PaymentController(Controller):
    path = "/api/payments"
    tags = ["payments"]
    dependencies = {"payments": Provide(_payments, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/", opt=requires(P.PAYMENTS_READ), responses=error_responses(404, 422))
    async def list_payments(
        self, payments: Payments, principal: Caller, page: Page = 1, limit: Limit = 20,
        case_id: Annotated[str | None, QueryParameter(
            name="caseId", description="A case id (`case-7`); required unless you see every case")] = None,
    ) -> Envelope[PaymentList]:
        """Payments newest first: of one case, or (at scope all) of every case."""
        request = page_request(page, limit, None, ("createdAt",), "-createdAt")
        case: int | None = None
        if case_id is not None and case_id.strip():
            case = parse_public_id(case_id.strip(), "case")
            if case is None:
                raise ValidationFailed.on("caseId", f"'{case_id}' is not a valid case id")
        found = await payments.list(case, request, principal.visibility(P.PAYMENTS_READ))
        return ok(PaymentList(payments=found.items, pagination=pagination_of(found)))

    @get("/{payment_id:str}", opt=requires(P.PAYMENTS_READ), responses=error_responses(404))
    async def get_payment(self, payment_id: PaymentIdent, payments: Payments,
                          principal: Caller) -> Envelope[PaymentView]:
        """One payment: amounts, status, provider ids, flags and refunds."""
        return ok(await payments.get(path_id(payment_id, "pay"), principal.visibility(P.PAYMENTS_READ)))

    @post("/{payment_id:str}/refund", opt=requires(P.PAYMENTS_REFUND), status_code=200,
          responses=error_responses(404, 409, 422))
    async def refund_payment(self, payment_id: PaymentIdent, data: JSONBody[RefundRequest], payments: Payments,
                             principal: Caller) -> Envelope[PaymentView]:
        """Refund `amount` (all that is left when absent) through the provider: never more than paid less already
        refunded (422); 409 when nothing was captured."""
        try:
            refunded = await payments.refund(path_id(payment_id, "pay"), data,
                                             principal.visibility(P.PAYMENTS_REFUND), principal.user_id)
        except PaymentProviderUnavailable as exc:
            raise _unavailable(exc) from exc
        return ok(refunded)
