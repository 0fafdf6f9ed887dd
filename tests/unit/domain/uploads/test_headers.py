"""Matching a book's header row to the upload columns: keys, labels, aliases, repeats, and what is missing."""

from __future__ import annotations

import pytest

from domain.shared.errors import FieldError, ValidationFailed
from domain.uploads.columns import UPLOAD_COLUMNS, ColumnKind
from domain.uploads.headers import match_headers

# The frontend's template, public/PolicyDataFormat.csv, as listed in section "4. Upload" of
# shared/spec/frontend-contract.md: 34 columns, no policy_number or customer_code, agent_name and
# agent_code twice (columns 11-12 and 29-30).
FRONTEND_TEMPLATE = [
    "first_name", "last_name", "phone", "email", "gender", "date_of_birth", "kyc_status",
    "nominee_name", "nominee_relationship", "nominee_contact",
    "agent_name", "agent_code",
    "state", "city", "address_line1", "kyc_documents", "communication_preferences",
    "priority", "renewal_amount", "payment_status", "communication_attempts", "notes",
    "policy_type", "premium_amount", "start_date", "end_date", "sum_assured", "payment_frequency",
    "agent_name", "agent_code",
    "postal_code", "channel", "channel_source", "last_contact_date",
]
REQUIRED = ["first_name", "last_name", "policy_type", "premium_amount", "start_date", "end_date"]


def test_the_frontend_template_is_usable_as_is() -> None:
    assert len(FRONTEND_TEMPLATE) == 34
    header = match_headers(FRONTEND_TEMPLATE)

    header.raise_if_unusable()
    assert header.missing_required == []
    assert header.unknown == []
    assert header.headers == FRONTEND_TEMPLATE
    assert header.width == 34
    for key in ("first_name", "last_name", "phone", "email", "policy_type", "premium_amount", "start_date",
                "end_date", "postal_code", "communication_preferences"):
        assert header.headers[header.index_of[key]] == key
    assert "policy_number" not in header.index_of and "customer_code" not in header.index_of


def test_a_repeated_header_is_read_from_its_first_occurrence() -> None:
    header = match_headers(FRONTEND_TEMPLATE)

    assert header.index_of["agent_name"] == 10 and header.index_of["agent_code"] == 11
    assert header.duplicates == ["agent_name", "agent_code"]
    assert header.warnings() == []  # columns the book does not store: their repeats are not worth a warning


def test_a_repeated_stored_column_is_a_warning() -> None:
    header = match_headers(["email", "first_name", "E-Mail", "last_name"])

    assert header.index_of["email"] == 0
    assert header.duplicates == ["E-Mail"]
    assert header.warnings() == ['column "E-Mail" appears more than once; only its first occurrence is read']


@pytest.mark.parametrize(("written", "key"), [
    ("First Name", "first_name"), ("FIRST_NAME", "first_name"), ("  first   name ", "first_name"),
    ("FirstName", "first_name"), ("first-name", "first_name"), ("Given name", "first_name"),
    ("Surname", "last_name"), ("E-mail", "email"), ("Email Address", "email"), ("Mobile Number", "phone"),
    ("DOB", "date_of_birth"), ("Date of Birth", "date_of_birth"), ("DateOfBirth", "date_of_birth"),
    ("Policy No.", "policy_number"), ("policy #", "policy_number"), ("PolicyNumber", "policy_number"),
    ("Premium", "premium_amount"), ("Premium Amt", "premium_amount"), ("Inception Date", "start_date"),
    ("Expiry", "end_date"), ("Due date", "renewal_date"), ("Policy Status", "status"), ("Branch", "branch_code"),
    ("Agent", "agent_email"), ("Case priority", "priority"), ("KYC Status", "kyc_status"), ("Pincode", "postal_code"),
    ("Address", "address_line1"), ("Consent", "communication_preferences"), ("Line of business", "policy_type"),
])
def test_headers_match_by_key_label_or_alias_whatever_the_case_spacing_or_punctuation(written: str,
                                                                                        key: str) -> None:
    header = match_headers([written])

    assert header.index_of == {key: 0}
    assert header.headers == [written.strip()]


def test_every_key_label_and_alias_names_its_own_column() -> None:
    for column in UPLOAD_COLUMNS:
        for name in (column.key, column.label, *column.aliases):
            assert match_headers([name]).index_of == {column.key: 0}, name


def test_unknown_and_blank_headers_are_kept_by_position_and_listed() -> None:
    header = match_headers(["first_name", "Favourite colour", None, "  ", "last_name", 2024, None, ""])

    # trailing blank headers are dropped; blank ones in between are named by their position
    assert header.headers == ["first_name", "Favourite colour", "Column 3", "Column 4", "last_name", "2024"]
    assert header.unknown == ["Favourite colour", "Column 3", "Column 4", "2024"]
    assert header.index_of == {"first_name": 0, "last_name": 4}
    assert header.warnings()[0] == 'column "Favourite colour" is not a known column and was ignored'


def test_missing_required_columns_are_all_named_in_one_error() -> None:
    header = match_headers(["email", "phone", "notes"])

    assert header.missing_required == REQUIRED
    with pytest.raises(ValidationFailed) as caught:
        header.raise_if_unusable()
    assert caught.value.details == [FieldError(key, "is a required column") for key in REQUIRED]


def test_one_missing_required_column() -> None:
    headers = [key for key in FRONTEND_TEMPLATE if key != "premium_amount"]

    with pytest.raises(ValidationFailed) as caught:
        match_headers(headers).raise_if_unusable()
    assert caught.value.details == [FieldError("premium_amount", "is a required column")]


@pytest.mark.parametrize("headers", [[], [None, ""], ["Sheet title", "Generated 2026-01-01"], ["a", "b", "c"]])
def test_a_row_without_any_known_column_is_refused(headers: list[object]) -> None:
    header = match_headers(headers)

    with pytest.raises(ValidationFailed) as caught:
        header.raise_if_unusable()
    assert caught.value.details == [FieldError("header", "no recognisable columns")]


def test_header_of_gives_the_header_as_written_or_the_key() -> None:
    header = match_headers(["Policy No.", "First Name"])

    assert header.header_of("policy_number") == "Policy No."
    assert header.header_of("first_name") == "First Name"
    assert header.header_of("end_date") == "end_date"


def test_the_schema_keeps_the_frontend_template_columns() -> None:
    known = {column.key for column in UPLOAD_COLUMNS}
    ignored = {column.key for column in UPLOAD_COLUMNS if column.kind is ColumnKind.IGNORED}

    assert set(FRONTEND_TEMPLATE) <= known
    assert {"agent_name", "agent_code", "gender", "renewal_amount"} <= ignored
