"""Benchmark the readers of policy-book uploads: rows/s and peak RSS, xlsx and csv, ours against the alternatives.

Run from the repository root:  .venv/bin/python benchmarks/bench_readers.py
Env: BENCH_ROWS (100000), BENCH_DIR (/tmp/bench_readers: the generated files are kept there and reused, since
writing the xlsx with openpyxl takes about 30 s).

Generates a BENCH_ROWS-row book with 34 columns (the frontend template's shape: codes, names, e-mail, phone,
dates, amounts, choices, free text) as an xlsx written by openpyxl's write-only mode (inline strings, no
<dimension>) and as a UTF-8 csv. Each measurement runs in a fresh subprocess, so its peak RSS
(resource.getrusage ru_maxrss) is its own; the baseline is the same interpreter after its imports.

Measured, each reading every row to the end:
  xlsx  ours             SpreadsheetInspector.inspect + open_sheet (the streaming reader, xlsx_stream)
  xlsx  calamine         python_calamine alone: CalamineWorkbook.from_path, iter_rows
  xlsx  openpyxl-ro      openpyxl.load_workbook(read_only=True, data_only=True), iter_rows(values_only=True);
                         openpyxl parses through defusedxml when it is installed (as here); "-plain" is the same
                         with OPENPYXL_DEFUSEDXML=False (the standard library's C-accelerated ElementTree)
  csv   ours             SpreadsheetInspector.inspect + open_sheet (encoding and line pass, sniffing, rows)
  csv   csv module       csv.reader over the file alone
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src")]

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
DIR = Path(os.environ.get("BENCH_DIR", "/tmp/bench_readers"))
HEADER = ["policy_number", "customer_code", "first_name", "last_name", "email", "phone", "date_of_birth",
          "kyc_status", "policy_type", "premium_amount", "sum_assured", "start_date", "end_date", "renewal_date",
          "status", "branch_code", "agent_email", "priority", "notes", "address_line1", "city", "state",
          "postal_code", "communication_preferences", "gender", "nominee_name", "nominee_relationship",
          "nominee_contact", "agent_name", "agent_code", "renewal_amount", "payment_status", "payment_frequency",
          "channel"]
FIRST = ["Asha", "Ravi", "Meera", "Arjun", "Kavya", "Vikram", "Priya", "Rahul", "Sneha", "Karan"]
LAST = ["Rao", "Sharma", "Iyer", "Patel", "Gupta", "Nair", "Reddy", "Singh", "Das", "Menon"]
CITIES = [("Mumbai", "Maharashtra"), ("Pune", "Maharashtra"), ("Bengaluru", "Karnataka"), ("Chennai", "Tamil Nadu")]
TYPES = ["motor", "health", "life", "term", "home", "travel"]


def book_rows(count: int) -> list[list[object]]:
    rng = random.Random(7)
    start0 = date(2025, 1, 1)
    rows: list[list[object]] = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state = rng.choice(CITIES)
        start = start0 + timedelta(days=rng.randrange(365))
        premium = round(rng.uniform(800, 120000), 2)
        rows.append([
            f"POL-{i:07d}", f"CUST-{i:07d}", first, last, f"{first}.{last}{i}@example.in".lower(),
            f"+91 9{rng.randrange(10**8, 10**9)}", date(1960, 1, 1) + timedelta(days=rng.randrange(15000)),
            rng.choice(["pending", "verified"]), rng.choice(TYPES), premium, rng.choice([100000, 500000, 1000000]),
            start, start + timedelta(days=364), start + timedelta(days=364), "active", f"BR{rng.randrange(20):02d}",
            f"agent{rng.randrange(50)}@insurer.in", rng.choice(["low", "medium", "high"]),
            rng.choice(["", "Prefers WhatsApp", "Call after 6 pm"]), f"{rng.randrange(1, 300)} MG Road", city,
            state, str(400000 + rng.randrange(99999)), "email=yes; sms=yes; whatsapp=no", rng.choice(["F", "M"]),
            rng.choice(FIRST), "spouse", f"+91 8{rng.randrange(10**8, 10**9)}", f"Agent {rng.randrange(50)}",
            f"AG{rng.randrange(50):03d}", round(premium * 1.05, 2), rng.choice(["paid", "due"]),
            rng.choice(["annual", "monthly"]), rng.choice(["branch", "online"])])
    return rows


def generate() -> tuple[Path, Path]:
    DIR.mkdir(parents=True, exist_ok=True)
    xlsx, text = DIR / f"book_{ROWS}.xlsx", DIR / f"book_{ROWS}.csv"
    if xlsx.exists() and text.exists():
        return xlsx, text
    import openpyxl

    print(f"generating {ROWS:,} rows into {DIR} (openpyxl write-only; about 30 s per 100,000 rows)...", flush=True)
    rows = book_rows(ROWS)
    with text.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([[value.isoformat() if isinstance(value, date) else value for value in row]
                          for row in rows])
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Policies")
    sheet.append(HEADER)
    for row in rows:
        sheet.append([value or None for value in row])
    book.save(xlsx)
    return xlsx, text


# --- measurements, each in its own process ---------------------------------------------------------------

def _ours(path: Path, kind: str) -> int:
    from adapters.spreadsheets.inspection import SpreadsheetInspector

    inspector = SpreadsheetInspector()
    reader = inspector.open(path, inspector.inspect(path, path.name))
    try:
        return sum(1 for _ in reader.rows())
    finally:
        reader.close()


def _calamine(path: Path, kind: str) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    count = sum(1 for _ in book.get_sheet_by_index(0).iter_rows()) - 1
    book.close()
    return count


def _openpyxl(path: Path, kind: str) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    count = sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
    book.close()
    return count


def _csv_module(path: Path, kind: str) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


MEASURES: dict[str, Callable[[Path, str], int]] = {
    "ours": _ours, "calamine": _calamine, "openpyxl-ro": _openpyxl, "openpyxl-ro-plain": _openpyxl,
    "csv module": _csv_module,
}


def measure(name: str, path: Path, kind: str) -> None:
    """Run in the child: print {"rows", "seconds", "baseline_mb", "peak_mb"} as JSON."""
    # import what every measure needs before the baseline, so the baseline is the interpreter's own
    import openpyxl  # noqa: F401
    import python_calamine  # noqa: F401

    from adapters.spreadsheets import inspection, readers  # noqa: F401

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rows = MEASURES[name](path, kind)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": rows, "seconds": seconds, "baseline_mb": baseline / 1024, "peak_mb": peak / 1024}))


def run(name: str, path: Path, kind: str) -> dict[str, float]:
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False" if name.endswith("-plain") else "True"}
    out = subprocess.run([sys.executable, __file__, "--measure", name, str(path), kind], check=True,
                         capture_output=True, text=True, cwd=ROOT, env=env)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    # generated in a child: a forked child starts with its parent's peak RSS, which must stay small
    subprocess.run([sys.executable, __file__, "--generate"], check=True, cwd=ROOT)
    xlsx, text = generate()
    print(f"xlsx {xlsx.stat().st_size / 2**20:.1f} MB, csv {text.stat().st_size / 2**20:.1f} MB, {ROWS:,} data rows, "
          f"{len(HEADER)} columns; Python {sys.version.split()[0]}")
    print(f"{'file':5} {'reader':17} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak RSS':>9} {'baseline':>9} "
          f"{'growth':>8}")
    for kind, path, names in (("xlsx", xlsx, ("ours", "calamine", "openpyxl-ro", "openpyxl-ro-plain")),
                              ("csv", text, ("ours", "csv module"))):
        for name in names:
            result = run(name, path, kind)
            rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
            print(f"{kind:5} {name:17} {int(result['rows']):>8,} {result['seconds']:>8.2f} {rate:>9,.0f} "
                  f"{result['peak_mb']:>7.0f}MB {result['baseline_mb']:>7.0f}MB "
                  f"{result['peak_mb'] - result['baseline_mb']:>6.0f}MB", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        measure(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
    elif sys.argv[1:] == ["--generate"]:
        generate()
    else:
        main()
