"""Money rules: exact decimals with at most two places, never through float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from domain.shared.errors import ValidationFailed

__all__ = ["MAX_AMOUNT", "parse_amount"]

MAX_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12,2)


def parse_amount(value: Decimal | int | str, *, field: str, positive: bool = True) -> Decimal:
    """Return the amount as a two-place Decimal, or raise naming the field."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.on(field, "must be a number") from None
    if not amount.is_finite():
        raise ValidationFailed.on(field, "must be a finite number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed.on(field, "must have at most two decimal places")
    if positive and amount <= 0:
        raise ValidationFailed.on(field, "must be greater than zero")
    if amount < 0:
        raise ValidationFailed.on(field, "must not be negative")
    if amount > MAX_AMOUNT:
        raise ValidationFailed.on(field, f"must not exceed {MAX_AMOUNT}")
    return amount.quantize(Decimal("0.01"))
