"""Wiring of payments: links, webhooks, refunds."""

from __future__ import annotations

from dependency_injector import containers, providers

__all__ = ["PaymentsMemoryAdapters", "PaymentsServices", "PaymentsSqlAdapters"]


class PaymentsSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...


class PaymentsMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...


class PaymentsServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # PaymentsSqlAdapters or PaymentsMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
