"""Generated policy books for bench_uploads.py: the frontend template's columns, as a desk would fill them.

A book has the frontend template's 34 columns (agent_name and agent_code twice) plus `policy_number`, left
blank in every row (the importer derives it from the customer, the policy type and the start date), and
`branch_code`, one of `BRANCHES` (the bench seeds them) or blank. About one row in five is one more policy
of a customer met a little earlier (same name, e-mail, phone, birth date and address; another policy type
or start date), so customers are about 80 % of the rows. One in ten customers has no e-mail (the phone is
their identity). One row in a thousand is wrong (an end date before its start date, or a phone number that
is no number), so the refused-rows path is on the way too.

Cells are typed as each format holds them: in the csv everything is text (dates mostly ISO 8601, birth
dates sometimes DD/MM/YYYY, premiums sometimes with Indian digit grouping, phones in several common
forms); in the xlsx dates are date cells, amounts numbers, and some phones and postal codes numbers, as a
workbook filled by hand has them.

Rows are generated lazily from a seeded random generator, so a million-row csv costs no memory; the xlsx is
written with xlsxwriter's constant-memory mode when it is installed, else openpyxl's write-only mode (about
30 s per 100,000 rows).
"""

from __future__ import annotations

import csv
import random
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

__all__ = ["BRANCHES", "HEADERS", "BookStats", "book_rows", "write_csv", "write_xlsx"]

TEMPLATE = [  # the frontend's template (shared/spec/frontend-contract.md, section 4): agent_name/agent_code twice
    "first_name", "last_name", "phone", "email", "gender", "date_of_birth", "kyc_status", "nominee_name",
    "nominee_relationship", "nominee_contact", "agent_name", "agent_code", "state", "city", "address_line1",
    "kyc_documents", "communication_preferences", "priority", "renewal_amount", "payment_status",
    "communication_attempts", "notes", "policy_type", "premium_amount", "start_date", "end_date", "sum_assured",
    "payment_frequency", "agent_name", "agent_code", "postal_code", "channel", "channel_source", "last_contact_date",
]
HEADERS = [*TEMPLATE, "policy_number", "branch_code"]
# code -> (name, region, state, city): seeded in the bench database before the upload
BRANCHES = {
    "MUM01": ("Mumbai Fort", "West", "Maharashtra", "Mumbai"),
    "PUN01": ("Pune Camp", "West", "Maharashtra", "Pune"),
    "DEL01": ("New Delhi CP", "North", "Delhi", "New Delhi"),
    "BLR01": ("Bengaluru MG Road", "South", "Karnataka", "Bengaluru"),
    "CHE01": ("Chennai T Nagar", "South", "Tamil Nadu", "Chennai"),
    "HYD01": ("Hyderabad Banjara Hills", "South", "Telangana", "Hyderabad"),
    "KOL01": ("Kolkata Park Street", "East", "West Bengal", "Kolkata"),
    "AMD01": ("Ahmedabad CG Road", "West", "Gujarat", "Ahmedabad"),
}
CITIES = [(city, state) for _, _, state, city in BRANCHES.values()] + [("Jaipur", "Rajasthan"), ("Kochi", "Kerala"),
                                                                       ("Lucknow", "Uttar Pradesh")]
TYPES = ("motor", "health", "life", "term", "home", "travel", "personal_accident")
PREMIUMS = {"motor": (4000, 30000), "health": (8000, 60000), "life": (15000, 120000), "term": (6000, 40000),
            "home": (3000, 20000), "travel": (800, 6000), "personal_accident": (1000, 8000)}
SUMS = (100000, 200000, 300000, 500000, 750000, 1000000, 2500000, 5000000)
NOTES = ("Prefers WhatsApp", "Call after 6 pm", "Asked for a quote on add-on covers", "Moved to Pune last year",
         "Renewal reminder sent by branch", "Spouse handles the payments")
PREFERENCES = ("email=yes; sms=yes; whatsapp=no", "email=yes; sms=yes; whatsapp=yes", "email=yes; sms=no",
               "email=no; sms=yes; whatsapp=yes")
RELATIONS = ("spouse", "son", "daughter", "father", "mother")
SHARED = 0.2  # rows that are one more policy of a recent customer
WRONG = 0.001  # rows the importer must refuse
_PHONE_SPAN = 4_000_000_000  # 6000000000-9999999999: every Indian mobile number of 10 digits starting 6-9
_PHONE_STEP = 2_654_435_761  # odd and not a multiple of 5: coprime with the span, so phones never repeat


def _names(rng: random.Random) -> tuple[list[str], list[str]]:
    try:
        from faker import Faker
    except ImportError:
        from entrypoints.seed import FIRST, LAST
        return list(FIRST), list(LAST)
    fake = Faker("en_IN")
    fake.seed_instance(rng.randrange(2**32))
    clean = re.compile(r"[^A-Za-z]")
    firsts = sorted({clean.sub("", fake.first_name()) for _ in range(2000)} - {""})
    lasts = sorted({clean.sub("", fake.last_name()) for _ in range(2000)} - {""})
    return firsts, lasts


@dataclass
class _Customer:
    number: int
    first: str
    last: str
    email: str | None
    phone: int  # 10 digits
    born: date
    gender: str
    kyc: str
    city: str
    state: str
    line1: str
    postal: int
    preferences: str
    used: set[tuple[str, date]] = field(default_factory=set)  # (policy type, start date): one policy each
    kept: bool = False  # has a row the importer accepts (a customer whose only rows are wrong is not stored)


@dataclass
class BookStats:
    rows: int = 0
    customers: int = 0  # customers in the file
    wrong: int = 0  # rows the importer must refuse
    kept: int = 0  # customers with at least one row the importer accepts: those it stores


def book_rows(count: int, *, seed: int, today: date, stats: BookStats | None = None) -> Iterator[list[object]]:
    """`count` data rows in HEADERS order, typed (str, int, float, date or None for a blank cell)."""
    rng = random.Random(seed)
    firsts, lasts = _names(rng)
    recent: deque[_Customer] = deque(maxlen=2000)
    stats = stats if stats is not None else BookStats()
    codes = list(BRANCHES)
    for _ in range(count):
        if recent and rng.random() < SHARED:
            customer = rng.choice(recent)
        else:
            stats.customers += 1
            n = stats.customers
            first, last = rng.choice(firsts), rng.choice(lasts)
            city, state = rng.choice(CITIES)
            customer = _Customer(
                number=n, first=first, last=last,
                email=None if rng.random() < 0.1 else f"{first}.{last}.{n}@example.in".lower(),
                phone=6_000_000_000 + (n * _PHONE_STEP) % _PHONE_SPAN,
                born=date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365)), gender=rng.choice("MF"),
                kyc=rng.choice(("verified", "verified", "verified", "pending", "")), city=city, state=state,
                line1=f"{rng.randrange(1, 400)}, {rng.choice(lasts)} Nagar", postal=rng.randrange(110001, 855999),
                preferences=rng.choice(PREFERENCES))
            recent.append(customer)
        while True:  # one customer's policies differ by type or start date (else they derive one number)
            kind = rng.choice(TYPES)
            start = today - timedelta(days=rng.randrange(200, 365))
            if (kind, start) not in customer.used:
                customer.used.add((kind, start))
                break
        end = start + timedelta(days=364)
        low, high = PREMIUMS[kind]
        premium = rng.randrange(low * 100, high * 100) / 100
        wrong = rng.random() < WRONG
        phone: object = customer.phone
        if wrong:
            stats.wrong += 1
            if rng.random() < 0.5:
                start, end = end, start
            else:
                phone = "12345"
        elif not customer.kept:
            customer.kept = True
            stats.kept += 1
        stats.rows += 1
        agent = rng.randrange(1, 60)
        cells: list[object] = [
            customer.first, customer.last, phone, customer.email, customer.gender, customer.born, customer.kyc or None,
            f"{rng.choice(firsts)} {customer.last}", rng.choice(RELATIONS),
            6_000_000_000 + rng.randrange(_PHONE_SPAN), f"Agent {agent}", f"AG{agent:03d}", customer.state,
            customer.city, customer.line1, rng.choice(("PAN, Aadhaar", "PAN", "Aadhaar", None)),
            customer.preferences, None if rng.random() < 0.85 else rng.choice(("low", "medium", "high", "urgent")),
            round(premium * 1.05, 2), rng.choice(("pending", "pending", "paid")), rng.randrange(4),
            None if rng.random() < 0.7 else rng.choice(NOTES), kind, premium, start, end, rng.choice(SUMS),
            rng.choice(("annual", "annual", "monthly", "quarterly")), f"Agent {agent}", f"AG{agent:03d}",
            customer.postal, rng.choice(("branch", "online", "agent")), rng.choice(("walk-in", "web", "referral")),
            None if rng.random() < 0.6 else today - timedelta(days=rng.randrange(1, 90)),
            None, None if rng.random() < 0.1 else rng.choice(codes)]
        yield cells


# --- csv: every cell as text, in the forms people type ----------------------------------------------------

_PHONE, _NOMINEE, _BORN, _PREMIUM = (TEMPLATE.index(h) for h in ("phone", "nominee_contact", "date_of_birth",
                                                                 "premium_amount"))


def _phone_text(value: object, form: int) -> str:
    if not isinstance(value, int):
        return str(value)
    digits = str(value)
    return (f"+91 {digits[:5]} {digits[5:]}", digits, f"+91{digits}", f"0{digits[:5]} {digits[5:]}")[form]


def _indian_grouping(amount: float) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    if len(whole) <= 3:
        return f"{whole}.{cents}"
    head, tail = whole[:-3], whole[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail]) + f".{cents}"


def write_csv(path: Path, count: int, *, seed: int, today: date) -> BookStats:
    stats = BookStats()
    rng = random.Random(seed + 1)  # the forms of the text; the values come from book_rows
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for cells in book_rows(count, seed=seed, today=today, stats=stats):
            text: list[object] = ["" if value is None else value.isoformat() if isinstance(value, date) else value
                                  for value in cells]
            text[_PHONE] = _phone_text(cells[_PHONE], rng.randrange(4))
            text[_NOMINEE] = _phone_text(cells[_NOMINEE], 1)
            if rng.random() < 0.3:
                text[_BORN] = f"{cells[_BORN]:%d/%m/%Y}"
            premium = cells[_PREMIUM]
            assert isinstance(premium, float)
            text[_PREMIUM] = _indian_grouping(premium) if rng.random() < 0.1 else f"{premium:.2f}"
            writer.writerow(text)
    return stats


# --- xlsx: typed cells ------------------------------------------------------------------------------------

def _xlsx_cells(cells: list[object], rng: random.Random) -> list[object]:
    typed = list(cells)
    if isinstance(typed[_PHONE], int) and rng.random() < 0.7:  # most phones typed as text, some as numbers
        typed[_PHONE] = _phone_text(typed[_PHONE], rng.randrange(4))
    typed[_NOMINEE] = str(typed[_NOMINEE])
    return typed


def write_xlsx(path: Path, count: int, *, seed: int, today: date) -> BookStats:
    stats = BookStats()
    rng = random.Random(seed + 1)
    rows = book_rows(count, seed=seed, today=today, stats=stats)
    try:
        import xlsxwriter  # type: ignore[import-not-found]
    except ImportError:
        xlsxwriter = None
    if xlsxwriter is not None:  # what Excel writes: shared strings, <dimension>, date cells with a format
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet("Policies")
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, HEADERS)
        for r, cells in enumerate(rows, start=1):
            for c, value in enumerate(_xlsx_cells(cells, rng)):
                if value is None:
                    continue
                if isinstance(value, date):
                    sheet.write_datetime(r, c, value, day)
                else:
                    sheet.write(r, c, value)
        book.close()
        return stats
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Policies")
    sheet.append(HEADERS)
    for cells in rows:
        sheet.append(_xlsx_cells(cells, rng))
    book.save(path)
    return stats
