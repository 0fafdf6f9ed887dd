"""Which reminder step is due: on its day, once, never a burst of missed steps, nothing after grace or a stop."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from domain.reminders.ladder import DEFAULT_LADDER, Ladder, Step, due_step, plan

RENEWAL = date(2025, 6, 30)
GRACE = 30
SIMULATED_DAYS = 60
LADDER = DEFAULT_LADDER  # -30, -15, -7, -1, +3


def day(offset: int) -> date:
    return RENEWAL + timedelta(days=offset)


def offsets_sent(sends: list[tuple[date, Step]]) -> list[int]:
    return [s.offset_days for _, s in sends]


def simulate(first_seen: date, *, days: int = SIMULATED_DAYS, grace_days: int = GRACE, catch_up_days: int = 0,
             runs_per_day: int = 1, stop_on: date | None = None,
             job_runs_on: frozenset[date] | None = None) -> list[tuple[date, Step]]:
    """A daily job from `first_seen` for `days` days that records each send in the term's `sent` set."""
    sends: list[tuple[date, Step]] = []
    sent: frozenset[int] = frozenset()
    for n in range(days):
        today = first_seen + timedelta(days=n)
        if job_runs_on is not None and today not in job_runs_on:
            continue
        for _ in range(runs_per_day):
            stopped = stop_on is not None and today >= stop_on
            step = due_step(LADDER, RENEWAL, today, first_seen=first_seen, sent=sent, grace_days=grace_days,
                            stopped=stopped, catch_up_days=catch_up_days)
            if step is not None:
                sends.append((today, step))
                sent |= {step.offset_days}
    return sends


def test_a_policy_seen_long_before_gets_every_step_on_its_day() -> None:
    sends = simulate(day(-60), days=100)
    assert [(d, s.offset_days) for d, s in sends] == [(day(o), o) for o in (-30, -15, -7, -1, 3)]


def test_created_twenty_days_before_the_15_day_step_goes_out_and_never_the_30_day_one() -> None:
    assert [(d, s.template) for d, s in simulate(day(-20))] == [
        (day(-15), "renewal_reminder_15_days"), (day(-7), "renewal_reminder_7_days"),
        (day(-1), "renewal_reminder_1_day"), (day(3), "renewal_overdue_3_days")]


def test_the_issue_s_creation_days() -> None:
    assert offsets_sent(simulate(day(-40))) == [-30, -15, -7, -1, 3]
    assert offsets_sent(simulate(day(-20))) == [-15, -7, -1, 3]
    assert offsets_sent(simulate(day(-5))) == [-1, 3]
    assert offsets_sent(simulate(day(1))) == [3]


def test_seen_on_a_step_s_day_that_step_is_sent_that_day() -> None:
    assert simulate(day(-7))[0] == (day(-7), LADDER.steps[2])


def test_a_job_that_misses_days_sends_only_the_latest_step_then_never_an_earlier_one() -> None:
    runs = frozenset({day(-40), day(-3), day(-2)} | {day(n) for n in range(3, 20)})  # down -39..-4 and -1..2
    sends = simulate(day(-40), job_runs_on=runs)
    assert [(d, s.offset_days) for d, s in sends] == [(day(-3), -7), (day(3), 3)]  # -30, -15 and -1 skipped
    late = frozenset({day(-40), day(0)})  # down on the 1-day step's day only: it goes out a day late
    assert [(d, s.offset_days) for d, s in simulate(day(-40), job_runs_on=late)] == [(day(0), -1)]


def test_catch_up_days_lets_the_latest_recently_missed_step_out_at_first_sight() -> None:
    assert offsets_sent(simulate(day(-5), catch_up_days=2)) == [-7, -1, 3]
    assert offsets_sent(simulate(day(-5), catch_up_days=1)) == [-1, 3]
    assert offsets_sent(simulate(day(-14), catch_up_days=30)) == [-15, -7, -1, 3]  # never -30 as well


def test_a_ladder_changed_midway_never_goes_back_to_an_earlier_offset() -> None:
    sent_under_old_ladder = frozenset({-10})
    assert due_step(LADDER, RENEWAL, day(-12), first_seen=day(-40), sent=sent_under_old_ladder, grace_days=GRACE) \
        is None  # the new -15 step would now repeat an earlier message
    assert due_step(LADDER, RENEWAL, day(-7), first_seen=day(-40), sent=sent_under_old_ladder,
                    grace_days=GRACE) == LADDER.steps[2]


def test_nothing_after_the_grace_period() -> None:
    assert offsets_sent(simulate(day(-40), grace_days=2)) == [-30, -15, -7, -1]
    assert offsets_sent(simulate(day(-40), grace_days=3)) == [-30, -15, -7, -1, 3]
    assert due_step(LADDER, RENEWAL, day(4), first_seen=day(-40), sent=frozenset({-1}), grace_days=3) is None
    assert due_step(LADDER, RENEWAL, day(3), first_seen=day(-40), sent=frozenset({-1}), grace_days=3) is not None


def test_nothing_once_stopped_or_before_first_sight() -> None:
    assert offsets_sent(simulate(day(-40), stop_on=day(-10))) == [-30, -15]
    assert due_step(LADDER, RENEWAL, day(-7), first_seen=day(-40), sent=frozenset(), grace_days=GRACE,
                    stopped=True) is None
    assert due_step(LADDER, RENEWAL, day(-7), first_seen=day(-6), sent=frozenset(), grace_days=GRACE,
                    catch_up_days=5) is None


def test_a_second_run_the_same_day_sends_nothing_more() -> None:
    assert simulate(day(-40), runs_per_day=3) == simulate(day(-40))


def test_plan_matches_the_daily_job() -> None:
    assert plan(LADDER, RENEWAL, day(-20), day(39), GRACE) == simulate(day(-20))
    assert plan(LADDER, RENEWAL, day(-5), day(10), 0) == [(day(-1), LADDER.steps[3])]
    assert plan(LADDER, RENEWAL, day(-5), day(-3), GRACE) == []


def test_a_custom_ladder_with_steps_on_the_same_day_as_the_renewal() -> None:
    ladder = Ladder("motor", (Step(-2, ("sms",), "a", fallback=True), Step(0, ("email",), "b", fallback=False)))
    assert [(d, s.template) for d, s in plan(ladder, RENEWAL, day(-10), day(10), 0)] == [(day(-2), "a"), (day(0), "b")]


@given(created=st.integers(min_value=-60, max_value=5), catch_up=st.integers(min_value=0, max_value=20),
       grace=st.integers(min_value=0, max_value=40), stop=st.one_of(st.none(), st.integers(-60, 60)),
       skipped=st.frozensets(st.integers(0, SIMULATED_DAYS - 1), max_size=30),
       runs_per_day=st.integers(1, 3))
@example(created=-1, catch_up=6, grace=0, stop=None, skipped=frozenset(), runs_per_day=1)  # the 1-day step is due
def test_catch_up_over_creation_dates(created: int, catch_up: int, grace: int, stop: int | None,
                                      skipped: frozenset[int], runs_per_day: int) -> None:
    first_seen = day(created)
    stop_on = None if stop is None else day(stop)
    runs = frozenset(first_seen + timedelta(days=n) for n in range(SIMULATED_DAYS) if n not in skipped)
    sends = simulate(first_seen, grace_days=grace, catch_up_days=catch_up, runs_per_day=runs_per_day,
                     stop_on=stop_on, job_runs_on=runs)
    sent = offsets_sent(sends)
    dates = [d for d, _ in sends]
    assert len(set(sent)) == len(sent), "a step was sent twice"
    assert len(set(dates)) == len(dates), "two steps went out the same day"
    assert sent == sorted(sent), "an earlier step went out after a later one"
    for when, step in sends:
        assert step.day(RENEWAL) <= when, "a step went out before its day"
        assert first_seen <= when <= RENEWAL + timedelta(days=grace), "a step outside the term's window"
        assert stop_on is None or when < stop_on, "a step after the stop"
    missed = [s for s in sent if day(s) < first_seen]
    assert len(missed) <= 1, "more than one step missed before first sight"
    assert all(day(s) >= first_seen - timedelta(days=catch_up) for s in missed)
    if not skipped and runs_per_day == 1 and stop_on is None:  # every day's job ran: the exact ladder from then on
        window_end = min(RENEWAL + timedelta(days=grace), first_seen + timedelta(days=SIMULATED_DAYS - 1))
        expected = [o for o in LADDER.offsets if first_seen <= day(o) <= window_end]
        if catch_up == 0:
            assert sent == expected
        else:
            assert sent[len(missed):] == expected
            current = [o for o in LADDER.offsets if first_seen - timedelta(days=catch_up) <= day(o) < first_seen]
            # the latest missed step goes at first sight, unless a step of its own falls due that very day
            due_at_first_sight = any(day(o) == first_seen for o in LADDER.offsets)
            assert missed == (current[-1:] if first_seen <= window_end and not due_at_first_sight else [])
        assert [(d, s.offset_days) for d, s in sends[len(missed):]] == [(day(o), o) for o in expected]


@given(created=st.sampled_from([-40, -20, -5, 1]) | st.integers(-60, 5))
def test_created_at_any_day_gets_exactly_the_steps_from_then_on(created: int) -> None:
    first_seen = day(created)
    last_day = first_seen + timedelta(days=SIMULATED_DAYS - 1)
    expected = [(day(o), o) for o in LADDER.offsets if first_seen <= day(o) <= last_day]
    assert [(d, s.offset_days) for d, s in simulate(first_seen)] == expected
