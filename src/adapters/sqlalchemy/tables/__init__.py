"""Importing this package registers every table on the shared metadata."""

from adapters.sqlalchemy.tables import (
    assistant,
    campaigns,
    cases,
    claims,
    files,
    identity,
    inbox,
    messaging,
    notifications,
    payments,
    policies,
    reminders,
    shared,
    surveys,
    uploads,
)

__all__ = ["assistant", "campaigns", "cases", "claims", "files", "identity", "inbox", "messaging", "notifications",
           "payments", "policies", "reminders", "shared", "surveys", "uploads"]
