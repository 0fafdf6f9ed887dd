"""Auto-pause: a campaign stops itself when too many of its latest sends failed."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DECIDED", "should_pause"]

FAILED = "failed"
DECIDED = frozenset({"sent", FAILED})  # recipient statuses that end a send attempt; others are not counted


def should_pause(outcomes: Sequence[str], window: int, threshold: float, minimum: int) -> tuple[bool, float]:
    """Whether the failure rate over the last `window` decided sends exceeds `threshold`, and that rate.

    `outcomes` are recipient statuses, most recent first (as `RecipientRepository.recent_outcomes` returns them);
    only `sent` and `failed` count (pending, sending, unknown, held_out, waiting are skipped). The rate is failures
    over decided sends among the latest `window` of them; it pauses only once at least `minimum` sends are decided
    and the rate is strictly above `threshold` (so 1.0 never pauses and 0.0 pauses at the first failure).
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    if not 1 <= minimum <= window:
        raise ValueError("minimum must be between 1 and window")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold is a rate between 0 and 1")
    decided = [str(outcome) for outcome in outcomes if str(outcome) in DECIDED][:window]
    if not decided:
        return False, 0.0
    rate = decided.count(FAILED) / len(decided)
    return len(decided) >= minimum and rate > threshold, rate
