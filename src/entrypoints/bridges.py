"""Bridges: one context's port implemented by another context's application service (wired here, in the
entrypoints, so that no context imports another)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.memory.case_messenger import InMemoryCaseMessenger

__all__ = ["Bridges"]


class Bridges(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    application = providers.DependenciesContainer()  # Application: customers, policies, cases
    messaging = providers.DependenciesContainer()  # MessagingServices
    # replaced by the messaging bridge (templates by name, consent, quiet hours, delivery)
    case_messenger = providers.Singleton(InMemoryCaseMessenger)
