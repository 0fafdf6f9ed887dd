"""Signing in and out: login with throttling, the MFA step, refresh rotation, sessions and the current user."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from application.identity.audit import AuditService, entry
from application.identity.config import IdentityConfig
from application.identity.errors import AuthenticationFailed, TooManyAttempts
from application.identity.ports import (
    AccessTokenIssuer,
    InvalidToken,
    LoginThrottle,
    SecretSealer,
    SecretSource,
    SessionStore,
)
from application.identity.principal import ClientInfo, Principal
from application.identity.repositories import IdentityUnitOfWork
from application.identity.second_factor import check_second_factor
from application.identity.views import LoginResult, MeView, SessionView, TokenPair
from domain.identity.model import Role, User
from domain.identity.passwords import PasswordHasher, normalise_password
from domain.identity.sessions import RefreshOutcome, hash_refresh_token
from domain.shared.clock import Clock
from domain.shared.errors import NotFound

__all__ = ["AuthService", "login_key"]

_CHALLENGE_SESSION = "mfa-challenge"  # challenge tokens belong to no session yet
_BAD_CODE = "The code is not valid"


def login_key(email: str) -> str:
    """The throttle's account key: the login name as typed, trimmed and lower-cased (exists or not)."""
    return email.strip().lower()[:320]


class AuthService:
    def __init__(
        self, *, uow: Callable[[], IdentityUnitOfWork], sessions: SessionStore, tokens: AccessTokenIssuer,
        throttle: LoginThrottle, hasher: PasswordHasher, secrets: SecretSource, audit: AuditService,
        clock: Clock, config: IdentityConfig, sealer: SecretSealer,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._tokens = tokens
        self._throttle = throttle
        self._hasher = hasher
        self._secrets = secrets
        self._audit = audit
        self._clock = clock
        self._config = config
        self._dummy: str | None = None
        self._sealer = sealer

    def _dummy_hash(self) -> str:
        """A hash with the current parameters, verified for unknown accounts so they fail as slowly."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(self._secrets.token_urlsafe(24))
        return self._dummy

    async def _throttled(self, account: str, client: ClientInfo, action: str) -> None:
        decision = await self._throttle.check(account, client.ip or "unknown")
        if not decision.allowed:
            await self._audit.record(entry(action, client, actor_id=None, entity_id=None, account=account[:255],
                                           reason=decision.reason))
            raise TooManyAttempts(decision.retry_after)

    async def login(self, email: str, password: str, client: ClientInfo) -> LoginResult:
        """Check the password; answer tokens, an MFA challenge, or a token that opens only MFA set-up."""
        account, ip = login_key(email), client.ip or "unknown"
        await self._throttled(account, client, "auth.login_throttled")
        password = normalise_password(password)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(account)
            usable = user is not None and user.is_active
            encoded = user.password_hash if user is not None and usable else self._dummy_hash()
            verified = await asyncio.to_thread(self._hasher.verify, encoded, password)
            if user is None or not usable or not verified:
                await self._throttle.record_failure(account, ip)
                reason = "unknown_account" if user is None else "inactive" if not usable else "bad_password"
                uow.audit.add(entry("auth.login_failed", client, actor_id=None,
                                    entity_id=user.id if user else None, account=account[:255], reason=reason))
                await uow.commit()
                raise AuthenticationFailed(reason=reason)
            await self._throttle.record_success(account, ip)
            if self._hasher.needs_rehash(user.password_hash):
                user.password_hash = await asyncio.to_thread(self._hasher.hash, password)
            role = await uow.roles.get(user.role_id)
            if user.mfa_enabled:
                token, _ = self._tokens.issue(user_id=_id(user), session_id=_CHALLENGE_SESSION, session_version=0,
                                              purpose="mfa_challenge",
                                              ttl_seconds=self._config.challenge_ttl_seconds)
                uow.audit.add(entry("auth.mfa_challenged", client, actor_id=user.id, entity_id=user.id))
                await uow.users.save(user)
                await uow.commit()
                return LoginResult(mfa_required=True, challenge_token=token)
            if role is not None and role.requires_mfa:
                result = await self._setup_only(user, client)
                uow.audit.add(entry("auth.login_succeeded", client, actor_id=user.id, entity_id=user.id,
                                    mfa_setup_required=True))
            else:
                result = await self.signed_in(user, role, client)
                uow.audit.add(entry("auth.login_succeeded", client, actor_id=user.id, entity_id=user.id))
            user.last_login = self._clock.now()
            await uow.users.save(user)
            await uow.commit()
        return result

    async def verify_mfa(self, challenge_token: str, code: str, client: ClientInfo) -> LoginResult:
        """Finish an MFA login with a TOTP code (once per time step) or an unused recovery code."""
        try:
            claims = self._tokens.verify(challenge_token, purpose="mfa_challenge")
        except InvalidToken as invalid:
            raise AuthenticationFailed("The sign-in challenge is invalid or has expired",
                                       reason=invalid.reason) from None
        account = f"mfa:{claims.user_id}"
        await self._throttled(account, client, "auth.mfa_throttled")
        async with self._uow() as uow:
            user = await uow.users.get(claims.user_id)
            if user is None or not user.is_active or not user.mfa_enabled:
                raise AuthenticationFailed("The sign-in challenge is invalid or has expired", reason="user")
            method = await check_second_factor(uow, user, code, self._clock, self._sealer)
            if method is None:
                await self._throttle.record_failure(account, client.ip or "unknown")
                uow.audit.add(entry("auth.mfa_failed", client, actor_id=user.id, entity_id=user.id))
                await uow.commit()
                raise AuthenticationFailed(_BAD_CODE, reason="bad_code")
            await self._throttle.record_success(account, client.ip or "unknown")
            role = await uow.roles.get(user.role_id)
            result = await self.signed_in(user, role, client)
            user.last_login = self._clock.now()
            await uow.users.save(user)
            uow.audit.add(entry("auth.login_succeeded", client, actor_id=user.id, entity_id=user.id, mfa=method))
            await uow.commit()
        return result

    async def refresh(self, refresh_token: str, client: ClientInfo) -> TokenPair:
        """Rotate a refresh token; a rotated one coming back revokes its whole session."""
        new_token = self._secrets.token_urlsafe(32)
        outcome, session = await self._sessions.rotate(
            token_hash=hash_refresh_token(refresh_token), new_token_hash=hash_refresh_token(new_token),
            now=self._clock.now(), refresh_ttl=self._config.refresh_ttl)
        if outcome is RefreshOutcome.REUSED and session is not None:
            await self._audit.record(entry("auth.refresh_token_reused", client, actor_id=None,
                                           entity_id=session.user_id, session=session.id))
        if outcome is not RefreshOutcome.ROTATED or session is None:
            raise AuthenticationFailed("The refresh token is invalid or has expired", reason=str(outcome))
        async with self._uow() as uow:
            user = await uow.users.get(session.user_id)
            role = await uow.roles.get(user.role_id) if user else None
        if user is None or not user.is_active or (role is not None and role.requires_mfa and not user.mfa_enabled):
            await self._sessions.revoke(session.id, user_id=session.user_id, now=self._clock.now(),
                                        reason="not_allowed")
            raise AuthenticationFailed("The refresh token is invalid or has expired", reason="user")
        access, _ = self._tokens.issue(user_id=session.user_id, session_id=session.id,
                                       session_version=session.version, ttl_seconds=self._config.access_ttl_seconds)
        return TokenPair(access_token=access, refresh_token=new_token, expires_in=self._config.access_ttl_seconds)

    async def logout(self, principal: Principal, client: ClientInfo) -> None:
        """End the caller's session: its refresh token and access tokens stop working at once."""
        await self._sessions.revoke(principal.session_id, user_id=principal.user_id, now=self._clock.now(),
                                    reason="logout")
        await self._audit.record(entry("auth.logged_out", client, actor_id=principal.user_id,
                                       entity_id=principal.user_id, session=principal.session_id))

    async def logout_all(self, principal: Principal, client: ClientInfo) -> int:
        """End every session of the caller, this one included; how many were ended."""
        ended = await self._sessions.revoke_all(principal.user_id, now=self._clock.now(), reason="logout_all")
        await self._audit.record(entry("auth.logged_out_everywhere", client, actor_id=principal.user_id,
                                       entity_id=principal.user_id, sessions=ended))
        return ended

    async def sessions(self, principal: Principal) -> list[SessionView]:
        found = await self._sessions.active(principal.user_id, now=self._clock.now())
        return [SessionView.of(s, principal.session_id) for s in found]

    async def revoke_session(self, principal: Principal, session_id: str, client: ClientInfo) -> None:
        """End one of the caller's own sessions; another user's session is NotFound."""
        ended = await self._sessions.revoke(session_id, user_id=principal.user_id, now=self._clock.now(),
                                            reason="revoked_by_user")
        if not ended:
            raise NotFound("session", session_id)
        await self._audit.record(entry("auth.session_revoked", client, actor_id=principal.user_id,
                                       entity_id=principal.user_id, session=session_id))

    async def me(self, principal: Principal) -> MeView:
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("user", principal.user_id)
            role = await uow.roles.get(user.role_id)
        return MeView.of(user, role)

    # --- issuing ----------------------------------------------------------------------------------------------

    async def start_session(self, user: User, client: ClientInfo) -> tuple[str, str, int]:
        """Open a device session; its id, its first refresh token and its version."""
        refresh = self._secrets.token_urlsafe(32)
        session = await self._sessions.start(
            user_id=_id(user), token_hash=hash_refresh_token(refresh), user_agent=client.user_agent,
            ip_address=client.ip, now=self._clock.now(), session_ttl=self._config.session_ttl,
            refresh_ttl=self._config.refresh_ttl)
        return session.id, refresh, session.version

    async def signed_in(self, user: User, role: Role | None, client: ClientInfo) -> LoginResult:
        """A session and its tokens for a user who has just proved who they are (login, MFA verify or enable)."""
        session_id, refresh, version = await self.start_session(user, client)
        ttl = self._config.access_ttl_seconds
        access, _ = self._tokens.issue(user_id=_id(user), session_id=session_id, session_version=version,
                                       ttl_seconds=ttl)
        return LoginResult(access_token=access, refresh_token=refresh, token_type="Bearer", expires_in=ttl,
                           user=MeView.of(user, role))

    async def _setup_only(self, user: User, client: ClientInfo) -> LoginResult:
        session_id, _, version = await self.start_session(user, client)  # no refresh token is handed out
        ttl = self._config.challenge_ttl_seconds * 2
        token, _ = self._tokens.issue(user_id=_id(user), session_id=session_id, session_version=version,
                                      purpose="mfa_setup", ttl_seconds=ttl)
        return LoginResult(mfa_setup_required=True, access_token=token, token_type="Bearer", expires_in=ttl)



def _id(user: User) -> int:
    assert user.id is not None
    return user.id
