"""Wiring of the campaigns context: the API services, the sending engine, tracking and the A/B decider."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.crypto.tracking_tokens import HmacTrackingTokens
from adapters.crypto.unsubscribe_links import SignedUnsubscribeLinks
from adapters.dev.reference_lookup import ReferenceLookup
from adapters.system.provider_lookup import UnanswerableLookup
from application.campaigns.ab_decider import AbDecider
from application.campaigns.analytics import AnalyticsService
from application.campaigns.attribution import AttributionService
from application.campaigns.composer import TrackingLinks
from application.campaigns.config import CampaignsConfig
from application.campaigns.engine import CampaignEngine
from application.campaigns.engine_config import EngineConfig, QuietWindow
from application.campaigns.segments import SegmentService
from application.campaigns.service import CampaignService, CatalogOfTemplates
from application.campaigns.tracking import TrackingService
from application.messaging.config import MessagingConfig
from domain.messaging.model import Channel
from entrypoints.link_secrets import link_secret
from entrypoints.messaging_container import provider_names
from entrypoints.settings import Settings

__all__ = ["CampaignsServices", "campaigns_config", "engine_config"]


def campaigns_config(settings: Settings) -> CampaignsConfig:
    return CampaignsConfig(public_base_url=settings.public_api_url)


def engine_config(settings: Settings, messaging: MessagingConfig) -> EngineConfig:
    """The engine draws from the messaging buckets with the messaging limits (the SMS one per sender number)."""
    return EngineConfig(
        batch_size=settings.campaign_batch_size, lease_seconds=settings.campaign_lease_seconds,
        stall_seconds=settings.campaign_stall_seconds, job_seconds=settings.campaign_job_seconds,
        email_limit=messaging.limit_for(Channel.EMAIL), sms_limit=messaging.limit_for(Channel.SMS),
        whatsapp_limit=messaging.limit_for(Channel.WHATSAPP),
        quiet_hours=QuietWindow(start=messaging.quiet_start, end=messaging.quiet_end,
                                default_timezone=messaging.default_timezone),
        email_from=messaging.email_from, sms_dlt_entity_id=messaging.sms_dlt_entity_id)


def tracking_tokens(settings: Settings) -> HmacTrackingTokens:
    return HmacTrackingTokens(link_secret(settings, settings.tracking_secret, "tracking.key"))


def _lookup_kind(settings: Settings) -> str:
    return "reference" if settings.campaign_lookup_url else "none"


class CampaignsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # campaigns_uow, campaign_audience, campaign_templates
    outside = providers.DependenciesContainer()  # job_queue, email_sender, user_events
    messaging = providers.DependenciesContainer()  # config (limits, quiet hours)
    providers_ = providers.DependenciesContainer()  # MessagingProviders: sms, whatsapp, rate limiter
    lookup = providers.Selector(
        providers.Callable(_lookup_kind, core.settings),
        reference=providers.Singleton(ReferenceLookup, providers_.http_client,
                                      core.settings.provided.campaign_lookup_url),
        none=providers.Singleton(UnanswerableLookup),
    )

    config = providers.Singleton(campaigns_config, core.settings)
    engine_settings = providers.Singleton(engine_config, core.settings, messaging.config)
    tracking_tokens = providers.Singleton(tracking_tokens, core.settings)
    links = providers.Singleton(TrackingLinks, tokens=tracking_tokens, urls=config)
    unsubscribe_links = providers.Singleton(SignedUnsubscribeLinks, messaging.unsubscribe_tokens,
                                            core.settings.provided.public_api_url)
    attribution = providers.Singleton(AttributionService, adapters.campaign_attributions)
    engine = providers.Singleton(
        CampaignEngine, uow=adapters.campaigns_uow.provider, clock=core.clock, audience=adapters.campaign_audience,
        jobs=outside.job_queue, sms=providers_.sms_sender, email=outside.email_sender,
        whatsapp=providers_.whatsapp_sender, limiter=providers_.rate_limiter, events=outside.user_events,
        lookup=lookup, config=engine_settings, provider_names=providers.Callable(provider_names, core.settings),
        templates=adapters.campaign_templates, tracking=links, opt_outs=adapters.campaign_opt_outs,
        unsubscribe=unsubscribe_links)
    campaigns = providers.Singleton(
        CampaignService, adapters.campaigns_uow.provider, core.clock, adapters.campaign_audience, engine, config,
        templates=providers.Singleton(CatalogOfTemplates, adapters.campaign_templates), phones=core.phones)
    segments = providers.Singleton(SegmentService, adapters.campaigns_uow.provider, core.clock,
                                   adapters.campaign_audience, config)
    tracking = providers.Singleton(TrackingService, adapters.campaigns_uow.provider, core.clock, tracking_tokens,
                                   adapters.campaign_templates)
    analytics = providers.Singleton(AnalyticsService, adapters.campaigns_uow.provider, adapters.campaign_statistics,
                                    top_links=config.provided.analytics_top_links)
    ab_decider = providers.Singleton(AbDecider, adapters.campaigns_uow.provider)
