"""The TOTP secret shown once at set-up is stored sealed, and codes from it still work."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from adapters.sqlalchemy.tables.identity import users
from domain.identity.totp import decode_secret, totp_code
from entrypoints.container import AppContainer
from tests.conftest import NOW
from tests.identity_support import EVERYTHING_ROLE, bearer, make_user, token_for


async def test_the_stored_totp_secret_is_sealed(anonymous: httpx.AsyncClient, sql_container: AppContainer) -> None:
    user = await make_user(sql_container, EVERYTHING_ROLE)
    headers = bearer(await token_for(sql_container, user))
    setup = await anonymous.post("/api/auth/mfa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["data"]["secret"]
    async with sql_container.adapters.engine().connect() as conn:
        stored = await conn.scalar(select(users.c.mfa_secret).where(users.c.id == user.id))
    assert stored.startswith("f1:") and secret not in stored
    code = totp_code(decode_secret(secret), int(NOW.timestamp()))
    enabled = await anonymous.post("/api/auth/mfa/enable", headers=headers, json={"code": code})
    assert enabled.status_code == 200, enabled.text
    assert len(enabled.json()["data"]["recoveryCodes"]) == 10
