"""The renewal desk's SQL unit of work: cases (locked FOR UPDATE), their timeline rows and the agent pool."""

from __future__ import annotations

from adapters.sqlalchemy.repositories.case_desk import SqlAgentPool, SqlCaseEvents, SqlDeskCases
from adapters.sqlalchemy.repositories.policies import SqlAlchemyRenewalCaseRepository
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

__all__ = ["SqlAlchemyDeskUnitOfWork"]


class SqlAlchemyDeskUnitOfWork(SqlAlchemyUnitOfWork):
    """`SqlAlchemyDeskUnitOfWork(session_factory, router)`."""

    cases: SqlAlchemyRenewalCaseRepository
    events: SqlCaseEvents
    agents: SqlAgentPool
    desk: SqlDeskCases

    def _open(self) -> None:
        self.cases = SqlAlchemyRenewalCaseRepository(self.session)
        self.events = SqlCaseEvents(self.session)
        self.agents = SqlAgentPool(self.session)
        self.desk = SqlDeskCases(self.session)
