"""The case workflow's moves, checked for every pair of statuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.policies.case_workflow import (
    ALLOWED_MOVES,
    MANUAL_TARGETS,
    SYSTEM_ONLY_TARGETS,
    check_move,
    manual_move_refusal,
)
from domain.policies.model import CLOSED_CASE_STATUSES, CaseStatus
from domain.shared.errors import InvalidTransition

statuses = st.sampled_from(list(CaseStatus))


@given(statuses, statuses)
def test_a_move_is_refused_exactly_when_it_is_not_listed(current: CaseStatus, target: CaseStatus) -> None:
    if target in ALLOWED_MOVES[current]:
        check_move(current, target)
    else:
        with pytest.raises(InvalidTransition) as raised:
            check_move(current, target)
        assert (raised.value.current, raised.value.requested) == (current.value, target.value)


@given(statuses)
def test_no_status_moves_to_itself(status: CaseStatus) -> None:
    with pytest.raises(InvalidTransition):
        check_move(status, status)


def test_renewed_and_cancelled_are_final_and_lost_or_lapsed_only_reopen_or_renew() -> None:
    assert ALLOWED_MOVES[CaseStatus.RENEWED] == frozenset() == ALLOWED_MOVES[CaseStatus.CANCELLED]
    assert ALLOWED_MOVES[CaseStatus.LOST] == {CaseStatus.IN_PROGRESS}
    assert ALLOWED_MOVES[CaseStatus.LAPSED] == {CaseStatus.IN_PROGRESS, CaseStatus.RENEWED, CaseStatus.LOST}
    assert set(ALLOWED_MOVES) == set(CaseStatus)


def test_every_working_status_can_be_closed_by_hand_as_lost_or_cancelled() -> None:
    for status in (CaseStatus.NEW, CaseStatus.CONTACTED, CaseStatus.IN_PROGRESS, CaseStatus.PAYMENT_PENDING):
        assert {CaseStatus.LOST, CaseStatus.CANCELLED} <= ALLOWED_MOVES[status]
        assert status not in CLOSED_CASE_STATUSES


@given(statuses)
def test_only_renewed_and_lapsed_are_refused_by_hand(target: CaseStatus) -> None:
    refusal = manual_move_refusal(target)
    assert (refusal is not None) == (target in SYSTEM_ONLY_TARGETS)
    assert (target in MANUAL_TARGETS) == (refusal is None)
