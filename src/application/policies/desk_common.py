"""What the desk's use cases share: scope checks on a locked case, id and text parsing, the status move."""

from __future__ import annotations

from datetime import datetime

from application.policies.desk_ports import CaseEvent, DeskUnitOfWork
from application.shared.visibility import Visibility
from domain.policies.case_workflow import check_move
from domain.policies.events import CaseStatusChanged, RenewalCaseClosed
from domain.policies.model import CaseStatus, RenewalCase
from domain.shared.errors import NotFound, ValidationFailed
from domain.shared.ids import parse_public_id

__all__ = ["case_visible", "clean_text", "load_visible_case", "move_case", "parse_id"]


def case_visible(case: RenewalCase, branch_id: int | None, visibility: Visibility) -> bool:
    """As the read models: own is assigned or escalated to the user; branch adds the cases of its policies."""
    if visibility.reach == "all":
        return True
    if visibility.user_id is not None and visibility.user_id in (case.assigned_to, case.escalated_to):
        return True
    return visibility.reach == "branch" and visibility.branch_id is not None and branch_id == visibility.branch_id


async def load_visible_case(uow: DeskUnitOfWork, case_id: int, visibility: Visibility) -> RenewalCase:
    """The case, locked; NotFound when it is missing or outside the caller's reach."""
    case = await uow.cases.get(case_id)
    if case is None:
        raise NotFound("case", case_id)
    if visibility.reach != "all":
        branch = (await uow.desk.branches([case_id])).get(case_id)
        if not case_visible(case, branch, visibility):
            raise NotFound("case", case_id)
    return case


def parse_id(value: str | int, prefix: str, field: str) -> int:
    number = parse_public_id(value, prefix)
    if number is None:
        raise ValidationFailed.on(field, f"is not a valid {prefix} id")
    return number


def clean_text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str | None:
    """Stripped text; blank is None (or an error when required)."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed.on(field, "must not be blank")
        return None
    if len(text) > max_length:
        raise ValidationFailed.on(field, f"must be at most {max_length} characters")
    return text


def move_case(case: RenewalCase, target: CaseStatus, *, actor_id: int | None, reason: str | None,
              at: datetime, extra: dict[str, object] | None = None) -> CaseEvent:
    """Apply an allowed move (InvalidTransition otherwise): closing stamps closed_at, reopening clears it;
    records CaseStatusChanged (and RenewalCaseClosed into a closed status); returns the timeline row."""
    assert case.id is not None
    previous = case.status
    check_move(previous, target)
    case.status = target
    if case.is_closed:
        case.closed_at = at
    else:
        case.closed_at = None
    case.record(CaseStatusChanged(case_id=case.id, policy_id=case.policy_id, previous=previous.value,
                                  status=target.value, actor_id=actor_id, reason=reason, at=at))
    if case.is_closed:
        case.record(RenewalCaseClosed(case_id=case.id, policy_id=case.policy_id, status=target.value, at=at))
    summary = f"Status changed from {previous.value} to {target.value}" + (f": {reason}" if reason else "")
    data: dict[str, object] = {"from": previous.value, "to": target.value, "reason": reason}
    data.update(extra or {})
    return CaseEvent(case_id=case.id, kind="status_changed", actor_id=actor_id, at=at, summary=summary, data=data)
