"""The cell parsers: every accepted form, every refused one, and round trips of dates and amounts."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.contact import normalise_email
from domain.shared.errors import ValidationFailed
from domain.shared.money import MAX_AMOUNT
from domain.uploads.cells import (
    MAX_SERIAL,
    cell_text,
    choice_table,
    excel_serial_to_date,
    json_friendly,
    parse_choice,
    parse_code,
    parse_date,
    parse_email,
    parse_money,
    parse_phone,
    parse_preferences,
    parse_text,
)

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FULL_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]


def refusal(parse: object, value: object, **options: object) -> str:
    """The one message a parser raises for `value` (the field is always the header given)."""
    with pytest.raises(ValidationFailed) as caught:
        parse(value, field="Header as written", **options)  # type: ignore[operator]
    [detail] = caught.value.details
    assert detail.field == "Header as written"
    return detail.message


class DigitsPhone:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def to_e164(self, raw: str, *, field: str = "phone") -> str:
        self.seen.append(raw)
        digits = "".join(ch for ch in raw if ch.isdigit())
        if len(digits) == 10:
            return "+91" + digits
        raise ValidationFailed.on(field, "is not a phone number")


# --- text ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "parsed"), [
    ("  Asha  ", "Asha"), ("Asha   Devi\n Rao", "Asha Devi Rao"), ("a\tb", "a b"), (400001, "400001"),
    (400001.0, "400001"), (12.5, "12.5"), (True, "true"), (date(2025, 1, 2), "2025-01-02"),
    (datetime(2025, 1, 2, 3, 4), "2025-01-02 03:04:00"), (Decimal("1.50"), "1.50"),
])
def test_text_is_trimmed_and_its_whitespace_collapsed(raw: object, parsed: str) -> None:
    assert parse_text(raw, field="f", max_length=100) == parsed


@pytest.mark.parametrize("raw", [None, "", "   ", "\n\t"])
def test_an_empty_cell_is_none(raw: object) -> None:
    assert parse_text(raw, field="f", max_length=10) is None
    assert parse_code(raw, field="f", max_length=10) is None
    assert parse_date(raw, field="f") is None
    assert parse_money(raw, field="f") is None
    assert parse_choice(raw, field="f", choices=choice_table(["a"])) is None
    assert parse_preferences(raw, field="f") is None
    assert parse_email(raw, field="f") is None
    assert parse_phone(raw, field="f", phones=DigitsPhone()) is None
    assert cell_text(raw) is None


def test_text_longer_than_its_limit_is_refused() -> None:
    assert parse_text("x" * 2000, field="f", max_length=2000) == "x" * 2000
    assert refusal(parse_text, "x" * 2001, max_length=2000) == "must be at most 2000 characters (has 2001)"


def test_codes_are_trimmed_upper_cased_and_without_spaces() -> None:
    assert parse_code("  pol-2025-000123 ", field="f", max_length=100) == "POL-2025-000123"
    assert parse_code(123456.0, field="f", max_length=100) == "123456"
    assert refusal(parse_code, "POL 2025 1", max_length=100) == 'must not contain spaces (got "POL 2025 1")'
    assert refusal(parse_code, "X" * 51, max_length=50) == "must be at most 50 characters (has 51)"


# --- dates --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "2025-03-04", " 2025-03-04 ", "04/03/2025", "4/3/2025", "04-03-2025", "04.03.2025", "4.3.2025",
    "04 Mar 2025", "4 March 2025", "04-Mar-2025", "04-mar-2025", "4 MAR 2025", "4th March, 2025",
    "Mar 04, 2025", "Mar 4, 2025", "March 4 2025", "Mar. 4, 2025", "2025/03/04", "2025/3/4", "2025.03.04",
    "2025-3-4", "2025-03-04 00:00:00", "2025-03-04T10:30", "2025-03-04 10:30:15.123",
    date(2025, 3, 4), datetime(2025, 3, 4, 23, 59), 45720, 45720.0, 45720.99, Decimal("45720"),
])
def test_dates_in_every_accepted_form(raw: object) -> None:
    assert parse_date(raw, field="f") == date(2025, 3, 4)


def test_dates_are_read_day_first() -> None:
    assert parse_date("03/04/2025", field="f") == date(2025, 4, 3)
    assert parse_date("12/01/2025", field="f") == date(2025, 1, 12)


@pytest.mark.parametrize(("raw", "message"), [
    ("31/02/2024", '"31/02/2024" is not a real date'),
    ("2023-02-29", '"2023-02-29" is not a real date'),
    ("2024-13-01", '"2024-13-01" is not a real date'),
    ("00/01/2024", '"00/01/2024" is not a real date'),
    ("31 Apr 2024", '"31 Apr 2024" is not a real date'),
    ("04/15/2025", '"04/15/2025" is not a real date (dates are read day first: DD/MM/YYYY)'),
    ("2025-03-04 25:00", '"2025-03-04 25:00" is not a real date'),
])
def test_impossible_dates_are_refused_with_their_value(raw: str, message: str) -> None:
    assert refusal(parse_date, raw) == message


@pytest.mark.parametrize("raw", [
    "tomorrow", "2025", "25/03/04", "4/3/25", "2025-03", "04 Foo 2025", "Smarch 4, 2025", "2025-03-04x",
    "04/03-2025", "1e5", "२०२५-०३-०४",
])
def test_text_that_is_no_date_is_refused_with_the_accepted_forms(raw: str) -> None:
    message = refusal(parse_date, raw)
    assert message.startswith(f'"{raw}" is not a date; use YYYY-MM-DD, DD/MM/YYYY')


def test_a_long_value_is_cut_in_the_message() -> None:
    message = refusal(parse_date, "x" * 500)
    assert message.startswith('"' + "x" * 59 + '…" is not a date')


@pytest.mark.parametrize("raw", [True, False, time(10, 30), [2025, 3, 4]])
def test_cells_of_other_types_are_no_dates(raw: object) -> None:
    assert "is not a date" in refusal(parse_date, raw)


@pytest.mark.parametrize(("serial", "day"), [
    (1, date(1900, 1, 1)), (2, date(1900, 1, 2)), (31, date(1900, 1, 31)), (59, date(1900, 2, 28)),
    (61, date(1900, 3, 1)), (45000, date(2023, 3, 15)), (45000.75, date(2023, 3, 15)), (45658, date(2025, 1, 1)),
    (MAX_SERIAL, date(9999, 12, 31)),
])
def test_excel_serials_follow_the_1900_date_system(serial: float, day: date) -> None:
    assert excel_serial_to_date(serial) == day
    assert parse_date(serial, field="f") == day


def test_serial_60_is_the_leap_day_excel_invented() -> None:
    assert refusal(parse_date, 60) == "60 is Excel's serial for 1900-02-29, a date that does not exist"
    assert refusal(parse_date, 60.5) == "60 is Excel's serial for 1900-02-29, a date that does not exist"


@pytest.mark.parametrize("serial", [0, -1, 0.5, MAX_SERIAL + 1, float("nan"), float("inf"), -float("inf"), 10**400,
                                    Decimal("Infinity"), Decimal("1e400")])
def test_serials_outside_the_calendar_are_refused(serial: float) -> None:
    message = refusal(parse_date, serial)
    assert message.startswith(f'"{str(serial)[:20]}')
    assert message.endswith('" is not an Excel date (serials run from 1 to 2958465)')


def test_a_decimal_nan_is_no_date() -> None:
    assert refusal(parse_date, Decimal("NaN")) == '"NaN" is not a date'


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)), st.data())
def test_any_date_written_in_any_accepted_form_reads_back(day: date, data: st.DataObject) -> None:
    mon, month = MONTHS[day.month - 1], FULL_MONTHS[day.month - 1]
    forms = [
        day.isoformat(), f"{day.day:02d}/{day.month:02d}/{day.year}", f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}", f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.day:02d} {mon} {day.year}", f"{day.day}-{mon}-{day.year}", f"{day.day} {month} {day.year}",
        f"{mon} {day.day:02d}, {day.year}", f"{month} {day.day}, {day.year}",
        f"{day.year}/{day.month:02d}/{day.day:02d}",
        f"{day.day:02d}-{mon.upper()}-{day.year}", f"{day.isoformat()} 00:00:00",
    ]
    written = data.draw(st.sampled_from(forms))
    assert parse_date(written, field="f") == day
    assert parse_date(f"  {written} ", field="f") == day


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_the_serial_of_any_date_after_the_phantom_leap_day_reads_back(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert parse_date(serial, field="f") == day
    assert parse_date(float(serial) + 0.25, field="f") == day


# --- money --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "amount"), [
    ("12500", "12500.00"), ("12500.5", "12500.50"), ("12500.50", "12500.50"), ("12500.500", "12500.50"),
    ("12500.", "12500.00"), (".5", "0.50"), ("12,500.00", "12500.00"), ("1,234,567.89", "1234567.89"),
    ("1,25,000.50", "125000.50"), ("12,34,56,789", "123456789.00"), ("₹12,500", "12500.00"),
    ("₹ 12,500.00", "12500.00"), ("Rs. 12500", "12500.00"), ("Rs.12,500/-", "12500.00"), ("rs 99", "99.00"),
    ("INR 12,500.00", "12500.00"), ("12500 INR", "12500.00"), ("12,500/-", "12500.00"), (" 0.01 ", "0.01"),
    (12500, "12500.00"), (12500.5, "12500.50"), (12500.0, "12500.00"), (0.1 + 0.2, "0.30"),
    (14750.000000000002, "14750.00"), (Decimal("99.9"), "99.90"), ("9999999999.99", "9999999999.99"),
])
def test_amounts_in_every_accepted_form(raw: object, amount: str) -> None:
    parsed = parse_money(raw, field="f")
    assert parsed == Decimal(amount)
    assert str(parsed) == amount  # always two places


@pytest.mark.parametrize(("raw", "message"), [
    ("12500.555", 'must have at most two decimal places (got "12500.555")'),
    (12500.555, 'must have at most two decimal places (got "12500.555")'),
    ("0.001", 'must have at most two decimal places (got "0.001")'),
    ("0", "must be greater than zero"), (0, "must be greater than zero"), ("0.00", "must be greater than zero"),
    ("-5", "must be greater than zero"), ("₹ -5", "must be greater than zero"), (-12.5, "must be greater than zero"),
    ("10000000000", 'must not exceed 9,999,999,999.99 (got "10000000000")'),
    ("12,50", '"12,50" is not an amount'), ("1,2,3", '"1,2,3" is not an amount'), ("1e3", '"1e3" is not an amount'),
    ("abc", '"abc" is not an amount'), ("12.50.1", '"12.50.1" is not an amount'), ("₹", '"₹" is not an amount'),
    ("NaN", '"NaN" is not an amount'), ("--5", '"--5" is not an amount'), ("$12", '"$12" is not an amount'),
    ("1_000", '"1_000" is not an amount'), ("½", '"½" is not an amount'), ("²", '"²" is not an amount'),
    ("१२५००", '"१२५००" is not an amount'),
    (float("nan"), '"nan" is not an amount'), (float("inf"), '"inf" is not an amount'),
    (Decimal("Infinity"), '"Infinity" is not an amount'), (True, '"True" is not an amount'),
    (date(2025, 1, 1), '"2025-01-01" is not an amount'),
])
def test_refused_amounts(raw: object, message: str) -> None:
    assert refusal(parse_money, raw) == message


def test_an_optional_amount_may_be_zero_but_never_negative() -> None:
    assert parse_money("0", field="f", positive=False) == Decimal("0.00")
    assert parse_money(0.0, field="f", positive=False) == Decimal("0.00")
    assert refusal(parse_money, "-1", positive=False) == "must not be negative"
    big = Decimal("999999999999.99")
    assert parse_money("999,999,999,999.99", field="f", positive=False, maximum=big) == big


def indian(digits: str) -> str:
    """1234567 -> 12,34,567."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2), st.data())
def test_any_amount_of_at_most_two_places_written_with_separators_reads_back(amount: Decimal,
                                                                              data: st.DataObject) -> None:
    whole, cents = f"{amount:.2f}".split(".")
    forms = [
        f"{amount:.2f}", f"{amount:,.2f}", f"{indian(whole)}.{cents}", f"₹{amount:,.2f}",
        f"Rs. {indian(whole)}.{cents}",
        f"INR {amount:,.2f}", f"{amount:,.2f}/-", f"{amount.normalize():f}",
    ]
    written = data.draw(st.sampled_from(forms))
    assert parse_money(written, field="f") == amount
    assert parse_money(float(amount), field="f") == amount  # as a spreadsheet stores it


# --- choices ------------------------------------------------------------------------------------------

def test_choices_ignore_case_and_spacing_and_give_the_canonical_value() -> None:
    table = choice_table(["motor", "health", "personal_accident"])
    assert parse_choice("motor", field="f", choices=table) == "motor"
    assert parse_choice(" MOTOR ", field="f", choices=table) == "motor"
    assert parse_choice("Personal Accident", field="f", choices=table) == "personal_accident"
    assert parse_choice("personal-accident", field="f", choices=table) == "personal_accident"
    assert refusal(parse_choice, "boat", choices=table) == \
        'must be one of: health, motor, personal_accident (got "boat")'


# --- communication preferences ------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "parsed"), [
    ('{"email": true, "sms": false}', {"email": True, "sms": False}),
    ('{"Email": "yes", "WhatsApp": 0, "AI call": 1}', {"email": True, "whatsapp": False, "ai_call": True}),
    ("email=yes; sms=no", {"email": True, "sms": False}),
    ("Email=Y, SMS=N, whatsapp = TRUE;", {"email": True, "sms": False, "whatsapp": True}),
    ("email: 1; sms: 0; postal mail = false", {"email": True, "sms": False, "postal_mail": False}),
    ("{}", None), (";", None),
])
def test_preferences_from_json_or_key_value_pairs(raw: str, parsed: dict[str, bool] | None) -> None:
    assert parse_preferences(raw, field="f") == parsed


@pytest.mark.parametrize(("raw", "message"), [
    ('{"email": maybe}', "is not valid JSON"),
    ("[1, 2]", "must be an object"),
    ('["email"]', "must be an object"),
    ('{"email": "maybe"}', 'the value "maybe" for email must be yes or no'),
    ('{"email": 2}', 'the value "2" for email must be yes or no'),
    ('{"email": {"on": true}}', "for email must be yes or no"),
    ("email", '"email" has no value'),
    ("email=perhaps", 'the value "perhaps" for email must be yes or no'),
    ("=yes", '"" is not a channel name'),
    ("e mail!=yes", '"e mail!" is not a channel name'),
])
def test_refused_preferences(raw: str, message: str) -> None:
    assert message in refusal(parse_preferences, raw)


def test_broken_json_is_refused() -> None:
    assert refusal(parse_preferences, "{").startswith("is not valid JSON")


# --- contact ------------------------------------------------------------------------------------------

def test_emails_are_normalised() -> None:
    assert parse_email("  Asha.Rao@Example.IN ", field="f") == "asha.rao@example.in"
    assert parse_email("asha@bücher.example", field="f") == "asha@xn--bcher-kva.example"


@pytest.mark.parametrize(("raw", "message"), [
    ("asha", 'is not a valid e-mail address ("asha")'),
    ("asha@@example.in", 'is not a valid e-mail address ("asha@@example.in")'),
    ("asha@example", 'has an invalid domain ("asha@example")'),
    (12345, '"12345" is not an e-mail address'),
])
def test_refused_emails(raw: object, message: str) -> None:
    assert refusal(parse_email, raw) == message


local_parts = st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{0,70}", fullmatch=True)
domains = st.from_regex(r"[A-Za-z0-9.-]{0,20}|[a-z]{1,70}\.[a-z0-9]{1,5}|xn--[a-z0-9-]{1,20}\.in|bü[a-z]*\.in",
                        fullmatch=True)


@given(st.one_of(st.builds(lambda a, b: f"{a}@{b}", local_parts, domains), st.text(max_size=40)))
def test_email_parsing_agrees_with_the_shared_normaliser(text: str) -> None:
    # parse_email has a fast path for plain ASCII addresses; it must accept exactly what normalise_email does
    try:
        expected: str | None = normalise_email(text.strip())
    except ValidationFailed:
        expected = None
    try:
        got = parse_email(text, field="f")
    except ValidationFailed:
        got = None
    assert got == (None if not text.strip() else expected)


def test_phones_go_through_the_injected_normaliser_with_the_header() -> None:
    phones = DigitsPhone()
    assert parse_phone(" 98765 43210 ", field="f", phones=phones) == "+919876543210"
    assert parse_phone(9876543210.0, field="f", phones=phones) == "+919876543210"
    assert parse_phone(9876543210, field="f", phones=phones) == "+919876543210"
    assert phones.seen == ["98765 43210", "9876543210", "9876543210"]
    assert refusal(parse_phone, "12345", phones=phones) == 'is not a phone number ("12345")'


def test_the_real_phone_adapter_fits_the_port() -> None:
    from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser

    phones = PhonenumbersPhoneNormaliser("IN")
    assert parse_phone("+91 98765 43210", field="Mobile", phones=phones) == "+919876543210"
    assert parse_phone(9876543210.0, field="Mobile", phones=phones) == "+919876543210"
    assert refusal(parse_phone, "12", phones=phones).endswith('("12")')


# --- raw cells in error reports -----------------------------------------------------------------------

def test_raw_cells_become_json_friendly() -> None:
    raw = [None, "x", 1, 2.5, True, date(2025, 1, 2), datetime(2025, 1, 2, 3, 4), Decimal("1.50"), time(9, 30),
           float("nan")]
    friendly = [json_friendly(value) for value in raw]
    assert friendly == [None, "x", 1, 2.5, True, "2025-01-02", "2025-01-02T03:04:00", "1.50", "09:30:00", "nan"]
    json.dumps(friendly, allow_nan=False)
