"""Sign-in, tokens, sessions, the current user, passwords and MFA: /api/auth/*."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from application.identity.auth import AuthService
from application.identity.mfa import MfaEnabled, MfaService
from application.identity.passwords import PasswordService
from application.identity.principal import ClientInfo, Principal
from application.identity.views import LoginResult, MeView, MfaSetupView, TokenPair
from entrypoints.http.envelope import Envelope, error_responses, ok
from entrypoints.http.guard import public, signed_in
from entrypoints.http.identity.deps import IDENTITY_DEPENDENCIES
from entrypoints.http.identity.schemas import (
    ForgotBody,
    LoginBody,
    LogoutBody,
    MfaCodeBody,
    MfaDisableBody,
    MfaVerifyBody,
    PasswordChangeBody,
    RecoveryCodes,
    RefreshBody,
    ResetBody,
    SessionList,
)

__all__ = ["AuthController"]

Auth = NamedDependency[AuthService]
Mfa = NamedDependency[MfaService]
Passwords = NamedDependency[PasswordService]
Caller = NamedDependency[Principal]
Client = NamedDependency[ClientInfo]
SessionIdent = Annotated[str, PathParameter(description="A session id from GET /api/auth/sessions")]


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]
    dependencies = IDENTITY_DEPENDENCIES

    @post("/login", opt=public(), status_code=200, responses=error_responses(401, 422, 429))
    async def login(self, data: JSONBody[LoginBody], auth: Auth, client: Client) -> Envelope[LoginResult]:
        """Email and password. Answers tokens and the user; `mfaRequired` with a `challengeToken` (then POST
        /mfa/verify); or `mfaSetupRequired` with an access token that opens only the MFA set-up endpoints."""
        return ok(await auth.login(data.email, data.password, client))

    @post("/mfa/verify", opt=public(), status_code=200, responses=error_responses(401, 422, 429))
    async def verify_mfa(self, data: JSONBody[MfaVerifyBody], auth: Auth, client: Client) -> Envelope[LoginResult]:
        """Finish a login with a TOTP code (each accepted once) or a single-use recovery code."""
        return ok(await auth.verify_mfa(data.challenge_token, data.code, client))

    @post("/refresh", opt=public(), status_code=200, responses=error_responses(401, 422))
    async def refresh(self, data: JSONBody[RefreshBody], auth: Auth, client: Client) -> Envelope[TokenPair]:
        """Rotate the refresh token; presenting an already-rotated one ends its whole session."""
        return ok(await auth.refresh(data.refresh_token, client))

    @post("/logout", opt=signed_in("access", "mfa_setup"), status_code=204, responses=error_responses(401))
    async def logout(self, auth: Auth, principal: Caller, client: Client,
                     data: JSONBody[LogoutBody | None] = None) -> None:
        """End this session: its access and refresh tokens stop working on the next request."""
        await auth.logout(principal, client)

    @post("/logout-all", opt=signed_in(), status_code=200, responses=error_responses(401))
    async def logout_all(self, auth: Auth, principal: Caller, client: Client) -> Envelope[dict[str, int]]:
        """End every session of the caller, this one included."""
        return ok({"sessionsEnded": await auth.logout_all(principal, client)})

    @get("/sessions", opt=signed_in(), responses=error_responses(401))
    async def sessions(self, auth: Auth, principal: Caller) -> Envelope[SessionList]:
        """The caller's live sessions (devices), the most recently used first."""
        return ok(SessionList(sessions=await auth.sessions(principal)))

    @delete("/sessions/{session_id:str}", opt=signed_in(), status_code=204, responses=error_responses(401, 404))
    async def revoke_session(self, session_id: SessionIdent, auth: Auth, principal: Caller,
                             client: Client) -> None:
        """End one of the caller's sessions (sign a lost device out)."""
        await auth.revoke_session(principal, session_id, client)

    @get("/me", opt=signed_in(), responses=error_responses(401))
    async def me(self, auth: Auth, principal: Caller) -> Envelope[MeView]:
        """The caller, their permissions with scopes, and the frontend pages those open."""
        return ok(await auth.me(principal))

    @post("/password/change", opt=signed_in(), status_code=204, responses=error_responses(401, 422, 429))
    async def change_password(self, data: JSONBody[PasswordChangeBody], passwords: Passwords, principal: Caller,
                              client: Client) -> None:
        """Change the caller's password; their other sessions end."""
        await passwords.change(principal, data.current_password, data.new_password, client)

    @post("/password/forgot", opt=public(), status_code=202, responses=error_responses(422))
    async def forgot_password(self, data: JSONBody[ForgotBody], passwords: Passwords,
                              client: Client) -> Response[Envelope[dict[str, str]]]:
        """Always 202 with the same answer: a reset link is emailed if the account exists."""
        await passwords.forgot(data.email, client)
        return Response(ok({"message": "If the address belongs to an account, a reset link is on its way."}),
                        status_code=202)

    @post("/password/reset", opt=public(), status_code=204, responses=error_responses(422))
    async def reset_password(self, data: JSONBody[ResetBody], passwords: Passwords, client: Client) -> None:
        """Set a new password with the emailed token (single use, expiring); every session of the user ends."""
        await passwords.reset(data.token, data.new_password, client)

    @post("/mfa/setup", opt=signed_in("access", "mfa_setup"), status_code=200, responses=error_responses(401, 409))
    async def setup_mfa(self, mfa: Mfa, principal: Caller, client: Client) -> Envelope[MfaSetupView]:
        """A new TOTP secret with its otpauth URI and QR code (SVG); MFA is on after /mfa/enable."""
        return ok(await mfa.setup(principal, client))

    @post("/mfa/enable", opt=signed_in("access", "mfa_setup"), status_code=200,
          responses=error_responses(401, 409, 422))
    async def enable_mfa(self, data: JSONBody[MfaCodeBody], mfa: Mfa, principal: Caller,
                         client: Client) -> Envelope[MfaEnabled]:
        """Turn MFA on with a current code; answers ten recovery codes (shown once) and, after a set-up-only
        login, a full session."""
        return ok(await mfa.enable(principal, data.code, client))

    @post("/mfa/disable", opt=signed_in(), status_code=204, responses=error_responses(401, 403, 409))
    async def disable_mfa(self, data: JSONBody[MfaDisableBody], mfa: Mfa, principal: Caller,
                          client: Client) -> None:
        """Turn MFA off with the password and a code; refused when the role requires MFA."""
        await mfa.disable(principal, data.password, data.code, client)

    @post("/mfa/recovery-codes", opt=signed_in(), status_code=200, responses=error_responses(401, 409, 422))
    async def regenerate_codes(self, data: JSONBody[MfaCodeBody], mfa: Mfa, principal: Caller,
                               client: Client) -> Envelope[RecoveryCodes]:
        """Replace the recovery codes (a current TOTP code is required); the old ones stop working."""
        return ok(RecoveryCodes(recovery_codes=await mfa.regenerate_codes(principal, data.code, client)))
