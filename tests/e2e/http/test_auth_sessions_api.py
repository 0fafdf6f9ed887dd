"""Sessions over HTTP on the real stack: refresh rotation and reuse, logout, devices, and revocation that takes
effect on the very next request (deactivation, role changes), and the audit trail of sign-ins."""

from __future__ import annotations

import asyncio

import httpx

from entrypoints.container import AppContainer
from tests.e2e.http.test_auth_api import PASSWORD, error_of, login, password_user, signed_in
from tests.identity_support import bearer, make_user, token_for

Client = httpx.AsyncClient


async def refresh(http: Client, token: str) -> httpx.Response:
    return await http.post("/api/auth/refresh", json={"refreshToken": token})


async def status_of_me(http: Client, access_token: str) -> int:
    return (await http.get("/api/auth/me", headers=bearer(access_token))).status_code


async def test_refresh_rotates_and_a_rotated_token_coming_back_ends_the_session(
        anonymous: Client, sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    first = await signed_in(anonymous, user.email)
    rotated = await refresh(anonymous, first["refreshToken"])
    assert rotated.status_code == 200
    pair = rotated.json()["data"]
    assert pair["refreshToken"] != first["refreshToken"] and pair["accessToken"] != first["accessToken"]
    assert (pair["tokenType"], pair["expiresIn"]) == ("Bearer", 900)
    assert await status_of_me(anonymous, pair["accessToken"]) == 200

    reused = await refresh(anonymous, first["refreshToken"])
    assert reused.status_code == 401 and error_of(reused)["code"] == "unauthorized"
    assert (await refresh(anonymous, pair["refreshToken"])).status_code == 401  # the whole family is gone
    assert await status_of_me(anonymous, pair["accessToken"]) == 401
    assert await status_of_me(anonymous, first["accessToken"]) == 401
    assert (await refresh(anonymous, "never-issued")).status_code == 401


async def test_two_refreshes_racing_with_one_token_give_exactly_one_success(
        anonymous: Client, sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    token = (await signed_in(anonymous, user.email))["refreshToken"]
    responses = await asyncio.gather(refresh(anonymous, token), refresh(anonymous, token))
    assert sorted(r.status_code for r in responses) == [200, 401]


async def test_logout_ends_the_session_and_logout_all_ends_every_one(anonymous: Client,
                                                                    sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    session = await signed_in(anonymous, user.email)
    out = await anonymous.post("/api/auth/logout", json={"refreshToken": session["refreshToken"]},
                               headers=bearer(session["accessToken"]))
    assert out.status_code == 204
    assert await status_of_me(anonymous, session["accessToken"]) == 401
    assert (await refresh(anonymous, session["refreshToken"])).status_code == 401

    laptop = await signed_in(anonymous, user.email, user_agent="desk-laptop/1.0")
    phone = await signed_in(anonymous, user.email, user_agent="desk-phone/2.0")
    ended = await anonymous.post("/api/auth/logout-all", headers=bearer(laptop["accessToken"]))
    assert ended.status_code == 200 and ended.json()["data"] == {"sessionsEnded": 2}
    for device in (laptop, phone):
        assert await status_of_me(anonymous, device["accessToken"]) == 401
        assert (await refresh(anonymous, device["refreshToken"])).status_code == 401


async def test_sessions_are_listed_and_one_of_your_own_can_be_ended(anonymous: Client,
                                                                   sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    laptop = await signed_in(anonymous, user.email, user_agent="desk-laptop/1.0")
    phone = await signed_in(anonymous, user.email, user_agent="desk-phone/2.0")
    here = bearer(laptop["accessToken"])
    listed = await anonymous.get("/api/auth/sessions", headers=here)
    assert listed.status_code == 200
    sessions = {s["userAgent"]: s for s in listed.json()["data"]["sessions"]}
    assert set(sessions) == {"desk-laptop/1.0", "desk-phone/2.0"}
    assert all(s["ipAddress"] == "127.0.0.1" and s["lastUsedAt"] and s["expiresAt"] for s in sessions.values())
    assert (sessions["desk-laptop/1.0"]["current"], sessions["desk-phone/2.0"]["current"]) == (True, False)

    ended = await anonymous.delete(f"/api/auth/sessions/{sessions['desk-phone/2.0']['id']}", headers=here)
    assert ended.status_code == 204
    assert await status_of_me(anonymous, phone["accessToken"]) == 401
    assert (await refresh(anonymous, phone["refreshToken"])).status_code == 401
    assert await status_of_me(anonymous, laptop["accessToken"]) == 200
    left = (await anonymous.get("/api/auth/sessions", headers=here)).json()["data"]["sessions"]
    assert [s["userAgent"] for s in left] == ["desk-laptop/1.0"]

    other = await password_user(sql_container, "agent")
    theirs = await signed_in(anonymous, other.email)
    their_id = (await anonymous.get("/api/auth/sessions", headers=bearer(theirs["accessToken"])
                                    )).json()["data"]["sessions"][0]["id"]
    refused = await anonymous.delete(f"/api/auth/sessions/{their_id}", headers=here)
    assert refused.status_code == 404 and error_of(refused)["code"] == "not_found"
    assert await status_of_me(anonymous, theirs["accessToken"]) == 200
    assert (await anonymous.delete("/api/auth/sessions/no-such-session", headers=here)).status_code == 404


async def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(client: Client,
                                                                  sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    session = await signed_in(client, user.email)
    assert await status_of_me(client, session["accessToken"]) == 200
    deactivated = await client.post(f"/api/users/user-{user.id}/deactivate")
    assert deactivated.status_code == 200 and deactivated.json()["data"]["status"] == "inactive"
    assert await status_of_me(client, session["accessToken"]) == 401
    assert (await refresh(client, session["refreshToken"])).status_code == 401

    right = await login(client, user.email, PASSWORD)
    wrong = await login(client, user.email, "not-the-Passphrase-42")
    assert right.status_code == wrong.status_code == 401
    assert (error_of(right)["code"], error_of(right)["message"]) == (
        error_of(wrong)["code"], error_of(wrong)["message"])


async def test_a_role_change_applies_on_the_holders_next_request(client: Client,
                                                                 sql_container: AppContainer) -> None:
    created = await client.post("/api/roles", json={
        "name": "book_reader", "displayName": "Book reader",
        "permissions": {"customers:read": "all", "policies:read": "all"}})
    assert created.status_code == 201
    holder = bearer(await token_for(sql_container, await make_user(sql_container, "book_reader")))
    assert (await client.get("/api/customers", headers=holder)).status_code == 200

    changed = await client.patch(f"/api/roles/{created.json()['data']['id']}",
                                 json={"permissions": {"policies:read": "all"}})
    assert changed.status_code == 200 and changed.json()["data"]["permissions"] == {"policies:read": "all"}
    denied = await client.get("/api/customers", headers=holder)
    assert denied.status_code == 403 and error_of(denied)["code"] == "forbidden"
    assert (await client.get("/api/policies", headers=holder)).status_code == 200


async def test_audit_lists_logins_with_client_details_and_records_denials(client: Client,
                                                                          sql_container: AppContainer) -> None:
    user = await password_user(sql_container, "agent")
    assert (await login(client, user.email, "not-the-Passphrase-42", user_agent="desk-browser/1.0")).status_code == 401
    await signed_in(client, user.email, user_agent="desk-browser/1.0")

    listed = await client.get("/api/audit", params={"action": "auth."})
    assert listed.status_code == 200
    entries = listed.json()["data"]["entries"]
    assert all(e["action"].startswith("auth.") for e in entries)
    by_action = {e["action"]: e for e in entries}
    for action in ("auth.login_failed", "auth.login_succeeded"):
        assert by_action[action]["entityId"] == user.id
        assert by_action[action]["ipAddress"] == "127.0.0.1"
        assert by_action[action]["userAgent"] == "desk-browser/1.0"
    assert by_action["auth.login_succeeded"]["actorId"] == f"user-{user.id}"
    assert by_action["auth.login_failed"]["actorId"] is None

    viewer = await make_user(sql_container, "viewer")
    denied = await client.get("/api/audit", headers=bearer(await token_for(sql_container, viewer)))
    assert denied.status_code == 403 and error_of(denied)["code"] == "forbidden"
    recorded = (await client.get("/api/audit", params={"action": "access.denied"})).json()["data"]["entries"]
    assert [(e["actorId"], e["data"]["permission"], e["data"]["path"]) for e in recorded] == [
        (f"user-{viewer.id}", "audit:read", "/api/audit")]
