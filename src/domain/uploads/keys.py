"""Deterministic customer codes and policy numbers for book rows that do not state them.

The same row gives the same keys on every run and every machine (SHA-256 of a canonical text, no salt,
no clock, no sequence), so uploading a book again updates its customers and policies instead of
duplicating them.

Each key carries 10 base32 characters = 50 bits of the digest. By the birthday bound the chance that
any two of n different identities share a key is about n^2 / 2^51:

    n = 100,000    ->  about 1 in 225,000   (4.4e-6)
    n = 1,000,000  ->  about 1 in 2,250     (4.4e-4)
    n = 10,000,000 ->  about 4.4 %

Policy numbers also carry the start year, so the n that matters for them is the number of policies
starting in one year. A collision would make two identities share one record (the later row updates
the earlier one), so a deployment expecting tens of millions of derived keys should lengthen them.
"""

from __future__ import annotations

import hashlib
from datetime import date

__all__ = ["CODE_CHARS", "customer_identity", "derive_customer_code", "derive_policy_number"]

CODE_CHARS = 10  # base32 characters of the digest in a derived key (50 bits)
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648
_PAIRS = [first + second for first in _BASE32 for second in _BASE32]  # 10 bits -> 2 characters


def _digest32(text: str) -> str:
    """The first 10 characters of the RFC 4648 base32 encoding of SHA-256(text), i.e. its first 50 bits.

    Same result as `base64.b32encode(digest)[:10]`, without encoding the other 206 bits in pure Python.
    """
    bits = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:7], "big") >> 6
    pairs = _PAIRS
    return (pairs[bits >> 40] + pairs[(bits >> 30) & 1023] + pairs[(bits >> 20) & 1023]
            + pairs[(bits >> 10) & 1023] + pairs[bits & 1023])


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def customer_identity(email: str | None, phone: str | None, first_name: str, last_name: str,
                      date_of_birth: date | None) -> str:
    """The best identity of a customer: the e-mail if any, else the phone, else "first|last|dob".

    `email` should be normalised (domain.shared.contact.normalise_email) and `phone` in E.164; they are
    only trimmed (and the e-mail lower-cased) here. Names are compared without case or extra spaces.
    """
    if email and email.strip():
        return email.strip().lower()
    if phone and phone.strip():
        return phone.strip()
    born = date_of_birth.isoformat() if date_of_birth else ""
    return f"{_fold(first_name)}|{_fold(last_name)}|{born}"


def derive_customer_code(email: str | None, phone: str | None, first_name: str, last_name: str,
                         date_of_birth: date | None) -> str:
    """ "CUST-" + 10 upper-case base32 characters of SHA-256 over `customer_identity(...)`."""
    return "CUST-" + _digest32(customer_identity(email, phone, first_name, last_name, date_of_birth))


def derive_policy_number(customer_code: str, policy_type: str, start_date: date) -> str:
    """ "POL-" + start year + "-" + 10 base32 characters of SHA-256 of "customer_code|policy_type|start_date".

    The code is taken upper-case and the type lower-case. One customer's two policies of the same type
    starting the same day get the same number: in one file the later row is refused as a duplicate; state
    a policy number to keep both.
    """
    text = f"{customer_code.strip().upper()}|{policy_type.strip().lower()}|{start_date.isoformat()}"
    return f"POL-{start_date.year:04d}-{_digest32(text)}"
