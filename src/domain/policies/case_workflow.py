"""The moves a renewal case may make between its statuses.

A case starts `new`; people move it through `contacted`, `in_progress` and `payment_pending`; a verified payment
closes it `renewed` (the renewal service, never the status endpoint); the lapse job closes it `lapsed` once the
grace period has passed unpaid; people close it `lost` (the customer will not renew) or `cancelled` (opened by
mistake, policy cancelled). A lapsed case can still be renewed (a late payment inside reinstatement) or reopened;
a lost case can be reopened. Renewed and cancelled are final.
"""

from __future__ import annotations

from domain.policies.model import CaseStatus
from domain.shared.errors import InvalidTransition

__all__ = ["ALLOWED_MOVES", "MANUAL_TARGETS", "SYSTEM_ONLY_TARGETS", "WORKING_STATUSES", "check_move",
           "manual_move_refusal"]

_S = CaseStatus
_WORKING = frozenset({_S.NEW, _S.CONTACTED, _S.IN_PROGRESS, _S.PAYMENT_PENDING})

ALLOWED_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset({_S.CONTACTED, _S.IN_PROGRESS, _S.PAYMENT_PENDING, _S.RENEWED, _S.LAPSED, _S.LOST,
                       _S.CANCELLED}),
    _S.CONTACTED: frozenset({_S.IN_PROGRESS, _S.PAYMENT_PENDING, _S.RENEWED, _S.LAPSED, _S.LOST, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.CONTACTED, _S.PAYMENT_PENDING, _S.RENEWED, _S.LAPSED, _S.LOST, _S.CANCELLED}),
    _S.PAYMENT_PENDING: frozenset({_S.IN_PROGRESS, _S.RENEWED, _S.LAPSED, _S.LOST, _S.CANCELLED}),
    _S.LAPSED: frozenset({_S.IN_PROGRESS, _S.RENEWED, _S.LOST}),
    _S.LOST: frozenset({_S.IN_PROGRESS}),
    _S.RENEWED: frozenset(),
    _S.CANCELLED: frozenset(),
}

# renewed follows a recorded payment and lapsed the grace period: never set by hand through the status endpoint
SYSTEM_ONLY_TARGETS = frozenset({_S.RENEWED, _S.LAPSED})
MANUAL_TARGETS = frozenset(CaseStatus) - SYSTEM_ONLY_TARGETS
WORKING_STATUSES = _WORKING


def check_move(current: CaseStatus, target: CaseStatus) -> None:
    """Raise InvalidTransition (409, naming the current status) unless `current -> target` is allowed."""
    if target not in ALLOWED_MOVES[current]:
        raise InvalidTransition("the case", current.value, target.value)


def manual_move_refusal(target: CaseStatus) -> str | None:
    """Why a person may not set `target` by hand, or None."""
    if target is _S.RENEWED:
        return "a case becomes renewed when its payment is recorded"
    if target is _S.LAPSED:
        return "a case lapses when its grace period passes unpaid"
    return None
