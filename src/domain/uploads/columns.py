"""The upload column schema: one list the validator, the template and the error report all read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["UPLOAD_COLUMNS", "Column", "ColumnKind", "by_key", "header_key"]


class ColumnKind(StrEnum):
    TEXT = "text"
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    MONEY = "money"
    INTEGER = "integer"
    CHOICE = "choice"  # one of `choices`, or of a catalogue named by `catalogue`
    JSON = "json"  # a JSON object, or `key=value; key=value`
    IGNORED = "ignored"  # a known column of the frontend's template that the book does not store


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # canonical snake_case name; also the template's header
    label: str
    kind: ColumnKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    catalogue: str | None = None  # "policy_types" or "branches": choices come from configuration or data
    example: str = ""
    help: str = ""


_C = Column
K = ColumnKind

UPLOAD_COLUMNS: tuple[Column, ...] = (
    _C("policy_number", "Policy number", K.TEXT, aliases=("policy no", "policy_no", "policy #", "policy id"),
       example="POL-2025-000123",
       help="Optional. When blank, a number is derived from the customer, policy type and start date, so the "
            "same book uploaded again updates its policies instead of duplicating them."),
    _C("customer_code", "Customer code", K.TEXT, aliases=("customer id", "customer no", "client code"),
       example="CUST-000123", help="Optional. When blank, derived from the email, phone or name and birth date."),
    _C("first_name", "First name", K.NAME, required=True, aliases=("firstname", "given name"), example="Asha"),
    _C("last_name", "Last name", K.NAME, required=True, aliases=("lastname", "surname", "family name"),
       example="Rao"),
    _C("email", "Email", K.EMAIL, aliases=("email address", "e-mail", "mail"), example="asha.rao@example.in"),
    _C("phone", "Phone", K.PHONE, aliases=("mobile", "mobile number", "phone number", "contact number"),
       example="+91 98765 43210", help="Any common format; stored in E.164 (+919876543210)."),
    _C("date_of_birth", "Date of birth", K.DATE, aliases=("dob", "birth date", "birthdate"), example="1985-04-12"),
    _C("kyc_status", "KYC status", K.CHOICE, choices=("pending", "verified", "rejected"), example="verified"),
    _C("policy_type", "Policy type", K.CHOICE, required=True, catalogue="policy_types",
       aliases=("type", "product", "line of business"), example="motor"),
    _C("premium_amount", "Premium amount", K.MONEY, required=True,
       aliases=("premium", "premium amt", "annual premium"), example="12500.00",
       help="Positive, at most two decimals."),
    _C("sum_assured", "Sum assured", K.MONEY, aliases=("sum insured", "cover amount"), example="500000"),
    _C("start_date", "Start date", K.DATE, required=True, aliases=("policy start date", "inception date"),
       example="2025-12-01", help="YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD Mon YYYY, or an Excel date."),
    _C("end_date", "End date", K.DATE, required=True, aliases=("policy end date", "expiry date", "expiry"),
       example="2026-11-30"),
    _C("renewal_date", "Renewal date", K.DATE, aliases=("due date", "renewal due date"), example="2026-11-30",
       help="Defaults to the end date."),
    _C("status", "Policy status", K.CHOICE, aliases=("policy status",),
       choices=("active", "pending", "expired", "lapsed", "cancelled"), example="active"),
    _C("branch_code", "Branch code", K.CHOICE, catalogue="branches", aliases=("branch",), example="MUM01"),
    _C("agent_email", "Agent email", K.EMAIL, aliases=("agent", "agent mail"), example="agent1@insurer.in",
       help="The email of a user of this system; the policy's agent."),
    _C("priority", "Case priority", K.CHOICE, choices=("low", "medium", "high", "urgent"), example="high"),
    _C("notes", "Notes", K.TEXT, aliases=("remarks", "comments"), example="Prefers WhatsApp"),
    _C("address_line1", "Address", K.TEXT, aliases=("address", "address line 1"), example="12 MG Road"),
    _C("city", "City", K.TEXT, example="Mumbai"),
    _C("state", "State", K.TEXT, example="Maharashtra"),
    _C("postal_code", "Postal code", K.TEXT, aliases=("pincode", "pin code", "zip"), example="400001"),
    _C("communication_preferences", "Communication preferences", K.JSON,
       aliases=("contact preferences", "consent"), example="email=yes; sms=yes; whatsapp=no",
       help="Which channels the customer agreed to. WhatsApp needs an explicit yes."),
    # the frontend's 34-column template: known, read, not stored in the policy book
    *(_C(key, key.replace("_", " ").capitalize(), K.IGNORED) for key in (
        "gender", "nominee_name", "nominee_relationship", "nominee_contact", "agent_name", "agent_code",
        "kyc_documents", "renewal_amount", "payment_status", "communication_attempts", "payment_frequency",
        "channel", "channel_source", "last_contact_date")),
)

_BY_KEY = {column.key: column for column in UPLOAD_COLUMNS}
_SPACES = re.compile(r"[\s_\-./#]+")


def header_key(header: str) -> str:
    """How headers are compared: case-, space- and punctuation-insensitive ("Policy No." == "policy_no")."""
    return _SPACES.sub(" ", header.strip().lower()).strip()


def by_key(key: str) -> Column:
    return _BY_KEY[key]
