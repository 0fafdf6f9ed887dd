"""Wiring of reminder ladders and the daily reminder job."""

from __future__ import annotations

from dependency_injector import containers, providers

__all__ = ["RemindersMemoryAdapters", "RemindersServices", "RemindersSqlAdapters"]


class RemindersSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...


class RemindersMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...


class RemindersServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # RemindersSqlAdapters or RemindersMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
