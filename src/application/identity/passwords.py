"""Changing, forgetting and resetting passwords; invitations reuse the reset link."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

from application.identity.audit import entry
from application.identity.config import IdentityConfig
from application.identity.errors import AuthenticationFailed, TooManyAttempts
from application.identity.job_names import SEND_PASSWORD_LINK
from application.identity.password_policy import PasswordPolicy
from application.identity.ports import LoginThrottle, SecretSource, SessionStore
from application.identity.principal import ClientInfo, Principal
from application.identity.repositories import IdentityUnitOfWork
from application.ports.email import EmailSender, OutboundEmail
from application.ports.uow import Job
from domain.identity.model import UserStatus
from domain.identity.passwords import PasswordHasher, normalise_password
from domain.shared.clock import Clock
from domain.shared.errors import NotFound, ValidationFailed

__all__ = ["PasswordService", "hash_reset_token", "password_link_job"]


def hash_reset_token(token: str) -> str:
    """Reset tokens carry 256 random bits: a plain SHA-256 is the right stored form (see hash_refresh_token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def password_link_job(*, email: str | None = None, user_id: int | None = None, invitation: bool = False) -> Job:
    return Job(name=SEND_PASSWORD_LINK, args={"email": email, "user_id": user_id, "invitation": invitation})


class PasswordService:
    def __init__(
        self, *, uow: Callable[[], IdentityUnitOfWork], sessions: SessionStore, hasher: PasswordHasher,
        policy: PasswordPolicy, throttle: LoginThrottle, secrets: SecretSource, email: EmailSender,
        clock: Clock, config: IdentityConfig,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._hasher = hasher
        self._policy = policy
        self._throttle = throttle
        self._secrets = secrets
        self._email = email
        self._clock = clock
        self._config = config

    async def change(self, principal: Principal, current: str, new: str, client: ClientInfo) -> None:
        """Change the caller's password; every other session of theirs ends."""
        key, ip = f"password:{principal.user_id}", client.ip or "unknown"
        decision = await self._throttle.check(key, ip)
        if not decision.allowed:
            raise TooManyAttempts(decision.retry_after)
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("user", principal.user_id)
            ok = await asyncio.to_thread(self._hasher.verify, user.password_hash, normalise_password(current))
            if not ok:
                await self._throttle.record_failure(key, ip)
                uow.audit.add(entry("auth.password_change_failed", client, actor_id=user.id, entity_id=user.id))
                await uow.commit()
                raise AuthenticationFailed("The current password is not correct", reason="bad_password")
            if normalise_password(new) == normalise_password(current):
                raise ValidationFailed.on("newPassword", "must differ from the current password")
            user.password_hash = await self._policy.hash_new(new, user, field="newPassword")
            user.password_changed_at = self._clock.now()
            await uow.users.save(user)
            uow.audit.add(entry("auth.password_changed", client, actor_id=user.id, entity_id=user.id))
            await uow.commit()
        await self._throttle.record_success(key, ip)
        await self._sessions.revoke_all(principal.user_id, now=self._clock.now(), reason="password_changed",
                                        except_session=principal.session_id)

    async def forgot(self, email: str, client: ClientInfo) -> None:
        """Queue a reset link for `email`; the same work whether or not the account exists."""
        async with self._uow() as uow:
            uow.outbox.add(password_link_job(email=email.strip().lower()[:320]))
            uow.audit.add(entry("auth.password_reset_requested", client, actor_id=None, entity_id=None,
                                account=email.strip().lower()[:255]))
            await uow.commit()

    async def send_link(self, *, email: str | None, user_id: int | None, invitation: bool) -> bool:
        """The job behind forgot-password and invitations: store a hashed single-use token, email the link."""
        token = self._secrets.token_urlsafe(32)
        ttl = self._config.invitation_ttl if invitation else self._config.reset_token_ttl
        async with self._uow() as uow:
            user = await (uow.users.get(user_id) if user_id is not None
                          else uow.users.get_by_email(email or ""))
            if user is None or user.status is UserStatus.INACTIVE:
                return False  # nothing to send; the requester saw the same answer either way
            user.password_reset_token = hash_reset_token(token)
            user.password_reset_expires = self._clock.now() + ttl
            await uow.users.save(user)
            await uow.commit()
        link = self._config.reset_url.format(token=token)
        minutes = int(ttl.total_seconds() // 60)
        if invitation:
            subject = "You are invited to the renewal desk"
            text = (f"Hello {user.first_name},\n\nAn account was created for you. Choose your password here "
                    f"within {minutes // 60} hours:\n\n{link}\n")
        else:
            subject = "Reset your renewal desk password"
            text = (f"Hello {user.first_name},\n\nSomeone asked to reset the password of this account. If it was "
                    f"you, choose a new one within {minutes} minutes:\n\n{link}\n\nIf not, ignore this email.\n")
        await self._email.send(OutboundEmail(to=(user.email,), subject=subject, text=text,
                                             tags={"kind": "invitation" if invitation else "password_reset"}))
        return True

    async def reset(self, token: str, new: str, client: ClientInfo) -> None:
        """Set a new password with a reset token (single use, expiring); every session of the user ends."""
        self._policy.check(new, field="newPassword")
        async with self._uow() as uow:
            user_id = await uow.users.take_reset_token(hash_reset_token(token), self._clock.now())
            user = await uow.users.get(user_id) if user_id is not None else None
            if user is None or user.status is UserStatus.INACTIVE:
                raise ValidationFailed.on("token", "is invalid or has expired")
            user.password_hash = await self._policy.hash_new(new, user, field="newPassword")
            user.password_changed_at = self._clock.now()
            user.password_reset_token, user.password_reset_expires = None, None
            if user.status is UserStatus.PENDING:
                user.status = UserStatus.ACTIVE  # an invitation accepted
            await uow.users.save(user)
            uow.audit.add(entry("auth.password_reset", client, actor_id=user.id, entity_id=user.id))
            await uow.commit()
        await self._sessions.revoke_all(user.id or 0, now=self._clock.now(), reason="password_reset")
