"""HTTP controllers of the policies context: parse, call one use case, wrap the result."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter, QueryParameter

from application.identity.principal import Principal
from application.policies.cases import RenewalCaseService
from application.policies.commands import CustomerChanges, NewCustomer, NewPolicy, PolicyChanges
from application.policies.customers import CustomerService
from application.policies.policies import PolicyService
from application.policies.ports import CaseFilters, CustomerFilters, PolicyFilters
from application.policies.views import CaseView, CustomerView, PolicyView
from domain.identity.permissions import Permission as P
from domain.policies.model import CasePriority, CaseStatus, KycStatus, PolicyStatus
from entrypoints.http.deps import provide_cases, provide_customers, provide_policies
from entrypoints.http.envelope import Envelope, error_responses, ok, pagination_of
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, id_values, page_request, text_values
from entrypoints.http.params import Csv, Limit, Page, Search, Sort
from entrypoints.http.policies.schemas import CaseList, CustomerList, PolicyList, PolicyTypeList

__all__ = ["CaseController", "CustomerController", "PolicyController", "PolicyTypeController"]

PolicyTypeQ = Annotated[str | None, QueryParameter(name="policyType", description="Policy types, comma-separated")]
KycQ = Annotated[str | None, QueryParameter(name="kycStatus", description="KYC statuses, comma-separated")]
FromQ = Annotated[date | None, QueryParameter(name="renewalFrom", description="Renewal date on or after (YYYY-MM-DD)")]
ToQ = Annotated[date | None, QueryParameter(name="renewalTo", description="Renewal date on or before (YYYY-MM-DD)")]
Ident = Annotated[str, PathParameter(description="Public id such as `policy-42`, or the bare number")]
Customers = NamedDependency[CustomerService]
Policies = NamedDependency[PolicyService]
Cases = NamedDependency[RenewalCaseService]
Caller = NamedDependency[Principal]

CUSTOMER_SORT = ("createdAt", "lastName", "firstName", "customerCode")
POLICY_SORT = ("renewalDate", "endDate", "startDate", "premiumAmount", "policyNumber", "createdAt", "status")
CASE_SORT = ("createdAt", "renewalDate", "renewalAmount", "priority", "status", "caseNumber")


class CustomerController(Controller):
    path = "/api/customers"
    tags = ["customers"]
    dependencies = {"customers": Provide(provide_customers, sync_to_thread=False)}

    @get("/", opt=requires(P.CUSTOMERS_READ),
         description=f"Sort whitelist: {', '.join(CUSTOMER_SORT)}; default `-createdAt`.",
         responses=error_responses(422))
    async def list_customers(self, customers: Customers, page: Page = 1, limit: Limit = 20,
                             sort: Sort = None, kyc_status: KycQ = None,
                             q: Search = None) -> Envelope[CustomerList]:
        """List customers; `q` searches names and customer codes."""
        request = page_request(page, limit, sort, CUSTOMER_SORT, "-createdAt")
        filters = CustomerFilters(kyc_status=enum_values(kyc_status, KycStatus, "kycStatus"), q=q)
        result = await customers.list(filters, request)
        return ok(CustomerList(customers=result.items, pagination=pagination_of(result)))

    @post("/", opt=requires(P.CUSTOMERS_WRITE), status_code=201, responses=error_responses(400, 409, 422))
    async def register_customer(self, data: JSONBody[NewCustomer], customers: Customers) -> Envelope[CustomerView]:
        """Register a customer."""
        return ok(await customers.register(data))

    @get("/{customer_id:str}", opt=requires(P.CUSTOMERS_READ), responses=error_responses(404))
    async def get_customer(self, customer_id: Ident, customers: Customers) -> Envelope[CustomerView]:
        return ok(await customers.get(path_id(customer_id, "customer")))

    @patch("/{customer_id:str}", opt=requires(P.CUSTOMERS_WRITE), responses=error_responses(400, 404, 409, 422))
    async def update_customer(self, customer_id: Ident, data: JSONBody[CustomerChanges],
                              customers: Customers) -> Envelope[CustomerView]:
        """Change some fields of a customer."""
        return ok(await customers.update(path_id(customer_id, "customer"), data))


class PolicyController(Controller):
    path = "/api/policies"
    tags = ["policies"]
    dependencies = {"policies": Provide(provide_policies, sync_to_thread=False)}

    @get("/", opt=requires(P.POLICIES_READ),
         description=f"Sort whitelist: {', '.join(POLICY_SORT)}; default `renewalDate`.",
         responses=error_responses(422))
    async def list_policies(self, policies: Policies, page: Page = 1, limit: Limit = 20, sort: Sort = None,
                            status: Csv = None, policy_type: PolicyTypeQ = None, branch: Csv = None,
                            customer: Csv = None,
                            renewal_from: FromQ = None, renewal_to: ToQ = None,
                            q: Search = None) -> Envelope[PolicyList]:
        """List policies; `q` searches policy numbers and customer names."""
        request = page_request(page, limit, sort, POLICY_SORT, "renewalDate")
        filters = PolicyFilters(
            status=enum_values(status, PolicyStatus, "status"), policy_type=text_values(policy_type),
            branch_id=id_values(branch, "branch", "branch"),
            customer_id=id_values(customer, "customer", "customer"),
            renewal_from=renewal_from, renewal_to=renewal_to, q=q)
        result = await policies.list(filters, request)
        return ok(PolicyList(policies=result.items, pagination=pagination_of(result)))

    @post("/", opt=requires(P.POLICIES_WRITE), status_code=201, responses=error_responses(400, 409, 422))
    async def issue_policy(self, data: JSONBody[NewPolicy], policies: Policies) -> Envelope[PolicyView]:
        """Add a policy to the book; one already inside its renewal window gets its case right away."""
        return ok(await policies.issue(data))

    @get("/{policy_id:str}", opt=requires(P.POLICIES_READ), responses=error_responses(404))
    async def get_policy(self, policy_id: Ident, policies: Policies) -> Envelope[PolicyView]:
        return ok(await policies.get(path_id(policy_id, "policy")))

    @patch("/{policy_id:str}", opt=requires(P.POLICIES_WRITE), responses=error_responses(400, 404, 409, 422))
    async def update_policy(self, policy_id: Ident, data: JSONBody[PolicyChanges],
                            policies: Policies) -> Envelope[PolicyView]:
        """Change some fields of a policy; the term is checked as a whole."""
        return ok(await policies.update(path_id(policy_id, "policy"), data))


class PolicyTypeController(Controller):
    path = "/api/policy-types"
    tags = ["policies"]
    dependencies = {"policies": Provide(provide_policies, sync_to_thread=False)}

    @get("/", opt=requires(P.POLICIES_READ))
    async def list_policy_types(self, policies: Policies) -> Envelope[PolicyTypeList]:
        """The configured policy-type catalogue."""
        return ok(PolicyTypeList(policy_types=list(policies.policy_types())))


class CaseController(Controller):
    path = "/api/cases"
    tags = ["cases"]
    dependencies = {"cases": Provide(provide_cases, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @get("/", opt=requires(P.CASES_READ), description=f"Sort whitelist: {', '.join(CASE_SORT)}; default `renewalDate`.",
         responses=error_responses(422))
    async def list_cases(self, cases: Cases, principal: Caller, page: Page = 1, limit: Limit = 20, sort: Sort = None,
                         status: Csv = None, priority: Csv = None, assignee: Csv = None, batch: Csv = None,
                         renewal_from: FromQ = None, renewal_to: ToQ = None,
                         q: Search = None) -> Envelope[CaseList]:
        """List renewal cases; `q` searches case and policy numbers and customer names."""
        request = page_request(page, limit, sort, CASE_SORT, "renewalDate")
        filters = CaseFilters(
            status=enum_values(status, CaseStatus, "status"), priority=enum_values(priority, CasePriority, "priority"),
            assigned_to=id_values(assignee, "user", "assignee"), batch_id=id_values(batch, "batch", "batch"),
            renewal_from=renewal_from, renewal_to=renewal_to, q=q)
        result = await cases.list(filters, request, principal.visibility(P.CASES_READ))
        return ok(CaseList(cases=result.items, pagination=pagination_of(result)))

    @get("/{case_id:str}", opt=requires(P.CASES_READ), responses=error_responses(404))
    async def get_case(self, case_id: Ident, cases: Cases, principal: Caller) -> Envelope[CaseView]:
        return ok(await cases.get(path_id(case_id, "case"), principal.visibility(P.CASES_READ)))
