"""The analytics read model and dashboard cache in memory: the same figures as SQL, by walking the MemoryStore.

Payments are read from `store.tables.payments` by attribute (`case_id`, `status`, `amount`, `paid_amount`,
`refunded_amount`, `paid_at`, `channel`, `id`), whatever record type the payments context keeps there.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from adapters.memory.store import MemoryStore
from application.analytics.views import (
    COLLECTED_PAYMENT_STATUSES,
    FAILED_STATUSES,
    IN_PROGRESS_STATUSES,
    OPEN_STATUSES,
    AgentFigures,
    AgentsQuery,
    DashboardFigures,
    DashboardQuery,
    GroupTally,
    SeriesFigures,
    Tally,
    month_bounds,
    week_bounds,
)
from application.shared.visibility import Visibility
from domain.policies.model import Policy, RenewalCase

__all__ = ["InMemoryAnalyticsReadModel", "InMemoryDashboardCache", "add_case"]

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def add_case(t: Tally, status: str, amount: Decimal, flagged: bool, collected: Decimal) -> None:
    """Count one case into a tally."""
    t.cases += 1
    t.collected += collected
    if status != "cancelled":
        t.premium_due += amount
    if status in OPEN_STATUSES:
        t.premium_open += amount
        t.flagged_open += 1 if flagged else 0
    if status == "new":
        t.new += 1
    elif status in IN_PROGRESS_STATUSES:
        t.in_progress += 1
    elif status == "renewed":
        t.renewed += 1
    elif status == "lapsed":
        t.lapsed += 1
    elif status == "lost":
        t.lost += 1


def _collected(payment: Any) -> Decimal:
    paid = getattr(payment, "paid_amount", None) or Decimal("0")
    return Decimal(paid) - Decimal(getattr(payment, "refunded_amount", None) or 0)


class InMemoryAnalyticsReadModel:
    def __init__(self, store: MemoryStore, business_timezone: str) -> None:
        self._store = store
        self._tz = ZoneInfo(business_timezone)

    def _day(self, at: datetime) -> date:
        return at.astimezone(self._tz).date()

    def _visible(self, visibility: Visibility) -> Iterator[tuple[RenewalCase, Policy]]:
        tables = self._store.tables
        user, branch = visibility.user_id, visibility.branch_id
        for case in tables.cases.values():
            policy = tables.policies[case.policy_id]
            if visibility.reach != "all":
                owns = user in (case.assigned_to, case.escalated_to)
                if not (owns or (visibility.reach == "branch" and branch is not None
                                 and policy.branch_id == branch)):
                    continue
            yield case, policy

    def _matching(self, query: DashboardQuery, visibility: Visibility) -> Iterator[tuple[RenewalCase, Policy]]:
        for case, policy in self._visible(visibility):
            if query.branch_id is not None and policy.branch_id != query.branch_id:
                continue
            if query.policy_type is not None and policy.policy_type != query.policy_type:
                continue
            if query.agent_id is not None and case.assigned_to != query.agent_id:
                continue
            yield case, policy

    def _collections(self) -> dict[int, tuple[Decimal, str | None]]:
        """case id -> (collected, channel of the payment that collected last)."""
        found: dict[int, list[Any]] = defaultdict(list)
        for payment in self._store.tables.payments.values():
            if getattr(payment, "case_id", None) is not None and str(payment.status) in COLLECTED_PAYMENT_STATUSES:
                found[payment.case_id].append(payment)
        result: dict[int, tuple[Decimal, str | None]] = {}
        for case_id, payments in found.items():
            last = max(payments, key=lambda p: (p.paid_at is not None, p.paid_at or _EARLIEST, p.id))
            result[case_id] = (sum((_collected(p) for p in payments), Decimal("0")), last.channel)
        return result

    def _bucket(self, query: DashboardQuery, at: datetime | None) -> date | None:
        if at is None:
            return None
        day = self._day(at)
        if not query.date_from <= day <= query.date_to:
            return None
        return day - timedelta(days=day.weekday()) if query.bucket == "week" else day

    async def dashboard(self, query: DashboardQuery, visibility: Visibility, today: date) -> DashboardFigures:
        collections = self._collections()
        total = Tally()
        groups: dict[tuple[str, str], Tally] = defaultdict(Tally)
        series: dict[date, SeriesFigures] = {}
        week, month = week_bounds(today), month_bounds(today)
        due_week = due_month = 0
        matching = list(self._matching(query, visibility))
        for case, policy in matching:
            assert case.id is not None
            due, status = case.term_end_date, str(case.status)
            if status in OPEN_STATUSES:
                due_week += 1 if week[0] <= due <= week[1] else 0
                due_month += 1 if month[0] <= due <= month[1] else 0
            created = self._bucket(query, case.created_at)
            if created is not None:
                series.setdefault(created, SeriesFigures(day=created)).new_cases += 1
            closed = self._bucket(query, case.closed_at) if status in ("renewed", *FAILED_STATUSES) else None
            if closed is not None:
                point = series.setdefault(closed, SeriesFigures(day=closed))
                if status == "renewed":
                    point.renewed += 1
                else:
                    point.failed += 1
            if not query.date_from <= due <= query.date_to:
                continue
            collected, channel = collections.get(case.id, (Decimal("0"), None))
            args = (status, case.renewal_amount, bool(case.flags), collected)
            add_case(total, *args)
            for dimension, key in (("branch", policy.branch_id), ("agent", case.assigned_to),
                                   ("channel", channel or "none"), ("policy_type", policy.policy_type)):
                add_case(groups[(dimension, "" if key is None else str(key))], *args)
        visible_ids = {case.id for case, _ in matching}
        for payment in self._store.tables.payments.values():
            if getattr(payment, "case_id", None) in visible_ids and str(payment.status) in COLLECTED_PAYMENT_STATUSES:
                paid = self._bucket(query, payment.paid_at)
                if paid is not None:
                    series.setdefault(paid, SeriesFigures(day=paid)).collected += _collected(payment)
        return DashboardFigures(
            total=total, groups=[GroupTally(dimension=d, key=k, tally=t) for (d, k), t in groups.items()],  # type: ignore[arg-type]
            series=sorted(series.values(), key=lambda s: s.day), due_this_week=due_week, due_this_month=due_month,
            labels=self._labels({k for (d, k) in groups if d == "branch" and k},
                                {k for (d, k) in groups if d == "agent" and k}))

    def _labels(self, branch_keys: set[str], agent_keys: set[str]) -> dict[str, dict[str, str]]:
        tables = self._store.tables
        users = {k: tables.users[int(k)] for k in agent_keys if int(k) in tables.users}
        return {"branch": {k: tables.branches[int(k)] for k in branch_keys if int(k) in tables.branches},
                "agent": {k: f"{u.first_name} {u.last_name}".strip() for k, u in users.items()}}

    async def agents(self, query: AgentsQuery, visibility: Visibility) -> list[AgentFigures]:
        collections = self._collections()
        tables = self._store.tables
        found: dict[int, AgentFigures] = {}
        for case, _ in self._visible(visibility):
            assigned = case.assigned_at or case.created_at
            if case.assigned_to is None or assigned is None or not (
                    query.date_from <= self._day(assigned) <= query.date_to):
                continue
            agent = found.get(case.assigned_to)
            if agent is None:
                user = tables.users.get(case.assigned_to)
                branch_id = user.branch_id if user else None
                agent = found[case.assigned_to] = AgentFigures(
                    user_id=case.assigned_to, name=f"{user.first_name} {user.last_name}".strip() if user else "",
                    branch_id=branch_id, branch=tables.branches.get(branch_id) if branch_id else None,
                    tally=Tally(), contacted=0, contact_hours=0.0)
            assert case.id is not None
            collected, _ = collections.get(case.id, (Decimal("0"), None))
            add_case(agent.tally, str(case.status), case.renewal_amount, bool(case.flags), collected)
            if case.first_contact_date is not None:
                agent.contacted += 1
                agent.contact_hours += max(0.0, (case.first_contact_date - assigned).total_seconds() / 3600)
        return list(found.values())


class InMemoryDashboardCache:
    """Values and locks with expiry by the monotonic clock (a test may pass its own `now`)."""

    def __init__(self, now: Any = time.monotonic) -> None:
        self._now = now
        self._values: dict[str, tuple[float, bytes]] = {}
        self._locks: dict[str, float] = {}

    async def get(self, key: str) -> bytes | None:
        found = self._values.get(key)
        if found is None or found[0] <= self._now():
            self._values.pop(key, None)
            return None
        return found[1]

    async def put(self, key: str, value: bytes, ttl: int) -> None:
        self._values[key] = (self._now() + ttl, value)

    async def try_lock(self, key: str, ttl: int) -> bool:
        held = self._locks.get(key)
        if held is not None and held > self._now():
            return False
        self._locks[key] = self._now() + ttl
        return True

    async def unlock(self, key: str) -> None:
        self._locks.pop(key, None)
