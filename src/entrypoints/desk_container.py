"""Wiring of the renewal desk's case work (policies context): workflow, assignment, escalation, notes."""

from __future__ import annotations

from dependency_injector import containers, providers

__all__ = ["DeskMemoryAdapters", "DeskServices", "DeskSqlAdapters"]


class DeskSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...


class DeskMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...


class DeskServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # DeskSqlAdapters or DeskMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
