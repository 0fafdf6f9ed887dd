"""Bridges the app-scoped container into Litestar handlers with plain Provide functions."""

from __future__ import annotations

from litestar.datastructures import State

from application.policies.cases import RenewalCaseService
from application.policies.customers import CustomerService
from application.policies.policies import PolicyService
from entrypoints.container import AppContainer

__all__ = ["container_of", "provide_cases", "provide_customers", "provide_policies"]


def container_of(state: State) -> AppContainer:
    container: AppContainer = state.container
    return container


def provide_customers(state: State) -> CustomerService:
    service: CustomerService = container_of(state).application.customers()
    return service


def provide_policies(state: State) -> PolicyService:
    service: PolicyService = container_of(state).application.policies()
    return service


def provide_cases(state: State) -> RenewalCaseService:
    service: RenewalCaseService = container_of(state).application.cases()
    return service
