"""A segment filter evaluated in Python on one audience row, with `domain.campaigns.segments.evaluate`.

The record holds what SQL reads (adapters/sqlalchemy/read_models/segment_filter.py): the policy's branch code, the
customer's address city/state, timestamps as dates in the business time zone, enum fields as their values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from domain.campaigns.segments import And, Condition, Filter, Not, Or, evaluate, parse_filter
from domain.policies.model import Customer, Policy, RenewalCase
from domain.shared.errors import ValidationFailed

__all__ = ["AudienceFacts", "filter_tree", "matches_segment", "segment_record"]


class AudienceFacts(Protocol):
    @property
    def customer(self) -> Customer: ...
    @property
    def policy(self) -> Policy: ...
    @property
    def case(self) -> RenewalCase: ...
    @property
    def branch(self) -> str | None: ...


def filter_tree(raw: object, today: Any) -> Filter:
    """A parsed filter as given, or the JSON form parsed (relative days from `today`)."""
    if isinstance(raw, And | Or | Not | Condition):
        return raw
    if raw is None:
        raise ValidationFailed.on("audience.filter", "is required for a segment audience")
    return parse_filter(raw, today)


def _date(at: datetime | None, zone: ZoneInfo) -> Any:
    return None if at is None else at.astimezone(zone).date()


def segment_record(row: AudienceFacts, business_timezone: str) -> dict[str, object]:
    zone = ZoneInfo(business_timezone)
    address = row.customer.address if isinstance(row.customer.address, dict) else {}
    policy, case = row.policy, row.case
    return {
        "customer.branch": row.branch, "customer.city": address.get("city"), "customer.state": address.get("state"),
        "customer.created_at": _date(row.customer.created_at, zone),
        "policy.policy_type": policy.policy_type, "policy.status": policy.status.value,
        "policy.premium_amount": policy.premium_amount, "policy.renewal_date": policy.renewal_date,
        "policy.end_date": policy.end_date, "case.status": case.status.value, "case.priority": case.priority.value,
        "case.assigned_to": case.assigned_to, "case.last_contact_date": _date(case.last_contact_date, zone),
        "case.communication_attempts": case.communication_attempts}


def matches_segment(tree: Filter, row: AudienceFacts, business_timezone: str) -> bool:
    return evaluate(tree, segment_record(row, business_timezone))
