"""The outside world of messaging: SMS and WhatsApp senders, Meta's template catalogue, the shared rate limiter.

Each sender is chosen by its setting (SMS_PROVIDER, WHATSAPP_PROVIDER); `dev` writes JSON lines under
DATA_DIR/messages for a person to read. The HTTP client and the SNS client are opened per process by
`entrypoints.resources.open_resources` and injected here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from adapters.aws.sns_sms_sender import SnsSmsSender
from adapters.dev.file_sms_sender import FileSmsSender
from adapters.dev.file_whatsapp_sender import FileWhatsAppSender, StaticTemplateCatalogue
from adapters.memory.token_bucket import InMemoryTokenBucket
from adapters.redis.token_bucket import RedisTokenBucket
from adapters.twilio.sms_sender import TwilioSmsSender
from adapters.whatsapp.cloud_api_sender import CloudApiWhatsAppSender
from adapters.whatsapp.template_catalogue import CloudApiTemplateCatalogue
from application.ports.whatsapp import ApprovedTemplate
from entrypoints.settings import Settings

__all__ = ["DEV_WHATSAPP_TEMPLATES", "MessagingProviders", "dev_messages_dir", "twilio_status_callback"]


def dev_messages_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "messages"


def twilio_status_callback(settings: Settings) -> str:
    return f"{settings.public_api_url.rstrip('/')}/api/webhooks/twilio/status"


def _queue_backend(settings: Settings) -> str:
    return "arq" if settings.redis_url else "memory"


def _body(text: str) -> list[dict[str, object]]:
    return [{"type": "BODY", "text": text}]


# what `make run` pretends Meta approved: the starter library's WhatsApp reminders, with numbered parameters
DEV_WHATSAPP_TEMPLATES = (
    ApprovedTemplate(provider_id="dev-1", name="renewal_reminder", language="en", category="UTILITY",
                     status="approved", components=_body("Dear {{1}}, your policy {{2}} is due for renewal on {{3}}.")),
    ApprovedTemplate(provider_id="dev-2", name="payment_link", language="en", category="UTILITY",
                     status="approved", components=_body("Dear {{1}}, renew policy {{2}} here: {{3}}")),
    ApprovedTemplate(provider_id="dev-3", name="payment_received", language="en", category="UTILITY",
                     status="approved", components=_body("Thank you {{1}}: we received {{2}} for policy {{3}}.")),
)


class MessagingProviders(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    outside = providers.DependenciesContainer()  # arq_pool (Redis) for the shared rate limiter
    # overridden with providers.Object(...) by open_resources
    http_client: providers.Dependency[Any] = providers.Dependency()
    sns_client: providers.Dependency[Any] = providers.Dependency()

    sms_sender = providers.Selector(
        core.settings.provided.sms_provider,
        twilio=providers.Singleton(
            TwilioSmsSender, http_client, account_sid=core.settings.provided.twilio_account_sid,
            auth_token=core.settings.provided.twilio_auth_token,
            messaging_service_sid=core.settings.provided.twilio_messaging_service_sid,
            from_number=core.settings.provided.twilio_from_number,
            status_callback_url=providers.Callable(twilio_status_callback, core.settings),
            base_url=core.settings.provided.twilio_api_base_url),
        sns=providers.Singleton(SnsSmsSender, sns_client, sender_id=core.settings.provided.sms_sender_id),
        dev=providers.Singleton(FileSmsSender, providers.Callable(dev_messages_dir, core.settings), core.clock),
    )
    whatsapp_sender = providers.Selector(
        core.settings.provided.whatsapp_provider,
        cloud=providers.Singleton(
            CloudApiWhatsAppSender, http_client, access_token=core.settings.provided.whatsapp_access_token,
            phone_number_id=core.settings.provided.whatsapp_phone_number_id,
            api_version=core.settings.provided.whatsapp_api_version,
            base_url=core.settings.provided.whatsapp_api_base_url),
        dev=providers.Singleton(FileWhatsAppSender, providers.Callable(dev_messages_dir, core.settings), core.clock),
    )
    whatsapp_catalogue = providers.Selector(
        core.settings.provided.whatsapp_provider,
        cloud=providers.Singleton(
            CloudApiTemplateCatalogue, http_client, access_token=core.settings.provided.whatsapp_access_token,
            business_account_id=core.settings.provided.whatsapp_business_account_id,
            api_version=core.settings.provided.whatsapp_api_version,
            base_url=core.settings.provided.whatsapp_api_base_url),
        dev=providers.Singleton(StaticTemplateCatalogue, providers.Object(DEV_WHATSAPP_TEMPLATES)),
    )
    rate_limiter = providers.Selector(
        providers.Callable(_queue_backend, core.settings),
        arq=providers.Singleton(RedisTokenBucket, outside.arq_pool),
        memory=providers.Singleton(InMemoryTokenBucket),
    )
