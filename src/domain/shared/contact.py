"""Contact rules: e-mail normalisation and the phone-number port."""

from __future__ import annotations

import re
from typing import Protocol

from domain.shared.errors import ValidationFailed

__all__ = ["PhoneNumberNormaliser", "normalise_email"]

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalise_email(value: str, *, field: str = "email") -> str:
    """Return the address trimmed and lower-cased (domain IDNA-encoded), or raise."""
    text = value.strip()
    if text.count("@") != 1 or len(text) > 254:
        raise ValidationFailed.on(field, "is not a valid e-mail address")
    local, domain = text.rsplit("@", 1)
    if not local or len(local) > 64 or not _LOCAL.match(local) or local.startswith(".") \
            or local.endswith(".") or ".." in local:
        raise ValidationFailed.on(field, "is not a valid e-mail address")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValidationFailed.on(field, "has an invalid domain") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValidationFailed.on(field, "has an invalid domain")
    return f"{local.lower()}@{ascii_domain}"


class PhoneNumberNormaliser(Protocol):
    """Turns a human-typed phone number into E.164, or raises ValidationFailed naming the field."""

    def to_e164(self, raw: str, *, field: str = "phone") -> str: ...
