"""A/B tests: the configuration and its rules, the deterministic split of an audience, and the winner's decision.

The audience is split in this order: `holdout_percent` of everyone is held out (never sent, kept for comparison);
of the others, `test_percent` form the test sample, shared among the variants by their `split_percent`s; the rest
is the remainder, sent the winner once the test is decided. `test_percent` 100 means no test phase: everyone not
held out gets a variant by the splits (a plain split) and `decide` only reports.

`assign` is a pure function of the recipient id and the campaign's seed (a BLAKE2b hash mapped to [0, 1)), so a
recipient lands in the same arm on every run, worker and retry, and arms of different campaigns are independent.

`decide` picks the variant with the highest rate of the chosen metric (ties go to the first variant in the order
given), and reports each rate, the winner's relative lift over the runner-up and the two-sided p-value of a
two-proportion z-test between them (pooled standard error). The p-value is reported, never used to refuse a winner:
the remainder must get something, and the desk decided the test size when it set it up.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.shared.errors import FieldError, ValidationFailed

__all__ = ["ABTest", "Decision", "Metric", "VariantSplit", "assign", "decide", "two_proportion_p_value"]

HOLDOUT = "holdout"
REMAINDER = "remainder"
MAX_VARIANTS = 10
MAX_WAIT_MINUTES = 7 * 24 * 60
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,49}")
_SCALE = float(2**64)


class Metric(StrEnum):
    OPEN = "open"
    CLICK = "click"
    REPLY = "reply"
    CONVERSION = "conversion"


@dataclass(frozen=True, slots=True)
class VariantSplit:
    name: str
    split_percent: int


@dataclass(frozen=True, slots=True)
class ABTest:
    """A validated A/B configuration; build it with `ABTest.create`, which checks every rule at once."""

    variants: tuple[VariantSplit, ...]
    holdout_percent: int = 0
    test_percent: int = 100
    wait_minutes: int = 240
    metric: Metric = Metric.OPEN

    @property
    def has_test_phase(self) -> bool:
        return self.test_percent < 100

    @classmethod
    def create(cls, variants: Sequence[tuple[str, int]], *, holdout_percent: object = 0, test_percent: object = 100,
               wait_minutes: object = 240, metric: object = "open", prefix: str = "abTest") -> ABTest:
        """Check and build; raises `ValidationFailed` with a field per problem (`abTest.variants[1].splitPercent`)."""
        errors: list[FieldError] = []
        if not 2 <= len(variants) <= MAX_VARIANTS:
            errors.append(FieldError(f"{prefix}.variants", f"needs 2 to {MAX_VARIANTS} variants"))
        seen: set[str] = set()
        splits: list[int] = []
        for i, (name, split) in enumerate(variants):
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                errors.append(FieldError(f"{prefix}.variants[{i}].name",
                                         "must be 1 to 50 letters, digits, spaces, '-' or '_'"))
            elif name.casefold() in seen:
                errors.append(FieldError(f"{prefix}.variants[{i}].name", f"'{name}' is used twice"))
            else:
                seen.add(name.casefold())
            splits.append(_whole(errors, f"{prefix}.variants[{i}].splitPercent", split, 1, 100))
        splits_valid = all(isinstance(split, int) and not isinstance(split, bool) and 1 <= split <= 100
                           for _, split in variants)
        if splits_valid and variants and sum(splits) != 100:
            errors.append(FieldError(f"{prefix}.variants", f"split percentages add up to {sum(splits)}, not 100"))
        holdout = _whole(errors, f"{prefix}.holdoutPercent", holdout_percent, 0, 50)
        test = _whole(errors, f"{prefix}.testPercent", test_percent, 5, 100)
        wait = _whole(errors, f"{prefix}.waitMinutes", wait_minutes, 0, MAX_WAIT_MINUTES)
        chosen = metric if isinstance(metric, str) and metric in {m.value for m in Metric} else None
        if chosen is None:
            errors.append(FieldError(f"{prefix}.metric", f"must be one of {', '.join(m.value for m in Metric)}"))
        if errors or chosen is None:
            raise ValidationFailed(errors)
        return cls(variants=tuple(VariantSplit(name, split) for (name, _), split in zip(variants, splits, strict=True)),
                   holdout_percent=holdout, test_percent=test, wait_minutes=wait, metric=Metric(chosen))

    def settings(self) -> dict[str, Any]:
        """The settings other than the variants, as kept in `Campaign.ab_test`."""
        return {"holdout_percent": self.holdout_percent, "test_percent": self.test_percent,
                "wait_minutes": self.wait_minutes, "metric": self.metric.value}


def _whole(errors: list[FieldError], path: str, value: object, low: int, high: int) -> int:
    """`value` when it is a whole number in [low, high]; otherwise records an error and returns `low`."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    errors.append(FieldError(path, f"must be a whole number from {low} to {high}"))
    return low


def _uniform(recipient_id: int, seed: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{recipient_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def assign(recipient_id: int, config: ABTest, seed: str) -> str:
    """`holdout`, `test:<variant>` or `remainder` for this recipient; the same answer for the same id and seed."""
    draw = _uniform(recipient_id, seed)
    holdout = config.holdout_percent / 100
    if draw < holdout:
        return HOLDOUT
    draw = (draw - holdout) / (1 - holdout)  # uniform again over the recipients not held out
    test = config.test_percent / 100
    if draw >= test:
        return REMAINDER
    draw = draw / test * 100
    boundary = 0
    for variant in config.variants:
        boundary += variant.split_percent
        if draw < boundary:
            return f"test:{variant.name}"
    return f"test:{config.variants[-1].name}"  # float rounding at the very top of the range


@dataclass(frozen=True, slots=True)
class Decision:
    winner: str
    rates: dict[str, float]
    lift: float | None  # (winner rate - runner-up rate) / runner-up rate; None without a runner-up or at a 0 rate
    p_value: float | None  # winner against runner-up; None when either has no exposures
    reason: str
    stats: dict[str, tuple[int, int]]  # variant -> (exposed, successes), as decided on
    metric: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for `Campaign.ab_test["decision"]`."""
        return {"winner": self.winner, "metric": self.metric, "rates": dict(self.rates), "lift": self.lift,
                "p_value": self.p_value, "reason": self.reason,
                "stats": {name: {"exposed": n, "successes": s} for name, (n, s) in self.stats.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        stats = {name: (int(v["exposed"]), int(v["successes"])) for name, v in data["stats"].items()}
        return cls(winner=data["winner"], rates={k: float(v) for k, v in data["rates"].items()}, lift=data["lift"],
                   p_value=data["p_value"], reason=data["reason"], stats=stats, metric=data.get("metric"))


def decide(stats: Mapping[str, tuple[int, int]], metric: Metric | str | None = None) -> Decision:
    """The variant with the highest success rate (ties: the first in `stats`' order), with the numbers behind it."""
    if not stats:
        raise ValueError("decide needs the stats of at least one variant")
    for name, (exposed, successes) in stats.items():
        if exposed < 0 or successes < 0 or successes > exposed:
            raise ValueError(f"variant {name}: need 0 <= successes <= exposed, got {successes} of {exposed}")
    rates = {name: (s / n if n else 0.0) for name, (n, s) in stats.items()}
    ranked = sorted(rates, key=lambda name: -rates[name])  # sorted() is stable: ties keep the given order
    winner = ranked[0]
    label = f"{Metric(metric).value} rate" if metric is not None else "rate"
    runner_up = ranked[1] if len(ranked) > 1 else None
    if runner_up is None:
        lift, p_value, reason = None, None, "only one variant"
    else:
        lift = (rates[winner] - rates[runner_up]) / rates[runner_up] if rates[runner_up] else None
        p_value = two_proportion_p_value(stats[winner], stats[runner_up])
        if all(n == 0 for n, _ in stats.values()):
            reason = "no exposures yet: the first variant by default"
        elif rates[winner] == rates[runner_up]:
            reason = f"tie on {label} ({rates[winner]:.2%}): the first variant of the tie"
        else:
            reason = f"highest {label}: {rates[winner]:.2%} against {rates[runner_up]:.2%} for {runner_up}"
    return Decision(winner=winner, rates=rates, lift=lift, p_value=p_value, reason=reason, stats=dict(stats),
                    metric=Metric(metric).value if metric is not None else None)


def two_proportion_p_value(first: tuple[int, int], second: tuple[int, int]) -> float | None:
    """Two-sided p-value of a pooled two-proportion z-test of (exposed, successes) pairs; None if one has none."""
    (n1, s1), (n2, s2) = first, second
    if n1 == 0 or n2 == 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if error == 0:
        return 1.0  # both rates are 0 or both are 1: no difference at all
    z = (s1 / n1 - s2 / n2) / error
    return math.erfc(abs(z) / math.sqrt(2))
