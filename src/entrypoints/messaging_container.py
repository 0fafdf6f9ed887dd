"""Wiring of the messaging context: templates, sending, delivery, inbound provider events, consent."""

from __future__ import annotations

from datetime import time

from dependency_injector import containers, providers

from adapters.crypto.unsubscribe_tokens import HmacUnsubscribeTokens
from adapters.webhooks.sns_signature import SnsMessageVerifier, httpx_certificate_fetcher
from application.messaging.config import MessagingConfig
from application.messaging.consent import ConsentService
from application.messaging.consent_policy import ConsentPolicy
from application.messaging.delivery import DeliveryService
from application.messaging.inbound import InboundService
from application.messaging.sending import SendingService
from application.messaging.templates import TemplateService
from application.messaging.whatsapp_sync import WhatsAppTemplateSync
from application.ports.rate_limits import RateLimit
from entrypoints.bridges import PolicyCaseGate
from entrypoints.http.messaging.webhook_secrets import SnsVerifier, WebhookSecrets
from entrypoints.link_secrets import link_secret
from entrypoints.settings import Settings

__all__ = ["MessagingServices", "messaging_config", "provider_names", "unsubscribe_tokens"]

def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def messaging_config(settings: Settings) -> MessagingConfig:
    return MessagingConfig(
        quiet_start=_clock_time(settings.quiet_hours_start), quiet_end=_clock_time(settings.quiet_hours_end),
        default_timezone=settings.business_timezone,
        email_limit=RateLimit(rate=settings.email_rate_per_second, burst=1),
        sms_limit=RateLimit(rate=settings.sms_rate_per_second, burst=1), sms_senders=settings.sms_sender_count,
        whatsapp_limit=RateLimit(rate=settings.whatsapp_rate_per_second, burst=1),
        max_attempts=settings.message_max_attempts, sms_dlt_entity_id=settings.sms_dlt_entity_id,
        public_base_url=settings.public_api_url,
        email_from=settings.ses_from_email if settings.email_provider == "ses" else settings.smtp_from_email)


def unsubscribe_tokens(settings: Settings) -> HmacUnsubscribeTokens:
    """UNSUBSCRIBE_SECRET, else a development secret in DATA_DIR/unsubscribe.key (`link_secret`)."""
    return HmacUnsubscribeTokens(link_secret(settings, settings.unsubscribe_secret, "unsubscribe.key"))


def provider_names(settings: Settings) -> dict[str, str]:
    """Each channel's provider, naming the shared rate-limit buckets (`<channel>:<provider>`)."""
    return {"email": settings.email_provider, "sms": settings.sms_provider, "whatsapp": settings.whatsapp_provider}


def _webhook_secrets(settings: Settings, sns_verifier: SnsVerifier) -> WebhookSecrets:
    return WebhookSecrets(
        public_base_url=settings.public_api_url,
        twilio_auth_tokens=tuple(token for token in (settings.twilio_auth_token,) if token),
        whatsapp_app_secret=settings.whatsapp_app_secret or "",
        whatsapp_verify_token=settings.whatsapp_webhook_verify_token or "", sns_verifier=sns_verifier)


class MessagingServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # messaging_uow, customer_directory
    outside = providers.DependenciesContainer()  # email_sender, arq_pool
    providers_ = providers.DependenciesContainer()  # MessagingProviders
    policies = providers.DependenciesContainer()  # Application: cases (a reminder of a closed case is dropped)
    sns_verifier = providers.Singleton(
        SnsMessageVerifier, providers.Callable(httpx_certificate_fetcher, providers_.http_client), clock=core.clock)

    config = providers.Singleton(messaging_config, core.settings)
    tokens = providers.Singleton(unsubscribe_tokens, core.settings)
    unsubscribe_tokens = tokens
    consent_policy = providers.Singleton(ConsentPolicy)
    templates = providers.Singleton(TemplateService, uow=adapters.messaging_uow.provider, clock=core.clock)
    sending = providers.Singleton(
        SendingService, uow=adapters.messaging_uow.provider, clock=core.clock, directory=adapters.customer_directory,
        phones=core.phones, config=config, consent=consent_policy, tokens=tokens)
    delivery = providers.Singleton(
        DeliveryService, uow=adapters.messaging_uow.provider, clock=core.clock, email=outside.email_sender,
        sms=providers_.sms_sender, whatsapp=providers_.whatsapp_sender, limiter=providers_.rate_limiter,
        config=config, consent=consent_policy, directory=adapters.customer_directory,
        provider_names=providers.Callable(provider_names, core.settings),
        cases=providers.Singleton(PolicyCaseGate, policies.cases))
    inbound = providers.Singleton(InboundService, adapters.messaging_uow.provider, core.clock,
                                  adapters.customer_directory)
    consents = providers.Singleton(ConsentService, adapters.messaging_uow.provider, core.clock, tokens,
                                   adapters.customer_directory, phones=core.phones)
    whatsapp_sync = providers.Singleton(WhatsAppTemplateSync, adapters.messaging_uow.provider,
                                        providers_.whatsapp_catalogue, core.clock)
    webhook_secrets = providers.Singleton(_webhook_secrets, core.settings, sns_verifier)

