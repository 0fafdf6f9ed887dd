"""The dependency-injector containers that wire adapters per deployment; nothing connects here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from adapters.arq.arq_job_queue import ArqJobQueue
from adapters.asyncpg.read_pool import AsyncpgReadPool
from adapters.asyncpg.upload_locks import AdvisoryUploadLocks
from adapters.aws.s3_file_storage import S3FileStorage
from adapters.aws.ses_email_sender import SesEmailSender
from adapters.dev.file_email_sender import FileEmailSender
from adapters.memory.campaign_attribution import InMemoryAttributions
from adapters.memory.campaigns import InMemoryAudienceSource
from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.email import InMemoryEmailSender
from adapters.memory.file_storage import InMemoryFileStorage
from adapters.memory.identity_uow import InMemoryIdentityUnitOfWork, InMemoryPrincipalSource
from adapters.memory.jobs import InMemoryJobQueue
from adapters.memory.login_throttle import InMemoryLoginThrottle
from adapters.memory.messaging import InMemoryCustomerDirectory
from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.notifications import InMemoryNotifications
from adapters.memory.opt_outs import InMemoryOptOuts
from adapters.memory.read_models import InMemoryPoliciesReadModel
from adapters.memory.session_store import InMemorySessionStore
from adapters.memory.sms import InMemorySmsSender
from adapters.memory.store import MemoryStore
from adapters.memory.template_catalogue import InMemoryCampaignTemplates
from adapters.memory.uow import InMemoryPoliciesUnitOfWork
from adapters.memory.upload_locks import InMemoryUploadLocks
from adapters.memory.uploads import InMemoryBookWriter, InMemoryUploadsUnitOfWork
from adapters.memory.user_events import InMemoryUserEvents
from adapters.memory.whatsapp import InMemoryTemplateCatalogue, InMemoryWhatsAppSender
from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser
from adapters.redis.redis_user_events import RedisUserEvents
from adapters.smtp.smtp_email_sender import SmtpEmailSender
from adapters.sqlalchemy.book_writer import SqlBookWriter
from adapters.sqlalchemy.campaigns_uow import SqlAlchemyCampaignsUnitOfWork
from adapters.sqlalchemy.engine import make_engine, make_session_factory
from adapters.sqlalchemy.identity_uow import SqlAlchemyIdentityUnitOfWork
from adapters.sqlalchemy.messaging_uow import SqlAlchemyMessagingUnitOfWork
from adapters.sqlalchemy.policies_uow import SqlAlchemyPoliciesUnitOfWork
from adapters.sqlalchemy.principal_source import SqlAlchemyPrincipalSource
from adapters.sqlalchemy.read_models.campaign_audience import SqlAudienceSource
from adapters.sqlalchemy.read_models.customer_contacts import SqlCustomerDirectory
from adapters.sqlalchemy.read_models.opt_outs import SqlOptOuts
from adapters.sqlalchemy.read_models.policies import SqlAlchemyPoliciesReadModel
from adapters.sqlalchemy.read_models.template_catalogue import SqlCampaignTemplates
from adapters.sqlalchemy.repositories.campaign_attribution import SqlAttributions
from adapters.sqlalchemy.repositories.campaign_statistics import SqlCampaignStatistics
from adapters.sqlalchemy.repositories.notifications import SqlNotifications
from adapters.sqlalchemy.session_store import SqlAlchemySessionStore
from adapters.sqlalchemy.uploads_uow import SqlAlchemyUploadsUnitOfWork
from adapters.storage.local_file_storage import LocalFileStorage
from adapters.system.clock import SystemClock
from application.campaigns import attribution as campaigns_events
from application.campaigns.analytics import RecipientScanStatistics
from application.payments import event_handlers as payments_events
from application.policies import desk_event_handlers as desk_events
from application.policies import event_handlers as policies_events
from application.policies import renewal_handlers as renewal_events
from application.policies.cases import RenewalCaseService
from application.policies.config import PoliciesConfig
from application.policies.customers import CustomerService
from application.policies.policies import PolicyService
from application.policies.renewal import RenewalService
from application.reminders import event_handlers as reminders_events
from application.shared.events import EventRouter
from application.shared.outbox_relay import OutboxRelay
from entrypoints.analytics_container import AnalyticsMemoryAdapters, AnalyticsServices, AnalyticsSqlAdapters
from entrypoints.bridges import Bridges
from entrypoints.campaigns_container import CampaignsServices
from entrypoints.case_views_container import CaseViewsMemoryAdapters, CaseViewsServices, CaseViewsSqlAdapters
from entrypoints.desk_container import DeskMemoryAdapters, DeskServices, DeskSqlAdapters
from entrypoints.identity_container import IdentityServices
from entrypoints.messaging_container import MessagingServices
from entrypoints.messaging_providers import DEV_WHATSAPP_TEMPLATES, MessagingProviders
from entrypoints.payments_container import PaymentsMemoryAdapters, PaymentsServices, PaymentsSqlAdapters
from entrypoints.reminders_container import RemindersMemoryAdapters, RemindersServices, RemindersSqlAdapters
from entrypoints.settings import Settings
from entrypoints.uploads_container import UploadsServices

__all__ = ["AppContainer", "build_container", "build_memory_container"]


def build_router() -> EventRouter:
    """Every context subscribes its event handlers here."""
    router = EventRouter()
    policies_events.subscribe(router)
    renewal_events.subscribe(router)
    desk_events.subscribe(router)
    campaigns_events.subscribe(router)
    payments_events.subscribe(router)
    reminders_events.subscribe(router)
    return router


def new_session_id() -> str:
    """A device session's public id: 128 random bits as 32 hex digits (user_sessions.public_id)."""
    return secrets.token_hex(16)


def _queue_backend(settings: Settings) -> str:
    return "arq" if settings.redis_url else "memory"


def _sender_address(settings: Settings) -> str:
    return settings.ses_from_email or settings.smtp_from_email or "renewals@desk.localhost"


def _dev_mail_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "mail"


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock, settings.provided.business_timezone)
    router = providers.Singleton(build_router)
    phones = providers.Singleton(PhonenumbersPhoneNormaliser, settings.provided.default_phone_region)
    policies_config = providers.Singleton(
        PoliciesConfig, renewal_window_days=settings.provided.renewal_window_days,
        currency=settings.provided.currency, policy_types=settings.provided.policy_type_list)


class SqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    engine = providers.Singleton(make_engine, core.settings.provided.database_url,
                                 pool_size=core.settings.provided.db_pool_size)
    session_factory = providers.Singleton(make_session_factory, engine)
    policies_uow = providers.Factory(SqlAlchemyPoliciesUnitOfWork, session_factory, core.router)
    read_pool = providers.Singleton(AsyncpgReadPool, core.settings.provided.database_url,
                                    max_size=core.settings.provided.db_pool_size)
    policies_read_model = providers.Singleton(SqlAlchemyPoliciesReadModel, read_pool,
                                              currency=core.settings.provided.currency)
    identity_uow = providers.Factory(SqlAlchemyIdentityUnitOfWork, session_factory, core.router, core.clock)
    session_store = providers.Singleton(SqlAlchemySessionStore, session_factory, new_id=new_session_id)
    principal_source = providers.Singleton(SqlAlchemyPrincipalSource, read_pool)
    uploads_uow = providers.Factory(SqlAlchemyUploadsUnitOfWork, session_factory, core.router, core.clock,
                                    core.settings.provided.business_timezone)
    book_writer = providers.Singleton(SqlBookWriter, read_pool)
    upload_locks = providers.Singleton(AdvisoryUploadLocks, read_pool)
    messaging_uow = providers.Factory(SqlAlchemyMessagingUnitOfWork, session_factory, core.router, core.clock)
    customer_directory = providers.Singleton(SqlCustomerDirectory, session_factory)
    campaigns_uow = providers.Factory(SqlAlchemyCampaignsUnitOfWork, session_factory, core.router, core.clock)
    campaign_audience = providers.Singleton(SqlAudienceSource, session_factory, core.clock,
                                            core.settings.provided.business_timezone,
                                            renewal_link_base=core.settings.provided.renewal_link_base)
    campaign_templates = providers.Singleton(SqlCampaignTemplates, session_factory)
    campaign_opt_outs = providers.Singleton(SqlOptOuts, session_factory)
    campaign_attributions = providers.Singleton(SqlAttributions, session_factory)
    campaign_statistics = providers.Singleton(SqlCampaignStatistics, session_factory)
    notifications = providers.Singleton(SqlNotifications, session_factory)


class MemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    engine: providers.Object[None] = providers.Object(None)
    read_pool: providers.Object[None] = providers.Object(None)
    store = providers.Singleton(MemoryStore, core.clock)
    policies_uow = providers.Factory(InMemoryPoliciesUnitOfWork, store, core.router)
    policies_read_model = providers.Singleton(InMemoryPoliciesReadModel, store,
                                              currency=core.settings.provided.currency)
    identity_uow = providers.Factory(InMemoryIdentityUnitOfWork, store, core.router)
    session_store = providers.Singleton(InMemorySessionStore, new_id=new_session_id)
    principal_source = providers.Singleton(InMemoryPrincipalSource, store, session_store)
    uploads_uow = providers.Factory(InMemoryUploadsUnitOfWork, store, core.router,
                                    core.settings.provided.business_timezone)
    book_writer = providers.Singleton(InMemoryBookWriter, store)
    upload_locks = providers.Singleton(InMemoryUploadLocks)
    messaging_uow = providers.Factory(InMemoryMessagingUnitOfWork, store, core.router)
    customer_directory = providers.Singleton(InMemoryCustomerDirectory, store)
    campaigns_uow = providers.Factory(InMemoryCampaignsUnitOfWork, store, core.router)
    campaign_audience = providers.Singleton(InMemoryAudienceSource, store, core.settings.provided.business_timezone,
                                            renewal_link_base=core.settings.provided.renewal_link_base)
    campaign_templates = providers.Singleton(InMemoryCampaignTemplates, store)
    campaign_opt_outs = providers.Singleton(InMemoryOptOuts, store)
    campaign_attributions = providers.Singleton(InMemoryAttributions, store)
    campaign_statistics = providers.Singleton(RecipientScanStatistics, campaigns_uow.provider)
    notifications = providers.Singleton(InMemoryNotifications)


class ProviderAdapters(containers.DeclarativeContainer):
    """Outside-world adapters, each chosen per deployment by a Selector on the settings."""

    core = providers.DependenciesContainer()
    # overridden with providers.Object(pool) by open_resources
    arq_pool: providers.Dependency[Any] = providers.Dependency()
    job_queue = providers.Selector(
        providers.Callable(_queue_backend, core.settings),
        arq=providers.Singleton(ArqJobQueue, arq_pool),
        memory=providers.Singleton(InMemoryJobQueue),
    )
    user_events = providers.Selector(
        providers.Callable(_queue_backend, core.settings),
        arq=providers.Singleton(RedisUserEvents, arq_pool),
        memory=providers.Singleton(InMemoryUserEvents),
    )
    # overridden with providers.Object(client) by open_resources when EMAIL_PROVIDER=ses
    ses_client: providers.Dependency[Any] = providers.Dependency()
    email_sender = providers.Selector(
        core.settings.provided.email_provider,
        ses=providers.Singleton(SesEmailSender, ses_client, default_from=core.settings.provided.ses_from_email,
                                configuration_set=core.settings.provided.ses_configuration_set),
        smtp=providers.Singleton(
            SmtpEmailSender, core.settings.provided.smtp_host, core.settings.provided.smtp_port,
            username=core.settings.provided.smtp_username, password=core.settings.provided.smtp_password,
            security=core.settings.provided.smtp_security, default_from=core.settings.provided.smtp_from_email),
        dev=providers.Singleton(FileEmailSender, providers.Callable(_dev_mail_dir, core.settings),
                                default_from=providers.Callable(_sender_address, core.settings)),
    )
    # overridden with providers.Object(client) by open_resources when STORAGE_BACKEND=s3
    s3_client: providers.Dependency[Any] = providers.Dependency()
    file_storage = providers.Selector(
        core.settings.provided.storage_backend,
        s3=providers.Singleton(S3FileStorage, s3_client, core.settings.provided.s3_bucket_name),
        local=providers.Singleton(LocalFileStorage, providers.Callable(Path, core.settings.provided.local_storage_dir)),
    )


class Application(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    outside = providers.DependenciesContainer()
    customers = providers.Singleton(
        CustomerService, uow=adapters.policies_uow.provider, read_model=adapters.policies_read_model,
        phones=core.phones, clock=core.clock)
    policies = providers.Singleton(
        PolicyService, uow=adapters.policies_uow.provider, read_model=adapters.policies_read_model,
        phones=core.phones, clock=core.clock, config=core.policies_config)
    cases = providers.Singleton(
        RenewalCaseService, uow=adapters.policies_uow.provider, read_model=adapters.policies_read_model,
        clock=core.clock, config=core.policies_config)
    renewals = providers.Singleton(RenewalService, uow=adapters.policies_uow.provider, clock=core.clock)
    outbox_relay = providers.Singleton(OutboxRelay, uow=adapters.policies_uow.provider, queue=outside.job_queue)


@dataclass(frozen=True)
class AppContainer:
    """The wired containers of one process; built by `build_container` or `build_memory_container`."""

    settings: Settings
    core: Core
    adapters: SqlAdapters | MemoryAdapters
    outside: ProviderAdapters
    application: Application
    identity: IdentityServices
    uploads: UploadsServices
    messaging_providers: MessagingProviders
    messaging: MessagingServices
    campaigns: CampaignsServices
    bridges: Bridges
    desk: DeskServices
    case_views: CaseViewsServices
    payments: PaymentsServices
    reminders: RemindersServices
    analytics: AnalyticsServices


def _assemble(settings: Settings, adapters_cls: type[SqlAdapters] | type[MemoryAdapters]) -> AppContainer:
    core = Core(settings=providers.Object(settings))
    adapters = adapters_cls(core=core)
    outside = ProviderAdapters(core=core)
    if adapters_cls is MemoryAdapters:  # in-memory twins for the outside world too
        sender = providers.Callable(_sender_address, core.settings)
        outside.email_sender.override(providers.Singleton(InMemoryEmailSender, default_from=sender))
        outside.file_storage.override(providers.Singleton(InMemoryFileStorage))
        outside.user_events.override(providers.Singleton(InMemoryUserEvents))
    application = Application(core=core, adapters=adapters, outside=outside)
    identity = IdentityServices(core=core, adapters=adapters, outside=outside)
    if adapters_cls is MemoryAdapters:
        identity.throttle.override(providers.Singleton(InMemoryLoginThrottle, core.clock))
    uploads = UploadsServices(core=core, adapters=adapters, outside=outside)
    messaging_providers = MessagingProviders(core=core, outside=outside)
    if adapters_cls is MemoryAdapters:
        messaging_providers.sms_sender.override(providers.Singleton(InMemorySmsSender))
        messaging_providers.whatsapp_sender.override(providers.Singleton(InMemoryWhatsAppSender))
        messaging_providers.whatsapp_catalogue.override(
            providers.Singleton(InMemoryTemplateCatalogue, providers.Object(DEV_WHATSAPP_TEMPLATES)))
    messaging = MessagingServices(core=core, adapters=adapters, outside=outside, providers_=messaging_providers,
                                  policies=application)
    campaigns = CampaignsServices(core=core, adapters=adapters, outside=outside, messaging=messaging,
                                  providers_=messaging_providers)
    sql = adapters_cls is SqlAdapters
    bridges = Bridges(core=core, adapters=adapters, outside=outside, application=application, messaging=messaging)

    def storage(sql_cls: type[Any], memory_cls: type[Any]) -> Any:
        return (sql_cls if sql else memory_cls)(core=core, adapters=adapters)

    common = {"core": core, "adapters": adapters, "outside": outside, "bridges": bridges}
    desk = DeskServices(storage=storage(DeskSqlAdapters, DeskMemoryAdapters), **common)
    case_views = CaseViewsServices(storage=storage(CaseViewsSqlAdapters, CaseViewsMemoryAdapters), **common)
    payments = PaymentsServices(storage=storage(PaymentsSqlAdapters, PaymentsMemoryAdapters), **common)
    payments.http_client.override(messaging_providers.http_client)
    payments.renewable_cases.override(bridges.renewable_cases)
    reminders = RemindersServices(storage=storage(RemindersSqlAdapters, RemindersMemoryAdapters), **common)
    analytics = AnalyticsServices(storage=storage(AnalyticsSqlAdapters, AnalyticsMemoryAdapters), **common)
    return AppContainer(settings, core, adapters, outside, application, identity, uploads, messaging_providers,
                        messaging, campaigns, bridges, desk, case_views, payments, reminders, analytics)


def build_container(settings: Settings) -> AppContainer:
    """Wire the PostgreSQL adapters and the providers the settings choose."""
    if not settings.database_url:
        raise ValueError("DATABASE_URL is required for the SQL container")
    return _assemble(settings, SqlAdapters)


def build_memory_container(settings: Settings) -> AppContainer:
    """Wire the in-memory adapters under the same provider names."""
    return _assemble(settings, MemoryAdapters)
