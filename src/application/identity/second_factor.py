"""Checking a second factor: a TOTP code, accepted once per time step, or a single-use recovery code."""

from __future__ import annotations

from application.identity.ports import SecretSealer
from application.identity.repositories import IdentityUnitOfWork
from domain.identity.model import User
from domain.identity.recovery_codes import match_recovery_code
from domain.identity.totp import decode_secret, match_step
from domain.shared.clock import Clock

__all__ = ["check_second_factor", "check_totp"]


async def check_totp(uow: IdentityUnitOfWork, user: User, code: str, clock: Clock, sealer: SecretSealer) -> bool:
    """Whether `code` is the user's TOTP code now (or one step late) and was not used before."""
    if not user.mfa_secret or user.id is None:
        return False
    step = match_step(decode_secret(sealer.unseal(user.mfa_secret)), code, int(clock.now().timestamp()),
                      last_used_step=user.mfa_last_step)
    if step is None or not await uow.users.claim_totp_step(user.id, step):
        return False
    user.mfa_last_step = step
    return True


async def check_second_factor(uow: IdentityUnitOfWork, user: User, code: str, clock: Clock,
                              sealer: SecretSealer) -> str | None:
    """"totp" or "recovery_code" when `code` proves the second factor; None otherwise."""
    if user.id is None:
        return None
    digits = "".join(code.split())
    if digits.isascii() and digits.isdigit():
        return "totp" if await check_totp(uow, user, digits, clock, sealer) else None
    matched = match_recovery_code(code, await uow.users.unused_recovery_codes(user.id))
    if matched is not None and await uow.users.use_recovery_code(user.id, matched, clock.now()):
        return "recovery_code"
    return None
