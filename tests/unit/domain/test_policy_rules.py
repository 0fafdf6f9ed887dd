"""Policy terms, renewal windows, priorities, readable numbers and contact normalisation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.policies.model import CasePriority, PolicyStatus
from domain.policies.rules import (
    case_priority,
    format_case_number,
    is_due_for_renewal,
    validate_term,
)
from domain.shared.contact import normalise_email
from domain.shared.errors import ValidationFailed

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1))


@given(dates, st.integers(min_value=1, max_value=3650))
def test_renewal_date_defaults_to_end_date(start: date, days: int) -> None:
    term = validate_term(start, start + timedelta(days=days), None, 30)
    assert term.renewal_date == term.end_date


@given(dates, st.integers(min_value=0, max_value=3650))
def test_end_date_must_be_after_start_date(start: date, days_back: int) -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_term(start, start - timedelta(days=days_back), None, 30)
    assert [d.field for d in raised.value.details] == ["endDate"]


@given(dates, st.integers(min_value=1, max_value=120), st.integers(min_value=0, max_value=90),
       st.integers(min_value=-400, max_value=400))
def test_a_policy_is_due_exactly_from_the_window_to_the_end_of_grace(
        renewal: date, window: int, grace: int, offset: int) -> None:
    today = renewal + timedelta(days=offset)
    due = is_due_for_renewal(status=PolicyStatus.ACTIVE, renewal_date=renewal, grace_period_days=grace,
                             today=today, window_days=window)
    assert due == (-window <= offset <= grace)
    assert not is_due_for_renewal(status=PolicyStatus.CANCELLED, renewal_date=renewal, grace_period_days=grace,
                                  today=today, window_days=window)


@pytest.mark.parametrize(("premium", "days", "expected"), [
    ("60000", 3, CasePriority.URGENT), ("60000", 30, CasePriority.HIGH), ("1000", 5, CasePriority.HIGH),
    ("1000", 40, CasePriority.LOW), ("20000", 40, CasePriority.MEDIUM), ("1000", 10, CasePriority.MEDIUM)])
def test_case_priority_weighs_premium_and_days_to_renewal(premium: str, days: int, expected: CasePriority) -> None:
    today = date(2026, 11, 28)
    assert case_priority(Decimal(premium), today + timedelta(days=days), today) is expected


def test_case_numbers_are_readable_and_never_truncated() -> None:
    assert format_case_number(2026, 123) == "RC-2026-000123"
    assert format_case_number(2026, 12345678) == "RC-2026-12345678"


@pytest.mark.parametrize(("raw", "clean"), [
    (" Asha.Rao@Example.IN ", "asha.rao@example.in"), ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
    ("user@bücher.example", "user@xn--bcher-kva.example")])
def test_emails_are_normalised(raw: str, clean: str) -> None:
    assert normalise_email(raw) == clean


@pytest.mark.parametrize("raw", ["plain", "a@b", "a@@b.com", ".a@b.com", "a..b@c.com", "a@-b.com", "a b@c.com",
                                 "a@b.123"])
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_email(raw)
