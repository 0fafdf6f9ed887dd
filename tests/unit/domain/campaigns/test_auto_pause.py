"""Auto-pause: the failure rate over the latest decided sends, once enough of them are decided."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.campaigns.auto_pause import should_pause
from domain.campaigns.model import RecipientStatus


def test_pauses_when_the_rate_passes_the_threshold() -> None:
    outcomes = ["failed"] * 6 + ["sent"] * 4
    assert should_pause(outcomes, window=10, threshold=0.5, minimum=10) == (True, 0.6)


def test_the_threshold_itself_does_not_pause() -> None:
    assert should_pause(["failed", "sent"] * 5, window=10, threshold=0.5, minimum=10) == (False, 0.5)


def test_too_few_decided_sends_never_pause_but_report_the_rate() -> None:
    assert should_pause(["failed"] * 9, window=100, threshold=0.2, minimum=10) == (False, 1.0)
    assert should_pause([], window=100, threshold=0.2, minimum=10) == (False, 0.0)


def test_only_the_latest_window_counts_most_recent_first() -> None:
    recent_good, old_bad = ["sent"] * 10, ["failed"] * 90
    assert should_pause(recent_good + old_bad, window=10, threshold=0.1, minimum=5) == (False, 0.0)
    assert should_pause(old_bad + recent_good, window=10, threshold=0.1, minimum=5) == (True, 1.0)


def test_undecided_statuses_are_skipped_not_counted() -> None:
    outcomes = [RecipientStatus.PENDING, "sending", "unknown", "held_out", "waiting", "failed", "sent", "sent"]
    paused, rate = should_pause(outcomes, window=3, threshold=0.3, minimum=3)
    assert paused and rate == pytest.approx(1 / 3)
    assert should_pause([RecipientStatus.FAILED, RecipientStatus.SENT], window=2, threshold=0.4, minimum=2) == (
        True, 0.5)


def test_thresholds_zero_and_one() -> None:
    assert should_pause(["failed"] + ["sent"] * 99, window=100, threshold=0.0, minimum=1)[0]
    assert not should_pause(["failed"] * 100, window=100, threshold=1.0, minimum=1)[0]


@pytest.mark.parametrize(("window", "threshold", "minimum"), [(0, 0.5, 1), (10, 1.5, 5), (10, -0.1, 5), (10, 0.5, 0),
                                                             (10, 0.5, 11)])
def test_nonsense_settings_are_refused(window: int, threshold: float, minimum: int) -> None:
    with pytest.raises(ValueError):
        should_pause(["sent"], window=window, threshold=threshold, minimum=minimum)


@given(outcomes=st.lists(st.sampled_from(["sent", "failed", "pending", "unknown"]), max_size=300),
       window=st.integers(min_value=1, max_value=100), threshold=st.floats(min_value=0, max_value=1),
       minimum_share=st.floats(min_value=0, max_value=1))
def test_the_rate_is_failures_over_the_latest_decided(outcomes: list[str], window: int, threshold: float,
                                                     minimum_share: float) -> None:
    minimum = max(1, round(window * minimum_share))
    latest = [o for o in outcomes if o in ("sent", "failed")][:window]
    rate = latest.count("failed") / len(latest) if latest else 0.0
    assert should_pause(outcomes, window, threshold, minimum) == (len(latest) >= minimum and rate > threshold, rate)
