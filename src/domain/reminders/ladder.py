"""Reminder ladders: the steps a policy term's renewal reminders follow, and the step due on a given day.

A step's *day* is `renewal_date + offset_days` (negative offsets fall before the renewal date). A daily job asks
`due_step` for each open term and sends what it returns, recording the step's offset in the term's `sent` set
(the idempotence key is (policy, term, step offset)). The rule, in order:

1. Nothing is due when the reminders are stopped (paid, renewed, closed, opted out), before the term is first seen
   (`first_seen`, e.g. the upload date), or after the grace period (`today > renewal_date + grace_days`); a step
   whose day falls after the grace period is never sent.
2. Catch-up: a step whose day came before `first_seen - catch_up_days` is never sent. With the default
   `catch_up_days=0` a policy receives exactly the ladder's steps whose day is on or after the day it was first
   seen: one uploaded 20 days before renewal gets the 15-day step (never the 30-day one), one uploaded 5 days
   before gets the 1-day step. A positive `catch_up_days` lets the latest step missed within that many days go
   out at first sight; at most one such step is ever sent (rules 3 and 4).
3. Once a step has been sent, no earlier step is ever sent (a late job does not go back; `sent` holds offsets, so
   this also holds when the ladder was changed after some steps went out).
4. Of the remaining steps whose day has come (`day <= today`) and that were not sent, the latest one is due.
   When days were missed (a worker down), only the latest step goes out, never a burst of every missed one; the
   same call again on the same day, with the step recorded as sent, returns None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from domain.shared.errors import FieldError, ValidationFailed

__all__ = [
    "CHANNELS", "DEFAULT_LADDER", "DEFAULT_POLICY_TYPE", "MAX_OFFSET_DAYS", "MIN_OFFSET_DAYS", "Ladder", "LadderBook",
    "Step", "due_step", "plan",
]

CHANNELS = ("email", "sms", "whatsapp")  # the values of messaging's Channel
MIN_OFFSET_DAYS = -90
MAX_OFFSET_DAYS = 60
DEFAULT_POLICY_TYPE = "*"


@dataclass(frozen=True, slots=True)
class Step:
    """One rung: sent `offset_days` from the renewal date using `template` (a template name).

    With `fallback`, `channels` is tried in order and the next one only when the previous fails (whatsapp, then
    sms); without it every channel in `channels` is sent to. `always` channels are sent to in addition, whatever
    happens on the others (e-mail always).
    """

    offset_days: int
    channels: tuple[str, ...]
    template: str
    fallback: bool = True
    always: tuple[str, ...] = ()

    def day(self, renewal_date: date) -> date:
        """The date this step is due for a term renewing on `renewal_date`."""
        return renewal_date + timedelta(days=self.offset_days)


@dataclass(frozen=True, slots=True)
class Ladder:
    """The steps for one policy type, in increasing offset order; raises ValidationFailed listing every problem."""

    policy_type: str
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        errors = ([FieldError("policyType", "must not be blank")] if not self.policy_type.strip() else [])
        if not self.steps:
            errors.append(FieldError("steps", "must have at least one step"))
        for index, step in enumerate(self.steps):
            errors.extend(_step_problems(f"steps[{index}]", step))
        offsets = [step.offset_days for step in self.steps]
        if len(set(offsets)) != len(offsets):
            errors.append(FieldError("steps", "offsets must be unique"))
        elif offsets != sorted(offsets):
            errors.append(FieldError("steps", "steps must be in increasing offset order"))
        if errors:
            raise ValidationFailed(errors)

    @property
    def offsets(self) -> tuple[int, ...]:
        return tuple(step.offset_days for step in self.steps)


def _step_problems(where: str, step: Step) -> list[FieldError]:
    errors: list[FieldError] = []
    if not MIN_OFFSET_DAYS <= step.offset_days <= MAX_OFFSET_DAYS:
        errors.append(FieldError(f"{where}.offsetDays", f"must be between {MIN_OFFSET_DAYS} and {MAX_OFFSET_DAYS}"))
    if not step.channels and not step.always:
        errors.append(FieldError(f"{where}.channels", "must have at least one channel"))
    for name, channels in (("channels", step.channels), ("always", step.always)):
        unknown = sorted({c for c in channels if c not in CHANNELS})
        if unknown:
            errors.append(FieldError(f"{where}.{name}", f"unknown channel(s) {', '.join(unknown)}; "
                                                        f"known: {', '.join(CHANNELS)}"))
    every = step.channels + step.always
    if len(set(every)) != len(every):
        errors.append(FieldError(f"{where}.channels", "a channel may appear only once in channels and always"))
    if not step.template.strip():
        errors.append(FieldError(f"{where}.template", "must not be blank"))
    return errors


def _default_step(offset_days: int, template: str) -> Step:
    return Step(offset_days, ("whatsapp", "sms"), template, fallback=True, always=("email",))


DEFAULT_LADDER = Ladder(DEFAULT_POLICY_TYPE, (
    _default_step(-30, "renewal_reminder_30_days"),
    _default_step(-15, "renewal_reminder_15_days"),
    _default_step(-7, "renewal_reminder_7_days"),
    _default_step(-1, "renewal_reminder_1_day"),
    _default_step(3, "renewal_overdue_3_days"),
))


@dataclass(frozen=True, slots=True)
class LadderBook:
    """The ladder of each policy type; a type without its own ladder uses `default`."""

    ladders: tuple[Ladder, ...] = ()
    default: Ladder = DEFAULT_LADDER

    def __post_init__(self) -> None:
        seen: set[str] = set()
        errors: list[FieldError] = []
        for index, ladder in enumerate(self.ladders):
            if ladder.policy_type in seen:
                errors.append(FieldError(f"ladders[{index}].policyType", f"{ladder.policy_type!r} has two ladders"))
            seen.add(ladder.policy_type)
        if errors:
            raise ValidationFailed(errors)

    @classmethod
    def of(cls, ladders: Iterable[Ladder], default: Ladder = DEFAULT_LADDER) -> LadderBook:
        return cls(tuple(ladders), default)

    def ladder_for(self, policy_type: str) -> Ladder:
        """The ladder configured for `policy_type` (matched exactly), else the default ladder."""
        return next((ladder for ladder in self.ladders if ladder.policy_type == policy_type), self.default)


def due_step(ladder: Ladder, renewal_date: date, today: date, *, first_seen: date, sent: frozenset[int],
             grace_days: int, stopped: bool = False, catch_up_days: int = 0) -> Step | None:
    """The step to send `today` for one policy term, or None (see the module docstring for the rule)."""
    _check_days(grace_days=grace_days, catch_up_days=catch_up_days)
    if stopped or today < first_seen or today > renewal_date + timedelta(days=grace_days):
        return None
    earliest = first_seen - timedelta(days=catch_up_days)
    for step in reversed(ladder.steps):
        if step.day(renewal_date) > today:
            continue
        # The latest step whose day has come; when it is not sendable, no earlier one is either.
        if step.day(renewal_date) < earliest or step.offset_days in sent:
            return None
        if step.offset_days < max(sent, default=step.offset_days):  # e.g. sent under an older ladder
            return None
        return step
    return None


def plan(ladder: Ladder, renewal_date: date, first_seen: date, until: date, grace_days: int, *,
         catch_up_days: int = 0) -> list[tuple[date, Step]]:
    """The sends a daily job running every day from `first_seen` to `until` (inclusive) would make."""
    sends: list[tuple[date, Step]] = []
    sent: frozenset[int] = frozenset()
    today = first_seen
    while today <= until:
        step = due_step(ladder, renewal_date, today, first_seen=first_seen, sent=sent, grace_days=grace_days,
                        catch_up_days=catch_up_days)
        if step is not None:
            sends.append((today, step))
            sent |= {step.offset_days}
        today += timedelta(days=1)
    return sends


def _check_days(*, grace_days: int, catch_up_days: int) -> None:
    errors = [FieldError(name, "must not be negative")
              for name, value in (("graceDays", grace_days), ("catchUpDays", catch_up_days)) if value < 0]
    if errors:
        raise ValidationFailed(errors)
