"""The policies context's SQL unit of work."""

from __future__ import annotations

from adapters.sqlalchemy.repositories.case_desk import SqlCaseEvents
from adapters.sqlalchemy.repositories.policies import (
    SqlAlchemyCustomerRepository,
    SqlAlchemyNumberSequence,
    SqlAlchemyPolicyRepository,
    SqlAlchemyRenewalCaseRepository,
)
from adapters.sqlalchemy.repositories.policy_terms import SqlAlchemyPolicyTermRepository
from adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

__all__ = ["SqlAlchemyPoliciesUnitOfWork"]


class SqlAlchemyPoliciesUnitOfWork(SqlAlchemyUnitOfWork):
    customers: SqlAlchemyCustomerRepository
    policies: SqlAlchemyPolicyRepository
    cases: SqlAlchemyRenewalCaseRepository
    sequences: SqlAlchemyNumberSequence
    terms: SqlAlchemyPolicyTermRepository
    case_events: SqlCaseEvents

    def _open(self) -> None:
        self.customers = SqlAlchemyCustomerRepository(self.session)
        self.policies = SqlAlchemyPolicyRepository(self.session)
        self.cases = SqlAlchemyRenewalCaseRepository(self.session)
        self.sequences = SqlAlchemyNumberSequence(self.session)
        self.terms = SqlAlchemyPolicyTermRepository(self.session)
        self.case_events = SqlCaseEvents(self.session)
