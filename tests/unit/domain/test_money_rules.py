"""Money: exact two-place decimals, never rounded, never through float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.errors import ValidationFailed
from domain.shared.money import MAX_AMOUNT, parse_amount

cents = st.integers(min_value=1, max_value=int(MAX_AMOUNT * 100))


@given(cents)
def test_any_positive_two_place_amount_is_kept_exactly(value: int) -> None:
    amount = Decimal(value) / 100
    assert parse_amount(amount, field="premiumAmount") == amount
    assert parse_amount(str(amount), field="premiumAmount") == amount


@given(cents, st.integers(min_value=1, max_value=9))
def test_a_third_decimal_place_is_refused_not_rounded(value: int, extra: int) -> None:
    amount = Decimal(value) / 100 + Decimal(extra) / 1000
    with pytest.raises(ValidationFailed) as raised:
        parse_amount(amount, field="premiumAmount")
    assert raised.value.details[0].field == "premiumAmount"


@given(st.integers(max_value=0))
def test_zero_and_negative_premiums_are_refused(value: int) -> None:
    with pytest.raises(ValidationFailed):
        parse_amount(Decimal(value) / 100, field="premiumAmount")


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", str(MAX_AMOUNT + 1)])
def test_non_numbers_and_overflow_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_amount(raw, field="x")


def test_trailing_zeros_beyond_two_places_are_fine() -> None:
    assert parse_amount(Decimal("10.500"), field="x") == Decimal("10.50")
