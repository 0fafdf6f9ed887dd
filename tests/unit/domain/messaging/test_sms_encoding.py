"""SMS encoding: GSM-7 (with its 2-septet extension table) or UCS-2, and greedy segment packing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.messaging.sms_encoding import GSM7, GSM7_BASIC, GSM7_EXTENSION, UCS2, SmsEncoding, sms_encoding

EMOJI = "\U0001f600"  # outside the BMP: a surrogate pair in UTF-16


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)])
def test_gsm7_segments_are_160_single_then_153_per_part(length: int, segments: int) -> None:
    assert sms_encoding("a" * length) == SmsEncoding(GSM7, characters=length, units=length, segments=segments)


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)])
def test_ucs2_segments_are_70_single_then_67_per_part(length: int, segments: int) -> None:
    assert sms_encoding("अ" * length) == SmsEncoding(UCS2, characters=length, units=length, segments=segments)


def test_the_default_alphabet_has_127_characters_and_the_extension_table_ten() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions less the escape
    assert "\x1b" not in GSM7_BASIC
    assert sorted(GSM7_EXTENSION) == sorted("\f^{}\\[~]|€")
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_every_basic_character_stays_gsm7_at_one_septet() -> None:
    text = "".join(sorted(GSM7_BASIC))
    assert sms_encoding(text) == SmsEncoding(GSM7, characters=127, units=127, segments=1)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_extension_characters_count_two_septets(char: str) -> None:
    assert sms_encoding(char * 80) == SmsEncoding(GSM7, characters=80, units=160, segments=1)
    assert sms_encoding(char * 80 + "a").segments == 2


@pytest.mark.parametrize("char", ["ç", "á", "`", "“", "\u00a0", "₹", "\x1b", "\t"])
def test_characters_outside_gsm7_switch_the_whole_text_to_ucs2(char: str) -> None:
    result = sms_encoding("a" * 100 + char)
    assert result.encoding == UCS2
    assert (result.units, result.segments) == (101, 2)


def test_an_escape_sequence_is_never_split_across_parts() -> None:
    # 152 plain septets then '€' (2 septets) would straddle the first 153-septet part: it moves to the second.
    text = "a" * 152 + "€" + "a" * 152
    result = sms_encoding(text)
    assert result.units == 306  # fits 2 x 153 by count...
    assert result.segments == 3  # ...but part one can only take 152
    assert sms_encoding("a" * 151 + "€" + "a" * 153).segments == 2  # 153 + 153 exactly


def test_emoji_are_two_utf16_units_and_a_pair_is_never_split() -> None:
    assert sms_encoding(EMOJI) == SmsEncoding(UCS2, characters=1, units=2, segments=1)
    assert sms_encoding(EMOJI * 35) == SmsEncoding(UCS2, characters=35, units=70, segments=1)
    assert sms_encoding(EMOJI * 35 + "a").segments == 2
    # 66 units then a pair would straddle the first 67-unit part.
    assert sms_encoding("अ" * 66 + EMOJI + "अ" * 66).units == 134
    assert sms_encoding("अ" * 66 + EMOJI + "अ" * 66).segments == 3
    assert sms_encoding("अ" * 65 + EMOJI + "अ" * 67).segments == 2


def test_line_breaks_are_gsm7() -> None:
    assert sms_encoding("Hi\r\nthere\n") == SmsEncoding(GSM7, characters=10, units=10, segments=1)


def test_empty_text_is_billed_as_one_segment() -> None:
    assert sms_encoding("") == SmsEncoding(GSM7, characters=0, units=0, segments=1)


@given(st.lists(st.sampled_from(["a", "€", "अ", EMOJI]), max_size=400))
def test_segments_hold_every_unit_and_respect_the_part_size(chars: list[str]) -> None:
    result = sms_encoding("".join(chars))
    single, part = (160, 153) if result.encoding == GSM7 else (70, 67)
    if result.units <= single:
        assert result.segments == 1
    else:
        # every part is full but for at most one unit (a 2-unit character pushed to the next part)
        assert -(-result.units // part) <= result.segments <= -(-result.units // (part - 1))
    if all(len(c.encode("utf-16-le")) == 2 and c != "€" for c in chars) and result.units > single:
        assert result.segments == -(-result.units // part)  # single-unit characters pack exactly
