"""Commands with sensible defaults for tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from application.policies.commands import NewCustomer, NewPolicy
from tests.conftest import NOW

TODAY = NOW.date()


def new_customer(**overrides: Any) -> NewCustomer:
    values: dict[str, Any] = {"first_name": "Asha", "last_name": "Rao", "email": "asha.rao@example.in",
                              "phone": "+91 98765 43210"}
    values.update(overrides)
    return NewCustomer(**values)


def new_policy(customer_id: int, *, renewal_in_days: int = 200, **overrides: Any) -> NewPolicy:
    end = TODAY + timedelta(days=renewal_in_days)
    values: dict[str, Any] = {"customer_id": customer_id, "policy_type": "motor",
                              "premium_amount": Decimal("12500.00"), "start_date": end - timedelta(days=365),
                              "end_date": end}
    values.update(overrides)
    return NewPolicy(**values)


def as_date(days_from_today: int) -> date:
    return TODAY + timedelta(days=days_from_today)
