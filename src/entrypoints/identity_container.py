"""Wiring of the identity context: token signing, password hashing, throttling and its services."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from dependency_injector import containers, providers

from adapters.crypto.fernet_sealer import FernetSecretSealer, parse_fernet_keys
from adapters.jwt.pyjwt_access_tokens import PyJwtAccessTokens, parse_key_ring
from adapters.memory.login_throttle import InMemoryLoginThrottle
from adapters.passwords.argon2_password_hasher import Argon2PasswordHasher
from adapters.passwords.common_password_list import ShippedCommonPasswords
from adapters.qr.segno_qr_renderer import SegnoQrRenderer
from adapters.redis.redis_login_throttle import RedisLoginThrottle
from adapters.system.secrets import SystemSecretSource
from application.identity.audit import AuditService
from application.identity.auth import AuthService
from application.identity.authenticate import Authenticator
from application.identity.config import IdentityConfig
from application.identity.mfa import MfaService
from application.identity.password_policy import PasswordPolicy
from application.identity.passwords import PasswordService
from application.identity.provisioning import ProvisioningService
from application.identity.roles import RoleService
from application.identity.users import UserService
from domain.shared.clock import Clock
from entrypoints.settings import Settings

__all__ = ["IdentityServices", "access_tokens", "identity_config"]


def identity_config(settings: Settings) -> IdentityConfig:
    return IdentityConfig(
        access_ttl_seconds=settings.access_token_ttl_seconds, session_ttl=timedelta(hours=settings.session_ttl_hours),
        refresh_ttl=timedelta(minutes=settings.refresh_idle_minutes),
        reset_url=settings.frontend_url.rstrip("/") + "/reset-password?token={token}")


def access_tokens(settings: Settings, clock: Clock) -> PyJwtAccessTokens:
    """The key ring from JWT_SIGNING_KEYS, else JWT_SECRET as key "k1"; outside production a random key."""
    if settings.jwt_signing_keys:
        ring, current = parse_key_ring(settings.jwt_signing_keys)
    elif settings.jwt_secret:
        ring, current = {"k1": settings.jwt_secret}, "k1"
    else:  # development and tests: tokens do not outlive the process (production refuses to start)
        ring, current = {"dev": secrets.token_hex(32)}, "dev"
    return PyJwtAccessTokens(ring, current_kid=current, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                             clock=clock, token_ids=lambda: secrets.token_hex(12),
                             default_ttl=settings.access_token_ttl_seconds)


_TEST_KEY = "bWZhLXRlc3Qta2V5LW9ubHktZm9yLXRlc3RzLTMyYnk="  # tests only: a fixed, public key


def secret_sealer(settings: Settings) -> FernetSecretSealer:
    """MFA_ENCRYPTION_KEYS; in development a key kept in DATA_DIR/mfa.key (made once); in tests a fixed key."""
    if settings.mfa_encryption_keys:
        return FernetSecretSealer(parse_fernet_keys(settings.mfa_encryption_keys))
    if settings.app_env == "test":
        return FernetSecretSealer([_TEST_KEY])
    key_file = Path(settings.data_dir) / "mfa.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return FernetSecretSealer([key_file.read_text().strip()])


def _throttle_backend(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


class IdentityServices(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()
    outside = providers.DependenciesContainer()

    config = providers.Singleton(identity_config, core.settings)
    secrets = providers.Singleton(SystemSecretSource)
    hasher = providers.Singleton(Argon2PasswordHasher)
    common_passwords = providers.Singleton(ShippedCommonPasswords)
    qr = providers.Singleton(SegnoQrRenderer)
    password_policy = providers.Singleton(PasswordPolicy, hasher=hasher, common=common_passwords)
    tokens = providers.Singleton(access_tokens, core.settings, core.clock)
    sealer = providers.Singleton(secret_sealer, core.settings)
    throttle = providers.Selector(
        providers.Callable(_throttle_backend, core.settings),
        redis=providers.Singleton(RedisLoginThrottle, outside.arq_pool, core.clock),
        memory=providers.Singleton(InMemoryLoginThrottle, core.clock),
    )
    audit = providers.Singleton(AuditService, uow=adapters.identity_uow.provider)
    authenticator = providers.Singleton(Authenticator, tokens=tokens, principals=adapters.principal_source,
                                        clock=core.clock)
    auth = providers.Singleton(
        AuthService, uow=adapters.identity_uow.provider, sessions=adapters.session_store, tokens=tokens,
        throttle=throttle, hasher=hasher, secrets=secrets, audit=audit, clock=core.clock, config=config,
        sealer=sealer)
    passwords = providers.Singleton(
        PasswordService, uow=adapters.identity_uow.provider, sessions=adapters.session_store, hasher=hasher,
        policy=password_policy, throttle=throttle, secrets=secrets, email=outside.email_sender, clock=core.clock,
        config=config)
    mfa = providers.Singleton(
        MfaService, uow=adapters.identity_uow.provider, sessions=adapters.session_store, auth=auth, hasher=hasher,
        secrets=secrets, qr=qr, clock=core.clock, config=config, sealer=sealer)
    users = providers.Singleton(
        UserService, uow=adapters.identity_uow.provider, sessions=adapters.session_store, passwords=password_policy,
        phones=core.phones, clock=core.clock)
    roles = providers.Singleton(RoleService, uow=adapters.identity_uow.provider)
    provisioning = providers.Singleton(ProvisioningService, uow=adapters.identity_uow.provider,
                                       passwords=password_policy, clock=core.clock)
