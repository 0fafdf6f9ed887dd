"""What the reminders context answers and accepts: ladders, their steps, and a case's reminders."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from domain.reminders.ladder import Ladder, Step
from domain.shared.ids import CaseId, UserId

__all__ = [
    "CaseReminders", "ChannelAttempt", "LadderList", "LadderSpec", "LadderView", "ReminderSendView", "StepSpec",
    "UpcomingStep", "ladder_view",
]


class StepSpec(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One rung as the API shows and accepts it."""

    offset_days: int
    channels: list[str]
    template: str
    fallback: bool = True
    always: list[str] = []

    def to_step(self) -> Step:
        return Step(self.offset_days, tuple(self.channels), self.template.strip(), fallback=self.fallback,
                    always=tuple(self.always))

    @classmethod
    def of(cls, step: Step) -> StepSpec:
        return cls(offset_days=step.offset_days, channels=list(step.channels), template=step.template,
                   fallback=step.fallback, always=list(step.always))


class LadderSpec(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The body of PUT /api/reminder-ladders/{policyType}."""

    steps: list[StepSpec]


class LadderView(msgspec.Struct, kw_only=True, rename="camel"):
    policy_type: str
    steps: list[StepSpec]
    is_default: bool  # True: no ladder of its own, the default one applies
    updated_by: UserId | None = None
    updated_at: datetime | None = None


class LadderList(msgspec.Struct, kw_only=True, rename="camel"):
    default: LadderView
    ladders: list[LadderView]  # one per configured policy type (the default's policy type "*" excluded)
    policy_types: list[str]  # the catalogue; a type without a ladder of its own uses the default


def ladder_view(ladder: Ladder, *, is_default: bool, updated_by: int | None = None,
                updated_at: datetime | None = None, policy_type: str | None = None) -> LadderView:
    return LadderView(policy_type=policy_type or ladder.policy_type,
                      steps=[StepSpec.of(step) for step in ladder.steps], is_default=is_default,
                      updated_by=None if updated_by is None else UserId(updated_by), updated_at=updated_at)


class ChannelAttempt(msgspec.Struct, kw_only=True, rename="camel"):
    channel: str
    role: str  # fallback | each | always
    status: str  # planned | queued | refused | failed | standby | cancelled
    message_id: int | None = None
    code: str | None = None
    reason: str | None = None


class ReminderSendView(msgspec.Struct, kw_only=True, rename="camel"):
    offset_days: int
    template: str
    due_on: date
    status: str  # queued | failed | skipped | cancelled
    channels: list[ChannelAttempt]
    reason: str | None
    created_at: datetime | None
    updated_at: datetime | None


class UpcomingStep(msgspec.Struct, kw_only=True, rename="camel"):
    offset_days: int
    due_on: date
    template: str
    channels: list[str]
    always: list[str]


class CaseReminders(msgspec.Struct, kw_only=True, rename="camel"):
    case_id: CaseId
    policy_type: str | None  # None when the case is closed or paid (no more reminders)
    stopped: bool
    sends: list[ReminderSendView]
    upcoming: list[UpcomingStep]
