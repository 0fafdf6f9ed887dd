"""Who works a case: manual, bulk and round-robin assignment under per-agent capacity.

Rules (decided here):
- An assignee is an active user whose role grants cases:write (people who work cases; a read-only viewer cannot
  hold one). A caller whose cases:assign reach is `branch` assigns only to users of their own branch; `own`
  only to themselves.
- Capacity (`agent_capacities.max_open_cases`, NULL = no limit) counts the assignee's non-closed cases. Manual
  and bulk assignment refuse to exceed it (409 on assigneeId) unless `force` is set, which only a caller whose
  cases:assign reach is `all` (an administrator) may use.
- Round-robin gives each unassigned open case, most urgent first, to the branch's active agent (cases:write
  without cases:assign, capacity not reached) assigned least recently, ties by user id.
- Concurrency: cases are locked first (id order), then the agents' capacity rows (user-id order) with
  FOR UPDATE, and open counts are read after the lock, so two assigners never both fill the last slot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from application.policies.desk_commands import Actor, Assignment, AutoAssignment, BulkAssignment, CapacityChange
from application.policies.desk_common import load_visible_case, parse_id
from application.policies.desk_ports import AgentSlot, CaseEvent, DeskUnitOfWork, StaffMember
from application.policies.desk_views import (
    AutoAssigned,
    AutoAssignResult,
    BulkAssignResult,
    CapacityView,
    DeskCaseView,
    Skipped,
    capacity_view,
    desk_case_view,
)
from domain.policies.events import CaseAssigned
from domain.policies.model import RenewalCase
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from domain.shared.ids import CaseId, UserId

__all__ = ["MAX_AUTO_ASSIGN", "MAX_BULK", "MAX_CAPACITY", "CaseAssignmentService"]

MAX_BULK = 500
MAX_AUTO_ASSIGN = 500
MAX_CAPACITY = 10_000
_NEVER = datetime.min.replace(tzinfo=UTC)


class CaseAssignmentService:
    def __init__(self, *, uow: Callable[[], DeskUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def assign(self, case_id: int, cmd: Assignment, actor: Actor) -> DeskCaseView:
        assignee_id = parse_id(cmd.assignee_id, "user", "assigneeId")
        self._check_force(cmd.force, actor)
        now = self._clock.now()
        async with self._uow() as uow:
            case = await load_visible_case(uow, case_id, actor.visibility)
            if case.is_closed:
                raise Conflict(f"the case is {case.status.value}: it can no longer be assigned")
            member = await self._assignee(uow, assignee_id, actor)
            [slot] = await uow.agents.lock_agents([assignee_id])
            if case.assigned_to != assignee_id:
                _check_room(slot, 1, cmd.force)
                row = _assign(case, member, actor.user_id, now, how="manual")
                await uow.agents.mark_assigned(assignee_id, now)
                await uow.cases.save(case)
                uow.track(case)
                await uow.events.append([row])
                await uow.commit()
        return desk_case_view(case)

    async def bulk_assign(self, cmd: BulkAssignment, actor: Actor) -> BulkAssignResult:
        """All or nothing: any missing, invisible or closed case refuses the whole request, naming each."""
        errors: list[FieldError] = []
        case_ids: list[int] = []
        if not cmd.case_ids or len(cmd.case_ids) > MAX_BULK:
            errors.append(FieldError("caseIds", f"must list 1 to {MAX_BULK} cases"))
        for index, raw in enumerate(cmd.case_ids[:MAX_BULK]):
            try:
                case_ids.append(parse_id(raw, "case", f"caseIds[{index}]"))
            except ValidationFailed as exc:
                errors.extend(exc.details)
        try:
            assignee_id = parse_id(cmd.assignee_id, "user", "assigneeId")
        except ValidationFailed as exc:
            raise ValidationFailed([*errors, *exc.details]) from None
        self._check_force(cmd.force, actor)
        now = self._clock.now()
        async with self._uow() as uow:  # the cases' own problems join the malformed ids': one answer
            cases: list[RenewalCase] = []
            for case_id in sorted(set(case_ids)):
                try:
                    case = await load_visible_case(uow, case_id, actor.visibility)
                except NotFound:
                    errors.append(FieldError(f"caseIds[{case_ids.index(case_id)}]", f"case-{case_id} was not found"))
                    continue
                if case.is_closed:
                    errors.append(FieldError(f"caseIds[{case_ids.index(case_id)}]",
                                             f"case-{case_id} is {case.status.value}"))
                cases.append(case)
            if errors:
                raise ValidationFailed(errors)
            member = await self._assignee(uow, assignee_id, actor)
            [slot] = await uow.agents.lock_agents([assignee_id])
            moving = [c for c in cases if c.assigned_to != assignee_id]
            _check_room(slot, len(moving), cmd.force)
            rows = [_assign(case, member, actor.user_id, now, how="bulk") for case in moving]
            for case in moving:
                await uow.cases.save(case)
                uow.track(case)
            if moving:
                await uow.agents.mark_assigned(assignee_id, now)
            await uow.events.append(rows)
            await uow.commit()
        return BulkAssignResult(assignee_id=UserId(assignee_id), cases=[desk_case_view(c) for c in cases])

    async def auto_assign(self, cmd: AutoAssignment, actor: Actor) -> AutoAssignResult:
        """Round-robin the given cases (or the unassigned open cases of a branch) among the branch's agents."""
        now = self._clock.now()
        async with self._uow() as uow:
            if cmd.case_ids is not None:
                ids = sorted({parse_id(raw, "case", f"caseIds[{i}]") for i, raw in enumerate(cmd.case_ids)})
                if not ids or len(ids) > MAX_AUTO_ASSIGN:
                    raise ValidationFailed.on("caseIds", f"must list 1 to {MAX_AUTO_ASSIGN} cases")
            else:
                branch = self._branch_for(cmd, actor)
                ids = sorted(await uow.desk.unassigned_open(branch, MAX_AUTO_ASSIGN))
            cases = [await load_visible_case(uow, case_id, actor.visibility) for case_id in ids]
            branches = await uow.desk.branches(ids)
            skipped: list[Skipped] = []
            waiting: dict[int, list[RenewalCase]] = {}
            for case in cases:
                assert case.id is not None
                reason = ("closed" if case.is_closed else "already_assigned" if case.assigned_to is not None
                          else "no_branch" if branches.get(case.id) is None else None)
                if reason:
                    skipped.append(Skipped(case_id=CaseId(case.id), reason=reason))
                else:
                    waiting.setdefault(branches[case.id] or 0, []).append(case)
            assigned: list[AutoAssigned] = []
            rows: list[CaseEvent] = []
            tick = 0
            for branch_id in sorted(waiting):
                slots = {s.user_id: s for s in await uow.agents.lock_branch_agents(branch_id)}
                order = sorted(waiting[branch_id], key=_urgency)
                for case in order:
                    assert case.id is not None
                    pick = _next_agent(list(slots.values()))
                    if pick is None:
                        skipped.append(Skipped(case_id=CaseId(case.id), reason="no_agent_with_room"))
                        continue
                    tick += 1
                    stamp = now + timedelta(microseconds=tick)  # keeps the run's order for the next run
                    member = StaffMember(id=pick.user_id, name=pick.name or f"user-{pick.user_id}", branch_id=branch_id,
                                         active=True, can_hold_cases=True, can_assign=False)
                    rows.append(_assign(case, member, actor.user_id, now, how="round_robin"))
                    slots[pick.user_id] = AgentSlot(user_id=pick.user_id, branch_id=pick.branch_id,
                                                    max_open_cases=pick.max_open_cases,
                                                    open_cases=pick.open_cases + 1, last_assigned_at=stamp,
                                                    name=pick.name)
                    await uow.agents.mark_assigned(pick.user_id, stamp)
                    await uow.cases.save(case)
                    uow.track(case)
                    assigned.append(AutoAssigned(case_id=CaseId(case.id), assignee_id=UserId(pick.user_id)))
            await uow.events.append(rows)
            await uow.commit()
        return AutoAssignResult(assigned=assigned, skipped=sorted(skipped, key=lambda s: int(s.case_id)))

    async def capacity(self, user_id: int, actor: Actor) -> CapacityView:
        async with self._uow() as uow:
            await self._visible_staff(uow, user_id, actor)
            return capacity_view(await uow.agents.slot(user_id))

    async def set_capacity(self, user_id: int, cmd: CapacityChange, actor: Actor) -> CapacityView:
        limit = cmd.max_open_cases
        if limit is not None and not 0 <= limit <= MAX_CAPACITY:
            raise ValidationFailed.on("maxOpenCases", f"must be between 0 and {MAX_CAPACITY}, or null for no limit")
        async with self._uow() as uow:
            member = await self._visible_staff(uow, user_id, actor)
            if not member.can_hold_cases:
                raise ValidationFailed.on("userId", "the user cannot hold cases (no cases:write)")
            await uow.agents.lock_agents([user_id])
            await uow.agents.set_capacity(user_id, limit)
            await uow.commit()
        async with self._uow() as uow:
            return capacity_view(await uow.agents.slot(user_id))

    @staticmethod
    async def _visible_staff(uow: DeskUnitOfWork, user_id: int, actor: Actor) -> StaffMember:
        member = await uow.agents.staff(user_id)
        reach = actor.visibility
        if member is None or (reach.reach == "own" and user_id != reach.user_id) or (
                reach.reach == "branch" and user_id != reach.user_id and (
                    reach.branch_id is None or member.branch_id != reach.branch_id)):
            raise NotFound("user", user_id)
        return member

    @staticmethod
    async def _assignee(uow: DeskUnitOfWork, assignee_id: int, actor: Actor) -> StaffMember:
        member = await uow.agents.staff(assignee_id)
        if member is None or not member.active or not member.can_hold_cases:
            raise ValidationFailed.on("assigneeId", "must be an active user who works cases (cases:write)")
        reach = actor.visibility
        if reach.reach == "own" and assignee_id != reach.user_id:
            raise ValidationFailed.on("assigneeId", "you may assign cases only to yourself")
        if reach.reach == "branch" and assignee_id != reach.user_id and (
                reach.branch_id is None or member.branch_id != reach.branch_id):
            raise ValidationFailed.on("assigneeId", "must be a user of your branch")
        return member

    @staticmethod
    def _check_force(force: bool, actor: Actor) -> None:
        if force and actor.visibility.reach != "all":
            raise ValidationFailed.on("force", "only a caller who reaches every case may exceed an agent's capacity")

    @staticmethod
    def _branch_for(cmd: AutoAssignment, actor: Actor) -> int:
        reach = actor.visibility
        if cmd.branch_id is None:
            if reach.branch_id is None:
                raise ValidationFailed.on("branchId", "is required (name the branch, or the cases)")
            return reach.branch_id
        branch = parse_id(cmd.branch_id, "branch", "branchId")
        if reach.reach != "all" and branch != reach.branch_id:
            raise ValidationFailed.on("branchId", "must be your own branch")
        return branch


def _check_room(slot: AgentSlot, adding: int, force: bool) -> None:
    if force or slot.max_open_cases is None or slot.open_cases + adding <= slot.max_open_cases:
        return
    raise Conflict(f"the assignee holds {slot.open_cases} open cases of at most {slot.max_open_cases}; "
                   f"{adding} more would exceed it", field="assigneeId")


def _assign(case: RenewalCase, member: StaffMember, actor_id: int | None, at: datetime, *, how: str) -> CaseEvent:
    assert case.id is not None
    previous = case.assigned_to
    case.assigned_to, case.assigned_at = member.id, at
    case.record(CaseAssigned(case_id=case.id, assignee_id=member.id, previous_assignee_id=previous,
                             actor_id=actor_id, at=at))
    return CaseEvent(case_id=case.id, kind="assigned", actor_id=actor_id, at=at,
                     summary=f"Assigned to {member.name}" + (" (round-robin)" if how == "round_robin" else ""),
                     data={"assigneeId": member.id, "previousAssigneeId": previous, "how": how})


def _next_agent(slots: list[AgentSlot]) -> AgentSlot | None:
    with_room = [s for s in slots if s.has_room]
    if not with_room:
        return None
    return min(with_room, key=lambda s: (s.last_assigned_at or _NEVER, s.user_id))


_PRIORITY = {"urgent": 0, "high": 1, "medium": 2, "low": 3}


def _urgency(case: RenewalCase) -> tuple[int, object, int]:
    return (_PRIORITY.get(case.priority.value, 9), case.term_end_date, case.id or 0)
