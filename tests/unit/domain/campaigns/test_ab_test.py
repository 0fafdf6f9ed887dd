"""A/B tests: configuration rules, a deterministic split in the configured proportions, and the winner's decision."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.campaigns.ab_test import ABTest, Decision, Metric, assign, decide, two_proportion_p_value
from domain.shared.errors import ValidationFailed


def fields_of(**kwargs: object) -> dict[str, str]:
    variants = kwargs.pop("variants", [("A", 50), ("B", 50)])
    with pytest.raises(ValidationFailed) as caught:
        ABTest.create(variants, **kwargs)  # type: ignore[arg-type]
    return {d.field: d.message for d in caught.value.details}


def test_a_valid_configuration() -> None:
    config = ABTest.create([("A", 30), ("B", 70)], holdout_percent=10, test_percent=20, wait_minutes=60,
                           metric="click")
    assert config.metric is Metric.CLICK and config.has_test_phase
    assert [(v.name, v.split_percent) for v in config.variants] == [("A", 30), ("B", 70)]
    assert config.settings() == {"holdout_percent": 10, "test_percent": 20, "wait_minutes": 60, "metric": "click"}
    assert not ABTest.create([("A", 50), ("B", 50)]).has_test_phase


def test_every_broken_rule_is_reported_at_once() -> None:
    found = fields_of(variants=[("A", 50), ("a", 0), ("", 20), ("C:D", True)], holdout_percent=51, test_percent=4,
                      wait_minutes=-1, metric="opens")
    assert set(found) == {
        "abTest.variants[1].name", "abTest.variants[1].splitPercent", "abTest.variants[2].name",
        "abTest.variants[3].name", "abTest.variants[3].splitPercent", "abTest.holdoutPercent", "abTest.testPercent",
        "abTest.waitMinutes", "abTest.metric",
    }
    assert "used twice" in found["abTest.variants[1].name"]


def test_splits_must_add_up_to_one_hundred() -> None:
    assert fields_of(variants=[("A", 50), ("B", 40)]) == {"abTest.variants": "split percentages add up to 90, not 100"}


@pytest.mark.parametrize("variants", [[("A", 100)], [(chr(65 + i), 9) for i in range(11)]])
def test_two_to_ten_variants(variants: list[tuple[str, int]]) -> None:
    assert "abTest.variants" in fields_of(variants=variants)


def test_bounds_are_inclusive() -> None:
    ABTest.create([("A", 1), ("B", 99)], holdout_percent=50, test_percent=5, wait_minutes=0, metric="conversion")
    ABTest.create([("A", 50), ("B", 50)], holdout_percent=0, test_percent=100, wait_minutes=10080, metric="reply")
    assert "abTest.waitMinutes" in fields_of(wait_minutes=10081)


def test_assignment_is_deterministic_and_depends_on_the_seed() -> None:
    config = ABTest.create([("A", 50), ("B", 50)], holdout_percent=20, test_percent=50)
    first = [assign(i, config, "campaign-7") for i in range(2_000)]
    assert first == [assign(i, config, "campaign-7") for i in range(2_000)]
    other = [assign(i, config, "campaign-8") for i in range(2_000)]
    assert sum(a != b for a, b in zip(first, other, strict=True)) > 500  # about 2/3 differ when independent
    assert set(first) == {"holdout", "test:A", "test:B", "remainder"}


def test_a_plain_split_has_no_remainder_and_no_holdout_by_default() -> None:
    config = ABTest.create([("A", 50), ("B", 50)])
    assert {assign(i, config, "s") for i in range(1_000)} == {"test:A", "test:B"}


def expected_shares(config: ABTest) -> dict[str, float]:
    holdout = config.holdout_percent / 100
    test = (1 - holdout) * config.test_percent / 100
    shares = {"holdout": holdout, "remainder": (1 - holdout) - test}
    shares.update({f"test:{v.name}": test * v.split_percent / 100 for v in config.variants})
    return {arm: share for arm, share in shares.items() if share > 0}


@st.composite
def configurations(draw: st.DrawFn) -> ABTest:
    count = draw(st.integers(min_value=2, max_value=4))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=99), min_size=count - 1, max_size=count - 1,
                                unique=True)))
    splits = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    return ABTest.create([(chr(65 + i), s) for i, s in enumerate(splits)],
                         holdout_percent=draw(st.integers(min_value=0, max_value=50)),
                         test_percent=draw(st.integers(min_value=5, max_value=100)))


@settings(max_examples=25, deadline=None)
@given(config=configurations(), seed=st.text(min_size=1, max_size=12), start=st.integers(min_value=0, max_value=10**9))
def test_proportions_come_out_within_tolerance_on_20000_ids(config: ABTest, seed: str, start: int) -> None:
    n = 20_000
    counts = Counter(assign(i, config, seed) for i in range(start, start + n))
    shares = expected_shares(config)
    assert set(counts) <= set(shares)
    for arm, share in shares.items():
        tolerance = 5 * math.sqrt(share * (1 - share) / n) + 1 / n  # five standard errors
        assert abs(counts[arm] / n - share) <= tolerance, (arm, counts[arm] / n, share)


def test_the_highest_rate_wins_with_its_numbers() -> None:
    decision = decide({"A": (1000, 200), "B": (1000, 260), "C": (500, 60)}, metric="open")
    assert decision.winner == "B"
    assert decision.rates == {"A": 0.2, "B": 0.26, "C": 0.12}
    assert decision.lift == pytest.approx(0.3)  # 26% against 20%
    assert decision.p_value is not None and decision.p_value < 0.01
    assert decision.reason == "highest open rate: 26.00% against 20.00% for A"
    assert decision.metric == "open"


def test_a_winner_is_picked_even_when_not_significant() -> None:
    decision = decide({"A": (40, 10), "B": (40, 11)}, metric=Metric.CLICK)
    assert decision.winner == "B" and decision.p_value is not None and decision.p_value > 0.5


def test_ties_go_to_the_first_variant_given() -> None:
    assert decide({"B": (100, 10), "A": (200, 20)}).winner == "B"
    assert decide({"A": (200, 20), "B": (100, 10)}).winner == "A"
    tie = decide({"A": (100, 10), "B": (100, 10)}, metric="reply")
    assert tie.lift == 0.0 and tie.p_value == 1.0 and "tie" in tie.reason


def test_no_exposures_yet() -> None:
    decision = decide({"A": (0, 0), "B": (0, 0)})
    assert decision.winner == "A" and decision.lift is None and decision.p_value is None
    assert "no exposures" in decision.reason


def test_a_zero_runner_up_rate_has_no_lift() -> None:
    decision = decide({"A": (50, 0), "B": (50, 5)})
    assert decision.winner == "B" and decision.lift is None


@pytest.mark.parametrize("stats", [{}, {"A": (10, 11)}, {"A": (-1, 0)}])
def test_impossible_stats_are_refused(stats: dict[str, tuple[int, int]]) -> None:
    with pytest.raises(ValueError):
        decide(stats)


def test_the_decision_round_trips_through_a_dict() -> None:
    decision = decide({"A": (1000, 200), "B": (1000, 260)}, metric="conversion")
    stored = decision.to_dict()
    assert stored["winner"] == "B" and stored["stats"] == {"A": {"exposed": 1000, "successes": 200},
                                                           "B": {"exposed": 1000, "successes": 260}}
    assert Decision.from_dict(stored) == decision


def test_the_p_value_matches_a_known_z_test() -> None:
    # 200/1000 against 260/1000: pooled 0.23, z = -0.06 / sqrt(0.23 * 0.77 * 0.002) = -3.188..., p = 0.00143...
    assert two_proportion_p_value((1000, 200), (1000, 260)) == pytest.approx(0.001433, abs=2e-6)
    assert two_proportion_p_value((0, 0), (10, 1)) is None
    assert two_proportion_p_value((10, 10), (20, 20)) == 1.0


@given(a=st.tuples(st.integers(1, 10_000), st.integers(0, 10_000)), b=st.tuples(st.integers(1, 10_000),
                                                                                   st.integers(0, 10_000)))
def test_p_values_are_probabilities_and_symmetric(a: tuple[int, int], b: tuple[int, int]) -> None:
    a, b = (a[0], min(a)), (b[0], min(b))
    p = two_proportion_p_value(a, b)
    assert p is not None and 0.0 <= p <= 1.0
    assert p == pytest.approx(two_proportion_p_value(b, a))
