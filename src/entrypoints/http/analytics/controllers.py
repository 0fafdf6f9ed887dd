"""GET /api/analytics/dashboard and GET /api/analytics/agents: renewal figures within the caller's reach.

Who sees what: the figures are about cases, so a caller holding cases:read gets them within that grant's scope (an
agent their own cases, a manager their branch's, an administrator or viewer every case); a caller holding only
analytics:read (an unscoped permission) gets every case. Anyone else is refused (403). Figures are cached per
reach and filters for at most 60 seconds (`generatedAt`, `staleAfterSeconds`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from application.analytics.service import AnalyticsService
from application.analytics.views import AgentsView, DashboardView
from application.identity.errors import PermissionDenied
from application.identity.principal import Principal
from application.shared.visibility import EVERYTHING, Visibility
from domain.identity.permissions import Permission as P
from domain.shared.errors import ValidationFailed
from domain.shared.ids import parse_public_id
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import principal_of, signed_in

__all__ = ["AnalyticsController", "dashboard_visibility"]

Analytics = NamedDependency[AnalyticsService]
Caller = NamedDependency[Principal]
FromQ = Annotated[date | None, QueryParameter(
    name="from", description="First due date (YYYY-MM-DD); default 30 days before today")]
ToQ = Annotated[date | None, QueryParameter(
    name="to", description="Last due date (YYYY-MM-DD); default 30 days after today; at most 731 days after `from`")]
BranchQ = Annotated[str | None, QueryParameter(description="Only this branch (`branch-2`)")]
TypeQ = Annotated[str | None, QueryParameter(name="policyType", description="Only this policy type")]
AgentQ = Annotated[str | None, QueryParameter(description="Only cases assigned to this user (`user-7`)")]
BucketQ = Annotated[str, QueryParameter(description="`day` or `week` (weeks start on Monday) for the time series")]


def _analytics(state: State) -> AnalyticsService:
    service: AnalyticsService = container_of(state).analytics.service()
    return service


def dashboard_visibility(principal: Principal) -> Visibility:
    """The cases whose figures the caller sees: cases:read's scope, else all with analytics:read, else none."""
    if principal.may(P.CASES_READ):
        return principal.visibility(P.CASES_READ)
    if principal.may(P.ANALYTICS_READ):
        return EVERYTHING
    raise PermissionDenied("The dashboard needs analytics:read or cases:read")


def _id(raw: str | None, prefix: str, field: str) -> int | None:
    if raw is None or not raw.strip():
        return None
    number = parse_public_id(raw.strip(), prefix)
    if number is None:
        raise ValidationFailed.on(field, f"'{raw}' is not a valid {prefix} id")
    return number


class AnalyticsController(Controller):
    path = "/api/analytics"
    tags = ["analytics"]
    dependencies = {"analytics": Provide(_analytics, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/dashboard", opt=signed_in(), responses=error_responses(403, 422))
    async def dashboard(self, analytics: Analytics, principal: Caller, date_from: FromQ = None, date_to: ToQ = None,
                        branch: BranchQ = None, policy_type: TypeQ = None, agent: AgentQ = None,
                        bucket: BucketQ = "day") -> Envelope[DashboardView]:
        """Cases due in the range: the frontend's counters, due this week/month, renewal rate (renewed over
        renewed + lapsed + lost), premium due vs collected, each by branch, agent, channel and policy type, and a
        time series of new cases, renewals and collections."""
        visibility = dashboard_visibility(principal)
        query = analytics.dashboard_query(
            date_from=date_from, date_to=date_to, branch_id=_id(branch, "branch", "branch"),
            policy_type=policy_type, agent_id=_id(agent, "user", "agent"), bucket=bucket.strip().lower())
        return ok(await analytics.dashboard(query, visibility))

    @get("/agents", opt=signed_in(), responses=error_responses(403, 422))
    async def agents(self, analytics: Analytics, principal: Caller, date_from: FromQ = None,
                     date_to: ToQ = None) -> Envelope[AgentsView]:
        """Per agent, the cases assigned to them in the range: handled, open, renewed, lapsed, renewal rate, average
        hours from assignment to first contact, money collected."""
        return ok(await analytics.agents(dashboard_visibility(principal), date_from=date_from, date_to=date_to))
