"""Phone numbers to E.164 with Google's libphonenumber rules (the `phonenumbers` package)."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from domain.shared.errors import ValidationFailed

__all__ = ["PhonenumbersPhoneNormaliser"]

_CACHE_SIZE = 16_384  # distinct texts remembered per normaliser: a few MB at most
_SEPARATORS = str.maketrans("", "", " -.()\u00a0")
# regions whose plain forms are read by the fast path (checked against libphonenumber in the unit tests)
_FAST_REGIONS = frozenset({"IN"})


class _FastPath:
    """The common forms of a region's mobile and fixed-line numbers ("+91 98765 43210", "098765 43210",
    "9876543210"), read with libphonenumber's own patterns for those types: about 1 µs instead of 25 µs. Any
    other form (extensions, letters, other countries, short codes...) is left to libphonenumber."""

    def __init__(self, region: str) -> None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert metadata is not None and metadata.general_desc is not None
        self._plus_code = f"+{metadata.country_code}"
        self._prefix = metadata.national_prefix or ""
        types = [desc.national_number_pattern for desc in (metadata.mobile, metadata.fixed_line)
                 if desc is not None and desc.national_number_pattern]
        general = metadata.general_desc.national_number_pattern
        self._valid = re.compile(f"(?=(?:{general})$)(?:{'|'.join(f'(?:{p})' for p in types)})")

    def to_e164(self, raw: str) -> str | None:
        digits = raw.strip().translate(_SEPARATORS)
        if digits.startswith("+"):
            if not digits.startswith(self._plus_code):
                return None
            national = digits[len(self._plus_code):]
        elif self._prefix and digits.startswith(self._prefix):
            national = digits[len(self._prefix):]
        else:
            national = digits
        if national.isascii() and national.isdigit() and self._valid.fullmatch(national):
            return self._plus_code + national
        return None


class PhonenumbersPhoneNormaliser:
    """`to_e164` costs about 25 µs a number through libphonenumber (parse, validity, format), about 1 µs for a
    region's common forms (`_FastPath`); results (or the reason a text is refused) are remembered per text, since
    an upload repeats a customer's number on each of their policies."""

    def __init__(self, default_region: str = "IN") -> None:
        self._region = default_region.upper()
        self._fast = _FastPath(self._region) if self._region in _FAST_REGIONS else None
        self._normalise = lru_cache(maxsize=_CACHE_SIZE)(self._normalise_uncached)

    def to_e164(self, raw: str, *, field: str = "phone") -> str:
        e164, refusal = self._normalise(raw)
        if e164 is None:
            raise ValidationFailed.on(field, refusal)
        return e164

    def _normalise_uncached(self, raw: str) -> tuple[str | None, str]:
        """(the number in E.164, "") or (None, why it is refused)."""
        if self._fast is not None and (e164 := self._fast.to_e164(raw)) is not None:
            return e164, ""
        return self._libphonenumber(raw)

    def _libphonenumber(self, raw: str) -> tuple[str | None, str]:
        try:
            number = phonenumbers.parse(raw, self._region)
        except phonenumbers.NumberParseException:
            return None, "is not a phone number"
        if not phonenumbers.is_valid_number(number):
            return None, f"is not a valid phone number for region {self._region}"
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)), ""
