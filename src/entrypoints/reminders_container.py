"""Wiring of reminder ladders and the daily reminder job."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.memory.reminder_candidates import InMemoryReminderCandidates
from adapters.memory.reminders import InMemoryRemindersUnitOfWork
from adapters.sqlalchemy.read_models.reminder_candidates import SqlReminderCandidates
from adapters.sqlalchemy.reminders_uow import SqlAlchemyRemindersUnitOfWork
from application.reminders.ladders import LadderService
from application.reminders.service import ReminderService

__all__ = ["RemindersMemoryAdapters", "RemindersServices", "RemindersSqlAdapters"]

REMINDER_BATCH_SIZE = 500  # open cases read per statement by the daily job


class RemindersSqlAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # SqlAdapters: session_factory, read_pool, policies_uow ...
    reminders_uow = providers.Factory(SqlAlchemyRemindersUnitOfWork, adapters.session_factory, core.router,
                                      core.clock)
    candidates = providers.Singleton(SqlReminderCandidates, adapters.session_factory,
                                     core.settings.provided.business_timezone)


class RemindersMemoryAdapters(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()  # MemoryAdapters: store, policies_uow ...
    reminders_uow = providers.Factory(InMemoryRemindersUnitOfWork, adapters.store, core.router)
    candidates = providers.Singleton(InMemoryReminderCandidates, adapters.store,
                                     core.settings.provided.business_timezone)


class RemindersServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()  # RemindersSqlAdapters or RemindersMemoryAdapters
    outside = providers.DependenciesContainer()  # job_queue, user_events, email_sender, file_storage
    bridges = providers.DependenciesContainer()  # Bridges: case_messenger ...
    ladders = providers.Singleton(LadderService, storage.reminders_uow.provider,
                                  core.policies_config.provided.policy_types)
    reminders = providers.Singleton(
        ReminderService, storage.reminders_uow.provider, storage.candidates, bridges.case_messenger, core.clock,
        ladders, renewal_link_base=core.settings.provided.renewal_link_base,
        batch_size=REMINDER_BATCH_SIZE)
