"""Reminder ladders per policy type: stored in `reminder_ladders`, validated by the domain's Ladder.

A policy type without a ladder of its own uses the default ladder: the one stored under policy type "*", else the
built-in DEFAULT_LADDER (-30/-15/-7/-1/+3 days, WhatsApp then SMS, e-mail always).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from application.reminders.ports import RemindersUnitOfWork, StoredLadder
from application.reminders.views import LadderList, LadderSpec, LadderView, ladder_view
from domain.reminders.ladder import DEFAULT_LADDER, DEFAULT_POLICY_TYPE, Ladder, LadderBook
from domain.shared.errors import FieldError, ValidationFailed

__all__ = ["LadderService", "book_of"]


def book_of(stored: Iterable[StoredLadder]) -> LadderBook:
    """The ladder book the stored ladders make ("*" replaces the built-in default)."""
    ladders = [s.ladder for s in stored]
    default = next((ladder for ladder in ladders if ladder.policy_type == DEFAULT_POLICY_TYPE), DEFAULT_LADDER)
    return LadderBook.of([ladder for ladder in ladders if ladder.policy_type != DEFAULT_POLICY_TYPE], default)


class LadderService:
    """`LadderService(uow, policy_types)`; `policy_types` is the catalogue a ladder's policy type must belong to."""

    def __init__(self, uow: Callable[[], RemindersUnitOfWork], policy_types: Iterable[str] = ()) -> None:
        self._uow = uow
        self._policy_types = tuple(policy_types)

    async def book(self) -> LadderBook:
        async with self._uow() as uow:
            return book_of(await uow.ladders.all())

    async def list(self) -> LadderList:
        """The default ladder and every configured one."""
        async with self._uow() as uow:
            stored = await uow.ladders.all()
        default = next((s for s in stored if s.ladder.policy_type == DEFAULT_POLICY_TYPE), None)
        return LadderList(
            default=self._view(default, DEFAULT_POLICY_TYPE),
            ladders=[self._view(s, s.ladder.policy_type) for s in sorted(stored, key=lambda s: s.ladder.policy_type)
                     if s.ladder.policy_type != DEFAULT_POLICY_TYPE],
            policy_types=list(self._policy_types))

    async def get(self, policy_type: str) -> LadderView:
        """The ladder that applies to `policy_type` (its own, else the default, flagged `isDefault`)."""
        kind = self._checked_type(policy_type)
        async with self._uow() as uow:
            own = await uow.ladders.get(kind)
            default = None if own is not None or kind == DEFAULT_POLICY_TYPE else await uow.ladders.get(
                DEFAULT_POLICY_TYPE)
        if own is not None:
            return self._view(own, kind)
        view = self._view(default, kind)
        view.is_default = True
        return view

    async def put(self, policy_type: str, spec: LadderSpec, actor_id: int | None) -> LadderView:
        """Replace the ladder of `policy_type` ("*": the default); every problem is reported at once."""
        kind = self._checked_type(policy_type)
        ladder = Ladder(kind, tuple(step.to_step() for step in spec.steps))  # raises ValidationFailed
        async with self._uow() as uow:
            await uow.ladders.save(ladder, actor_id)
            await uow.commit()
        return await self.get(kind)

    async def delete(self, policy_type: str) -> LadderView:
        """Drop the ladder of `policy_type`, which then follows the default again; the ladder now in effect."""
        kind = self._checked_type(policy_type)
        async with self._uow() as uow:
            if await uow.ladders.delete(kind):
                await uow.commit()
        return await self.get(kind)

    def _checked_type(self, policy_type: str) -> str:
        kind = policy_type.strip().lower()
        if kind == DEFAULT_POLICY_TYPE:
            return kind
        if not kind:
            raise ValidationFailed([FieldError("policyType", "must not be blank")])
        if self._policy_types and kind not in self._policy_types:
            raise ValidationFailed([FieldError(
                "policyType", f"unknown policy type {kind!r}; known: {', '.join(self._policy_types)} or * (default)")])
        return kind

    @staticmethod
    def _view(stored: StoredLadder | None, policy_type: str) -> LadderView:
        if stored is None:
            return ladder_view(DEFAULT_LADDER, is_default=True, policy_type=policy_type)
        return ladder_view(stored.ladder, is_default=stored.ladder.policy_type == DEFAULT_POLICY_TYPE,
                           updated_by=stored.updated_by, updated_at=stored.updated_at, policy_type=policy_type)
