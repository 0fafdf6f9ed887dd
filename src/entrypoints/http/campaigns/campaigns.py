"""Campaigns: /api/campaigns (the specification's paths, plus GET one, PATCH, recipients and a test send).

POST creates one campaign per channel and, unless `launch` is false, launches them; launching needs
`campaigns:launch` besides `campaigns:write`. `Idempotency-Key` makes the POST safe to retry: the same key and body
answer the first response again, another body is a 422. PUT status (pause, resume, cancel, or launch a draft) needs
`campaigns:launch`; an illegal move is a 409 with `currentStatus`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from application.campaigns.analytics import AnalyticsService, CampaignAnalytics
from application.campaigns.service import CampaignService
from application.campaigns.views import (
    CampaignPatch,
    CampaignsCreated,
    CampaignView,
    NewCampaign,
    RecipientView,
    StatusChange,
    StatusChanged,
    TestSend,
    TestSent,
)
from application.identity.errors import PermissionDenied
from application.identity.principal import Principal
from domain.campaigns.model import CampaignStatus, RecipientStatus
from domain.identity.permissions import Permission as P
from domain.shared.errors import ValidationFailed
from entrypoints.http.deps import container_of
from entrypoints.http.envelope import Envelope, Pagination, error_responses, ok, pagination_of
from entrypoints.http.guard import principal_of, requires
from entrypoints.http.ids import path_id
from entrypoints.http.lists import enum_values, page_request, text_values
from entrypoints.http.params import Csv, Limit, Page, Sort

__all__ = ["CampaignController", "CampaignList", "RecipientList"]

Campaigns = NamedDependency[CampaignService]
Analytics = NamedDependency[AnalyticsService]
Caller = NamedDependency[Principal]
Ident = Annotated[str, PathParameter(description="Public id such as `campaign-7`, or the bare number")]
IdempotencyKey = Annotated[str | None, HeaderParameter(
    name="Idempotency-Key", description="Any unique text (a UUID): retrying with the same key and body answers the "
                                        "first response again; another body with that key is a 422")]
BucketQ = Annotated[str, QueryParameter(description="`hour` or `day` (UTC) for the timeline")]
CAMPAIGN_SORT = ("createdAt", "updatedAt", "name")
CHANNELS = ("email", "sms", "whatsapp")


class CampaignList(msgspec.Struct, kw_only=True):
    campaigns: list[CampaignView]
    pagination: Pagination


class RecipientList(msgspec.Struct, kw_only=True):
    recipients: list[RecipientView]
    pagination: Pagination


def _campaigns(state: State) -> CampaignService:
    service: CampaignService = container_of(state).campaigns.campaigns()
    return service


def _analytics(state: State) -> AnalyticsService:
    service: AnalyticsService = container_of(state).campaigns.analytics()
    return service


def _channels(raw: str | None) -> tuple[str, ...]:
    values = text_values(raw)
    bad = [v for v in values if v not in CHANNELS]
    if bad:
        raise ValidationFailed.on("type", f"unknown value(s) {', '.join(bad)}; allowed: {', '.join(CHANNELS)}")
    return values


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ["campaigns"]
    dependencies = {"campaigns": Provide(_campaigns, sync_to_thread=False),
                    "analytics": Provide(_analytics, sync_to_thread=False),
                    "principal": Provide(principal_of, sync_to_thread=False)}

    @post("/", opt=requires(P.CAMPAIGNS_WRITE), status_code=201, responses=error_responses(400, 403, 422))
    async def create_campaign(self, data: JSONBody[NewCampaign], campaigns: Campaigns, principal: Caller,
                              idempotency_key: IdempotencyKey = None) -> Envelope[CampaignsCreated]:
        """One campaign per channel of `type` (named "<name> (Email)" ...), launched at once (or at `scheduledAt`)
        unless `launch` is false; launching also needs `campaigns:launch`."""
        if data.launch and not principal.may(P.CAMPAIGNS_LAUNCH):
            raise PermissionDenied("Launching a campaign needs campaigns:launch; send `launch: false` for a draft")
        return ok(await campaigns.create(data, principal.user_id, idempotency_key))

    @get("/", opt=requires(P.CAMPAIGNS_READ), responses=error_responses(422),
         description=f"Sort whitelist: {', '.join(CAMPAIGN_SORT)}; default `-createdAt`.")
    async def list_campaigns(self, campaigns: Campaigns, page: Page = 1, limit: Limit = 20, sort: Sort = None,
                             status: Csv = None, type: Csv = None) -> Envelope[CampaignList]:
        """Campaigns by status (`status=active,paused`) and channel (`type=email,sms`)."""
        request = page_request(page, limit, sort, CAMPAIGN_SORT, "-createdAt")
        statuses = enum_values(status, CampaignStatus, "status")
        result = await campaigns.list(statuses, _channels(type), request)
        return ok(CampaignList(campaigns=result.items, pagination=pagination_of(result)))

    @get("/{campaign_id:str}", opt=requires(P.CAMPAIGNS_READ), responses=error_responses(404))
    async def get_campaign(self, campaign_id: Ident, campaigns: Campaigns) -> Envelope[CampaignView]:
        """The campaign, with its recipients counted by status (`recipients`)."""
        return ok(await campaigns.get(path_id(campaign_id, "campaign")))

    @patch("/{campaign_id:str}", opt=requires(P.CAMPAIGNS_WRITE), responses=error_responses(400, 404, 409, 422))
    async def update_campaign(self, campaign_id: Ident, data: JSONBody[CampaignPatch],
                              campaigns: Campaigns) -> Envelope[CampaignView]:
        """Change a draft; once launched a campaign is a 409 naming its status (pause or cancel it instead)."""
        return ok(await campaigns.update(path_id(campaign_id, "campaign"), data))

    @put("/{campaign_id:str}/status", opt=requires(P.CAMPAIGNS_LAUNCH), status_code=200,
         responses=error_responses(400, 404, 409, 422))
    async def change_status(self, campaign_id: Ident, data: JSONBody[StatusChange],
                            campaigns: Campaigns) -> Envelope[StatusChanged]:
        """`paused`, `active` (launch a draft, resume a paused campaign, start a scheduled one now) or
        `cancelled`; a scheduled campaign can be paused (it does not start until resumed) or cancelled."""
        return ok(await campaigns.change_status(path_id(campaign_id, "campaign"), data))

    @get("/{campaign_id:str}/analytics", opt=requires(P.CAMPAIGNS_READ), responses=error_responses(404, 422))
    async def campaign_analytics(self, campaign_id: Ident, analytics: Analytics,
                                 bucket: BucketQ = "hour") -> Envelope[CampaignAnalytics]:
        """Sent, delivered, opened, clicked, replied, converted and their rates (raw, and human: machine opens and
        scanner clicks left out), a timeline, the best variants and links, and the A/B decision."""
        return ok(await analytics.analytics(path_id(campaign_id, "campaign"), bucket.strip().lower()))

    @get("/{campaign_id:str}/recipients", opt=requires(P.CAMPAIGNS_READ), responses=error_responses(404, 422))
    async def campaign_recipients(self, campaign_id: Ident, campaigns: Campaigns, page: Page = 1,
                                  limit: Limit = 20, status: Csv = None) -> Envelope[RecipientList]:
        """The campaign's recipients in the order they are sent, by status (`status=failed,unknown`)."""
        request = page_request(page, limit, None, (), "")
        statuses = enum_values(status, RecipientStatus, "status")
        result = await campaigns.recipients(path_id(campaign_id, "campaign"), statuses, request)
        return ok(RecipientList(recipients=result.items, pagination=pagination_of(result)))

    @post("/{campaign_id:str}/test-send", opt=requires(P.CAMPAIGNS_WRITE), status_code=200,
          responses=error_responses(400, 404, 422))
    async def send_test_copy(self, campaign_id: Ident, data: JSONBody[TestSend],
                        campaigns: Campaigns) -> Envelope[TestSent]:
        """Send one copy, rendered with sample values, to an address (email) or number (SMS, WhatsApp) now."""
        return ok(await campaigns.test_send(path_id(campaign_id, "campaign"), data))
