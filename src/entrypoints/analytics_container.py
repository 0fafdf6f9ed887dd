"""Wiring of the dashboard and agent performance."""

from __future__ import annotations

from dependency_injector import containers, providers

__all__ = ["AnalyticsMemoryAdapters", "AnalyticsServices", "AnalyticsSqlAdapters"]


class AnalyticsSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...


class AnalyticsMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...


class AnalyticsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # AnalyticsSqlAdapters or AnalyticsMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
