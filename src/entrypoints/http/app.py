"""The Litestar application factory: envelope, camelCase, errors, ids, docs, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Request, Router, get
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from domain.shared.ids import EntityId
from entrypoints.container import AppContainer
from entrypoints.http.analytics import ROUTES as ANALYTICS_ROUTES
from entrypoints.http.campaigns.campaigns import CampaignController
from entrypoints.http.campaigns.segments import SegmentController
from entrypoints.http.campaigns.tracking import TrackingController
from entrypoints.http.case_views import ROUTES as CASE_VIEW_ROUTES
from entrypoints.http.desk import ROUTES as DESK_ROUTES
from entrypoints.http.envelope import JsonResponse
from entrypoints.http.errors import exception_handlers
from entrypoints.http.events import user_events_socket
from entrypoints.http.guard import authorize, public
from entrypoints.http.health import HealthController
from entrypoints.http.identity.admin import (
    AuditController,
    PermissionController,
    RoleController,
    UserController,
)
from entrypoints.http.identity.auth import AuthController
from entrypoints.http.ids import EntityIdSchemaPlugin, public_id
from entrypoints.http.messaging.communication import CommunicationController
from entrypoints.http.messaging.templates import TemplateController
from entrypoints.http.messaging.unsubscribe import ConsentController, UnsubscribeController
from entrypoints.http.messaging.webhooks import WebhookController
from entrypoints.http.payments import ROUTES as PAYMENT_ROUTES
from entrypoints.http.policies.controllers import (
    CaseController,
    CustomerController,
    PolicyController,
    PolicyTypeController,
)
from entrypoints.http.reminders import ROUTES as REMINDER_ROUTES
from entrypoints.http.request_id import RequestIdMiddleware
from entrypoints.http.uploads.controllers import upload_controller
from entrypoints.logging import configure_logging
from entrypoints.resources import open_resources
from entrypoints.runtime import freeze_startup_objects

__all__ = ["create_app"]


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    opt = public()  # scraped from inside the network; keep it off the public ingress


_DOCS = ScalarRenderPlugin(path="/")


@get("/api/docs", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False, opt=public())
def api_docs(request: Request[Any, Any, Any]) -> bytes:
    """The browsable API reference, rendered from /api/schema/openapi.json."""
    return _DOCS.render(request, request.app.openapi_schema.to_schema())


def create_app(container: AppContainer) -> Litestar:
    """Build the API around an already-wired container; clients open in the lifespan."""
    settings = container.settings
    configure_logging(settings.log_level, json=settings.app_env != "test")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_resources(container) as resources:
            app.state.resources = resources
            freeze_startup_objects()
            yield

    prometheus = PrometheusConfig(app_name="renewals", prefix="renewals", group_path=True,
                                  exclude=["/metrics", "/health"])
    app = Litestar(
        route_handlers=[api_docs, HealthController, MetricsController, AuthController, UserController,
                        RoleController, PermissionController, AuditController, CustomerController,
                        PolicyController, PolicyTypeController, CaseController,
                        upload_controller(settings.upload_max_mb * 2**20),
                        TemplateController, CommunicationController, ConsentController, WebhookController,
                        UnsubscribeController, CampaignController, SegmentController, TrackingController,
                        *DESK_ROUTES, *CASE_VIEW_ROUTES, *PAYMENT_ROUTES, *REMINDER_ROUTES, *ANALYTICS_ROUTES,
                        user_events_socket],
        guards=[authorize],
        lifespan=[lifespan],
        middleware=[RequestIdMiddleware, prometheus.middleware],
        exception_handlers=exception_handlers,
        response_class=JsonResponse,
        type_encoders={EntityId: public_id},
        plugins=[EntityIdSchemaPlugin()],
        cors_config=CORSConfig(allow_origins=["*"], expose_headers=["X-Request-ID"]),
        openapi_config=OpenAPIConfig(
            title="Insurance renewal desk API", version="0.1.0", path="/api/schema",
            openapi_router=Router("/api/schema", route_handlers=[], include_in_schema=False, opt=public()),
            security=[{"bearer": []}],
            components=Components(security_schemes={"bearer": SecurityScheme(
                type="http", scheme="bearer", bearer_format="JWT",
                description="The access token from POST /api/auth/login")}),
            render_plugins=[_DOCS, SwaggerRenderPlugin(path="/swagger")],
            description="Backend of the policy renewal management system. Every response uses the "
                        "`{success, data}` / `{success, error}` envelope; ids look like `policy-42`."),
        logging_config=None,  # configure_logging owns the handlers: JSON for every logger
        debug=False,
    )
    app.state.container = container
    return app
