"""Wiring of timeline and case-list exports."""

from __future__ import annotations

from dependency_injector import containers, providers

__all__ = ["CaseViewsMemoryAdapters", "CaseViewsServices", "CaseViewsSqlAdapters"]


class CaseViewsSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...


class CaseViewsMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...


class CaseViewsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # CaseViewsSqlAdapters or CaseViewsMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
