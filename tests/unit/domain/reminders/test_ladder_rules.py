"""Reminder ladders: validation reports every problem, the book falls back to the default ladder."""

from __future__ import annotations

from datetime import date

import pytest

from domain.reminders.ladder import DEFAULT_LADDER, DEFAULT_POLICY_TYPE, Ladder, LadderBook, Step, due_step, plan
from domain.shared.errors import ValidationFailed


def step(offset: int, *channels: str, template: str = "t", always: tuple[str, ...] = ()) -> Step:
    return Step(offset, channels or ("sms",), template, fallback=True, always=always)


def problems(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {d.field: d.message for d in error.value.details}


def test_the_default_ladder_is_30_15_7_1_days_before_and_3_after() -> None:
    assert DEFAULT_LADDER.offsets == (-30, -15, -7, -1, 3)
    assert DEFAULT_LADDER.policy_type == DEFAULT_POLICY_TYPE
    first = DEFAULT_LADDER.steps[0]
    assert (first.channels, first.fallback, first.always) == (("whatsapp", "sms"), True, ("email",))


def test_a_valid_ladder_keeps_its_steps() -> None:
    ladder = Ladder("motor", (step(-90, "email"), step(0, "whatsapp", "sms"), step(60, always=("email",))))
    assert ladder.offsets == (-90, 0, 60)
    assert ladder.steps[1].day(date(2025, 6, 10)) == date(2025, 6, 10)
    assert ladder.steps[0].day(date(2025, 6, 10)) == date(2025, 3, 12)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as error:
        Ladder(" ", (
            Step(-91, (), "", fallback=True),
            Step(61, ("pigeon", "sms"), "t", fallback=False, always=("fax",)),
            Step(5, ("sms",), "t", fallback=True, always=("sms",)),
        ))
    assert problems(error) == {
        "policyType": "must not be blank",
        "steps[0].offsetDays": "must be between -90 and 60",
        "steps[0].channels": "must have at least one channel",
        "steps[0].template": "must not be blank",
        "steps[1].offsetDays": "must be between -90 and 60",
        "steps[1].channels": "unknown channel(s) pigeon; known: email, sms, whatsapp",
        "steps[1].always": "unknown channel(s) fax; known: email, sms, whatsapp",
        "steps[2].channels": "a channel may appear only once in channels and always",
        "steps": "steps must be in increasing offset order",
    }


def test_offsets_must_be_unique() -> None:
    with pytest.raises(ValidationFailed) as error:
        Ladder("motor", (step(-7), step(-7, "email")))
    assert problems(error) == {"steps": "offsets must be unique"}


def test_a_ladder_needs_a_step() -> None:
    with pytest.raises(ValidationFailed) as error:
        Ladder("motor", ())
    assert problems(error) == {"steps": "must have at least one step"}


def test_always_alone_is_enough_channels() -> None:
    assert Ladder("life", (Step(-1, (), "t", fallback=False, always=("email",)),)).offsets == (-1,)


def test_a_duplicate_channel_within_the_order_is_refused() -> None:
    with pytest.raises(ValidationFailed) as error:
        Ladder("motor", (step(-1, "sms", "sms"),))
    assert set(problems(error)) == {"steps[0].channels"}


def test_the_book_uses_a_type_s_ladder_else_the_default() -> None:
    motor = Ladder("motor", (step(-10),))
    book = LadderBook.of([motor, Ladder("health", (step(-20),))])
    assert book.ladder_for("motor") is motor
    assert book.ladder_for("health").offsets == (-20,)
    assert book.ladder_for("travel") is DEFAULT_LADDER
    custom_default = Ladder("*", (step(-5),))
    assert LadderBook.of([motor], default=custom_default).ladder_for("travel") is custom_default


def test_the_book_refuses_two_ladders_for_one_type() -> None:
    with pytest.raises(ValidationFailed) as error:
        LadderBook.of([Ladder("motor", (step(-10),)), Ladder("health", (step(-1),)), Ladder("motor", (step(-2),))])
    assert problems(error) == {"ladders[2].policyType": "'motor' has two ladders"}


def test_negative_grace_or_catch_up_is_refused() -> None:
    renewal = date(2025, 6, 30)
    with pytest.raises(ValidationFailed) as error:
        due_step(DEFAULT_LADDER, renewal, renewal, first_seen=renewal, sent=frozenset(), grace_days=-1,
                 catch_up_days=-2)
    assert problems(error) == {"graceDays": "must not be negative", "catchUpDays": "must not be negative"}
    with pytest.raises(ValidationFailed):
        plan(DEFAULT_LADDER, renewal, renewal, renewal, -1)
