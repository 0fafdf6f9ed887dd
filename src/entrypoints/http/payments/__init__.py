"""HTTP controllers of the payments area; `ROUTES` is what the app registers."""

from __future__ import annotations

from typing import Any

from entrypoints.http.payments.controllers import CasePaymentLinkController, PaymentController
from entrypoints.http.payments.webhooks import DevCheckoutController, PaymentWebhookController

__all__ = ["ROUTES"]

ROUTES: list[Any] = [CasePaymentLinkController, PaymentController, PaymentWebhookController, DevCheckoutController]
