"""The renewal desk's use cases a person runs on one case: status, escalation, notes, flags, priority.

Every use case locks the case, refuses a case outside the caller's reach as not found, and writes one
`case_events` row (the timeline) in the same transaction as the change. Statuses move only as
`domain.policies.case_workflow` allows (409 otherwise); renewed and lapsed are never set by hand (422).
The daily priority refresh only raises priorities (a person's choice is never lowered by the rule).
"""

from __future__ import annotations

from collections.abc import Callable

from application.policies.desk_commands import (
    Actor,
    Escalation,
    FlagResolution,
    NewNote,
    PriorityChange,
    StatusChange,
)
from application.policies.desk_common import clean_text, load_visible_case, move_case, parse_id
from application.policies.desk_ports import CaseEvent, DeskUnitOfWork
from application.policies.desk_views import CaseEventView, DeskCaseView, desk_case_view, event_view
from application.shared.visibility import Visibility
from domain.policies.case_workflow import manual_move_refusal
from domain.policies.model import CasePriority, CaseStatus, RenewalCase
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, ValidationFailed

__all__ = ["REASON_REQUIRED", "CaseDeskService"]

REASON_REQUIRED = frozenset({CaseStatus.LOST, CaseStatus.CANCELLED})
MAX_REASON = 2000
MAX_NOTE = 5000


class CaseDeskService:
    def __init__(self, *, uow: Callable[[], DeskUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def change_status(self, case_id: int, cmd: StatusChange, actor: Actor) -> DeskCaseView:
        """Move the case by hand; closing as lost or cancelled needs a reason."""
        target = _status(cmd.status)
        reason = clean_text(cmd.reason, "reason", max_length=MAX_REASON, required=target in REASON_REQUIRED)
        now = self._clock.now()
        async with self._uow() as uow:
            case = await load_visible_case(uow, case_id, actor.visibility)
            row = move_case(case, target, actor_id=actor.user_id, reason=reason, at=now)
            await self._save(uow, case, [row])
        return desk_case_view(case)

    async def escalate(self, case_id: int, cmd: Escalation, actor: Actor) -> DeskCaseView:
        """Hand the case up to a manager (a user who may assign cases) with a reason; it stays assigned."""
        to_user = parse_id(cmd.to_user_id, "user", "toUserId")
        reason = clean_text(cmd.reason, "reason", max_length=MAX_REASON)
        now = self._clock.now()
        async with self._uow() as uow:
            case = await load_visible_case(uow, case_id, actor.visibility)
            if case.is_closed:
                raise Conflict(f"the case is {case.status.value}: it can no longer be escalated")
            manager = await uow.agents.staff(to_user)
            if manager is None or not manager.active or not manager.can_assign:
                raise ValidationFailed.on("toUserId", "must be an active manager (a user who may assign cases)")
            assert case.id is not None
            previous = case.escalated_to
            case.escalated_to, case.escalation_reason, case.escalated_at = to_user, reason, now
            row = CaseEvent(case_id=case.id, kind="escalated", actor_id=actor.user_id, at=now,
                            summary=f"Escalated to {manager.name}: {reason}",
                            data={"toUserId": to_user, "previousUserId": previous, "reason": reason})
            await self._save(uow, case, [row])
        return desk_case_view(case)

    async def add_note(self, case_id: int, cmd: NewNote, actor: Actor) -> CaseEventView:
        """Add a note to the case's timeline (closed cases too)."""
        text = clean_text(cmd.text, "text", max_length=MAX_NOTE)
        assert text is not None
        now = self._clock.now()
        async with self._uow() as uow:
            case = await load_visible_case(uow, case_id, actor.visibility)
            assert case.id is not None
            row = CaseEvent(case_id=case.id, kind="note_added", actor_id=actor.user_id, at=now, summary=text,
                            data={"text": text})
            await uow.events.append([row])
            await uow.commit()
        return event_view(row)

    async def resolve_flag(self, case_id: int, cmd: FlagResolution, actor: Actor) -> DeskCaseView:
        """Clear the flags a person has dealt with (a partial payment refunded, a mismatch settled), with a note."""
        note = clean_text(cmd.note, "note", max_length=MAX_NOTE)
        payment_id = None if cmd.payment_id is None else parse_id(cmd.payment_id, "pay", "paymentId")
        now = self._clock.now()
        async with self._uow() as uow:
            case = await load_visible_case(uow, case_id, actor.visibility)
            assert case.id is not None
            cleared = [f for f in case.flags if f.get("code") == cmd.code
                       and (payment_id is None or f.get("paymentId") == payment_id)]
            if not cleared:
                open_codes = ", ".join(sorted({str(f.get("code")) for f in case.flags})) or "none"
                raise ValidationFailed.on("code", f"the case has no open flag {cmd.code!r} (open: {open_codes})")
            case.flags = [f for f in case.flags if f not in cleared]
            row = CaseEvent(case_id=case.id, kind="flag_resolved", actor_id=actor.user_id, at=now,
                            summary=f"Flag {cmd.code} resolved: {note}",
                            data={"code": cmd.code, "note": note, "cleared": len(cleared),
                                  "paymentIds": sorted({f.get("paymentId") for f in cleared if f.get("paymentId")})})
            await self._save(uow, case, [row])
        return desk_case_view(case)

    async def set_priority(self, case_id: int, cmd: PriorityChange, actor: Actor) -> DeskCaseView:
        try:
            priority = CasePriority(cmd.priority)
        except ValueError:
            raise ValidationFailed.on("priority", "must be one of: "
                                      + ", ".join(p.value for p in CasePriority)) from None
        now = self._clock.now()
        async with self._uow() as uow:
            case = await load_visible_case(uow, case_id, actor.visibility)
            if case.is_closed:
                raise Conflict(f"the case is {case.status.value}: its priority no longer matters")
            if case.priority is not priority:
                assert case.id is not None
                row = CaseEvent(case_id=case.id, kind="priority_changed", actor_id=actor.user_id, at=now,
                                summary=f"Priority changed from {case.priority.value} to {priority.value}",
                                data={"from": case.priority.value, "to": priority.value})
                case.priority = priority
                await self._save(uow, case, [row])
        return desk_case_view(case)

    async def refresh_priorities(self) -> int:
        """The daily job: raise open cases' priorities to what premium and days to renewal call for."""
        now = self._clock.now()
        async with self._uow() as uow:
            changes = await uow.desk.raise_priorities(self._clock.today())
            await uow.events.append([
                CaseEvent(case_id=c.case_id, kind="priority_changed", actor_id=None, at=now,
                          summary=f"Priority raised from {c.previous} to {c.priority} as renewal approaches",
                          data={"from": c.previous, "to": c.priority, "automatic": True}) for c in changes])
            await uow.commit()
        return len(changes)

    async def events(self, case_id: int, visibility: Visibility) -> list[CaseEventView]:
        """The desk's own timeline rows of a visible case, oldest first."""
        async with self._uow() as uow:
            await load_visible_case(uow, case_id, visibility)
            rows = await uow.events.list_for_case(case_id)
        return [event_view(r) for r in rows]

    @staticmethod
    async def _save(uow: DeskUnitOfWork, case: RenewalCase, rows: list[CaseEvent]) -> None:
        await uow.cases.save(case)
        uow.track(case)
        await uow.events.append(rows)
        await uow.commit()


def _status(value: str) -> CaseStatus:
    try:
        target = CaseStatus(value)
    except ValueError:
        raise ValidationFailed.on("status", "must be one of: " + ", ".join(s.value for s in CaseStatus)) from None
    refusal = manual_move_refusal(target)
    if refusal is not None:
        raise ValidationFailed.on("status", refusal)
    return target
