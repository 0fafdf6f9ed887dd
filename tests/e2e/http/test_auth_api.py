"""Signing in over HTTP on the real stack: login, the current user, MFA, passwords, audit and administration."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from dependency_injector import providers
from sqlalchemy import select

from adapters.memory.email import InMemoryEmailSender
from adapters.sqlalchemy.tables.shared import outbox
from adapters.system.clock import FixedClock
from application.identity.job_names import SEND_PASSWORD_LINK
from domain.identity.model import User
from domain.identity.totp import decode_secret, totp_code
from entrypoints.container import AppContainer
from tests.identity_support import bearer, make_user, role_id, token_for

Client = httpx.AsyncClient
PASSWORD = "a-strong-Passphrase-42"
NEW_PASSWORD = "another-Long-Passphrase-77"


async def password_user(container: AppContainer, role: str, **fields: Any) -> User:
    """A user of `role` who can sign in with PASSWORD."""
    return await make_user(container, role, password_hash=container.identity.hasher().hash(PASSWORD), **fields)


async def login(http: Client, email: str, password: str = PASSWORD, *, user_agent: str | None = None) -> httpx.Response:
    headers = {"User-Agent": user_agent} if user_agent else {}
    return await http.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


async def signed_in(http: Client, email: str, password: str = PASSWORD, *,
                    user_agent: str | None = None) -> dict[str, Any]:
    """The data of a successful login that answers tokens."""
    response = await login(http, email, password, user_agent=user_agent)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    assert data["accessToken"] and data["refreshToken"], data
    return data


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["success"] is False and body["error"]["requestId"], body
    error: dict[str, Any] = body["error"]
    return error


def fields_of(response: httpx.Response) -> set[str]:
    return {d["field"] for d in error_of(response)["details"]}


def code_now(secret: str, clock: FixedClock) -> str:
    return totp_code(decode_secret(secret), int(clock.now().timestamp()))


def wrong_code(secret: str, clock: FixedClock) -> str:
    """Six digits that are neither the current code nor the one-step-late one."""
    now = int(clock.now().timestamp())
    valid = {totp_code(decode_secret(secret), now), totp_code(decode_secret(secret), now - 30)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


async def outbox_jobs(container: AppContainer) -> list[dict[str, Any]]:
    engine = container.adapters.engine()
    assert engine is not None
    async with engine.connect() as conn:
        rows = await conn.execute(select(outbox.c.args).where(outbox.c.job_name == SEND_PASSWORD_LINK)
                                  .order_by(outbox.c.id))
        return [dict(row.args) for row in rows]


async def test_login_answers_tokens_and_the_user_who_then_reads_me(anonymous: Client,
                                                                   sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "manager")
    data = await signed_in(anonymous, f"  {user.email.upper()} ")
    assert (data["tokenType"], data["expiresIn"]) == ("Bearer", 900)
    assert "mfaRequired" not in data and "challengeToken" not in data
    me = data["user"]
    assert me["id"] == f"user-{user.id}" and me["email"] == user.email
    assert {"permission": "cases:read", "scope": "branch"} in me["permissions"]
    assert "users:write" not in {grant["permission"] for grant in me["permissions"]}
    assert all(set(grant) == {"permission", "scope"} for grant in me["permissions"])
    assert me["pages"] and all(isinstance(page, str) for page in me["pages"])

    got = await anonymous.get("/api/auth/me", headers=bearer(data["accessToken"]))
    assert got.status_code == 200
    assert got.json()["data"]["permissions"] == me["permissions"] and got.json()["data"]["pages"] == me["pages"]
    assert got.json()["data"]["lastLogin"] is not None

    missing = await anonymous.get("/api/auth/me")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert error_of(missing)["code"] == "unauthorized"
    for headers in (bearer("not-a-token"), bearer(data["accessToken"] + "x"),
                    {"Authorization": f"Basic {data['accessToken']}"}, bearer(data["refreshToken"])):
        refused = await anonymous.get("/api/auth/me", headers=headers)
        assert refused.status_code == 401 and "www-authenticate" in refused.headers, headers
        assert error_of(refused)["code"] == "unauthorized"


async def test_wrong_password_and_unknown_email_look_the_same(anonymous: Client, sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    wrong = await login(anonymous, user.email, "not-the-Passphrase-42")
    unknown = await login(anonymous, "nobody@staff.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    first, second = error_of(wrong), error_of(unknown)
    assert (first["code"], first["message"], first["details"]) == (second["code"], second["message"], second["details"])
    assert first["code"] == "unauthorized" and "accessToken" not in wrong.text


async def test_mfa_setup_enable_and_sign_in_with_codes_used_once(anonymous: Client, sql_container: AppContainer,
                                                                 clock: FixedClock) -> None:
    user = await password_user(sql_container, "test_everything")
    auth = bearer((await signed_in(anonymous, user.email))["accessToken"])
    setup = await anonymous.post("/api/auth/mfa/setup", headers=auth)
    assert setup.status_code == 200
    secret = setup.json()["data"]["secret"]
    assert setup.json()["data"]["otpauthUri"].startswith("otpauth://totp/")
    assert secret in setup.json()["data"]["otpauthUri"] and "<svg" in setup.json()["data"]["qrSvg"]

    refused = await anonymous.post("/api/auth/mfa/enable", json={"code": wrong_code(secret, clock)}, headers=auth)
    assert refused.status_code == 422 and fields_of(refused) == {"code"}
    enabled = await anonymous.post("/api/auth/mfa/enable", json={"code": code_now(secret, clock)}, headers=auth)
    assert enabled.status_code == 200
    codes = enabled.json()["data"]["recoveryCodes"]
    assert len(codes) == len(set(codes)) == 10 and "session" not in enabled.json()["data"]
    assert (await anonymous.get("/api/auth/me", headers=auth)).json()["data"]["mfaEnabled"] is True

    async def challenge() -> str:
        response = await login(anonymous, user.email)
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["mfaRequired"] is True and "accessToken" not in data and "refreshToken" not in data
        token: str = data["challengeToken"]
        return token

    async def verify(token: str, code: str) -> httpx.Response:
        return await anonymous.post("/api/auth/mfa/verify", json={"challengeToken": token, "code": code})

    clock.advance(timedelta(seconds=30))  # enabling used the current step's code
    first = await challenge()
    assert (await anonymous.get("/api/auth/me", headers=bearer(first))).status_code == 401
    done = await verify(first, code_now(secret, clock))
    assert done.status_code == 200 and done.json()["data"]["user"]["id"] == f"user-{user.id}"
    assert (await anonymous.get("/api/auth/me", headers=bearer(done.json()["data"]["accessToken"]))).status_code == 200

    second = await challenge()
    replayed = await verify(second, code_now(secret, clock))
    assert replayed.status_code == 401 and error_of(replayed)["code"] == "unauthorized"
    clock.advance(timedelta(seconds=30))
    assert (await verify(second, code_now(secret, clock))).status_code == 200

    recovered = await verify(await challenge(), codes[0])
    assert recovered.status_code == 200 and recovered.json()["data"]["accessToken"]
    assert (await verify(await challenge(), codes[0])).status_code == 401
    assert (await verify(await challenge(), codes[1].upper())).status_code == 200


async def test_a_role_that_requires_mfa_opens_only_mfa_setup_until_it_is_on(anonymous: Client,
                                                                           sql_container: AppContainer,
                                                                           clock: FixedClock) -> None:
    user = await password_user(sql_container, "admin")
    response = await login(anonymous, user.email)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["mfaSetupRequired"] is True and data["accessToken"]
    assert "refreshToken" not in data and "user" not in data
    setup_only = bearer(data["accessToken"])
    assert (await anonymous.get("/api/customers", headers=setup_only)).status_code == 401
    assert (await anonymous.get("/api/auth/me", headers=setup_only)).status_code == 401

    setup = await anonymous.post("/api/auth/mfa/setup", headers=setup_only)
    assert setup.status_code == 200
    code = code_now(setup.json()["data"]["secret"], clock)
    enabled = await anonymous.post("/api/auth/mfa/enable", json={"code": code}, headers=setup_only)
    assert enabled.status_code == 200
    assert len(enabled.json()["data"]["recoveryCodes"]) == 10
    session = enabled.json()["data"]["session"]
    assert session["accessToken"] and session["refreshToken"] and session["user"]["requiresMfa"] is True
    assert (await anonymous.get("/api/customers", headers=bearer(session["accessToken"]))).status_code == 200
    assert (await anonymous.get("/api/auth/me", headers=bearer(session["accessToken"]))).status_code == 200
    assert (await anonymous.get("/api/auth/me", headers=setup_only)).status_code == 401  # swapped for the full one


async def test_password_change_checks_the_old_one_and_ends_other_sessions(anonymous: Client,
                                                                         sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    here = bearer((await signed_in(anonymous, user.email))["accessToken"])
    elsewhere = bearer((await signed_in(anonymous, user.email))["accessToken"])

    async def change(current: str, new: str) -> httpx.Response:
        return await anonymous.post("/api/auth/password/change", headers=here,
                                    json={"currentPassword": current, "newPassword": new})

    wrong = await change("not-the-Passphrase-42", NEW_PASSWORD)
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "unauthorized"
    for weak in ("password1234", "short"):
        refused = await change(PASSWORD, weak)
        assert refused.status_code == 422 and fields_of(refused) == {"newPassword"}, weak
    assert (await anonymous.get("/api/auth/me", headers=elsewhere)).status_code == 200  # nothing changed yet

    assert (await change(PASSWORD, NEW_PASSWORD)).status_code == 204
    assert (await anonymous.get("/api/auth/me", headers=elsewhere)).status_code == 401
    assert (await anonymous.get("/api/auth/me", headers=here)).status_code == 200
    assert (await login(anonymous, user.email)).status_code == 401
    assert (await signed_in(anonymous, user.email, NEW_PASSWORD))["user"]["id"] == f"user-{user.id}"


async def test_forgot_password_says_the_same_and_the_emailed_token_resets_once(
        anonymous: Client, sql_container: AppContainer, clock: FixedClock) -> None:
    mail = InMemoryEmailSender(default_from="desk@test")
    sql_container.outside.email_sender.override(providers.Object(mail))
    user = await password_user(sql_container, "agent")
    known = await anonymous.post("/api/auth/password/forgot", json={"email": user.email})
    unknown = await anonymous.post("/api/auth/password/forgot", json={"email": "nobody@staff.test"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() and known.json()["success"] is True
    jobs = await outbox_jobs(sql_container)
    assert [job["email"] for job in jobs] == [user.email, "nobody@staff.test"]
    assert all(job["invitation"] is False for job in jobs)

    passwords = sql_container.identity.passwords()
    assert await passwords.send_link(email="nobody@staff.test", user_id=None, invitation=False) is False
    assert mail.sent == []

    async def emailed_token() -> str:
        assert await passwords.send_link(email=user.email, user_id=None, invitation=False) is True
        _, message = mail.sent[-1]
        assert message.to == (user.email,)
        found = re.search(r"reset-password\?token=([A-Za-z0-9_-]+)", message.text or "")
        assert found is not None, message.text
        return found.group(1)

    earlier = bearer((await signed_in(anonymous, user.email))["accessToken"])
    token = await emailed_token()
    reset = await anonymous.post("/api/auth/password/reset", json={"token": token, "newPassword": NEW_PASSWORD})
    assert reset.status_code == 204
    assert (await anonymous.get("/api/auth/me", headers=earlier)).status_code == 401
    assert (await login(anonymous, user.email)).status_code == 401
    await signed_in(anonymous, user.email, NEW_PASSWORD)
    again = await anonymous.post("/api/auth/password/reset", json={"token": token, "newPassword": PASSWORD})
    assert again.status_code == 422 and fields_of(again) == {"token"}

    late = await emailed_token()
    clock.advance(timedelta(minutes=31))
    expired = await anonymous.post("/api/auth/password/reset", json={"token": late, "newPassword": PASSWORD})
    assert expired.status_code == 422 and fields_of(expired) == {"token"}
    await signed_in(anonymous, user.email, NEW_PASSWORD)


async def test_users_are_created_invited_or_with_a_password(client: Client, sql_container: AppContainer) -> None:
    agent_role = f"role-{await role_id(sql_container, 'agent')}"
    body = {"email": "nina.shah@staff.test", "firstName": "Nina", "lastName": "Shah", "roleId": agent_role}
    invited = await client.post("/api/users", json=body)
    assert invited.status_code == 201
    assert (invited.json()["data"]["status"], invited.json()["data"]["role"]) == ("pending", "agent")
    invited_id = int(invited.json()["data"]["id"].removeprefix("user-"))
    assert await outbox_jobs(sql_container) == [{"email": None, "user_id": invited_id, "invitation": True}]

    weak = await client.post("/api/users", json={**body, "email": "omar@staff.test", "password": "short"})
    assert weak.status_code == 422 and fields_of(weak) == {"password"}
    duplicate = await client.post("/api/users", json={**body, "email": "Nina.Shah@staff.test"})
    assert duplicate.status_code == 409 and fields_of(duplicate) == {"email"}
    direct = await client.post("/api/users", json={**body, "email": "omar@staff.test", "password": NEW_PASSWORD})
    assert direct.status_code == 201 and direct.json()["data"]["status"] == "active"
    assert len(await outbox_jobs(sql_container)) == 1  # no invitation for a user with a password
    await signed_in(client, "omar@staff.test", NEW_PASSWORD)


async def test_roles_are_managed_without_escalation_or_orphaned_users(client: Client,
                                                                     sql_container: AppContainer) -> None:
    created = await client.post("/api/roles", json={
        "name": "renewals_auditor", "displayName": "Renewals auditor",
        "permissions": {"cases:read": "branch", "audit:read": "all"}})
    assert created.status_code == 201
    assert created.json()["data"]["permissions"] == {"cases:read": "branch", "audit:read": "all"}
    assert (created.json()["data"]["isSystem"], created.json()["data"]["userCount"]) == (False, 0)

    lite = await client.post("/api/roles", json={
        "name": "role_keeper", "displayName": "Role keeper",
        "permissions": {"roles:manage": "all", "cases:read": "branch"}})
    assert lite.status_code == 201
    keeper = bearer(await token_for(sql_container, await make_user(sql_container, "role_keeper")))
    escalating = await client.post("/api/roles", headers=keeper, json={
        "name": "case_boss", "displayName": "Case boss", "permissions": {"cases:read": "all"}})
    assert escalating.status_code == 403 and error_of(escalating)["code"] == "forbidden"
    within = await client.post("/api/roles", headers=keeper, json={
        "name": "case_peer", "displayName": "Case peer", "permissions": {"cases:read": "branch"}})
    assert within.status_code == 201
    manager = bearer(await token_for(sql_container, await make_user(sql_container, "manager")))
    settings = await client.post("/api/roles", headers=manager, json={
        "name": "settings_boss", "displayName": "Settings", "permissions": {"settings:manage": "all"}})
    assert settings.status_code == 403

    admin_role = await role_id(sql_container, "admin")
    system = await client.delete(f"/api/roles/role-{admin_role}")
    assert system.status_code == 409 and error_of(system)["code"] == "conflict"
    held = await client.delete(f"/api/roles/{lite.json()['data']['id']}")
    assert held.status_code == 409
    assert (await client.get(f"/api/roles/{lite.json()['data']['id']}")).json()["data"]["userCount"] == 1
    unheld = created.json()["data"]["id"]
    assert (await client.delete(f"/api/roles/{unheld}")).status_code == 204
    assert (await client.get(f"/api/roles/{unheld}")).status_code == 404


async def test_permission_catalogue_names_scopes(client: Client) -> None:
    response = await client.get("/api/permissions")
    assert response.status_code == 200
    catalogue = {p["permission"]: p for p in response.json()["data"]["permissions"]}
    assert len(catalogue) >= 25
    assert catalogue["cases:read"]["scoped"] is True
    assert catalogue["cases:read"]["scopes"] == ["own", "branch", "all"]
    assert (catalogue["users:read"]["scoped"], catalogue["users:read"]["scopes"]) == (False, ["all"])
    assert all(p["scopes"][-1] == "all" and p["pages"] is not None for p in catalogue.values())
