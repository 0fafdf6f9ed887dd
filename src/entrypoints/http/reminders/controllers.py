"""HTTP controllers of the reminders area: ladders per policy type, and a case's reminders."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter

from application.identity.principal import Principal
from application.policies.cases import RenewalCaseService
from application.reminders.ladders import LadderService
from application.reminders.service import ReminderService
from application.reminders.views import CaseReminders, LadderList, LadderSpec, LadderView
from domain.identity.permissions import Permission as P
from entrypoints.http.deps import container_of, provide_cases
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id

__all__ = ["CaseRemindersController", "ReminderLadderController"]

PolicyType = Annotated[str, PathParameter(description="A policy type of the catalogue, or `*` for the default ladder")]
CaseIdent = Annotated[str, PathParameter(description="Public id such as `case-7`, or the bare number")]
Ladders = NamedDependency[LadderService]
Reminders = NamedDependency[ReminderService]
Cases = NamedDependency[RenewalCaseService]
Caller = NamedDependency[Principal]


def provide_ladders(state: State) -> LadderService:
    service: LadderService = container_of(state).reminders.ladders()
    return service


def provide_reminders(state: State) -> ReminderService:
    service: ReminderService = container_of(state).reminders.reminders()
    return service


class ReminderLadderController(Controller):
    path = "/api/reminder-ladders"
    tags = ["reminders"]
    dependencies = {"ladders": Provide(provide_ladders, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/", opt=requires(P.CASES_READ))
    async def list_ladders(self, ladders: Ladders) -> Envelope[LadderList]:
        """The default ladder and the ladder of each policy type that has its own."""
        return ok(await ladders.list())

    @get("/{policy_type:str}", opt=requires(P.CASES_READ), responses=error_responses(422))
    async def get_ladder(self, policy_type: PolicyType, ladders: Ladders) -> Envelope[LadderView]:
        """The ladder a policy type follows (`isDefault` when it has none of its own)."""
        return ok(await ladders.get(policy_type))

    @put("/{policy_type:str}", opt=requires(P.SETTINGS_MANAGE), responses=error_responses(400, 422))
    async def put_ladder(self, policy_type: PolicyType, data: JSONBody[LadderSpec], ladders: Ladders,
                         principal: Caller) -> Envelope[LadderView]:
        """Replace the ladder of a policy type: steps in increasing `offsetDays` (-90..60), each with `channels`
        (tried in order when `fallback`, else all), `always` channels and a template name."""
        return ok(await ladders.put(policy_type, data, principal.user_id))

    @delete("/{policy_type:str}", opt=requires(P.SETTINGS_MANAGE), status_code=200, responses=error_responses(422))
    async def delete_ladder(self, policy_type: PolicyType, ladders: Ladders) -> Envelope[LadderView]:
        """Drop a policy type's own ladder: it follows the default again (answered)."""
        return ok(await ladders.delete(policy_type))


class CaseRemindersController(Controller):
    path = "/api/cases"
    tags = ["reminders"]
    dependencies = {"cases": Provide(provide_cases, sync_to_thread=False),
                    "reminders": Provide(provide_reminders, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/{case_id:str}/reminders", opt=requires(P.CASES_READ), responses=error_responses(404))
    async def case_reminders(self, case_id: CaseIdent, cases: Cases, reminders: Reminders,
                             principal: Caller) -> Envelope[CaseReminders]:
        """The reminder steps sent for the case (each channel tried and what became of it) and those to come."""
        number = path_id(case_id, "case")
        await cases.get(number, principal.visibility(P.CASES_READ))  # a case the caller cannot see is a 404
        return ok(await reminders.for_case(number))
