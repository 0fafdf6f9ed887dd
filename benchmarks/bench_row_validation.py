"""Benchmark the row validation of policy-book uploads (domain.uploads.rows.RowValidator), no I/O.

Run from the repository root:  .venv/bin/python benchmarks/bench_row_validation.py
Env: BENCH_ROWS (200000), BENCH_REPEAT (3: each figure is the best of that many runs).

Generates BENCH_ROWS distinct valid rows with the frontend template's 34 columns plus policy_number and
branch_code, in two shapes: text cells (as a CSV reader yields them) and typed cells (as a spreadsheet
reader yields them: floats for amounts and phones, dates as date objects). Each shape is validated with
a trivial phone normaliser (the validator's own cost) and with the real libphonenumber adapter (the cost
an upload pays). Prints rows/s for each; the goal for the validator's own cost is >= 40,000 rows/s.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src")]

from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser  # noqa: E402
from domain.shared.contact import PhoneNumberNormaliser  # noqa: E402
from domain.shared.errors import ValidationFailed  # noqa: E402
from domain.uploads.headers import match_headers  # noqa: E402
from domain.uploads.model import BookRow  # noqa: E402
from domain.uploads.rows import RowValidator  # noqa: E402

TEMPLATE = [  # the frontend's template (shared/spec/frontend-contract.md, section 4): agent_name/agent_code twice
    "first_name", "last_name", "phone", "email", "gender", "date_of_birth", "kyc_status", "nominee_name",
    "nominee_relationship", "nominee_contact", "agent_name", "agent_code", "state", "city", "address_line1",
    "kyc_documents", "communication_preferences", "priority", "renewal_amount", "payment_status",
    "communication_attempts", "notes", "policy_type", "premium_amount", "start_date", "end_date", "sum_assured",
    "payment_frequency", "agent_name", "agent_code", "postal_code", "channel", "channel_source", "last_contact_date",
]
HEADERS = [*TEMPLATE, "policy_number", "branch_code"]
TYPES = ("motor", "health", "life", "term", "home", "travel", "personal_accident")
BRANCHES = {"MUM01": 1, "DEL01": 2, "BLR01": 3}
AGENTS = {f"agent{i}@insurer.in": 100 + i for i in range(20)}
TODAY = date(2026, 11, 28)


class DigitsPhone:
    """A trivial normaliser: 10 digits -> +91 (the validator's own cost, without libphonenumber)."""

    def to_e164(self, raw: str, *, field: str = "phone") -> str:
        digits = "".join(ch for ch in raw if ch.isdigit())
        if len(digits) == 12 and digits.startswith("91"):
            return "+" + digits
        if len(digits) == 10:
            return "+91" + digits
        raise ValidationFailed.on(field, "is not a phone number")


def text_row(i: int) -> list[object]:
    start = date(2025, 1, 1) + timedelta(days=i % 365)
    values: dict[str, object] = {
        "first_name": f"Asha{i % 997}", "last_name": f"Rao{i % 991}", "phone": f"+91 98{i % 100000000:08d}",
        "email": f"customer{i}@example.in", "gender": "F", "date_of_birth": f"{1 + i % 28:02d}/04/1985",
        "kyc_status": "verified", "nominee_name": "Ravi Rao", "nominee_relationship": "spouse",
        "nominee_contact": "9876500000", "agent_name": "Agent One", "agent_code": "AG1", "state": "Maharashtra",
        "city": "Mumbai", "address_line1": f"{i % 300} MG Road", "kyc_documents": "PAN",
        "communication_preferences": "email=yes; sms=yes; whatsapp=no", "priority": "high",
        "renewal_amount": "12500.00", "payment_status": "pending", "communication_attempts": "0",
        "notes": "Prefers WhatsApp", "policy_type": TYPES[i % len(TYPES)],
        "premium_amount": f"{5000 + i % 90000}.50", "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=364)).isoformat(), "sum_assured": "500000",
        "payment_frequency": "annual", "postal_code": "400001", "channel": "online", "channel_source": "web",
        "last_contact_date": "", "policy_number": f"POL-2025-{i:07d}", "branch_code": "MUM01",
    }
    return [values[h] for h in HEADERS]


def typed_row(i: int) -> list[object]:
    row = text_row(i)
    start = date(2025, 1, 1) + timedelta(days=i % 365)
    at = {h: n for n, h in reversed(list(enumerate(HEADERS)))}
    row[at["phone"]] = float(9800000000 + i % 100000000)
    row[at["date_of_birth"]] = date(1985, 4, 1 + i % 28)
    row[at["premium_amount"]] = 5000 + i % 90000 + 0.5
    row[at["sum_assured"]] = 500000.0
    row[at["start_date"]] = start
    row[at["end_date"]] = start + timedelta(days=364)
    row[at["postal_code"]] = 400001.0
    return row


def once(rows: list[list[object]], phones: PhoneNumberNormaliser) -> tuple[float, int]:
    """Seconds to validate `rows` with a fresh validator (its duplicate memory starts empty), valid rows."""
    header = match_headers(HEADERS)
    header.raise_if_unusable()
    validator = RowValidator(header, policy_types=TYPES, branch_ids=BRANCHES, agent_ids=AGENTS, phones=phones,
                             today=TODAY)
    validate: Callable[[int, list[object]], object] = validator.validate
    good = 0
    started = time.perf_counter()
    for number, row in enumerate(rows, start=2):
        if isinstance(validate(number, row), BookRow):
            good += 1
    return time.perf_counter() - started, good


def run(label: str, rows: list[list[object]], phones: PhoneNumberNormaliser, repeat: int) -> float:
    """The best of `repeat` runs (the machine is shared: the best run is the least disturbed one)."""
    seconds, good = min(once(rows, phones) for _ in range(repeat))
    rate = len(rows) / seconds
    print(f"{label:<40} {len(rows):>8,} rows  {seconds:6.2f} s  {rate:>9,.0f} rows/s  ({good:,} valid)")
    if good != len(rows):
        header = match_headers(HEADERS)
        sample = RowValidator(header, policy_types=TYPES, branch_ids=BRANCHES, agent_ids=AGENTS, phones=phones,
                              today=TODAY).validate(2, rows[0])
        print("  unexpected refusals, e.g.:", sample)
    return rate


def main() -> None:
    count = int(os.environ.get("BENCH_ROWS", "200000"))
    repeat = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
    print(f"generating {count:,} rows ... (best of {repeat} runs each)")
    text_rows = [text_row(i) for i in range(count)]
    typed_rows = [typed_row(i) for i in range(count)]
    digits, real = DigitsPhone(), PhonenumbersPhoneNormaliser("IN")
    own = run("text cells, trivial phone normaliser", text_rows, digits, repeat)
    run("typed cells, trivial phone normaliser", typed_rows, digits, repeat)
    run("text cells, libphonenumber (IN)", text_rows, real, repeat)
    run("typed cells, libphonenumber (IN)", typed_rows, real, repeat)
    print(f"goal >= 40,000 rows/s for the validator's own cost: {'met' if own >= 40_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
