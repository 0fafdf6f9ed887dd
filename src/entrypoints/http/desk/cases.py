"""The desk's case actions: status, assignment (manual, bulk, round-robin), escalation, notes, priority."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter

from application.identity.principal import Principal
from application.policies.case_assignment import CaseAssignmentService
from application.policies.case_desk import CaseDeskService
from application.policies.desk_commands import (
    Actor,
    Assignment,
    AutoAssignment,
    BulkAssignment,
    Escalation,
    FlagResolution,
    NewNote,
    PriorityChange,
    StatusChange,
)
from application.policies.desk_views import AutoAssignResult, BulkAssignResult, CaseEventView, DeskCaseView
from domain.identity.permissions import Permission as P
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id

__all__ = ["DeskCaseController", "actor_for"]

Ident = Annotated[str, PathParameter(description="Public id such as `case-7`, or the bare number")]
Desk = NamedDependency[CaseDeskService]
Assigning = NamedDependency[CaseAssignmentService]
Caller = NamedDependency[Principal]


def _desk(state: State) -> CaseDeskService:
    service: CaseDeskService = container_of(state).desk.cases()
    return service


def _assignment(state: State) -> CaseAssignmentService:
    service: CaseAssignmentService = container_of(state).desk.assignment()
    return service


def actor_for(principal: Principal, permission: P) -> Actor:
    """The caller and the cases `permission` reaches for them."""
    return Actor(user_id=principal.user_id, visibility=principal.visibility(permission))


class DeskCaseController(Controller):
    path = "/api/cases"
    tags = ["cases"]
    dependencies = {"desk": Provide(_desk, sync_to_thread=False),
                    "assigning": Provide(_assignment, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @put("/{case_id:str}/status", opt=requires(P.CASES_WRITE), responses=error_responses(404, 409, 422))
    async def change_status(self, case_id: Ident, data: JSONBody[StatusChange], desk: Desk,
                            principal: Caller) -> Envelope[DeskCaseView]:
        """Move the case (409 when the workflow does not allow it; renewed and lapsed are never set by hand)."""
        return ok(await desk.change_status(path_id(case_id, "case"), data, actor_for(principal, P.CASES_WRITE)))

    @post("/assign", opt=requires(P.CASES_ASSIGN), status_code=200, responses=error_responses(409, 422))
    async def bulk_assign(self, data: JSONBody[BulkAssignment], assigning: Assigning,
                          principal: Caller) -> Envelope[BulkAssignResult]:
        """Give several cases to one user: all or none (each bad case id is named)."""
        return ok(await assigning.bulk_assign(data, actor_for(principal, P.CASES_ASSIGN)))

    @post("/auto-assign", opt=requires(P.CASES_ASSIGN), status_code=200, responses=error_responses(404, 422))
    async def auto_assign(self, data: JSONBody[AutoAssignment], assigning: Assigning,
                          principal: Caller) -> Envelope[AutoAssignResult]:
        """Round-robin among the branch's agents with room, least recently assigned first."""
        return ok(await assigning.auto_assign(data, actor_for(principal, P.CASES_ASSIGN)))

    @post("/{case_id:str}/assign", opt=requires(P.CASES_ASSIGN), status_code=200,
          responses=error_responses(404, 409, 422))
    async def assign(self, case_id: Ident, data: JSONBody[Assignment], assigning: Assigning,
                     principal: Caller) -> Envelope[DeskCaseView]:
        """Give the case to a user who works cases (409 when it would exceed their capacity)."""
        return ok(await assigning.assign(path_id(case_id, "case"), data, actor_for(principal, P.CASES_ASSIGN)))

    @post("/{case_id:str}/escalate", opt=requires(P.CASES_ESCALATE), status_code=200,
          responses=error_responses(404, 409, 422))
    async def escalate(self, case_id: Ident, data: JSONBody[Escalation], desk: Desk,
                       principal: Caller) -> Envelope[DeskCaseView]:
        """Hand the case up to a manager with a reason."""
        return ok(await desk.escalate(path_id(case_id, "case"), data, actor_for(principal, P.CASES_ESCALATE)))

    @post("/{case_id:str}/notes", opt=requires(P.CASES_WRITE), status_code=201, responses=error_responses(404, 422))
    async def add_note(self, case_id: Ident, data: JSONBody[NewNote], desk: Desk,
                       principal: Caller) -> Envelope[CaseEventView]:
        return ok(await desk.add_note(path_id(case_id, "case"), data, actor_for(principal, P.CASES_WRITE)))

    @post("/{case_id:str}/flags/resolve", opt=requires(P.CASES_WRITE), status_code=200,
          responses=error_responses(404, 422))
    async def resolve_flag(self, case_id: Ident, data: JSONBody[FlagResolution], desk: Desk,
                           principal: Caller) -> Envelope[DeskCaseView]:
        """Clear the case's flags with `code` (of one payment with `paymentId`) once a person has dealt with them."""
        return ok(await desk.resolve_flag(path_id(case_id, "case"), data, actor_for(principal, P.CASES_WRITE)))

    @put("/{case_id:str}/priority", opt=requires(P.CASES_WRITE), responses=error_responses(404, 409, 422))
    async def set_priority(self, case_id: Ident, data: JSONBody[PriorityChange], desk: Desk,
                           principal: Caller) -> Envelope[DeskCaseView]:
        return ok(await desk.set_priority(path_id(case_id, "case"), data, actor_for(principal, P.CASES_WRITE)))
