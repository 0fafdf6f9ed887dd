"""Delivery status only moves forward, independently of the order receipts arrive in; first times are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import reduce
from itertools import permutations
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.messaging.delivery import (
    FAILURES,
    MESSAGE_STATUSES,
    DeliveryTimes,
    MessageStatus,
    advance,
    rank_of,
)

ORDER = ["queued", "sent", "undelivered", "failed", "delivered", "read"]
T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def fold(reports: list[str], start: str = "queued") -> str:
    return reduce(advance, reports, start)


def test_the_statuses_in_rank_order() -> None:
    assert [str(s) for s in MESSAGE_STATUSES] == ORDER
    assert [rank_of(s) for s in ORDER] == list(range(6))
    assert {str(s) for s in FAILURES} == {"failed", "undelivered"}


@pytest.mark.parametrize(("current", "reported", "kept"), [
    ("queued", "sent", "sent"),
    ("sent", "delivered", "delivered"),
    ("delivered", "read", "read"),
    ("delivered", "sent", "delivered"),      # a late 'sent' does not move it back
    ("read", "delivered", "read"),
    ("sent", "queued", "sent"),
    ("sent", "failed", "failed"),
    ("failed", "delivered", "delivered"),    # a delivery receipt proves the failure report stale
    ("undelivered", "read", "read"),
    ("delivered", "failed", "delivered"),
    ("undelivered", "failed", "failed"),     # the fixed order between the two failures
    ("failed", "undelivered", "failed"),
    ("sent", "sent", "sent"),
])
def test_advance_keeps_the_higher_ranked_status(current: str, reported: str, kept: str) -> None:
    assert advance(current, reported) == kept


def test_advance_returns_plain_comparable_strings() -> None:
    kept = advance("queued", "sent")
    assert kept == "sent" and isinstance(kept, str) and kept is MessageStatus.SENT


@pytest.mark.parametrize(("current", "reported"), [("queued", "bogus"), ("Sent", "queued"), ("", "sent")])
def test_unknown_statuses_are_refused(current: str, reported: str) -> None:
    with pytest.raises(ValueError, match="unknown message status"):
        advance(current, reported)
    with pytest.raises(ValueError):
        rank_of("bogus")


def test_every_permutation_of_all_statuses_ends_on_read() -> None:
    assert {fold(list(order)) for order in permutations(ORDER)} == {"read"}


def test_both_failures_in_either_order_end_on_failed() -> None:
    assert fold(["sent", "undelivered", "failed"]) == fold(["failed", "sent", "undelivered"]) == "failed"


@given(st.lists(st.sampled_from(ORDER), max_size=12), st.randoms(use_true_random=False))
def test_folding_is_order_independent_and_never_steps_back(reports: list[str], shuffler: Random) -> None:
    shuffled = list(reports)
    shuffler.shuffle(shuffled)
    assert fold(reports) == fold(shuffled) == fold(reports + shuffled)  # order and duplicates do not matter
    expected = max(["queued", *reports], key=ORDER.index)
    assert fold(shuffled) == expected
    current = "queued"
    for reported in shuffled:
        kept = advance(current, reported)
        assert ORDER.index(kept) >= ORDER.index(current)  # never backwards
        assert kept in (current, reported)
        current = kept


# --- first times -----------------------------------------------------------------------------------------------


def test_each_status_keeps_its_earliest_time() -> None:
    times: dict[str, datetime] = {}
    DeliveryTimes.record(times, "delivered", T0 + timedelta(minutes=5))
    DeliveryTimes.record(times, "sent", T0 + timedelta(minutes=1))   # late receipt still fills sent
    DeliveryTimes.record(times, "sent", T0 + timedelta(minutes=9))   # a retried webhook: later, ignored
    DeliveryTimes.record(times, "delivered", T0 + timedelta(minutes=2))  # an earlier one replaces
    assert times == {"sent": T0 + timedelta(minutes=1), "delivered": T0 + timedelta(minutes=2)}


def test_record_updates_and_returns_the_same_mapping() -> None:
    times: dict[str, datetime] = {"queued": T0}
    assert DeliveryTimes.record(times, MessageStatus.SENT, T0) is times
    assert list(times) == ["queued", "sent"] and all(type(key) is str for key in times)


def test_times_in_other_offsets_compare_as_instants() -> None:
    india = datetime(2025, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))  # 09:30 UTC
    times: dict[str, datetime] = {"sent": T0}
    DeliveryTimes.record(times, "sent", india)
    assert times["sent"] == india


def test_record_refuses_unknown_statuses_and_naive_times() -> None:
    with pytest.raises(ValueError, match="unknown message status"):
        DeliveryTimes.record({}, "opened", T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        DeliveryTimes.record({}, "sent", datetime(2025, 3, 1, 10, 0))


@given(st.lists(st.tuples(st.sampled_from(ORDER), st.integers(0, 10_000)), max_size=20), st.randoms())
def test_first_times_do_not_depend_on_arrival_order(events: list[tuple[str, int]], shuffler: Random) -> None:
    def replay(order: list[tuple[str, int]]) -> dict[str, datetime]:
        times: dict[str, datetime] = {}
        for status, second in order:
            DeliveryTimes.record(times, status, T0 + timedelta(seconds=second))
        return times

    shuffled = list(events)
    shuffler.shuffle(shuffled)
    assert replay(events) == replay(shuffled)
    for status, time in replay(events).items():
        assert time == T0 + timedelta(seconds=min(s for name, s in events if name == status))
