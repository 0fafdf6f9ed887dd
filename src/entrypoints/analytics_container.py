"""Wiring of the dashboard and agent performance."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.memory.analytics import InMemoryAnalyticsReadModel, InMemoryDashboardCache
from adapters.redis.dashboard_cache import RedisDashboardCache
from adapters.sqlalchemy.read_models.analytics_dashboard import SqlAnalyticsReadModel
from application.analytics.service import AnalyticsService
from entrypoints.settings import Settings

__all__ = ["DASHBOARD_TTL_SECONDS", "AnalyticsMemoryAdapters", "AnalyticsServices", "AnalyticsSqlAdapters"]

DASHBOARD_TTL_SECONDS = 60  # the figures are at most this old


def _cache_backend(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


class AnalyticsSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...
    read_model = providers.Singleton(SqlAnalyticsReadModel, adapters.read_pool,
                                     core.settings.provided.business_timezone)


class AnalyticsMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...
    read_model = providers.Singleton(InMemoryAnalyticsReadModel, adapters.store,
                                     core.settings.provided.business_timezone)


class AnalyticsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # AnalyticsSqlAdapters or AnalyticsMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
    dashboard_cache = providers.Selector(
        providers.Callable(_cache_backend, core.settings),
        redis=providers.Singleton(RedisDashboardCache, outside.arq_pool),
        memory=providers.Singleton(InMemoryDashboardCache),
    )
    service = providers.Singleton(AnalyticsService, storage.read_model, dashboard_cache, core.clock,
                                  ttl=DASHBOARD_TTL_SECONDS)
