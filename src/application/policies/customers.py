"""Use cases on customers."""

from __future__ import annotations

from collections.abc import Callable

from application.policies.commands import CustomerChanges, NewCustomer
from application.policies.ports import CustomerFilters, PoliciesReadModel, PoliciesUnitOfWork
from application.policies.views import CustomerView
from application.shared.commands import set_fields
from application.shared.pagination import Page, PageRequest
from application.shared.validation import FieldCollector
from domain.policies.model import Customer, KycStatus
from domain.policies.rules import format_customer_code
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser
from domain.shared.errors import NotFound

__all__ = ["CustomerService"]


class CustomerService:
    def __init__(self, *, uow: Callable[[], PoliciesUnitOfWork], read_model: PoliciesReadModel,
                 phones: PhoneNumberNormaliser, clock: Clock) -> None:
        self._uow = uow
        self._read = read_model
        self._phones = phones
        self._clock = clock

    async def register(self, cmd: NewCustomer) -> CustomerView:
        """Validate and register a customer; generate its code when none is given."""
        fields = FieldCollector(self._phones)
        fields.name("first_name", cmd.first_name)
        fields.name("last_name", cmd.last_name)
        fields.email(cmd.email)
        fields.phone(cmd.phone)
        fields.code("customer_code", cmd.customer_code, max_length=50)
        fields.enum("kyc_status", cmd.kyc_status, KycStatus)
        fields.past_date("date_of_birth", cmd.date_of_birth, self._clock.today())
        fields.raise_if_invalid()
        v = fields.values
        async with self._uow() as uow:
            code = v["customer_code"] or format_customer_code(await uow.sequences.next_value("customer_code"))
            customer = Customer(
                customer_code=code, first_name=v["first_name"], last_name=v["last_name"], email=v["email"],
                phone=v["phone"], date_of_birth=v["date_of_birth"], address=cmd.address,
                kyc_status=v["kyc_status"], communication_preferences=cmd.communication_preferences)
            await uow.customers.add(customer)
            customer.registered()
            uow.track(customer)
            await uow.commit()
        assert customer.id is not None
        return await self.get(customer.id)

    async def update(self, customer_id: int, changes: CustomerChanges) -> CustomerView:
        """Change the given fields of a customer."""
        given = set_fields(changes)
        fields = FieldCollector(self._phones)
        for key in ("first_name", "last_name"):
            if key in given:
                fields.name(key, given[key])
        if "email" in given:
            fields.email(given["email"])
        if "phone" in given:
            fields.phone(given["phone"])
        if "kyc_status" in given:
            fields.enum("kyc_status", given["kyc_status"], KycStatus)
        if "date_of_birth" in given:
            fields.past_date("date_of_birth", given["date_of_birth"], self._clock.today())
        fields.raise_if_invalid()
        values = {k: fields.values.get(k, v) for k, v in given.items()}
        async with self._uow() as uow:
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            customer.apply(values)
            await uow.customers.save(customer)
            uow.track(customer)
            await uow.commit()
        return await self.get(customer_id)

    async def get(self, customer_id: int) -> CustomerView:
        view = await self._read.get_customer(customer_id)
        if view is None:
            raise NotFound("customer", customer_id)
        return view

    async def list(self, filters: CustomerFilters, page: PageRequest) -> Page[CustomerView]:
        return await self._read.list_customers(filters, page)
