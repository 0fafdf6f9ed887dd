"""The phone normaliser's fast path gives libphonenumber's answer, or leaves the text to libphonenumber."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser, _FastPath

FAST = _FastPath("IN")
SLOW = PhonenumbersPhoneNormaliser("IN")

separators = st.sampled_from(["", " ", "-", ".", "  ", "\u00a0"])
prefixes = st.sampled_from(["", "0", "+91", "+91 ", "+910", "91", "+1", "+44", "00", "+", "0091"])


@st.composite
def indian_looking_numbers(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("0123456789"))
    rest = draw(st.text(alphabet="0123456789", min_size=5, max_size=12))
    digits = first + rest
    cut = draw(st.integers(min_value=0, max_value=len(digits)))
    return draw(prefixes) + digits[:cut] + draw(separators) + digits[cut:]


@settings(max_examples=3000, deadline=None)
@given(indian_looking_numbers())
def test_the_fast_path_agrees_with_libphonenumber(raw: str) -> None:
    fast = FAST.to_e164(raw)
    if fast is not None:
        assert (fast, "") == SLOW._libphonenumber(raw)


@pytest.mark.parametrize("raw", ["9876543210", "+91 98765 43210", "098765-43210", "022 2345 6789", "(022) 2345 6789"])
def test_common_indian_forms_take_the_fast_path(raw: str) -> None:
    assert FAST.to_e164(raw) == phonenumbers.format_number(phonenumbers.parse(raw, "IN"),
                                                           phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("raw", ["+1 415 555 2671", "98765 43210 ext. 12", "9876\uff1543210", "12345",
                                 "+91 0 98765 43210"])
def test_other_forms_are_left_to_libphonenumber(raw: str) -> None:
    assert FAST.to_e164(raw) is None


def test_other_regions_use_libphonenumber_only() -> None:
    normaliser = PhonenumbersPhoneNormaliser("GB")
    assert normaliser._fast is None
    assert normaliser.to_e164("020 7946 0018") == "+442079460018"
