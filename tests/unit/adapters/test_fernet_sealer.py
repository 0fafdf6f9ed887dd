"""TOTP secrets are sealed at rest: authenticated encryption with a rotating key ring."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from adapters.crypto.fernet_sealer import FernetSecretSealer, parse_fernet_keys

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_secret_reveals_nothing_and_opens_again() -> None:
    sealer = FernetSecretSealer([Fernet.generate_key().decode()])
    sealed = sealer.seal(SECRET)
    assert sealed.startswith("f1:") and SECRET not in sealed and len(sealed) <= 255  # users.mfa_secret
    assert sealed != sealer.seal(SECRET)  # a fresh IV each time
    assert sealer.unseal(sealed) == SECRET


def test_rotation_seals_with_the_first_key_and_opens_with_any() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = FernetSecretSealer([old]).seal(SECRET)
    rotated = FernetSecretSealer([new, old])
    assert rotated.unseal(sealed_before) == SECRET
    assert FernetSecretSealer([new]).unseal(rotated.seal(SECRET)) == SECRET
    with pytest.raises(ValueError, match="no longer configured"):
        FernetSecretSealer([new]).unseal(sealed_before)


def test_a_tampered_value_is_refused_and_a_legacy_clear_value_is_read() -> None:
    sealer = FernetSecretSealer([Fernet.generate_key().decode()])
    sealed = sealer.seal(SECRET)
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(ValueError):
        sealer.unseal(tampered)
    assert sealer.unseal(SECRET) == SECRET  # stored before sealing existed


@pytest.mark.parametrize("raw", ["", " , ", "short", "x" * 44])
def test_bad_keys_are_named(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_fernet_keys(raw)
