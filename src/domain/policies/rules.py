"""Pure rules of the policies context: validation, renewal windows, priorities, readable numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from domain.policies.model import CasePriority, PolicyStatus
from domain.shared.errors import FieldError, ValidationFailed

__all__ = [
    "HIGH_PREMIUM", "LOW_PREMIUM", "URGENT_DAYS", "PolicyTerm", "case_priority", "format_case_number",
    "format_customer_code", "format_policy_number", "is_due_for_renewal", "validate_term",
]

HIGH_PREMIUM = Decimal("50000.00")
LOW_PREMIUM = Decimal("5000.00")
URGENT_DAYS = 7
SOON_DAYS = 15
MAX_GRACE_DAYS = 365


@dataclass(frozen=True, slots=True)
class PolicyTerm:
    start_date: date
    end_date: date
    renewal_date: date
    grace_period_days: int


def validate_term(start_date: date, end_date: date, renewal_date: date | None,
                  grace_period_days: int) -> PolicyTerm:
    """Check a policy term's dates; the renewal date defaults to the end date."""
    errors: list[FieldError] = []
    if end_date <= start_date:
        errors.append(FieldError("endDate", "must be after startDate"))
    renewal = renewal_date or end_date
    if renewal_date is not None and renewal_date < start_date:
        errors.append(FieldError("renewalDate", "must not be before startDate"))
    if not 0 <= grace_period_days <= MAX_GRACE_DAYS:
        errors.append(FieldError("gracePeriodDays", f"must be between 0 and {MAX_GRACE_DAYS}"))
    if errors:
        raise ValidationFailed(errors)
    return PolicyTerm(start_date, end_date, renewal, grace_period_days)


def is_due_for_renewal(*, status: PolicyStatus, renewal_date: date, grace_period_days: int,
                       today: date, window_days: int) -> bool:
    """True from `window_days` before the renewal date until the grace period ends."""
    if status is not PolicyStatus.ACTIVE:
        return False
    return renewal_date - timedelta(days=window_days) <= today <= renewal_date + timedelta(
        days=grace_period_days)


def case_priority(premium: Decimal, renewal_date: date, today: date) -> CasePriority:
    """Rank a case by premium size and days to renewal."""
    days = (renewal_date - today).days
    if days <= URGENT_DAYS and premium >= HIGH_PREMIUM:
        return CasePriority.URGENT
    if days <= URGENT_DAYS or premium >= HIGH_PREMIUM:
        return CasePriority.HIGH
    if days > SOON_DAYS and premium < LOW_PREMIUM:
        return CasePriority.LOW
    return CasePriority.MEDIUM


def format_case_number(year: int, sequence: int) -> str:
    return f"RC-{year}-{sequence:06d}"


def format_policy_number(year: int, sequence: int) -> str:
    return f"POL-{year}-{sequence:06d}"


def format_customer_code(sequence: int) -> str:
    return f"CUST-{sequence:06d}"
