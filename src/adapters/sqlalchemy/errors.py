"""Turns integrity errors into domain errors naming the offending field."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from domain.shared.errors import Conflict, DomainError, ValidationFailed

__all__ = ["translate_integrity_error"]

# constraint name -> (kind, field): unique keys are conflicts, foreign keys bad references
_CONSTRAINTS: dict[str, tuple[str, str]] = {
    "uq_customers_customer_code": ("unique", "customerCode"),
    "uq_policies_policy_number": ("unique", "policyNumber"),
    "uq_renewal_cases_case_number": ("unique", "caseNumber"),
    "fk_policies_customer_id_customers": ("fk", "customerId"),
    "fk_policies_agent_id_users": ("fk", "agentId"),
    "fk_policies_branch_id_branches": ("fk", "branchId"),
    # identity: idx_users_email is a unique index (not a constraint), reported under the index's name
    "idx_users_email": ("unique", "email"),
    "uq_roles_name": ("unique", "name"),
    "uq_user_recovery_codes_user_id_code_hash": ("unique", "codeHash"),
    "fk_users_role_id_roles": ("fk", "roleId"),
    "fk_users_branch_id_branches": ("fk", "branchId"),
    "fk_user_recovery_codes_user_id_users": ("fk", "userId"),
    "fk_audit_log_actor_id_users": ("fk", "actorId"),
}


def translate_integrity_error(exc: IntegrityError) -> DomainError:
    """Map a constraint violation to Conflict (unique) or ValidationFailed (foreign key)."""
    orig = getattr(exc.orig, "__cause__", None) or exc.orig
    name = getattr(orig, "constraint_name", None) or ""
    kind, field = _CONSTRAINTS.get(name, ("unknown", ""))
    if kind == "unique":
        return Conflict(f"{field} is already taken", field=field)
    if kind == "fk":
        return ValidationFailed.on(field, "does not exist")
    sqlstate = getattr(orig, "sqlstate", "")
    if sqlstate == "23505":
        return Conflict("a record with the same unique key already exists")
    if sqlstate == "23503":
        return ValidationFailed.on(name or "reference", "refers to a record that does not exist")
    return Conflict("the change breaks a data constraint")
