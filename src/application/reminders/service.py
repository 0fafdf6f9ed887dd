"""The daily reminder job and what stops or redirects reminders.

`send_due(today)` walks the open, unpaid cases in keyset batches (`batch_size`, id order) and asks the domain's
`due_step` for each (first seen = the day the case was opened, in the business time zone; sent = the offsets already
in `reminder_sends` for the policy term; grace = the policy's grace period). A due step is *claimed* first: the
`reminder_sends` row is inserted with `ON CONFLICT DO NOTHING` on (policy, term end, offset) and committed, so of two
workers running at once only the one that inserted sends; then its channels are queued through the CaseMessenger
(idempotency key per policy, term, step and channel) and the outcome saved. A worker that stops between the two
leaves the row in flight with its channels `planned`: the next run resumes it after `stall_after` (the idempotency
keys make a repeated queue answer the first message). Catch-up, no bursts and the grace period are `due_step`'s.

`stop_for_case` (policies.case_closed) cancels the case's in-flight sends; `fall_back` (messaging.message_failed,
purpose reminder) tries the next channel of that step once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import msgspec

from application.ports.case_messages import CaseMessenger
from application.reminders.dispatch import Dispatcher, plan_channels
from application.reminders.ladders import LadderService
from application.reminders.ports import (
    IN_FLIGHT,
    ReminderCandidate,
    ReminderCandidates,
    ReminderSend,
    RemindersUnitOfWork,
)
from application.reminders.views import CaseReminders, ChannelAttempt, ReminderSendView, UpcomingStep
from domain.reminders.ladder import Ladder, Step, due_step
from domain.shared.clock import Clock
from domain.shared.ids import CaseId

__all__ = ["ReminderService", "SendDueReport"]


class SendDueReport(msgspec.Struct, kw_only=True):
    checked: int = 0  # candidate cases looked at
    sent: int = 0  # steps claimed and dispatched by this run
    resumed: int = 0  # stalled sends dispatched again


class ReminderService:
    """`ReminderService(uow, candidates, messenger, clock, ladders, renewal_link_base=..., batch_size=500)`."""

    def __init__(self, uow: Callable[[], RemindersUnitOfWork], candidates: ReminderCandidates,
                 messenger: CaseMessenger, clock: Clock, ladders: LadderService, *, renewal_link_base: str = "",
                 batch_size: int = 500, stall_after: timedelta = timedelta(minutes=15)) -> None:
        self._uow = uow
        self._candidates = candidates
        self._clock = clock
        self._ladders = ladders
        self._dispatcher = Dispatcher(messenger, renewal_link_base)
        self._batch_size = batch_size
        self._stall_after = stall_after

    async def send_due(self, today: date | None = None) -> SendDueReport:
        """Send the step due today of every open case; safe to run twice, on two workers, or days late."""
        today = today or self._clock.today()
        book = await self._ladders.book()
        earliest = min(step.offset_days for ladder in (*book.ladders, book.default) for step in ladder.steps)
        report = SendDueReport(resumed=await self.resume_stalled())
        after = 0
        while True:
            batch = await self._candidates.due(today, after_case_id=after, limit=self._batch_size,
                                               earliest_offset=earliest)
            for candidate in batch:
                report.checked += 1
                step = self._due(book.ladder_for(candidate.policy_type), candidate, today)
                if step is not None and await self._send(candidate, step):
                    report.sent += 1
            if len(batch) < self._batch_size:
                return report
            after = batch[-1].case_id

    async def resume_stalled(self) -> int:
        """Dispatch again the sends a stopped worker left in flight with channels never tried."""
        async with self._uow() as uow:
            stalled = await uow.sends.stalled(self._clock.now() - self._stall_after, self._batch_size)
        resumed = 0
        for send in stalled:
            candidate = await self._candidates.get(send.case_id)
            if candidate is None:  # closed or paid meanwhile
                await self.stop_for_case(send.case_id)
                continue
            await self._dispatcher.dispatch(candidate, send)
            resumed += await self._save_unless_cancelled(send)
        return resumed

    async def stop_for_case(self, case_id: int) -> int:
        """Cancel the case's in-flight sends (channels not yet tried, and spare fallback channels); how many."""
        async with self._uow() as uow:
            cancelled = 0
            for send in await uow.sends.of_case(case_id, lock=True):
                if send.status != IN_FLIGHT:
                    continue
                send.status, send.reason = "cancelled", "the case was closed"
                for entry in send.channels:
                    if entry["status"] in ("planned", "standby"):
                        entry["status"] = "cancelled"
                await uow.sends.save(send)
                cancelled += 1
            await uow.commit()
        return cancelled

    async def fall_back(self, message_id: int, case_id: int, error_code: str | None = None) -> bool:
        """A reminder message failed: mark its channel failed and queue the step's next channel, once."""
        candidate = await self._candidates.get(case_id)
        async with self._uow() as uow:
            for send in await uow.sends.of_case(case_id, lock=True):
                if any(e.get("messageId") == message_id for e in send.channels):
                    changed = await self._dispatcher.fall_back(candidate, send, message_id, error_code)
                    if changed:
                        await uow.sends.save(send)
                        await uow.commit()
                    return changed
        return False

    async def for_case(self, case_id: int) -> CaseReminders:
        """The case's reminder sends and, while it is open, the steps still to come."""
        candidate = await self._candidates.get(case_id)
        async with self._uow() as uow:
            sends = await uow.sends.of_case(case_id)
        upcoming: list[UpcomingStep] = []
        if candidate is not None:
            ladder = (await self._ladders.book()).ladder_for(candidate.policy_type)
            upcoming = [UpcomingStep(offset_days=s.offset_days, due_on=s.day(candidate.renewal_date),
                                     template=s.template, channels=list(s.channels), always=list(s.always))
                        for s in self._upcoming(ladder, candidate)]
        return CaseReminders(case_id=CaseId(case_id), policy_type=None if candidate is None else candidate.policy_type,
                             stopped=candidate is None, sends=[_send_view(s) for s in sends], upcoming=upcoming)

    @staticmethod
    def _due(ladder: Ladder, candidate: ReminderCandidate, today: date) -> Step | None:
        return due_step(ladder, candidate.renewal_date, today, first_seen=candidate.first_seen,
                        sent=candidate.sent, grace_days=max(0, candidate.grace_days))

    def _upcoming(self, ladder: Ladder, candidate: ReminderCandidate) -> list[Step]:
        start = max(self._clock.today(), candidate.first_seen)
        end = candidate.renewal_date + timedelta(days=max(0, candidate.grace_days))
        last = max(candidate.sent, default=None)
        return [s for s in ladder.steps if start <= s.day(candidate.renewal_date) <= end
                and s.offset_days not in candidate.sent and (last is None or s.offset_days > last)]

    async def _send(self, candidate: ReminderCandidate, step: Step) -> bool:
        send = ReminderSend(case_id=candidate.case_id, policy_id=candidate.policy_id,
                            term_end_date=candidate.term_end_date, offset_days=step.offset_days,
                            template=step.template, due_on=step.day(candidate.renewal_date),
                            channels=plan_channels(step))
        async with self._uow() as uow:
            if not await uow.sends.claim(send):
                return False  # another worker (or an earlier run) has this step
            await uow.commit()
        await self._dispatcher.dispatch(candidate, send)
        await self._save_unless_cancelled(send)
        return True

    async def _save_unless_cancelled(self, send: ReminderSend) -> int:
        """Save the dispatched send, unless the case closed meanwhile (its messages are dropped at delivery)."""
        async with self._uow() as uow:
            current = next((s for s in await uow.sends.of_case(send.case_id, lock=True) if s.id == send.id), None)
            if current is None or current.status == "cancelled":
                return 0
            await uow.sends.save(send)
            await uow.commit()
        return 1


def _send_view(send: ReminderSend) -> ReminderSendView:
    return ReminderSendView(
        offset_days=send.offset_days, template=send.template, due_on=send.due_on, status=send.status,
        channels=[ChannelAttempt(channel=e["channel"], role=e["role"], status=e["status"],
                                 message_id=e.get("messageId"), code=e.get("code"), reason=e.get("reason"))
                  for e in send.channels],
        reason=send.reason, created_at=send.created_at, updated_at=send.updated_at)
