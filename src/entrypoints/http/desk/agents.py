"""Agents' capacity: the most open cases round-robin and manual assignment may give them."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter

from application.identity.principal import Principal
from application.policies.case_assignment import CaseAssignmentService
from application.policies.desk_commands import CapacityChange
from application.policies.desk_views import CapacityView
from domain.identity.permissions import Permission as P
from entrypoints.http.deps import container_of
from entrypoints.http.desk.cases import actor_for
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id

__all__ = ["AgentCapacityController"]

Ident = Annotated[str, PathParameter(description="Public id such as `user-2`, or the bare number")]
Assigning = NamedDependency[CaseAssignmentService]
Caller = NamedDependency[Principal]


def _assignment(state: State) -> CaseAssignmentService:
    service: CaseAssignmentService = container_of(state).desk.assignment()
    return service


class AgentCapacityController(Controller):
    path = "/api/agents"
    tags = ["cases"]
    dependencies = {"assigning": Provide(_assignment, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/{user_id:str}/capacity", opt=requires(P.CASES_ASSIGN), responses=error_responses(404))
    async def get_capacity(self, user_id: Ident, assigning: Assigning, principal: Caller) -> Envelope[CapacityView]:
        """The agent's limit, open cases and room (a branch manager sees their branch's users)."""
        return ok(await assigning.capacity(path_id(user_id, "user"), actor_for(principal, P.CASES_ASSIGN)))

    @put("/{user_id:str}/capacity", opt=requires(P.CASES_ASSIGN), responses=error_responses(404, 422))
    async def set_capacity(self, user_id: Ident, data: JSONBody[CapacityChange], assigning: Assigning,
                           principal: Caller) -> Envelope[CapacityView]:
        """Set the most open cases the agent may hold (`null`: no limit, `0`: takes none)."""
        return ok(await assigning.set_capacity(path_id(user_id, "user"), data,
                                               actor_for(principal, P.CASES_ASSIGN)))
