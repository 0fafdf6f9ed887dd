"""Use cases on policies."""

from __future__ import annotations

from collections.abc import Callable

from application.policies.commands import NewPolicy, PolicyChanges
from application.policies.config import PoliciesConfig
from application.policies.ports import PoliciesReadModel, PoliciesUnitOfWork, PolicyFilters
from application.policies.views import PolicyView
from application.shared.commands import set_fields
from application.shared.pagination import Page, PageRequest
from application.shared.validation import FieldCollector
from domain.policies.model import Policy, PolicyStatus
from domain.policies.rules import format_policy_number
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser
from domain.shared.errors import NotFound, ValidationFailed

__all__ = ["PolicyService"]


class PolicyService:
    def __init__(self, *, uow: Callable[[], PoliciesUnitOfWork], read_model: PoliciesReadModel,
                 phones: PhoneNumberNormaliser, clock: Clock, config: PoliciesConfig) -> None:
        self._uow = uow
        self._read = read_model
        self._phones = phones
        self._clock = clock
        self._config = config

    async def issue(self, cmd: NewPolicy) -> PolicyView:
        """Validate and add a policy to the book; a due policy gets its renewal case at once."""
        fields = FieldCollector(self._phones)
        fields.reference("customer_id", cmd.customer_id, "customer")
        fields.reference("agent_id", cmd.agent_id, "user")
        fields.reference("branch_id", cmd.branch_id, "branch")
        fields.choice("policy_type", cmd.policy_type, self._config.policy_types)
        fields.amount("premium_amount", cmd.premium_amount)
        fields.amount("sum_assured", cmd.sum_assured, optional=True)
        fields.enum("status", cmd.status, PolicyStatus)
        fields.code("policy_number", cmd.policy_number, max_length=100)
        fields.term(cmd.start_date, cmd.end_date, cmd.renewal_date, cmd.grace_period_days)
        fields.raise_if_invalid()
        v = fields.values
        async with self._uow() as uow:
            if await uow.customers.get(v["customer_id"]) is None:
                raise ValidationFailed.on("customerId", "does not exist")
            number = v["policy_number"] or format_policy_number(
                self._clock.today().year, await uow.sequences.next_value("policy_number"))
            policy = Policy(
                policy_number=number, customer_id=v["customer_id"], policy_type=v["policy_type"],
                premium_amount=v["premium_amount"], start_date=v["start_date"], end_date=v["end_date"],
                renewal_date=v["renewal_date"], grace_period_days=v["grace_period_days"], status=v["status"],
                sum_assured=v["sum_assured"], agent_id=v["agent_id"], branch_id=v["branch_id"])
            await uow.policies.add(policy)
            policy.issued()
            uow.track(policy)
            await uow.commit()
        assert policy.id is not None
        return await self.get(policy.id)

    async def update(self, policy_id: int, changes: PolicyChanges) -> PolicyView:
        """Change the given fields; the term is re-checked as a whole."""
        given = set_fields(changes)
        async with self._uow() as uow:
            policy = await uow.policies.get(policy_id)
            if policy is None:
                raise NotFound("policy", policy_id)
            fields = FieldCollector(self._phones)
            if "policy_type" in given:
                fields.choice("policy_type", given["policy_type"], self._config.policy_types)
            if "premium_amount" in given:
                fields.amount("premium_amount", given["premium_amount"])
            if "sum_assured" in given:
                fields.amount("sum_assured", given["sum_assured"], optional=True)
            if "status" in given:
                fields.enum("status", given["status"], PolicyStatus)
            for ref, prefix in (("agent_id", "user"), ("branch_id", "branch")):
                if ref in given:
                    fields.reference(ref, given[ref], prefix)
            if {"start_date", "end_date", "renewal_date", "grace_period_days"} & given.keys():
                end = given.get("end_date", policy.end_date)
                # a moved end date moves a renewal date that followed it, unless one is given
                follows = policy.renewal_date == policy.end_date and "renewal_date" not in given
                fields.term(given.get("start_date", policy.start_date), end,
                            None if follows else given.get("renewal_date", policy.renewal_date),
                            given.get("grace_period_days", policy.grace_period_days))
            fields.raise_if_invalid()
            values = {k: fields.values.get(k, v) for k, v in given.items()}
            if "renewal_date" in fields.values:  # re-derived by the term check when it follows the end date
                values["renewal_date"] = fields.values["renewal_date"]
            policy.apply(values)
            await uow.policies.save(policy)
            uow.track(policy)
            await uow.commit()
        return await self.get(policy_id)

    async def get(self, policy_id: int) -> PolicyView:
        view = await self._read.get_policy(policy_id)
        if view is None:
            raise NotFound("policy", policy_id)
        return view

    async def list(self, filters: PolicyFilters, page: PageRequest) -> Page[PolicyView]:
        return await self._read.list_policies(filters, page)

    def policy_types(self) -> tuple[str, ...]:
        return self._config.policy_types
