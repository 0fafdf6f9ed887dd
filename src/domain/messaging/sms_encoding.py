"""How an SMS text will be encoded and into how many billable segments it splits.

Follows the GSM 03.38 / 3GPP TS 23.038 default alphabet and its extension table, and the usual concatenation
figures (a 6-octet user data header leaves 153 septets or 67 UCS-2 characters per part), as documented in
https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding and
https://www.fortytwo.com/resource-centre/message-length-calculator/.

- GSM-7 when every character is in the basic set (1 septet) or the extension table (`^{}\\[~]|€` and form feed,
  2 septets: an escape then the character); 160 septets fit one SMS, longer texts go in parts of 153.
- UCS-2 otherwise, counted in UTF-16 code units (an emoji outside the BMP is a surrogate pair, 2 units, as
  providers send it); 70 units fit one SMS, longer texts go in parts of 67.
- Parts are packed greedily and never split an escape sequence or a surrogate pair, so a part may hold 152
  septets or 66 units and the count can exceed a plain `ceil(units / 153)`.
- An empty text is one segment of 0 characters: providers bill (and refuse or send) it as one message.

No character substitution (smart quotes to straight ones...) and no national language shift tables are applied:
the figures are for the text exactly as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "UCS2",
    "SmsEncoding",
    "sms_encoding",
]

GSM7: Literal["GSM-7"] = "GSM-7"
UCS2: Literal["UCS-2"] = "UCS-2"

# The 128 positions of the default alphabet, minus 0x1B (the escape to the extension table, not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE = {GSM7: 160, UCS2: 70}
_PART = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True, slots=True)
class SmsEncoding:
    """`characters` are code points as typed; `units` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Literal["GSM-7", "UCS-2"]
    characters: int
    units: int
    segments: int


def sms_encoding(text: str) -> SmsEncoding:
    """The encoding, size and segment count of `text` sent as one SMS."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        encoding: Literal["GSM-7", "UCS-2"] = GSM7
    else:
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        encoding = UCS2
    units = sum(sizes)
    segments = 1 if units <= _SINGLE[encoding] else _packed_parts(sizes, _PART[encoding])
    return SmsEncoding(encoding=encoding, characters=len(text), units=units, segments=segments)


def _packed_parts(sizes: list[int], capacity: int) -> int:
    """How many parts of `capacity` units hold characters of these sizes in order, none split across parts."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return parts
