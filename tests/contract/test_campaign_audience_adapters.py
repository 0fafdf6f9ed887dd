"""The campaigns audience (upload, segment, all) over both adapter sets: counts, samples, exclusions, materialise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from application.campaigns.ports import AudienceCandidate, SavedSegment
from application.policies.ports import CaseFilters
from application.shared.pagination import PageRequest
from application.shared.visibility import EVERYTHING
from domain.campaigns.model import RecipientStatus
from domain.campaigns.segments import parse_filter
from domain.messaging.model import Channel, Consent, ConsentSource
from domain.policies.model import CaseStatus, PolicyStatus
from domain.shared.errors import ValidationFailed
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.contract.campaigns_support import (
    RENEWAL_LINK,
    add_branch,
    add_campaign,
    add_case,
    add_upload,
    audience,
    issue_due_policy,
    messaging_uow,
    set_row,
    uow,
)
from tests.factories import new_customer, new_policy

TODAY = NOW.date()


@dataclass
class Book:
    """p1..p8 as below; `upload_id` owns the cases of p1, p2 and p8.

    policy customer                     type    branch  case        email        sms          whatsapp
    p1     Asha (Pune)                  motor   BR1     open        ok           ok           opted in
    p2     Ravi (no e-mail)             health  -       open        no address   opted out    no opt-in
    p3     Meena (Mumbai, no phone)     motor   -       open        ok           no address   no address
    p4     Opted (e-mail opted out)     life    BR2     open        opted out    ok           opted in
    p5     Asha                         life    BR1     open        ok           ok           opted in
    p6     Closed                       motor   BR1     renewed     -            -            -
    p7     Later                        motor   BR1     none        -            -            -
    p8     Lapsed                       motor   BR1     open, lapsed policy: only in the upload and segments
    """

    policies: dict[str, int]
    customers: dict[str, int]
    upload_id: int


async def _customer(container: AppContainer, first: str, **overrides: object) -> int:
    view = await container.application.customers().register(new_customer(first_name=first, **overrides))
    return int(view.id)


async def book(container: AppContainer) -> Book:
    br1, br2 = await add_branch(container, "BR1"), await add_branch(container, "BR2")
    customers = {
        "asha": await _customer(container, "Asha", email="asha@example.in", phone="+919800000001",
                                address={"city": "Pune"}),
        "ravi": await _customer(container, "Ravi", email=None, phone="+919800000002"),
        "meena": await _customer(container, "Meena", email="meena@example.in", phone=None,
                                 address={"city": "Mumbai"}),
        "opted": await _customer(container, "Opted", email="opted@example.in", phone="+919800000004"),
        "closed": await _customer(container, "Closed", email="closed@example.in", phone="+919800000005"),
        "later": await _customer(container, "Later", email="later@example.in", phone="+919800000006"),
        "lapsed": await _customer(container, "Lapsed", email="lapsed@example.in", phone="+919800000007"),
    }
    plan = [("p1", "asha", "motor", br1), ("p2", "ravi", "health", None), ("p3", "meena", "motor", None),
            ("p4", "opted", "life", br2), ("p5", "asha", "life", br1), ("p6", "closed", "motor", br1),
            ("p8", "lapsed", "motor", br1)]
    policies, cases = {}, {}
    for n, (name, who, kind, branch) in enumerate(plan):
        policies[name], cases[name] = await issue_due_policy(
            container, customers[who], policy_type=kind, branch_id=branch, renewal_in_days=10 + n,
            premium_amount=Decimal("12500.5") if name == "p1" else Decimal("9000.00"))
    later = await container.application.policies().issue(new_policy(customers["later"], renewal_in_days=300,
                                                                    branch_id=br1))
    policies["p7"] = int(later.id)
    for who, customer_id in customers.items():
        created = {"asha": NOW - timedelta(days=400), "meena": datetime(2026, 11, 27, 19, 0, tzinfo=UTC)}.get(
            who, NOW - timedelta(hours=2))
        await set_row(container, "customers", customer_id, created_at=created)
    await set_row(container, "renewal_cases", cases["p6"], status=CaseStatus.RENEWED)
    await set_row(container, "policies", policies["p8"], status=PolicyStatus.LAPSED)
    # an e-mail stored in mixed case still meets its consent, kept in lower case
    await set_row(container, "customers", customers["opted"], email="Opted@Example.in")
    upload = await add_upload(container)
    for name in ("p1", "p2", "p8"):
        await set_row(container, "renewal_cases", cases[name], batch_id=upload.batch_id)
    async with messaging_uow(container) as unit:
        for channel, address, opted_in in ((Channel.EMAIL, "opted@example.in", False),
                                           (Channel.SMS, "+919800000002", False),
                                           (Channel.WHATSAPP, "+919800000001", True),
                                           (Channel.WHATSAPP, "+919800000004", True),
                                           (Channel.SMS, "+919800000001", True)):
            await unit.consents.put(Consent(channel=channel, address=address, opted_in=opted_in,
                                            source=ConsentSource.MANUAL))
        await unit.commit()
    assert upload.id is not None
    return Book(policies=policies, customers=customers, upload_id=upload.id)


def _ids(book_: Book, candidates: list[AudienceCandidate]) -> list[str]:
    names = {v: k for k, v in book_.policies.items()}
    return [names[c.policy_id or 0] for c in candidates]


ALL = {"kind": "all"}


@pytest.mark.parametrize(("channel", "eligible", "opted_out", "no_address"), [
    ("email", ["p1", "p3", "p5"], ["p4"], ["p2"]),
    ("sms", ["p1", "p4", "p5"], ["p2"], ["p3"]),
    ("whatsapp", ["p1", "p4", "p5"], ["p2"], ["p3"]),
])
async def test_all_is_every_active_policy_with_an_open_case_and_exclusions_are_counted(
        container: AppContainer, channel: str, eligible: list[str], opted_out: list[str],
        no_address: list[str]) -> None:
    found = await book(container)
    source = audience(container)
    assert await source.count(channel, ALL) == {"eligible": 3, "opted_out": 1, "no_address": 1}
    sample = await source.sample(channel, ALL, 10)
    assert _ids(found, sample) == eligible + sorted(opted_out + no_address)
    flags = {name: (c.address is None, c.opted_out) for name, c in zip(_ids(found, sample), sample, strict=True)}
    assert flags == {**{n: (False, False) for n in eligible}, **{n: (False, True) for n in opted_out},
                     **{n: (True, False) for n in no_address}}
    assert _ids(found, await source.sample(channel, ALL, 2)) == eligible[:2]


async def test_a_candidate_carries_its_address_and_template_values_as_strings(container: AppContainer) -> None:
    found = await book(container)
    cases = await container.application.cases().list(CaseFilters(), PageRequest(limit=100), EVERYTHING)
    case = next(c for c in cases.items if int(c.policy_id) == found.policies["p1"])
    source = audience(container)
    first, sms = (await source.sample("email", ALL, 1))[0], (await source.sample("sms", ALL, 1))[0]
    assert (first.customer_id, first.policy_id, first.address) == (found.customers["asha"], found.policies["p1"],
                                                                   "asha@example.in")
    assert first.values == {"name": "Asha Rao", "customer_name": "Asha Rao", "first_name": "Asha",
                            "policy_number": case.policy_number, "policy_type": "motor",
                            "renewal_date": (TODAY + timedelta(days=10)).isoformat(), "premium": "12500.50",
                            "renewal_amount": f"{case.renewal_amount:.2f}", "branch": "BR1",
                            "renewal_link": f"{RENEWAL_LINK}{case.policy_number}",
                            "expiry_date": first.values["expiry_date"]}
    assert date.fromisoformat(first.values["expiry_date"]) <= TODAY + timedelta(days=10)  # the policy's end date
    assert sms.address == "+919800000001" and sms.values == first.values
    p3 = next(c for c in await source.sample("email", ALL, 10) if c.policy_id == found.policies["p3"])
    assert p3.values["branch"] == ""
    opted = next(c for c in await source.sample("email", ALL, 10) if c.policy_id == found.policies["p4"])
    assert (opted.address, opted.opted_out) == ("Opted@Example.in", True)

    await add_case(container, found.policies["p1"], TODAY + timedelta(days=375), Decimal("999"))
    later = (await source.sample("email", ALL, 1))[0]  # still one candidate per policy: its latest open case
    assert later.values["renewal_amount"] == "999.00"
    assert (await source.count("email", ALL))["eligible"] == 3


async def test_an_upload_audience_is_the_policies_whose_open_case_came_from_it(container: AppContainer) -> None:
    found = await book(container)
    source = audience(container)
    upload = {"kind": "upload", "upload_id": found.upload_id}
    assert await source.count("email", upload) == {"eligible": 2, "opted_out": 0, "no_address": 1}
    assert _ids(found, await source.sample("email", upload, 10)) == ["p1", "p8", "p2"]
    assert await source.count("email", {"kind": "upload", "upload_id": 999}) == {
        "eligible": 0, "opted_out": 0, "no_address": 0}
    with pytest.raises(ValidationFailed):
        await source.count("email", {"kind": "upload"})


@pytest.mark.parametrize(("tree", "expected"), [
    ({"all": [{"field": "policy.policy_type", "op": "eq", "value": "motor"},
              {"field": "customer.branch", "op": "eq", "value": "BR1"}]}, ["p1", "p8"]),
    ({"not": {"field": "customer.city", "op": "eq", "value": "Pune"}}, ["p3"]),  # no city: unknown, not matched
    ({"field": "customer.city", "op": "contains", "value": "UMB"}, ["p3"]),
    ({"field": "customer.city", "op": "is_null", "value": True}, ["p8", "p2", "p4"]),
    ({"any": [{"field": "policy.premium_amount", "op": "gt", "value": "10000"},
              {"field": "policy.policy_type", "op": "in", "value": ["health", "life"]}]}, ["p1", "p5", "p2", "p4"]),
    ({"field": "policy.renewal_date", "op": "within_days", "value": 12}, ["p1", "p3", "p2"]),
    ({"field": "policy.status", "op": "ne", "value": "active"}, ["p8"]),
    ({"field": "customer.created_at", "op": "older_than_days", "value": 30}, ["p1", "p5"]),
    # Meena registered at 00:30 in Kolkata on the 28th (19:00 UTC on the 27th): dates are the business zone's
    ({"field": "customer.created_at", "op": "eq", "value": "2026-11-27"}, []),
    ({"field": "customer.created_at", "op": "eq", "value": "2026-11-28"}, ["p3", "p8", "p2", "p4"]),
    ({"field": "case.status", "op": "in", "value": ["new", "renewed"]}, ["p1", "p3", "p5", "p8", "p2", "p4"]),
])
async def test_a_segment_audience_matches_its_filter(container: AppContainer, tree: dict[str, object],
                                                      expected: list[str]) -> None:
    found = await book(container)
    sample = await audience(container).sample("email", {"kind": "segment", "filter": tree}, 10)
    assert _ids(found, sample) == expected


async def test_a_segment_may_be_given_parsed_or_saved(container: AppContainer) -> None:
    found = await book(container)
    tree = {"field": "policy.policy_type", "op": "eq", "value": "life"}
    async with uow(container) as unit:
        saved = await unit.segments.add(SavedSegment(id=None, name="Life", filter=tree))
        await unit.commit()
    source = audience(container)
    parsed = await source.sample("sms", {"kind": "segment", "filter": parse_filter(tree, TODAY)}, 10)
    by_id = await source.sample("sms", {"kind": "segment", "segment_id": saved.id}, 10)
    assert _ids(found, parsed) == _ids(found, by_id) == ["p4", "p5"]
    with pytest.raises(ValidationFailed):
        await source.count("sms", {"kind": "segment", "filter": {"field": "policy.colour", "op": "eq", "value": 1}})
    with pytest.raises(ValidationFailed):
        await source.count("sms", {"kind": "everyone"})
    with pytest.raises(ValidationFailed):
        await source.count("fax", ALL)


async def test_materialise_writes_the_eligible_once_and_counts_the_excluded(container: AppContainer) -> None:
    found = await book(container)
    campaign = await add_campaign(container, channel="whatsapp")
    other = await add_campaign(container, channel="whatsapp")
    source = audience(container)
    assert await source.materialise(campaign.id or 0, "whatsapp", ALL) == {
        "inserted": 3, "opted_out": 1, "no_address": 1}
    assert await source.materialise(campaign.id or 0, "whatsapp", ALL) == {
        "inserted": 0, "opted_out": 1, "no_address": 1}
    assert (await source.materialise(other.id or 0, "whatsapp", {"kind": "upload", "upload_id": found.upload_id}))[
        "inserted"] == 1
    async with uow(container) as unit:
        rows = (await unit.recipients.list(campaign.id or 0, (), PageRequest(limit=10))).items
        counters = await unit.campaigns.counters(campaign.id or 0)
    names = {v: k for k, v in found.policies.items()}
    assert [(names[r.policy_id or 0], r.address, r.status) for r in rows] == [
        ("p1", "+919800000001", RecipientStatus.PENDING), ("p4", "+919800000004", RecipientStatus.PENDING),
        ("p5", "+919800000001", RecipientStatus.PENDING)]
    assert rows[0].values["first_name"] == "Asha" and rows[0].attempts == 0 and rows[0].variant is None
    assert counters["pending"] == counters["total"] == 3
    async with messaging_uow(container) as unit:  # a customer opting in later is added by a second run
        await unit.consents.put(Consent(channel=Channel.WHATSAPP, address="+919800000002", opted_in=True,
                                        source=ConsentSource.MANUAL))
        await unit.commit()
    assert await source.materialise(campaign.id or 0, "whatsapp", ALL) == {
        "inserted": 1, "opted_out": 0, "no_address": 1}
