"""In-memory twin of `SqlAudienceSource`: the store's committed customers, policies, cases, uploads and consents.

Candidates are the policies with an open renewal case (the latest qualifying one when there are several): for
`{"kind": "upload", "upload_id": n}` the open case must come from that upload's batch; for `{"kind": "all"}` the
policy must be active; for `{"kind": "segment", "filter": f}` (f a parsed tree of domain/campaigns/segments.py or
its JSON form; or `"segment_id": n` for a saved segment) the policy, its customer and case must match it.
One candidate per (customer, policy). The channel decides the address (email -> customer's e-mail,
sms/whatsapp -> phone); without one the candidate is `no_address`; a consent row opted out for that channel and
address makes it `opted_out` (for WhatsApp, no explicit opt-in does too). `materialise` writes the eligible ones
as committed recipients at once, as the SQL adapter's own transaction does.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from adapters.memory.campaign_segments import filter_tree, matches_segment
from adapters.memory.store import MemoryStore
from adapters.sqlalchemy.read_models.campaign_audience import OPEN_CASE_STATUSES
from application.campaigns.ports import AudienceCandidate
from domain.campaigns.model import Recipient, RecipientStatus
from domain.campaigns.segments import Filter
from domain.policies.model import Customer, Policy, PolicyStatus, RenewalCase
from domain.shared.errors import ValidationFailed

__all__ = ["AudienceRow", "InMemoryAudienceSource", "audience_rows"]

_CHANNELS = ("email", "sms", "whatsapp")


@dataclass(frozen=True)
class AudienceRow:
    """A policy due for renewal, with its customer, open case and branch code."""

    customer: Customer
    policy: Policy
    case: RenewalCase
    branch: str | None


def _upload_batch(store: MemoryStore, audience: dict[str, Any]) -> int | None:
    upload_id = audience.get("upload_id")
    if not isinstance(upload_id, int) or isinstance(upload_id, bool):
        raise ValidationFailed.on("audience.upload_id", "is required for an upload audience")
    upload = store.tables.uploads.get(upload_id)
    return None if upload is None else upload.batch_id


def _segment_tree(store: MemoryStore, audience: dict[str, Any]) -> Filter:
    raw = audience.get("filter")
    if raw is None and audience.get("segment_id") is not None:
        saved = store.tables.segments.get(int(audience["segment_id"]))
        raw = None if saved is None else saved.filter
    return filter_tree(raw, store.clock.today())


def audience_rows(store: MemoryStore, audience: dict[str, Any], business_timezone: str) -> builtins.list[AudienceRow]:
    """The audience's policies in policy id order, each with its latest open case that qualifies."""
    kind = audience.get("kind")
    if kind not in ("upload", "segment", "all"):
        raise ValidationFailed.on("audience.kind", "must be one of upload, segment, all")
    batch_id = _upload_batch(store, audience) if kind == "upload" else None
    tree = _segment_tree(store, audience) if kind == "segment" else None
    if kind == "upload" and batch_id is None:
        return []
    tables = store.tables
    chosen: dict[int, AudienceRow] = {}
    for case in tables.cases.values():
        policy = tables.policies.get(case.policy_id)
        customer = None if policy is None else tables.customers.get(policy.customer_id)
        if policy is None or customer is None or case.status.value not in OPEN_CASE_STATUSES:
            continue
        branch = tables.branches.get(policy.branch_id) if policy.branch_id is not None else None
        row = AudienceRow(customer=customer, policy=policy, case=case, branch=branch)
        if ((kind == "upload" and case.batch_id != batch_id)
                or (kind == "all" and policy.status is not PolicyStatus.ACTIVE)
                or (tree is not None and not matches_segment(tree, row, business_timezone))):
            continue
        known = chosen.get(case.policy_id)
        if known is None or (case.term_end_date, case.id or 0) > (known.case.term_end_date, known.case.id or 0):
            chosen[case.policy_id] = row
    return [chosen[policy_id] for policy_id in sorted(chosen)]


def _values(row: AudienceRow, renewal_link_base: str) -> dict[str, str]:
    customer, policy = row.customer, row.policy
    name = f"{customer.first_name} {customer.last_name}".strip()
    return {"name": name, "customer_name": name, "first_name": customer.first_name,
            "renewal_link": renewal_link_base + policy.policy_number, "expiry_date": policy.end_date.isoformat(),
            "policy_number": policy.policy_number, "policy_type": policy.policy_type,
            "renewal_date": policy.renewal_date.isoformat(), "premium": f"{policy.premium_amount:.2f}",
            "renewal_amount": f"{row.case.renewal_amount:.2f}", "branch": row.branch or ""}


class InMemoryAudienceSource:
    """`InMemoryAudienceSource(store, business_timezone="Asia/Kolkata")`: reads what is committed; relative days
    of a JSON filter count from the store clock's today."""

    def __init__(self, store: MemoryStore, business_timezone: str = "Asia/Kolkata", *,
                 renewal_link_base: str = "") -> None:
        self._store = store
        self._timezone = business_timezone
        self._renewal_link_base = renewal_link_base

    def _candidate(self, channel: str, row: AudienceRow) -> AudienceCandidate:
        raw = row.customer.email if channel == "email" else row.customer.phone
        address = (raw or "").strip() or None
        opted_out = False
        if address is not None:
            key = address.lower() if channel == "email" else address
            consent = self._store.tables.consents.get((channel, key))
            opted_out = (consent is None or not consent.opted_in) if channel == "whatsapp" \
                else (consent is not None and not consent.opted_in)
        assert row.customer.id is not None
        return AudienceCandidate(customer_id=row.customer.id, policy_id=row.policy.id, address=address,
                                 values=_values(row, self._renewal_link_base), opted_out=opted_out)

    def _candidates(self, channel: str, audience: dict[str, Any]) -> builtins.list[AudienceCandidate]:
        if channel not in _CHANNELS:
            raise ValidationFailed.on("channel", f"must be one of {', '.join(_CHANNELS)}")
        return [self._candidate(channel, row) for row in audience_rows(self._store, audience, self._timezone)]

    @staticmethod
    def _tally(found: builtins.list[AudienceCandidate]) -> dict[str, int]:
        no_address = sum(1 for c in found if c.address is None)
        opted_out = sum(1 for c in found if c.address is not None and c.opted_out)
        return {"eligible": len(found) - no_address - opted_out, "opted_out": opted_out, "no_address": no_address}

    async def count(self, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        return self._tally(self._candidates(channel, audience))

    async def sample(self, channel: str, audience: dict[str, Any], limit: int) -> builtins.list[AudienceCandidate]:
        """Eligible candidates first, then the excluded ones (flagged), each in policy order."""
        found = self._candidates(channel, audience)
        found.sort(key=lambda c: c.address is None or c.opted_out)
        return found[:limit]

    async def materialise(self, campaign_id: int, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        found = self._candidates(channel, audience)
        tables = self._store.tables
        taken = {(r.customer_id, r.policy_id) for r in tables.campaign_recipients.values()
                 if r.campaign_id == campaign_id}
        inserted, now = 0, self._store.now()
        for candidate in found:
            key = (candidate.customer_id, candidate.policy_id)
            if candidate.address is None or candidate.opted_out or key in taken:
                continue
            taken.add(key)
            row_id = self._store.next_value("campaign_recipients.id")
            tables.campaign_recipients[row_id] = Recipient(
                id=row_id, campaign_id=campaign_id, customer_id=candidate.customer_id, address=candidate.address,
                status=RecipientStatus.PENDING, policy_id=candidate.policy_id, values=dict(candidate.values))
            tables.recipient_stamps[row_id] = now
            inserted += 1
        tally = self._tally(found)
        return {"inserted": inserted, "opted_out": tally["opted_out"], "no_address": tally["no_address"]}
