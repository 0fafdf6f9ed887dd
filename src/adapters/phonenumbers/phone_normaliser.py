"""Phone numbers to E.164 with Google's libphonenumber rules (the `phonenumbers` package)."""

from __future__ import annotations

import phonenumbers

from domain.shared.errors import ValidationFailed

__all__ = ["PhonenumbersPhoneNormaliser"]


class PhonenumbersPhoneNormaliser:
    def __init__(self, default_region: str = "IN") -> None:
        self._region = default_region.upper()

    def to_e164(self, raw: str, *, field: str = "phone") -> str:
        try:
            number = phonenumbers.parse(raw, self._region)
        except phonenumbers.NumberParseException:
            raise ValidationFailed.on(field, "is not a phone number") from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationFailed.on(field, f"is not a valid phone number for region {self._region}")
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
