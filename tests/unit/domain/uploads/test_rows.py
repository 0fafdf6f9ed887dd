"""Row validation: a valid row becomes a BookRow; a bad one a RowError that names every problem."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.policies.model import CasePriority, KycStatus, PolicyStatus
from domain.policies.rules import validate_term
from domain.shared.errors import ValidationFailed
from domain.uploads.columns import by_key
from domain.uploads.headers import HeaderMap, match_headers
from domain.uploads.keys import derive_customer_code, derive_policy_number
from domain.uploads.model import BookRow, RowError
from domain.uploads.rows import DEFAULT_GRACE_DAYS, RowValidator, check_term
from tests.unit.domain.uploads.test_headers import FRONTEND_TEMPLATE

TODAY = date(2026, 11, 28)
POLICY_TYPES = ("motor", "health", "life", "term", "home", "travel", "personal_accident")
BRANCHES = {"MUM01": 1, "DEL01": 2}
AGENTS = {"agent1@insurer.in": 101, "agent2@insurer.in": 102}


class DigitsPhone:
    def to_e164(self, raw: str, *, field: str = "phone") -> str:
        digits = "".join(ch for ch in raw if ch.isdigit())
        if len(digits) == 12 and digits.startswith("91"):
            return "+" + digits
        if len(digits) == 10:
            return "+91" + digits
        raise ValidationFailed.on(field, "is not a phone number")


GOOD = {
    "first_name": "Asha", "last_name": "Rao", "phone": "+91 98765 43210", "email": "Asha.Rao@Example.in",
    "gender": "F", "date_of_birth": "12/04/1985", "kyc_status": "Verified", "nominee_name": "Ravi Rao",
    "nominee_relationship": "spouse", "nominee_contact": "9876500000", "agent_name": "Agent One", "agent_code": "AG1",
    "state": "Maharashtra", "city": "Mumbai", "address_line1": "12  MG Road", "kyc_documents": "PAN",
    "communication_preferences": "email=yes; sms=yes; whatsapp=no", "priority": "High", "renewal_amount": "12500",
    "payment_status": "pending", "communication_attempts": "0", "notes": "Prefers WhatsApp", "policy_type": "Motor",
    "premium_amount": "₹12,500.50", "start_date": "2025-12-01", "end_date": "30-Nov-2026", "sum_assured": "5,00,000",
    "payment_frequency": "annual", "postal_code": 400001.0, "channel": "online", "channel_source": "web",
    "last_contact_date": "",
}


def validator(headers: list[str], **options: Any) -> RowValidator:
    header = match_headers(headers)
    settings: dict[str, Any] = dict(policy_types=POLICY_TYPES, branch_ids=BRANCHES, agent_ids=AGENTS,
                                    phones=DigitsPhone(), today=TODAY)
    return RowValidator(header, **{**settings, **options})


def cells(headers: list[str], values: Mapping[str, object]) -> list[object]:
    """A row under `headers`: each cell from `values` by header (a repeated header gets the same value)."""
    return [values.get(h) for h in headers]


def template_row(**changes: object) -> list[object]:
    return cells(FRONTEND_TEMPLATE, {**GOOD, **changes})


def accepted(result: BookRow | RowError | None) -> BookRow:
    assert isinstance(result, BookRow), result
    return result


def refused(result: BookRow | RowError | None) -> RowError:
    assert isinstance(result, RowError), result
    return result


# --- valid rows ---------------------------------------------------------------------------------------

def test_a_row_of_the_frontend_template_becomes_a_book_row() -> None:
    row = accepted(validator(FRONTEND_TEMPLATE).validate(2, template_row()))

    customer_code = derive_customer_code("asha.rao@example.in", "+919876543210", "Asha", "Rao", date(1985, 4, 12))
    assert row == BookRow(
        row_number=2, customer_code=customer_code, first_name="Asha", last_name="Rao", email="asha.rao@example.in",
        phone="+919876543210", date_of_birth=date(1985, 4, 12), kyc_status="verified",
        address={"line1": "12 MG Road", "city": "Mumbai", "state": "Maharashtra", "postal_code": "400001"},
        communication_preferences={"email": True, "sms": True, "whatsapp": False},
        policy_number=derive_policy_number(customer_code, "motor", date(2025, 12, 1)), policy_type="motor",
        premium_amount=Decimal("12500.50"), sum_assured=Decimal("500000.00"), start_date=date(2025, 12, 1),
        end_date=date(2026, 11, 30), renewal_date=date(2026, 11, 30), policy_status="active", branch_id=None,
        agent_id=None, priority="high", notes="Prefers WhatsApp")
    assert row.policy_number.startswith("POL-2025-") and row.customer_code.startswith("CUST-")


def test_optional_cells_may_be_blank_and_take_their_defaults() -> None:
    headers = ["first_name", "last_name", "phone", "policy_type", "premium_amount", "start_date", "end_date",
               "kyc_status", "status", "priority", "communication_preferences", "city", "sum_assured", "email"]
    row = accepted(validator(headers).validate(2, [
        "Asha", "Rao", "9876543210", "health", 5000, "2025-01-01", "2025-12-31", "", None, " ", "", None, "", ""]))

    assert (row.kyc_status, row.policy_status, row.priority) == ("pending", "active", None)
    assert row.address is None and row.communication_preferences is None and row.sum_assured is None
    assert row.email is None and row.phone == "+919876543210"
    assert row.customer_code == derive_customer_code(None, "+919876543210", "Asha", "Rao", None)
    assert row.renewal_date == date(2025, 12, 31)


def test_stated_keys_and_references_are_used() -> None:
    headers = ["Policy No.", "Customer ID", "First Name", "Last Name", "Email", "Type", "Premium", "Start Date",
               "End Date", "Renewal Date", "Branch", "Agent", "Policy Status", "Case priority", "KYC status"]
    row = accepted(validator(headers).validate(7, [
        " pol-2025-000123 ", "cust-9", "Asha", "Rao", "asha@example.in", "Personal Accident", 12500.5,
        date(2025, 12, 1), 46356, "15/11/2026", "mum01", "Agent1@Insurer.in", "Lapsed", "urgent", "rejected"]))

    assert (row.policy_number, row.customer_code) == ("POL-2025-000123", "CUST-9")
    assert (row.branch_id, row.agent_id) == (1, 101)
    assert row.policy_type == "personal_accident" and row.premium_amount == Decimal("12500.50")
    assert (row.start_date, row.end_date, row.renewal_date) == (date(2025, 12, 1), date(2026, 11, 30),
                                                                 date(2026, 11, 15))
    assert (row.policy_status, row.priority, row.kyc_status) == ("lapsed", "urgent", "rejected")


def test_the_validator_can_use_the_policies_term_rule_itself() -> None:
    check = validator(FRONTEND_TEMPLATE, term_rule=validate_term)
    assert accepted(check.validate(2, template_row())).renewal_date == date(2026, 11, 30)
    error = refused(check.validate(3, template_row(policy_type="life", end_date="2025-11-30")))
    assert error.reasons == [("end_date", "must be after start_date")]


# --- refused rows -------------------------------------------------------------------------------------

def test_a_row_with_three_problems_reports_all_three() -> None:
    error = refused(validator(FRONTEND_TEMPLATE).validate(5, template_row(
        first_name="  ", premium_amount="12,50", start_date="31/02/2025")))

    assert error.row_number == 5
    assert error.reasons == [
        ("first_name", "is required"),
        ("premium_amount", '"12,50" is not an amount'),
        ("start_date", '"31/02/2025" is not a real date'),
    ]


def test_every_kind_of_problem_is_collected_in_column_order() -> None:
    headers = ["First Name", "Last Name", "Mobile", "E-mail", "DOB", "Type", "Premium", "Sum insured", "Start date",
               "End date", "Due date", "Branch", "Agent", "Policy status", "KYC status", "Case priority", "Notes",
               "Consent", "Policy No.", "Customer ID"]
    error = refused(validator(headers).validate(9, [
        "A" * 101, None, "123", "not-an-email", "2030-01-01", "boat", "-5", "-1", "2025-12-01", "2026-11-30",
        "2025-01-01", "XX99", "nobody@insurer.in", "sleeping", "maybe", "asap", "n" * 2001, "sms=perhaps",
        "POL 1", "C" * 51]))

    assert [h for h, _ in error.reasons] == [
        "First Name", "Last Name", "Mobile", "E-mail", "DOB", "Type", "Premium", "Sum insured", "Due date", "Branch",
        "Agent", "Policy status", "KYC status", "Case priority", "Notes", "Consent", "Policy No.", "Customer ID"]
    messages = dict(error.reasons)
    assert messages["First Name"] == "must be at most 100 characters (has 101)"
    assert messages["Type"] == ('must be one of: health, home, life, motor, personal_accident, term, travel '
                                '(got "boat")')
    assert messages["Premium"] == "must be greater than zero"
    assert messages["Sum insured"] == "must not be negative"
    assert messages["Branch"] == 'there is no branch with the code "XX99"'
    assert messages["Agent"] == 'there is no user with the e-mail "nobody@insurer.in"'
    assert messages["Policy status"] == 'must be one of: active, cancelled, expired, lapsed, pending (got "sleeping")'
    assert messages["DOB"] == "must not be in the future (got 2030-01-01)"
    assert messages["Due date"] == "must not be before Start date"
    assert messages["Policy No."] == 'must not contain spaces (got "POL 1")'
    assert messages["Last Name"] == "is required"
    assert messages["Customer ID"] == "must be at most 50 characters (has 51)"
    assert messages["Consent"].startswith('the value "perhaps" for sms must be yes or no')


def test_required_cells_and_a_way_to_reach_the_customer() -> None:
    headers = ["first_name", "last_name", "email", "phone", "policy_type", "premium_amount", "start_date",
               "end_date"]
    error = refused(validator(headers).validate(3, ["Asha", None, "", " ", None, None, None, None]))

    assert error.reasons == [
        ("last_name", "is required"), ("policy_type", "is required"), ("premium_amount", "is required"),
        ("start_date", "is required"), ("end_date", "is required"), ("", "needs an email or a phone number"),
    ]


def test_an_invalid_email_is_its_own_problem_not_a_missing_contact() -> None:
    error = refused(validator(FRONTEND_TEMPLATE).validate(3, template_row(email="asha@", phone=None)))
    assert error.reasons == [("email", 'has an invalid domain ("asha@")')]


@pytest.mark.parametrize(("born", "message"), [
    ("2026-11-29", "must not be in the future (got 2026-11-29)"),
    ("31/12/1899", "must not be before 1900-01-01 (got 1899-12-31)"),
])
def test_birth_dates_must_be_plausible(born: str, message: str) -> None:
    error = refused(validator(FRONTEND_TEMPLATE).validate(3, template_row(date_of_birth=born)))
    assert error.reasons == [("date_of_birth", message)]


def test_a_birth_date_of_today_is_fine() -> None:
    assert accepted(validator(FRONTEND_TEMPLATE).validate(3, template_row(date_of_birth=TODAY))).date_of_birth == TODAY


def test_term_problems_name_the_headers_as_written() -> None:
    headers = ["First Name", "Last Name", "Email", "Product", "Premium", "Inception Date", "Expiry Date",
               "Renewal Due Date"]
    check = validator(headers)
    same_day = refused(check.validate(2, ["A", "B", "a@b.in", "motor", "1", "2025-01-01", "2025-01-01", None]))
    assert same_day.reasons == [("Expiry Date", "must be after Inception Date")]
    early = refused(check.validate(3, ["A", "B", "a@b.in", "motor", "1", "2025-01-01", "2024-01-01", "2024-12-01"]))
    assert early.reasons == [("Expiry Date", "must be after Inception Date"),
                             ("Renewal Due Date", "must not be before Inception Date")]


def test_refused_cells_are_kept_json_friendly_by_header_as_written() -> None:
    headers = ["First Name", "Last Name", "Email", "Type", "Premium", "Start", "End", "Extra", "Email"]
    check = validator(headers)
    error = refused(check.validate(4, ["A", None, "a@b.in", "motor", Decimal("1.5"), date(2025, 1, 1), 45000.5,
                                       "x", "second@b.in", "beyond the header"]))

    assert error.cells == {"First Name": "A", "Last Name": None, "Email": "a@b.in", "Type": "motor",
                           "Premium": "1.5", "Start": "2025-01-01", "End": 45000.5, "Extra": "x"}
    json.dumps(error.cells)


# --- duplicates, empty and ragged rows ----------------------------------------------------------------

def test_a_later_row_with_the_same_stated_policy_number_is_refused() -> None:
    headers = [*FRONTEND_TEMPLATE, "policy_number"]
    check = validator(headers)
    first = accepted(check.validate(2, cells(headers, {**GOOD, "policy_number": "POL-1"})))
    other = accepted(check.validate(3, cells(headers, {**GOOD, "policy_number": "POL-2"})))
    again = refused(check.validate(4, cells(headers, {**GOOD, "email": "x@y.in", "policy_number": " pol-1 "})))

    assert (first.policy_number, other.policy_number) == ("POL-1", "POL-2")
    assert again.reasons == [("policy_number", "duplicates the policy number of an earlier row")]
    assert check.accepted_policy_numbers == 2


def test_a_later_row_deriving_the_same_policy_number_is_refused() -> None:
    check = validator(FRONTEND_TEMPLATE)
    first = accepted(check.validate(2, template_row()))
    renewal_of_other_type = accepted(check.validate(3, template_row(policy_type="health")))
    again = refused(check.validate(4, template_row(premium_amount="99")))

    assert first.policy_number != renewal_of_other_type.policy_number
    [(h, message)] = again.reasons
    assert h == ""
    assert message.startswith(f"duplicates the policy number of an earlier row ({first.policy_number}")


def test_a_refused_row_does_not_reserve_its_policy_number() -> None:
    headers = [*FRONTEND_TEMPLATE, "policy_number"]
    check = validator(headers)
    refused(check.validate(2, cells(headers, {**GOOD, "premium_amount": "0", "policy_number": "POL-1"})))
    accepted(check.validate(3, cells(headers, {**GOOD, "policy_number": "POL-1"})))


def test_a_duplicate_is_reported_with_the_other_problems_of_the_row() -> None:
    headers = [*FRONTEND_TEMPLATE, "policy_number"]
    check = validator(headers)
    accepted(check.validate(2, cells(headers, {**GOOD, "policy_number": "POL-1"})))
    error = refused(check.validate(3, cells(headers, {**GOOD, "policy_number": "POL-1", "notes": "x" * 2001})))
    assert [h for h, _ in error.reasons] == ["notes", "policy_number"]


@pytest.mark.parametrize("row", [[], [None], [None, "", "   ", "\t"], [None] * 34, [""] * 40])
def test_an_empty_row_is_skipped(row: list[object]) -> None:
    assert validator(FRONTEND_TEMPLATE).validate(2, row) is None


def test_cells_beyond_the_header_are_ignored_and_a_short_row_is_padded() -> None:
    headers = ["first_name", "last_name", "email", "policy_type", "premium_amount", "start_date", "end_date", "notes"]
    check = validator(headers)
    full = ["Asha", "Rao", "a@b.in", "motor", "100", "2025-01-01", "2025-12-31"]

    assert accepted(check.validate(2, full)).notes is None  # notes not there: padded
    assert accepted(check.validate(3, [*full[:2], "c@d.in", *full[3:], "a note", "beyond", 42])).notes == "a note"
    assert check.validate(4, [None] * 8 + ["only beyond the header"]) is None
    short = refused(check.validate(5, full[:5]))
    assert short.reasons == [("start_date", "is required"), ("end_date", "is required")]
    assert short.cells["notes"] is None


def test_the_validator_parses_agent_and_branch_values_once() -> None:
    headers = ["first_name", "last_name", "email", "policy_type", "premium_amount", "start_date", "end_date",
               "agent_email", "branch_code"]
    check = validator(headers)
    for number in range(2, 6):
        row = accepted(check.validate(number, ["A", "B", f"c{number}@d.in", "motor", "1", "2025-01-01",
                                               "2025-12-31", "AGENT2@insurer.in", "del01"]))
        assert (row.agent_id, row.branch_id) == (102, 2)
    assert refused(check.validate(9, ["A", "B", "z@d.in", "motor", "1", "2025-01-01", "2025-12-31", "agent2@",
                                      "DEL01"])).reasons == [("agent_email", 'has an invalid domain ("agent2@")')]


def test_a_memoised_column_gives_each_row_its_own_preferences() -> None:
    check = validator(FRONTEND_TEMPLATE)
    one = accepted(check.validate(2, template_row()))
    two = accepted(check.validate(3, template_row(policy_type="life")))
    assert one.communication_preferences == two.communication_preferences
    assert one.communication_preferences is not two.communication_preferences


def test_the_header_map_given_is_read_not_changed() -> None:
    header = match_headers(FRONTEND_TEMPLATE)
    before = HeaderMap(dict(header.index_of), list(header.headers), list(header.unknown),
                       list(header.missing_required), list(header.duplicates))
    RowValidator(header, policy_types=POLICY_TYPES, branch_ids={}, agent_ids={}, phones=DigitsPhone(),
                 today=TODAY).validate(2, template_row())
    assert header == before


# --- the rules it restates ----------------------------------------------------------------------------

def test_the_choice_columns_match_the_policies_enums() -> None:
    assert set(by_key("status").choices) == {s.value for s in PolicyStatus}
    assert set(by_key("kyc_status").choices) == {s.value for s in KycStatus}
    assert set(by_key("priority").choices) == {s.value for s in CasePriority}


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


@given(dates, dates, st.none() | dates, st.sampled_from([-1, 0, DEFAULT_GRACE_DAYS, 365, 366]))
def test_check_term_is_the_policies_term_rule(start: date, end: date, renewal: date | None, grace: int) -> None:
    def outcome(rule: Any) -> object:
        try:
            term = rule(start, end, renewal, grace)
        except ValidationFailed as exc:
            return exc.details
        return (term.start_date, term.end_date, term.renewal_date, term.grace_period_days)

    assert outcome(check_term) == outcome(validate_term)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2050, 1, 1)), st.integers(min_value=1, max_value=3650))
def test_any_valid_term_in_any_date_form_is_accepted(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    row = accepted(validator(FRONTEND_TEMPLATE).validate(2, template_row(
        start_date=start.strftime("%d/%m/%Y"), end_date=(end - date(1899, 12, 30)).days)))
    assert (row.start_date, row.end_date, row.renewal_date) == (start, end, end)
