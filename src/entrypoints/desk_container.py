"""Wiring of the renewal desk's case work (policies context): workflow, assignment, escalation, notes."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.memory.desk_uow import InMemoryDeskUnitOfWork
from adapters.sqlalchemy.desk_uow import SqlAlchemyDeskUnitOfWork
from application.policies.case_assignment import CaseAssignmentService
from application.policies.case_desk import CaseDeskService
from application.policies.desk_reactions import DeskReactions

__all__ = ["DeskMemoryAdapters", "DeskServices", "DeskSqlAdapters"]


class DeskSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...
    desk_uow = providers.Factory(SqlAlchemyDeskUnitOfWork, adapters.session_factory, core.router)


class DeskMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...
    desk_uow = providers.Factory(InMemoryDeskUnitOfWork, adapters.store, core.router)


class DeskServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # DeskSqlAdapters or DeskMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
    cases = providers.Singleton(CaseDeskService, uow=storage.desk_uow.provider, clock=core.clock)
    assignment = providers.Singleton(CaseAssignmentService, uow=storage.desk_uow.provider, clock=core.clock)
    reactions = providers.Singleton(DeskReactions, uow=storage.desk_uow.provider, clock=core.clock,
                                    user_events=outside.user_events.provider)
