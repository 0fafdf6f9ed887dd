"""Importing this package registers every table on the shared metadata."""

from adapters.sqlalchemy.tables import (
    assistant,
    campaigns,
    claims,
    files,
    identity,
    inbox,
    messaging,
    notifications,
    policies,
    shared,
    surveys,
    uploads,
)

__all__ = ["assistant", "campaigns", "claims", "files", "identity", "inbox", "messaging", "notifications",
           "policies", "shared", "surveys", "uploads"]
