"""Derived customer codes and policy numbers: stable, well-formed, and different for different identities."""

from __future__ import annotations

import hashlib
import re
from base64 import b32encode
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.uploads.keys import customer_identity, derive_customer_code, derive_policy_number

CUSTOMER_CODE = re.compile(r"CUST-[A-Z2-7]{10}")
POLICY_NUMBER = re.compile(r"POL-\d{4}-[A-Z2-7]{10}")
BORN = date(1985, 4, 12)

emails = st.from_regex(r"[a-z0-9._]{1,20}@[a-z]{1,10}\.(in|com)", fullmatch=True)
names = st.text(st.characters(categories=["L"]), min_size=1, max_size=20)
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
types = st.sampled_from(["motor", "health", "life", "term", "home", "travel", "personal_accident"])


def b32_of_sha256(text: str) -> str:
    return b32encode(hashlib.sha256(text.encode()).digest()).decode()[:10]


def test_keys_are_pinned_so_they_stay_the_same_across_releases_and_machines() -> None:
    # a change here would make every re-uploaded book duplicate its customers and policies
    assert derive_customer_code("asha.rao@example.in", "+919876543210", "Asha", "Rao", BORN) == "CUST-EJS62MEYJN"
    assert derive_customer_code(None, "+919876543210", "Asha", "Rao", BORN) == "CUST-6OSHZZOOHV"
    assert derive_customer_code(None, None, "Asha", "Rao", BORN) == "CUST-EMTTB7JVOJ"
    assert derive_policy_number("CUST-000123", "motor", date(2025, 12, 1)) == "POL-2025-NTQTTTLSUE"


def test_the_code_is_base32_of_sha256_over_the_best_identity() -> None:
    assert derive_customer_code("asha.rao@example.in", "+919876543210", "Asha", "Rao", BORN) \
        == "CUST-" + b32_of_sha256("asha.rao@example.in")
    assert derive_customer_code("", "+919876543210", "Asha", "Rao", BORN) == "CUST-" + b32_of_sha256("+919876543210")
    assert derive_customer_code(None, None, "Asha", "Rao", BORN) == "CUST-" + b32_of_sha256("asha|rao|1985-04-12")
    assert derive_customer_code(None, None, "Asha", "Rao", None) == "CUST-" + b32_of_sha256("asha|rao|")
    assert derive_policy_number("CUST-000123", "motor", date(2025, 12, 1)) \
        == "POL-2025-" + b32_of_sha256("CUST-000123|motor|2025-12-01")


def test_the_email_outranks_the_phone_which_outranks_the_name() -> None:
    by_email = derive_customer_code("asha@example.in", "+919876543210", "Asha", "Rao", BORN)
    assert by_email == derive_customer_code("asha@example.in", None, "Someone", "Else", None)
    by_phone = derive_customer_code(None, "+919876543210", "Asha", "Rao", BORN)
    assert by_phone == derive_customer_code(None, "+919876543210", "Other", "Name", date(2000, 1, 1))
    assert by_email != by_phone


def test_names_compare_without_case_or_extra_spaces() -> None:
    assert customer_identity(None, None, "  Asha  Devi ", "RAO", BORN) == "asha devi|rao|1985-04-12"
    assert derive_customer_code(None, None, "ASHA", " rao ", BORN) == derive_customer_code(None, None, "asha", "Rao",
                                                                                              BORN)
    assert customer_identity(" Asha@Example.IN ", None, "A", "R", None) == "asha@example.in"


def test_policy_numbers_take_the_code_upper_and_the_type_lower() -> None:
    start = date(2025, 12, 1)
    assert derive_policy_number("cust-000123 ", "Motor", start) == derive_policy_number("CUST-000123", "motor", start)


@given(emails, st.none() | st.just("+919876543210"), names, names, st.none() | dates)
def test_customer_codes_are_deterministic_and_well_formed(email: str, phone: str | None, first: str, last: str,
                                                          born: date | None) -> None:
    code = derive_customer_code(email, phone, first, last, born)
    assert CUSTOMER_CODE.fullmatch(code)
    assert code == derive_customer_code(email, phone, first, last, born)


@given(st.lists(emails, min_size=2, max_size=20, unique=True))
def test_different_emails_give_different_codes(addresses: list[str]) -> None:
    codes = {derive_customer_code(address, None, "A", "B", None) for address in addresses}
    assert len(codes) == len(addresses)


@given(st.lists(st.tuples(names, names, dates), min_size=2, max_size=20,
                unique_by=lambda t: (t[0].casefold(), t[1].casefold(), t[2])))
def test_different_names_or_birth_dates_give_different_codes(people: list[tuple[str, str, date]]) -> None:
    codes = {derive_customer_code(None, None, first, last, born) for first, last, born in people}
    assert len(codes) == len(people)


@given(st.text(min_size=1, max_size=30), types, dates)
def test_policy_numbers_are_deterministic_and_carry_the_start_year(code: str, policy_type: str, start: date) -> None:
    number = derive_policy_number(code, policy_type, start)
    assert POLICY_NUMBER.fullmatch(number)
    assert number.startswith(f"POL-{start.year}-")
    assert number == derive_policy_number(code, policy_type, start)


@given(st.lists(st.tuples(st.from_regex(r"CUST-[A-Z0-9]{6}", fullmatch=True), types, dates), min_size=2,
                max_size=20, unique=True))
def test_different_customers_types_or_start_dates_give_different_policy_numbers(
        terms: list[tuple[str, str, date]]) -> None:
    numbers = {derive_policy_number(code, policy_type, start) for code, policy_type, start in terms}
    assert len(numbers) == len(terms)


@given(st.text(max_size=200))
def test_the_fast_base32_equals_the_standard_encoding(text: str) -> None:
    # customer_identity(text, ...) is text.strip().lower() when that is not empty
    identity = customer_identity(text, None, "a", "b", None)
    assert derive_customer_code(text, None, "a", "b", None) == "CUST-" + b32_of_sha256(identity)
