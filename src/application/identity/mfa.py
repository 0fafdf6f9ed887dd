"""Setting up, enabling, disabling and resetting TOTP multi-factor authentication, with recovery codes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec

from application.identity.audit import entry
from application.identity.auth import AuthService
from application.identity.config import IdentityConfig
from application.identity.errors import AuthenticationFailed, PermissionDenied
from application.identity.ports import QrRenderer, SecretSealer, SecretSource, SessionStore
from application.identity.principal import ClientInfo, Principal
from application.identity.repositories import IdentityUnitOfWork
from application.identity.second_factor import check_second_factor, check_totp
from application.identity.views import LoginResult, MfaSetupView
from domain.identity.model import User
from domain.identity.passwords import PasswordHasher, normalise_password
from domain.identity.recovery_codes import hash_recovery_code, new_recovery_codes
from domain.identity.totp import MIN_SECRET_BYTES, new_secret, otpauth_uri
from domain.shared.clock import Clock
from domain.shared.errors import Conflict, NotFound, ValidationFailed

__all__ = ["MfaEnabled", "MfaService"]


class MfaEnabled(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Shown once: the ten recovery codes; and full tokens when MFA was set up from a set-up-only login."""

    recovery_codes: list[str]
    session: LoginResult | None = None


class MfaService:
    def __init__(
        self, *, uow: Callable[[], IdentityUnitOfWork], sessions: SessionStore, auth: AuthService,
        hasher: PasswordHasher, secrets: SecretSource, qr: QrRenderer, clock: Clock, config: IdentityConfig,
        sealer: SecretSealer,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._auth = auth
        self._hasher = hasher
        self._secrets = secrets
        self._qr = qr
        self._clock = clock
        self._config = config
        self._sealer = sealer

    async def setup(self, principal: Principal, client: ClientInfo) -> MfaSetupView:
        """A new TOTP secret, its otpauth URI and QR code; MFA is on only after `enable` proves a code."""
        async with self._uow() as uow:
            user = await _user(uow, principal.user_id)
            if user.mfa_enabled:
                raise Conflict("MFA is already enabled; disable it before setting it up again")
            secret = new_secret(self._secrets.token_bytes(MIN_SECRET_BYTES))
            user.mfa_secret, user.mfa_last_step = self._sealer.seal(secret), None
            await uow.users.save(user)
            uow.audit.add(entry("auth.mfa_setup_started", client, actor_id=user.id, entity_id=user.id))
            await uow.commit()
        uri = otpauth_uri(secret, user.email, self._config.totp_issuer)
        return MfaSetupView(secret=secret, otpauth_uri=uri, qr_svg=self._qr.svg(uri))

    async def enable(self, principal: Principal, code: str, client: ClientInfo) -> MfaEnabled:
        """Turn MFA on with a valid code from the new secret; hand out ten single-use recovery codes."""
        async with self._uow() as uow:
            user = await _user(uow, principal.user_id)
            if user.mfa_enabled:
                raise Conflict("MFA is already enabled")
            if not user.mfa_secret:
                raise Conflict("Start MFA set-up first")
            if not await check_totp(uow, user, code, self._clock, self._sealer):
                raise ValidationFailed.on("code", "is not the current code of the authenticator app")
            user.mfa_enabled = True
            codes = await self._new_codes(uow, user)
            await uow.users.save(user)
            uow.audit.add(entry("auth.mfa_enabled", client, actor_id=user.id, entity_id=user.id))
            role = await uow.roles.get(user.role_id)
            await uow.commit()
        session = None
        if principal.purpose == "mfa_setup":  # swap the set-up-only session for a full one
            await self._sessions.revoke(principal.session_id, user_id=principal.user_id, now=self._clock.now(),
                                        reason="mfa_enabled")
            session = await self._auth.signed_in(user, role, client)
        return MfaEnabled(recovery_codes=codes, session=session)

    async def regenerate_codes(self, principal: Principal, code: str, client: ClientInfo) -> list[str]:
        """Replace the recovery codes after a valid TOTP code; the old ones stop working."""
        async with self._uow() as uow:
            user = await _user(uow, principal.user_id)
            if not user.mfa_enabled:
                raise Conflict("MFA is not enabled")
            if not await check_totp(uow, user, code, self._clock, self._sealer):
                raise ValidationFailed.on("code", "is not the current code of the authenticator app")
            codes = await self._new_codes(uow, user)
            await uow.users.save(user)
            uow.audit.add(entry("auth.recovery_codes_regenerated", client, actor_id=user.id, entity_id=user.id))
            await uow.commit()
        return codes

    async def disable(self, principal: Principal, password: str, code: str, client: ClientInfo) -> None:
        """Turn MFA off with the password and a second factor; refused when the role requires MFA."""
        async with self._uow() as uow:
            user = await _user(uow, principal.user_id)
            if not user.mfa_enabled:
                raise Conflict("MFA is not enabled")
            role = await uow.roles.get(user.role_id)
            if role is not None and role.requires_mfa:
                raise PermissionDenied("Your role requires MFA; it cannot be turned off")
            password_ok = await asyncio.to_thread(self._hasher.verify, user.password_hash,
                                                  normalise_password(password))
            if not password_ok or await check_second_factor(uow, user, code, self._clock, self._sealer) is None:
                uow.audit.add(entry("auth.mfa_disable_failed", client, actor_id=user.id, entity_id=user.id))
                await uow.commit()
                raise AuthenticationFailed("The password or the code is not valid", reason="mfa_disable")
            await self._clear(uow, user)
            uow.audit.add(entry("auth.mfa_disabled", client, actor_id=user.id, entity_id=user.id))
            await uow.commit()

    async def reset(self, actor: Principal, user_id: int, client: ClientInfo) -> None:
        """An administrator clears a user's MFA (lost phone): their sessions end; they set it up again."""
        async with self._uow() as uow:
            user = await _user(uow, user_id)
            await self._clear(uow, user)
            uow.audit.add(entry("user.mfa_reset", client, actor_id=actor.user_id, entity_id=user.id))
            await uow.commit()
        await self._sessions.revoke_all(user_id, now=self._clock.now(), reason="mfa_reset")

    async def _new_codes(self, uow: IdentityUnitOfWork, user: User) -> list[str]:
        assert user.id is not None
        codes = new_recovery_codes(self._secrets.token_bytes)
        await uow.users.replace_recovery_codes(user.id, [hash_recovery_code(c) for c in codes], self._clock.now())
        return codes

    async def _clear(self, uow: IdentityUnitOfWork, user: User) -> None:
        assert user.id is not None
        user.mfa_enabled, user.mfa_secret, user.mfa_last_step = False, None, None
        await uow.users.replace_recovery_codes(user.id, [], self._clock.now())
        await uow.users.save(user)


async def _user(uow: IdentityUnitOfWork, user_id: int) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user
