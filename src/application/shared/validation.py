"""Turns commands into validated field values, collecting every field error at once."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from domain.policies.rules import validate_term
from domain.shared.contact import PhoneNumberNormaliser, normalise_email
from domain.shared.errors import FieldError, ValidationFailed
from domain.shared.ids import parse_public_id
from domain.shared.money import parse_amount

__all__ = ["FieldCollector"]

E = TypeVar("E", bound=StrEnum)

def camel(name: str) -> str:
    """`premium_amount` -> `premiumAmount`: field names as the API spells them."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class FieldCollector:
    """Validates field by field and raises one ValidationFailed listing them all."""

    def __init__(self, phones: PhoneNumberNormaliser) -> None:
        self._phones = phones
        self.errors: list[FieldError] = []
        self.values: dict[str, Any] = {}

    def _run(self, name: str, fn: Callable[[], Any]) -> None:
        try:
            self.values[name] = fn()
        except ValidationFailed as exc:
            self.errors.extend(exc.details)

    def name(self, name: str, value: str, *, max_length: int = 100) -> None:
        def check() -> str:
            text = " ".join(value.split())
            if not text:
                raise ValidationFailed.on(camel(name), "must not be blank")
            if len(text) > max_length:
                raise ValidationFailed.on(camel(name), f"must be at most {max_length} characters")
            return text
        self._run(name, check)

    def code(self, name: str, value: str | None, *, max_length: int) -> None:
        def check() -> str | None:
            if value is None:
                return None
            text = value.strip().upper()
            if not text or len(text) > max_length or any(c.isspace() for c in text):
                raise ValidationFailed.on(camel(name), f"must be 1 to {max_length} characters, no spaces")
            return text
        self._run(name, check)

    def email(self, value: str | None) -> None:
        self._run("email", lambda: None if not value else normalise_email(value))

    def phone(self, value: str | None) -> None:
        self._run("phone", lambda: None if not value else self._phones.to_e164(value))

    def enum(self, name: str, value: str, enum: type[E]) -> None:
        def check() -> E:
            try:
                return enum(value)
            except ValueError:
                allowed = ", ".join(e.value for e in enum)
                raise ValidationFailed.on(camel(name), f"must be one of: {allowed}") from None
        self._run(name, check)

    def choice(self, name: str, value: str, allowed: Collection[str]) -> None:
        def check() -> str:
            text = value.strip().lower()
            if text not in allowed:
                raise ValidationFailed.on(camel(name), f"must be one of: {', '.join(sorted(allowed))}")
            return text
        self._run(name, check)

    def amount(self, name: str, value: Decimal | None, *, optional: bool = False) -> None:
        if value is None and optional:
            self.values[name] = None
            return
        self._run(name, lambda: parse_amount(value if value is not None else "", field=camel(name)))

    def reference(self, name: str, value: str | int | None, prefix: str) -> None:
        def check() -> int | None:
            if value is None:
                return None
            number = parse_public_id(value, prefix)
            if number is None:
                raise ValidationFailed.on(camel(name), f"is not a valid {prefix} id")
            return number
        self._run(name, check)

    def past_date(self, name: str, value: date | None, today: date) -> None:
        def check() -> date | None:
            if value is not None and value > today:
                raise ValidationFailed.on(camel(name), "must not be in the future")
            return value
        self._run(name, check)

    def term(self, start: date, end: date, renewal: date | None, grace: int) -> None:
        try:
            term = validate_term(start, end, renewal, grace)
        except ValidationFailed as exc:
            self.errors.extend(exc.details)
            return
        self.values.update(start_date=term.start_date, end_date=term.end_date,
                           renewal_date=term.renewal_date, grace_period_days=term.grace_period_days)

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)

