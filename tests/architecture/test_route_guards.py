"""Every route of the app declares who may call it, and the global guard refuses any route that declares nothing.

The walker visits every handler of the built app (HTTP, websocket and mounted ASGI). A handler passes when it
declares a permission (`requires`) or `signed_in()`, or when it is `public()` and its (method, path) is in
PUBLIC_ROUTES below, the explicit list of endpoints that answer without a token. Litestar's automatic OPTIONS
handlers are the only ones skipped (they inherit the global guard, so they answer 401/403 anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import CodeType
from typing import Any

import httpx
import pytest
from litestar import Litestar, get, route
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.routes import ASGIRoute, HTTPRoute, WebSocketRoute

from application.identity.repositories import AuditFilters
from application.shared.pagination import PageRequest
from domain.identity.model import Role
from domain.identity.permissions import Permission
from entrypoints.container import AppContainer, build_memory_container
from entrypoints.http.app import create_app
from entrypoints.http.errors import exception_handlers
from entrypoints.http.guard import PERMISSION, PUBLIC, authorize, is_guarded, permission_of, requires
from tests.conftest import settings_for_tests
from tests.identity_support import bearer, make_user, token_for

Route = tuple[str, str]  # (method, path as Litestar registers it)

# The endpoints that answer without a token. Adding one here is a security decision: review it as such.
PUBLIC_ROUTES: frozenset[Route] = frozenset({
    ("POST", "/api/auth/login"),
    # provider webhooks authenticate by the provider's signature; unsubscribe links by their HMAC token
    ("POST", "/api/webhooks/twilio/status"),
    ("POST", "/api/webhooks/twilio/inbound"),
    ("GET", "/api/webhooks/whatsapp"),
    ("POST", "/api/webhooks/whatsapp"),
    ("POST", "/api/webhooks/ses"),
    ("POST", "/api/webhooks/payments/{provider:str}"),
    # the dev payment gateway's checkout page (404 in production): the customer is not signed in
    ("GET", "/api/payments/dev/pay/{ident:str}"),
    ("POST", "/api/payments/dev/pay/{ident:str}"),
    ("GET", "/api/payments/dev-checkout/{ident:str}"),
    ("POST", "/api/payments/dev-checkout/{ident:str}"),
    ("GET", "/api/unsubscribe/{token:str}"),
    ("POST", "/api/unsubscribe/{token:str}"),
    # campaign tracking: the open pixel, click redirects and short links carry signed tokens
    ("GET", "/t/o/{token:str}"),
    ("GET", "/t/c/{token:str}"),
    ("GET", "/s/{code:str}"),
    ("POST", "/api/auth/mfa/verify"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/password/forgot"),
    ("POST", "/api/auth/password/reset"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/api/docs"),
    ("GET", "/api/schema"),
    ("GET", "/api/schema/swagger"),
    ("GET", "/api/schema/openapi.json"),
    ("GET", "/api/schema/oauth2-redirect.html"),
    ("GET", "/api/schema/{path:str}"),
})


def _automatic_options_code() -> CodeType:
    """The code of the OPTIONS handler Litestar adds to every HTTP route (a closure of create_options_handler)."""
    found = [const for const in HTTPRoute.create_options_handler.__code__.co_consts
             if isinstance(const, CodeType) and const.co_name == "options_handler"]
    assert len(found) == 1, "Litestar changed how it makes OPTIONS handlers: teach the route walker"
    return found[0]


_AUTO_OPTIONS = _automatic_options_code()


def is_automatic_options(handler: BaseRouteHandler) -> bool:
    """True only for Litestar's own OPTIONS handler, never for one the app declares (whatever it is called)."""
    return (isinstance(handler, HTTPRouteHandler) and handler.http_methods == {"OPTIONS"}
            and getattr(handler.fn, "__code__", None) is _AUTO_OPTIONS)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: BaseRouteHandler

    @property
    def key(self) -> Route:
        return self.method, self.path


@dataclass(frozen=True)
class Offender:
    method: str
    path: str
    handler: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.handler}): {self.reason}"


def endpoints(app: Litestar) -> Iterator[Endpoint]:
    """Every (method, path, handler) the app serves, Litestar's automatic OPTIONS handlers left out."""
    for registered in app.routes:
        if isinstance(registered, HTTPRoute):
            for handler in registered.route_handlers:
                if is_automatic_options(handler):
                    continue
                for method in sorted(handler.http_methods):
                    yield Endpoint(method, registered.path, handler)
        elif isinstance(registered, WebSocketRoute):
            yield Endpoint("WEBSOCKET", registered.path, registered.route_handler)
        elif isinstance(registered, ASGIRoute):
            yield Endpoint("ASGI", registered.path, registered.route_handler)
        else:
            raise TypeError(f"unknown route type {type(registered).__name__} at {registered.path}: "
                            "teach the route walker about it")


def unguarded(app: Litestar, public_routes: frozenset[Route]) -> list[Offender]:
    """The handlers that would not be refused to an unauthorised caller, each with why."""
    offenders: list[Offender] = []
    for endpoint in endpoints(app):
        handler, opt = endpoint.handler, endpoint.handler.opt

        def offend(reason: str, endpoint: Endpoint = endpoint) -> None:
            offenders.append(Offender(endpoint.method, endpoint.path, endpoint.handler.handler_name, reason))

        if authorize not in handler.resolve_guards():
            offend("the authorize guard does not run for it")
        if opt.get(PUBLIC):
            if endpoint.key not in public_routes:
                offend("public() but not in PUBLIC_ROUTES")
            elif PERMISSION in opt or is_guarded(handler):
                offend("public() overrides the permission it also declares")
        elif not is_guarded(handler):
            if opt.get(PERMISSION) is not None and permission_of(handler) is None:
                offend(f"its permission {opt[PERMISSION]!r} is not a Permission, so it grants nothing")
            else:
                offend("declares no permission, signed_in() or public()")
    return offenders


def build_app() -> Litestar:
    return create_app(build_memory_container(settings_for_tests(REDIS_URL="")))


@pytest.fixture
def app() -> Litestar:
    return build_app()


def endpoint(app: Litestar, method: str, path: str) -> Endpoint:
    found = [e for e in endpoints(app) if e.key == (method, path)]
    assert len(found) == 1, f"{method} {path}: {len(found)} handlers"
    return found[0]


# --- the real app -------------------------------------------------------------------------------------------------


def test_every_route_is_guarded_or_an_intended_public_one(app: Litestar) -> None:
    offenders = unguarded(app, PUBLIC_ROUTES)
    assert not offenders, "routes open to the wrong callers:\n" + "\n".join(map(str, offenders))


def test_the_walker_sees_the_whole_app(app: Litestar) -> None:
    served = [e.key for e in endpoints(app)]
    assert len(served) == len(set(served)), "one (method, path) served twice"
    assert {("GET", "/api/cases"), ("GET", "/api/cases/{case_id:str}"), ("POST", "/api/customers"),
            ("DELETE", "/api/roles/{role_id:str}"), ("GET", "/api/auth/me")} <= set(served)
    http_routes = [r for r in app.routes if isinstance(r, HTTPRoute)]
    skipped = [h for r in http_routes for h in r.route_handlers if is_automatic_options(h)]
    assert len(skipped) == len(http_routes)  # exactly Litestar's one OPTIONS handler per HTTP path


def test_public_routes_list_cannot_rot(app: Litestar) -> None:
    served = {e.key: e.handler for e in endpoints(app)}
    assert not PUBLIC_ROUTES - served.keys(), f"listed but not served: {sorted(PUBLIC_ROUTES - served.keys())}"
    not_public = sorted(key for key in PUBLIC_ROUTES if not served[key].opt.get(PUBLIC))
    assert not not_public, f"listed as public but guarded: {not_public}"


def test_the_guard_is_installed_app_wide(app: Litestar) -> None:
    assert authorize in app.guards
    assert all(authorize in e.handler.resolve_guards() for e in endpoints(app))


# --- the walker catches each kind of hole ---------------------------------------------------------------------------

CASES = ("GET", "/api/cases")


def _remove_permission(opt: dict[str, Any]) -> None:
    opt.pop(PERMISSION)


def _permission_as_text(opt: dict[str, Any]) -> None:
    opt[PERMISSION] = "cases:read"  # a typo'd or stringly declaration grants nothing: refused for everyone


def _made_public(opt: dict[str, Any]) -> None:
    opt[PUBLIC] = True


@pytest.mark.parametrize("mutate", [_remove_permission, _permission_as_text, _made_public])
def test_the_walker_catches_a_weakened_guard(app: Litestar, mutate: Callable[[dict[str, Any]], None]) -> None:
    assert unguarded(app, PUBLIC_ROUTES) == []
    handler = endpoint(app, *CASES).handler
    assert permission_of(handler) is Permission.CASES_READ
    mutate(handler.opt)
    offenders = unguarded(app, PUBLIC_ROUTES)
    assert [(o.method, o.path, o.handler) for o in offenders] == [(*CASES, "list_cases")]
    assert unguarded(build_app(), PUBLIC_ROUTES) == []  # handlers are copied per app: nothing leaked


def test_the_walker_catches_a_public_route_dropped_from_the_list(app: Litestar) -> None:
    offenders = unguarded(app, PUBLIC_ROUTES - {("POST", "/api/auth/login")})
    assert [(o.method, o.path, o.reason) for o in offenders] == [
        ("POST", "/api/auth/login", "public() but not in PUBLIC_ROUTES")]


def test_the_walker_checks_handlers_added_later_including_a_declared_options(app: Litestar) -> None:
    @get("/api/extra", sync_to_thread=False)
    def extra() -> None: ...

    @route("/api/extra/options", http_method=["OPTIONS"], sync_to_thread=False)
    def options_handler() -> None: ...  # same name as Litestar's, still checked

    @get("/api/extra/guarded", opt=requires(Permission.CASES_READ), sync_to_thread=False)
    def guarded_extra() -> None: ...

    app.register(extra)
    app.register(options_handler)
    app.register(guarded_extra)
    assert sorted((o.method, o.path) for o in unguarded(app, PUBLIC_ROUTES)) == [
        ("GET", "/api/extra"), ("OPTIONS", "/api/extra/options")]


# --- fail closed over HTTP ------------------------------------------------------------------------------------------


@get("/api/undeclared", sync_to_thread=False)
def undeclared() -> dict[str, str]:
    return {"leaked": "yes"}


@get("/api/stringly", opt={PERMISSION: "cases:read"}, sync_to_thread=False)
def stringly() -> dict[str, str]:
    return {"leaked": "yes"}


@pytest.fixture
def container() -> AppContainer:
    return build_memory_container(settings_for_tests(REDIS_URL=""))


async def _everything_token(container: AppContainer) -> str:
    user = await make_user(container, "test_everything")  # every permission at scope all
    return await token_for(container, user)


async def _denials(container: AppContainer) -> list[dict[str, Any]]:
    found = await container.identity.audit().list(AuditFilters(action=("access.denied",)), PageRequest(limit=100))
    return [entry.data for entry in found.items]


@pytest.mark.parametrize("build", ["create_app", "bare_litestar"])
async def test_a_handler_that_declares_nothing_is_refused_to_everyone(container: AppContainer, build: str) -> None:
    if build == "create_app":
        app = create_app(container)
        app.register(undeclared)
        app.register(stringly)
    else:
        app = Litestar([undeclared, stringly], guards=[authorize], exception_handlers=exception_handlers)
        app.state.container = container
    token = await _everything_token(container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        for path in ("/api/undeclared", "/api/stringly"):
            anonymous = await http.get(path)
            assert anonymous.status_code == 401, anonymous.text
            signed_in = await http.get(path, headers=bearer(token))
            assert signed_in.status_code == 403, signed_in.text
            assert "leaked" not in signed_in.text
    assert sorted((d["permission"], d["path"]) for d in await _denials(container)) == [
        ("undeclared", "/api/stringly"), ("undeclared", "/api/undeclared")]


async def test_the_same_token_passes_a_declared_handler(container: AppContainer) -> None:
    """The refusals above come from the missing declaration, not from a bad token or app."""
    app = create_app(container)
    token = await _everything_token(container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        assert (await http.get("/api/policy-types", headers=bearer(token))).status_code == 200
        assert (await http.get("/api/policy-types")).status_code == 401


async def test_a_role_without_the_permission_is_refused(container: AppContainer) -> None:
    async with container.adapters.identity_uow() as uow:
        role = await uow.roles.add(Role(id=None, name="nothing", display_name="Nothing", grants=()))
        await uow.commit()
    user = await make_user(container, role.name)
    token = await token_for(container, user)
    app = create_app(container)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        assert (await http.get("/api/policy-types", headers=bearer(token))).status_code == 403
        assert (await http.get("/api/auth/me", headers=bearer(token))).status_code == 200  # signed_in() only
