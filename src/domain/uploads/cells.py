"""Cell parsers of a policy book.

Cells come from CSV (always text) or from a spreadsheet (text, int, float, bool, date or datetime).
Every parser returns None for an empty cell (None or only spaces), the parsed value otherwise, or raises
`ValidationFailed.on(field, message)` where `field` is the header as written in the file and `message`
is a sentence for the person who typed the cell. The common forms take a fast path without regular
expressions or exceptions; only unusual forms reach the slower general parsing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

from domain.shared.contact import PhoneNumberNormaliser, normalise_email
from domain.shared.errors import ValidationFailed
from domain.shared.money import MAX_AMOUNT

__all__ = [
    "DATE_FORMATS_HELP", "MAX_SERIAL", "cell_text", "choice_key", "choice_table", "excel_serial_to_date",
    "json_friendly", "parse_choice", "parse_code", "parse_date", "parse_email", "parse_money", "parse_phone",
    "parse_preferences", "parse_text", "shown",
]

_SHOWN_CHARS = 60
DATE_FORMATS_HELP = "use YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, DD Mon YYYY or Mon DD, YYYY"


def shown(value: object) -> str:
    """A cell's value in double quotes for a message, cut to 60 characters."""
    text = (value if isinstance(value, str) else str(value)).strip()
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return f'"{text}"'


def cell_text(value: object) -> str | None:
    """The cell as trimmed text, None when empty. Whole floats lose their ".0" (Excel stores 400001.0)."""
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value).strip()
    return text or None


def json_friendly(value: object) -> object:
    """A raw cell as JSON can carry it: dates as ISO strings, Decimals and other objects as text."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# --- text ---------------------------------------------------------------------------------------------

def parse_text(value: object, *, field: str, max_length: int) -> str | None:
    """Trimmed text with runs of whitespace (line breaks included) collapsed to one space."""
    text = value.strip() if type(value) is str else cell_text(value)
    if not text:
        return None
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    if len(text) > max_length:
        raise ValidationFailed.on(field, f"must be at most {max_length} characters (has {len(text)})")
    return text


def parse_code(value: object, *, field: str, max_length: int) -> str | None:
    """An identifier such as a policy number: trimmed, upper-cased, without spaces."""
    text = value.strip() if type(value) is str else cell_text(value)
    if not text:
        return None
    code = text.upper()
    if len(code) > max_length:
        raise ValidationFailed.on(field, f"must be at most {max_length} characters (has {len(code)})")
    if len(code.split(None, 1)) > 1:
        raise ValidationFailed.on(field, f"must not contain spaces (got {shown(text)})")
    return code


# --- dates --------------------------------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # serial 0 for serials after the phantom 1900-02-29
MAX_SERIAL = date.max.toordinal() - _EXCEL_EPOCH  # 2958465 = 9999-12-31

_MONTHS = {
    name: number
    for number, names in enumerate((
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
        ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
        ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1)
    for name in names
}
_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})", re.ASCII)
_YMD = re.compile(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})", re.ASCII)
_D_MON_Y = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})", re.ASCII | re.IGNORECASE)
_MON_D_Y = re.compile(r"([a-z]+)\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{4})", re.ASCII | re.IGNORECASE)
_ISO_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?", re.ASCII)


def excel_serial_to_date(serial: float | Decimal, *, field: str = "date") -> date:
    """An Excel (1900 date system) serial number as a date; the time of day is dropped.

    1 is 1900-01-01. Excel counts a 29 February 1900 that never was (serial 60, refused here), so serials
    from 61 on are days after 1899-12-30 and serials 1 to 59 days after 1899-12-31.
    """
    if not (1 <= serial < MAX_SERIAL + 1):  # NaN compares false too
        raise ValidationFailed.on(field, f"{shown(serial)} is not an Excel date (serials run from 1 to {MAX_SERIAL})")
    whole = int(serial)
    if whole == 60:
        raise ValidationFailed.on(field, "60 is Excel's serial for 1900-02-29, a date that does not exist")
    return date.fromordinal(_EXCEL_EPOCH + whole + (1 if whole < 60 else 0))


def _real_date(year: int, month: int, day: int, text: str, field: str, *, day_first: bool) -> date:
    if 1 <= month <= 12 and 1 <= day <= 28 and year >= 1:
        return date(year, month, day)
    try:
        return date(year, month, day)
    except ValueError:
        hint = " (dates are read day first: DD/MM/YYYY)" if day_first and month > 12 and day <= 12 else ""
        raise ValidationFailed.on(field, f"{shown(text)} is not a real date{hint}") from None


def _parse_date_text(text: str, field: str) -> date:
    if len(text) == 10 and text.isascii():
        sep = text[2]
        if text[4] == "-" and text[7] == "-":  # YYYY-MM-DD, the fast path
            year, month, day = text[:4], text[5:7], text[8:]
            if year.isdecimal() and month.isdecimal() and day.isdecimal():
                return _real_date(int(year), int(month), int(day), text, field, day_first=False)
        elif (sep == "/" or sep == "-" or sep == ".") and text[5] == sep:  # DD/MM/YYYY and friends
            day, month, year = text[:2], text[3:5], text[6:]
            if year.isdecimal() and month.isdecimal() and day.isdecimal():
                return _real_date(int(year), int(month), int(day), text, field, day_first=True)
    if match := _DMY.fullmatch(text):
        return _real_date(int(match[4]), int(match[3]), int(match[1]), text, field, day_first=True)
    if match := _YMD.fullmatch(text):
        return _real_date(int(match[1]), int(match[3]), int(match[4]), text, field, day_first=False)
    if match := _D_MON_Y.fullmatch(text):
        named = _MONTHS.get(match[2].lower())
        if named is not None:
            return _real_date(int(match[3]), named, int(match[1]), text, field, day_first=False)
    if match := _MON_D_Y.fullmatch(text):
        named = _MONTHS.get(match[1].lower())
        if named is not None:
            return _real_date(int(match[3]), named, int(match[2]), text, field, day_first=False)
    if match := _ISO_DATETIME.fullmatch(text):  # "2025-12-01 00:00:00", as databases export dates
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise ValidationFailed.on(field, f"{shown(text)} is not a real date") from None
    raise ValidationFailed.on(field, f"{shown(text)} is not a date; {DATE_FORMATS_HELP}")


def parse_date(value: object, *, field: str) -> date | None:
    """A date from a date/datetime cell, an Excel serial number, or text in one of the accepted formats.

    Text is read day first: 03/04/2025 is 3 April 2025, and 04/15/2025 is refused (there is no month 15).
    """
    if value is None:
        return None
    if type(value) is str:
        text = value.strip()
        return _parse_date_text(text, field) if text else None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValidationFailed.on(field, f"{shown(value)} is not a date")
    if isinstance(value, int | float | Decimal):
        if isinstance(value, Decimal) and value.is_nan():
            raise ValidationFailed.on(field, f"{shown(value)} is not a date")
        return excel_serial_to_date(value, field=field)
    raise ValidationFailed.on(field, f"{shown(value)} is not a date; {DATE_FORMATS_HELP}")


# --- money --------------------------------------------------------------------------------------------

_CENT = Decimal("0.01")
_MONEY = re.compile(
    r"""(?P<neg>-)?\s*
        (?:₹|rs\.?|inr)?\s*
        (?P<neg2>-)?\s*
        (?P<int>\d{1,3}(?:,\d{2,3})*,\d{3}|\d*)    # 12,500 and 1,25,000 (lakh) grouping, or plain digits
        (?:\.(?P<frac>\d*))?
        \s*(?:/-)?\s*(?:inr|rs\.?)?""",
    re.ASCII | re.IGNORECASE | re.VERBOSE)


def _float_amount(value: float) -> Decimal:
    """A float cell as the decimal the user typed: its shortest repr, else Excel's 15 significant digits.

    12500.5 -> 12500.5; a formula's 14750.000000000002 -> 14750 (what Excel displays and stores as text).
    """
    amount = Decimal(repr(value))
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        amount = Decimal(format(value, ".15g"))
    return amount


def parse_money(value: object, *, field: str, positive: bool = True,
                maximum: Decimal = MAX_AMOUNT) -> Decimal | None:
    """An amount with at most two decimals, as a two-place Decimal.

    Accepts numbers, and text with thousands separators (12,500.00 or 1,25,000.00), a currency prefix
    (₹, Rs., INR) or the Indian "/-" suffix. `positive` refuses zero; negative amounts are always refused.
    """
    if value is None:
        return None
    text: str
    if type(value) is str:
        text = value.strip()
        if not text:
            return None
        if text.isascii() and text.replace(".", "", 1).isdecimal():  # "12500.00", the fast path
            dot = text.find(".")
            if dot < 0 or len(text) - dot <= 3:
                amount = Decimal(text).quantize(_CENT)
                if 0 < amount <= maximum:
                    return amount
            amount = Decimal(text)
        else:
            match = _MONEY.fullmatch(text)
            digits = match["int"] if match else None
            frac = match["frac"] if match else None
            if match is None or not (digits or frac) or (match["neg"] and match["neg2"]):
                raise ValidationFailed.on(field, f"{shown(text)} is not an amount")
            sign = "-" if match["neg"] or match["neg2"] else ""
            amount = Decimal(f"{sign}{(digits or '0').replace(',', '')}.{frac or '0'}")
    elif isinstance(value, bool):
        raise ValidationFailed.on(field, f"{shown(value)} is not an amount")
    elif isinstance(value, int):
        amount, text = Decimal(value), str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationFailed.on(field, f"{shown(value)} is not an amount")
        text = repr(value)
        dot = text.find(".")
        if dot > 0 and len(text) - dot <= 3 and "e" not in text:  # 12500.5, the fast path
            amount = Decimal(text).quantize(_CENT)
            if 0 < amount <= maximum:
                return amount
        amount = _float_amount(value)
        text = str(amount)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationFailed.on(field, f"{shown(value)} is not an amount")
        amount, text = value, str(value)
    else:
        raise ValidationFailed.on(field, f"{shown(value)} is not an amount")
    if amount <= 0 and (positive or amount < 0):
        raise ValidationFailed.on(field, "must be greater than zero" if positive else "must not be negative")
    if amount > maximum:
        raise ValidationFailed.on(field, f"must not exceed {maximum:,} (got {shown(text)})")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(_CENT):
        raise ValidationFailed.on(field, f"must have at most two decimal places (got {shown(text)})")
    return amount.quantize(_CENT)


# --- choices ------------------------------------------------------------------------------------------

def choice_key(text: str) -> str:
    """How choices compare: no case, and spaces, hyphens and underscores alike ("Personal Accident")."""
    return "_".join(text.lower().replace("-", " ").replace("_", " ").split())


def choice_table(values: Iterable[str]) -> dict[str, str]:
    """choice_key(value) -> the canonical (lower-case) value, for `parse_choice`."""
    return {choice_key(value): value.strip().lower() for value in values}


def parse_choice(value: object, *, field: str, choices: Mapping[str, str]) -> str | None:
    """One of `choices` (a `choice_table`), compared without case; returns the canonical value."""
    text = value.strip() if type(value) is str else cell_text(value)
    if not text:
        return None
    found = choices.get(text)
    if found is None:
        found = choices.get(choice_key(text))
        if found is None:
            allowed = ", ".join(sorted(set(choices.values())))
            raise ValidationFailed.on(field, f"must be one of: {allowed} (got {shown(text)})")
    return found


# --- communication preferences ------------------------------------------------------------------------

_BOOLEANS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
_PREFERENCES_HELP = 'write it as JSON, {"email": true, "sms": false}, or as email=yes; sms=no'


def _preference_key(raw: str, field: str) -> str:
    key = choice_key(raw)
    if not key or not key.replace("_", "").isalnum() or len(key) > 40:
        raise ValidationFailed.on(field, f"{shown(raw)} is not a channel name; {_PREFERENCES_HELP}")
    return key


def _preference_value(raw: object, key: str, field: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        found = _BOOLEANS.get(raw.strip().lower())
        if found is not None:
            return found
    raise ValidationFailed.on(field, f"the value {shown(raw)} for {key} must be yes or no")


def parse_preferences(value: object, *, field: str) -> dict[str, bool] | None:
    """Channel consents as a dict of bools, from JSON (`{"email": true}`) or `email=yes; sms=no`.

    Values: yes/no, y/n, true/false, 1/0 (any case). Channel names are lower-cased with spaces as
    underscores ("AI call" -> "ai_call"). Separators: ";" or ","; "=" or ":".
    """
    text = cell_text(value)
    if text is None:
        return None
    result: dict[str, bool] = {}
    if text[0] in "{[":
        try:
            parsed = json.loads(text)
        except ValueError:
            raise ValidationFailed.on(field, f"is not valid JSON; {_PREFERENCES_HELP}") from None
        if not isinstance(parsed, dict):
            raise ValidationFailed.on(field, f"must be an object; {_PREFERENCES_HELP}")
        for raw_key, raw_value in parsed.items():
            key = _preference_key(raw_key, field)
            result[key] = _preference_value(raw_value, key, field)
    else:
        for part in text.replace(",", ";").split(";"):
            if not part.strip():
                continue
            raw_key, sep, raw_value = part.partition("=")
            if not sep:
                raw_key, sep, raw_value = part.partition(":")
            if not sep:
                raise ValidationFailed.on(field, f"{shown(part)} has no value; {_PREFERENCES_HELP}")
            key = _preference_key(raw_key, field)
            result[key] = _preference_value(raw_value, key, field)
    return result or None


# --- contact ------------------------------------------------------------------------------------------

# The plain ASCII addresses normalise_email accepts, which it returns lower-cased: dot-separated atoms, then
# two or more labels of letters, digits and inner hyphens (a unit test holds this a subset of its rules).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@(?:{_LABEL}\.)+({_LABEL})", re.ASCII)


def parse_email(value: object, *, field: str) -> str | None:
    """A normalised e-mail address (trimmed, lower-cased, IDNA domain), as domain.shared.contact does it."""
    if value is None:
        return None
    if type(value) is not str:
        raise ValidationFailed.on(field, f"{shown(value)} is not an e-mail address")
    text = value.strip()
    if not text:
        return None
    plain = _PLAIN_EMAIL.fullmatch(text) if len(text) <= 254 else None
    if plain is not None and len(plain[1]) <= 64 and not plain[2].isdigit():
        return text.lower()
    try:
        return normalise_email(text, field=field)
    except ValidationFailed as exc:
        message = exc.details[0].message if exc.details else "is not a valid e-mail address"
        raise ValidationFailed.on(field, f"{message} ({shown(text)})") from None


def parse_phone(value: object, *, field: str, phones: PhoneNumberNormaliser) -> str | None:
    """A phone number in E.164, by the injected normaliser. Numeric cells (9876543210.0) are read as digits."""
    text = cell_text(value)
    if text is None:
        return None
    try:
        return phones.to_e164(text, field=field)
    except ValidationFailed as exc:
        message = exc.details[0].message if exc.details else "is not a valid phone number"
        raise ValidationFailed.on(field, f"{message} ({shown(text)})") from None

