"""Wiring of payments: links, webhooks, refunds.

The gateway new links are made with is chosen by PAYMENT_PROVIDER (razorpay | stripe | dev; the in-memory twin on
the memory container). Webhooks are accepted from every provider whose secret is configured (a deployment that
moved from Razorpay to Stripe still hears about the Razorpay links it sent), from `dev` outside production, and from
`memory` on the memory container.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from adapters.memory.payments import InMemoryPaymentGateway, InMemoryPaymentWebhooks
from adapters.memory.payments_uow import InMemoryPaymentsUnitOfWork
from adapters.payments.dev import DevPaymentGateway, DevPaymentWebhooks
from adapters.payments.razorpay import RazorpayPaymentGateway, RazorpayWebhooks
from adapters.payments.stripe import StripePaymentGateway, StripeWebhooks
from adapters.sqlalchemy.payments_uow import SqlAlchemyPaymentsUnitOfWork
from application.payments.config import PaymentsConfig
from application.payments.offline import OfflinePaymentService
from application.payments.service import PaymentService
from application.payments.webhooks import PaymentWebhookService
from application.ports.payments import PaymentWebhooks
from entrypoints.link_secrets import link_secret
from entrypoints.settings import Settings

__all__ = [
    "PaymentsMemoryAdapters", "PaymentsServices", "PaymentsSqlAdapters", "dev_payments_dir", "dev_webhook_secret",
    "payments_config", "webhook_parsers",
]


def dev_payments_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "payments"


def dev_webhook_secret(settings: Settings) -> str:
    """DEV_PAYMENT_WEBHOOK_SECRET, else a development secret kept in DATA_DIR."""
    return link_secret(settings, settings.dev_payment_webhook_secret, "payments-dev-webhook.key").decode()


def _api_base(settings: Settings) -> str:
    """The dev gateway's links are `<this>/dev/pay/<reference>`: served by the payments controller."""
    return f"{settings.public_api_url.rstrip('/')}/api/payments"


def payments_config(settings: Settings, kind: str) -> PaymentsConfig:
    provider = "memory" if kind == "memory" else settings.payment_provider
    callback = settings.payment_return_url or f"{settings.frontend_url.rstrip('/')}/paid"
    return PaymentsConfig(provider=provider, callback_url=callback,
                          default_link_hours=settings.payment_link_expiry_hours)


def _gateway_choice(settings: Settings, kind: str) -> str:
    return "memory" if kind == "memory" else settings.payment_provider


def webhook_parsers(settings: Settings, kind: str, memory: InMemoryPaymentWebhooks) -> dict[str, PaymentWebhooks]:
    parsers: dict[str, PaymentWebhooks] = {}
    if settings.razorpay_webhook_secret:
        parsers["razorpay"] = RazorpayWebhooks(settings.razorpay_webhook_secret)
    if settings.stripe_webhook_secret:
        parsers["stripe"] = StripeWebhooks(settings.stripe_webhook_secret)
    if not settings.is_production:
        parsers["dev"] = DevPaymentWebhooks(dev_webhook_secret(settings))
    if kind == "memory":
        parsers["memory"] = memory
    return parsers


class PaymentsSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...
    kind = providers.Object("sql")
    payments_uow = providers.Factory(SqlAlchemyPaymentsUnitOfWork, adapters.session_factory, core.router, core.clock)


class PaymentsMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...
    kind = providers.Object("memory")
    payments_uow = providers.Factory(InMemoryPaymentsUnitOfWork, adapters.store, core.router)


class PaymentsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # PaymentsSqlAdapters or PaymentsMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
    # the lead wires these two: the process's httpx client (open_resources) and the policies bridge
    http_client: providers.Dependency[Any] = providers.Dependency()
    renewable_cases: providers.Dependency[Any] = providers.Dependency()

    config = providers.Singleton(payments_config, core.settings, storage.kind)
    dev_gateway = providers.Singleton(DevPaymentGateway, providers.Callable(dev_payments_dir, core.settings),
                                      public_api_url=providers.Callable(_api_base, core.settings), clock=core.clock)
    dev_secret = providers.Singleton(dev_webhook_secret, core.settings)
    memory_webhooks = providers.Singleton(InMemoryPaymentWebhooks)
    gateway = providers.Selector(
        providers.Callable(_gateway_choice, core.settings, storage.kind),
        razorpay=providers.Singleton(
            RazorpayPaymentGateway, http_client, key_id=core.settings.provided.razorpay_key_id,
            key_secret=core.settings.provided.razorpay_key_secret,
            base_url=core.settings.provided.razorpay_api_base_url),
        stripe=providers.Singleton(
            StripePaymentGateway, http_client, secret_key=core.settings.provided.stripe_secret_key,
            return_url=config.provided.callback_url, clock=core.clock,
            base_url=core.settings.provided.stripe_api_base_url),
        dev=dev_gateway,
        memory=providers.Singleton(InMemoryPaymentGateway),
    )
    parsers = providers.Singleton(webhook_parsers, core.settings, storage.kind, memory_webhooks)
    service = providers.Singleton(
        PaymentService, uow=storage.payments_uow.provider, cases=renewable_cases, gateway=gateway,
        messenger=bridges.case_messenger, clock=core.clock, config=config)
    offline = providers.Singleton(OfflinePaymentService, uow=storage.payments_uow.provider, cases=renewable_cases,
                                  clock=core.clock)
    webhooks = providers.Singleton(
        PaymentWebhookService, uow=storage.payments_uow.provider, parsers=parsers, cases=renewable_cases,
        messenger=bridges.case_messenger, clock=core.clock, config=config)
