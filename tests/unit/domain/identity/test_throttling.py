"""The login throttle policy: 100 failures per account per hour, per-IP limit, growing per-pair delays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identity.throttling import ACCOUNT_LIMIT, ALLOWED, DELAY, IP_LIMIT, ThrottleDecision, ThrottlePolicy

POLICY = ThrottlePolicy()
NOW = 1_800_000_000.0
HOUR = 3600.0


def test_defaults_are_the_asvs_level_2_numbers() -> None:
    assert (POLICY.account_limit, POLICY.window) == (100, HOUR)
    assert (POLICY.free_attempts, POLICY.base_delay, POLICY.max_delay, POLICY.ip_limit) == (5, 1.0, 900.0, 1000)


def test_five_failures_are_free_then_delays_double_up_to_the_cap() -> None:
    assert [POLICY.delay_for(n) for n in range(5)] == [0.0] * 5
    assert [POLICY.delay_for(n) for n in range(5, 16)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert POLICY.delay_for(10_000) == 900.0
    assert POLICY.pair_history == 15


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": 0}, {"window": float("inf")}, {"account_limit": 0}, {"ip_limit": 0}, {"free_attempts": 0},
        {"base_delay": 0}, {"base_delay": 10, "max_delay": 5}, {"max_delay": 7200}, {"base_delay": float("nan")},
    ],
)
def test_inconsistent_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(**kwargs)  # type: ignore[arg-type]


def test_no_failures_is_allowed() -> None:
    assert POLICY.decide(NOW, [], [], []) == ALLOWED == ThrottleDecision(True, 0.0, "")


def test_the_101st_failure_in_an_hour_is_refused_until_the_oldest_leaves_the_window() -> None:
    account = [NOW - 3000 + i for i in range(100)]  # oldest 3000 s ago
    assert POLICY.decide(NOW, account[:99], [], []).allowed
    assert POLICY.decide(NOW, account, [], []) == ThrottleDecision(False, 600.0, ACCOUNT_LIMIT)
    assert POLICY.decide(NOW + 599, account, [], []).reason == ACCOUNT_LIMIT
    assert POLICY.decide(NOW + 600, account, [], []).allowed  # not locked out for ever


def test_over_the_limit_the_wait_is_for_the_failure_that_brings_the_count_below_it() -> None:
    account = [NOW - 3000 + i for i in range(102)]  # e.g. concurrent attempts overshot the limit
    assert POLICY.decide(NOW, account, [], []) == ThrottleDecision(False, 602.0, ACCOUNT_LIMIT)


def test_failures_older_than_the_window_do_not_count() -> None:
    assert POLICY.decide(NOW, [NOW - HOUR] * 100 + [NOW - 1] * 99, [], []).allowed


def test_the_ip_limit_counts_failures_across_accounts() -> None:
    ip = [NOW - 100.0] * 1000
    assert POLICY.decide(NOW, [], [], ip[:-1]).allowed
    assert POLICY.decide(NOW, [], [], ip) == ThrottleDecision(False, HOUR - 100, IP_LIMIT)


def test_the_pair_delay_runs_from_its_last_failure() -> None:
    pair = [NOW - 50, NOW - 40, NOW - 30, NOW - 20, NOW - 3]
    assert POLICY.decide(NOW - 3, [], pair, []) == ThrottleDecision(False, 1.0, DELAY)
    assert POLICY.decide(NOW - 2.5, [], pair, []) == ThrottleDecision(False, 0.5, DELAY)
    assert POLICY.decide(NOW - 2, [], pair, []).allowed
    assert POLICY.decide(NOW, [], [*pair, NOW], []) == ThrottleDecision(False, 2.0, DELAY)


def test_the_longest_wait_is_reported_when_several_limits_refuse() -> None:
    pair = [NOW] * 15  # 900 s delay
    account = [NOW - 3599.0] * 100  # lifts in 1 s
    assert POLICY.decide(NOW, account, pair, []) == ThrottleDecision(False, 900.0, DELAY)
    assert POLICY.decide(NOW, [NOW - 10.0] * 100, pair, [NOW - 10.0] * 1000) == ThrottleDecision(
        False, HOUR - 10, ACCOUNT_LIMIT)  # a tie prefers the account limit


def test_failures_after_now_count_as_now() -> None:
    assert POLICY.decide(NOW, [NOW + 10_000] * 100, [], []) == ThrottleDecision(False, HOUR, ACCOUNT_LIMIT)


# --- properties ---------------------------------------------------------------------------------------

policies = st.builds(
    lambda limit, ip_extra, free, base, factor, window: ThrottlePolicy(
        account_limit=limit, ip_limit=limit + ip_extra, free_attempts=free, base_delay=base,
        max_delay=min(base * factor, window), window=window,
    ),
    st.integers(1, 12), st.integers(0, 12), st.integers(1, 6), st.integers(1, 60), st.integers(1, 64),
    st.integers(60, 7200),
)


@given(policies, st.integers(0, 200))
def test_delays_never_shrink_with_more_failures_and_stay_within_the_cap(policy: ThrottlePolicy, n: int) -> None:
    assert 0.0 <= policy.delay_for(n) <= policy.delay_for(n + 1) <= policy.max_delay
    assert (policy.delay_for(n) == 0.0) == (n < policy.free_attempts)


@given(policies, st.integers(0, 200))
def test_past_the_pair_history_the_delay_is_the_cap(policy: ThrottlePolicy, extra: int) -> None:
    assert policy.delay_for(policy.pair_history + extra) == policy.max_delay
    assert policy.pair_history == policy.free_attempts or policy.delay_for(policy.pair_history - 1) < policy.max_delay


failure_times = st.lists(st.floats(-10_000.0, 100.0, allow_nan=False), max_size=40)


@given(policies, failure_times, failure_times, failure_times)
def test_retry_after_is_never_negative_and_never_beyond_the_window(
    policy: ThrottlePolicy, account: list[float], pair: list[float], ip: list[float],
) -> None:
    decision = policy.decide(0.0, account, pair, ip)
    assert 0.0 <= decision.retry_after <= policy.window
    assert decision.allowed == (decision.retry_after == 0.0)
    assert decision.reason in ({""} if decision.allowed else {ACCOUNT_LIMIT, IP_LIMIT, DELAY})


past_times = st.lists(st.integers(-8000, 0).map(float), max_size=40)


@given(policies, past_times, past_times, past_times)
def test_waiting_retry_after_without_new_failures_is_always_allowed(
    policy: ThrottlePolicy, account: list[float], pair: list[float], ip: list[float],
) -> None:
    decision = policy.decide(0.0, account, pair, ip)
    assert policy.decide(decision.retry_after, account, pair, ip).allowed


@given(policies, past_times, past_times, past_times, st.integers(-8000, 0).map(float), st.sampled_from("api"))
def test_one_more_failure_never_shortens_the_wait(
    policy: ThrottlePolicy, account: list[float], pair: list[float], ip: list[float], at: float, where: str,
) -> None:
    before = policy.decide(0.0, account, pair, ip)
    more = {"a": ([*account, at], pair, ip), "p": (account, [*pair, at], ip), "i": (account, pair, [*ip, at])}
    after = policy.decide(0.0, *more[where])
    assert after.retry_after >= before.retry_after
