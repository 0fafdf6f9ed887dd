"""Commands and answers of the campaign use cases; they double as the HTTP bodies (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from application.campaigns.errors import public_campaign_id
from domain.campaigns.model import Campaign, Recipient

__all__ = [
    "AbTestSpec",
    "AbTestView",
    "AbVariantSpec",
    "AudienceView",
    "CampaignPatch",
    "CampaignSummary",
    "CampaignView",
    "CampaignsCreated",
    "NewCampaign",
    "RecipientView",
    "StatusChange",
    "StatusChanged",
    "TestSend",
    "TestSent",
    "public_template_id",
]

Reference = str | int  # a public id such as `template-3`, or the bare number


def public_template_id(template_id: int) -> str:
    return f"template-{template_id}"


def _public(prefix: str, number: int | None) -> str | None:
    return None if number is None else f"{prefix}-{number}"


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


class AbVariantSpec(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """One arm: what it changes (subject, content or template) and its share of the test sample."""

    name: str
    split_percent: int
    subject: str | None = None
    content: str | None = None
    template_id: Reference | None = None


class AbTestSpec(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """`holdoutPercent` of the audience is never sent (the comparison group); `testPercent` of the rest is split
    between the variants; after `waitMinutes` the best by `metric` (open, click, reply or conversion) goes to the
    remainder. `testPercent` 100 sends every variant to its split and declares a winner for the record only."""

    variants: list[AbVariantSpec]
    holdout_percent: int = 0
    test_percent: int = 20
    wait_minutes: int = 240
    metric: str = "open"


class NewCampaign(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """The specification's POST /api/campaigns. `type`: the channels, one campaign each. The audience is one of:
    `uploadId` (the rows that upload ingested), `segmentId` or an inline segment `filter`, or `targetAudience`
    "all" (with `uploadId`: all of the upload's rows). `templates` names one template per channel; `content`
    (per channel) and `subject` (email) override the template's text. `launch` false keeps them as drafts."""

    name: str
    type: list[str] | str
    description: str | None = None
    upload_id: Reference | None = None
    segment_id: Reference | None = None
    filter: dict[str, Any] | None = None
    target_audience: str | None = None
    templates: dict[str, Reference] = msgspec.field(default_factory=dict)
    subject: str | None = None
    content: dict[str, str] | None = None
    ab_test: AbTestSpec | None = None
    schedule_type: str = "immediate"
    scheduled_at: datetime | None = None
    launch: bool = True


class CampaignPatch(msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Change a draft campaign; absent fields stay as they are. An audience field replaces the whole audience."""

    name: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    upload_id: Reference | UnsetType | None = UNSET
    segment_id: Reference | UnsetType | None = UNSET
    filter: dict[str, Any] | UnsetType | None = UNSET
    target_audience: str | UnsetType | None = UNSET
    template_id: Reference | UnsetType | None = UNSET
    subject: str | UnsetType | None = UNSET
    content: str | UnsetType | None = UNSET
    ab_test: AbTestSpec | UnsetType | None = UNSET
    schedule_type: str | UnsetType = UNSET
    scheduled_at: datetime | UnsetType | None = UNSET


class CampaignSummary(msgspec.Struct, kw_only=True, rename="camel"):
    """One campaign of the POST's answer, as the specification shows it."""

    id: str
    name: str
    type: str
    status: str
    target_count: int | None
    scheduled_at: datetime | None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignSummary:
        assert campaign.id is not None
        return cls(id=public_campaign_id(campaign.id), name=campaign.name, type=campaign.channel,
                   status=str(campaign.status), target_count=campaign.target_count, scheduled_at=campaign.scheduled_at)


class CampaignsCreated(msgspec.Struct, kw_only=True):
    campaigns: list[CampaignSummary]


class AudienceView(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    kind: str  # upload | segment | all
    upload_id: str | None = None
    segment_id: str | None = None
    filter: dict[str, Any] | None = None


class VariantView(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    split_percent: int
    subject: str | None
    content: str | None
    template_id: str | None


class AbTestView(msgspec.Struct, kw_only=True, rename="camel"):
    variants: list[VariantView]
    holdout_percent: int
    test_percent: int
    wait_minutes: int
    metric: str
    decision: dict[str, Any] | None  # the winner and the numbers it was chosen on, once decided


class CampaignView(msgspec.Struct, kw_only=True, rename="camel"):
    id: str
    group_key: str | None
    name: str
    description: str | None
    type: str
    status: str
    paused_reason: str | None
    audience: AudienceView
    template_id: str | None
    subject: str | None
    content: str | None
    ab_test: AbTestView | None
    schedule_type: str
    scheduled_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    target_count: int | None
    excluded: dict[str, int]  # optedOut, noAddress, ...: audience members left out at launch
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    recipients: dict[str, int] | None = None  # by status (and total), on GET one

    @classmethod
    def of(cls, campaign: Campaign, counters: dict[str, int] | None = None) -> CampaignView:
        assert campaign.id is not None
        return cls(
            id=public_campaign_id(campaign.id),
            group_key=None if campaign.group_key is None else str(campaign.group_key), name=campaign.name,
            description=campaign.description, type=campaign.channel, status=str(campaign.status),
            paused_reason=campaign.paused_reason, audience=audience_view(campaign.audience),
            template_id=_public("template", campaign.template_id), subject=campaign.subject,
            content=campaign.content, ab_test=ab_test_view(campaign), schedule_type=campaign.schedule_type,
            scheduled_at=campaign.scheduled_at, started_at=campaign.started_at, completed_at=campaign.completed_at,
            target_count=campaign.target_count, excluded={_camel(k): v for k, v in campaign.excluded.items()},
            created_by=_public("user", campaign.created_by), created_at=campaign.created_at,
            updated_at=campaign.updated_at,
            recipients=None if counters is None else {_camel(k): v for k, v in counters.items()})


def audience_view(audience: dict[str, Any]) -> AudienceView:
    upload = audience.get("upload_id")
    segment = audience.get("segment_id")
    return AudienceView(kind=str(audience.get("kind", "all")), upload_id=_public("upload", upload),
                        segment_id=_public("segment", segment), filter=audience.get("filter"))


def ab_test_view(campaign: Campaign) -> AbTestView | None:
    if not campaign.variants:
        return None
    settings = campaign.ab_test
    return AbTestView(
        variants=[VariantView(name=v.name, split_percent=v.split_percent, subject=v.subject, content=v.content,
                              template_id=_public("template", v.template_id)) for v in campaign.variants],
        holdout_percent=int(settings.get("holdout_percent", 0)), test_percent=int(settings.get("test_percent", 100)),
        wait_minutes=int(settings.get("wait_minutes", 0)), metric=str(settings.get("metric", "open")),
        decision=settings.get("decision"))


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`paused`, `active` (launch a draft, or resume) or `cancelled`."""

    status: str


class StatusChanged(msgspec.Struct, kw_only=True, rename="camel"):
    campaign_id: str
    status: str
    updated_at: datetime | None


class RecipientView(msgspec.Struct, kw_only=True, rename="camel"):
    id: int
    customer_id: str
    policy_id: str | None
    address: str
    status: str
    variant: str | None
    attempts: int
    provider_message_id: str | None
    error_code: str | None
    error_message: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    replied_at: datetime | None
    converted_at: datetime | None

    @classmethod
    def of(cls, recipient: Recipient) -> RecipientView:
        assert recipient.id is not None
        return cls(
            id=recipient.id, customer_id=f"customer-{recipient.customer_id}",
            policy_id=_public("policy", recipient.policy_id), address=recipient.address,
            status=str(recipient.status), variant=recipient.variant, attempts=recipient.attempts,
            provider_message_id=recipient.provider_message_id, error_code=recipient.error_code,
            error_message=recipient.error_message, sent_at=recipient.sent_at, delivered_at=recipient.delivered_at,
            opened_at=recipient.opened_at, clicked_at=recipient.clicked_at, replied_at=recipient.replied_at,
            converted_at=recipient.converted_at)


class TestSend(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An address (email) or phone number (sms, whatsapp) to send one rendered copy to, with sample values."""

    __test__ = False  # not a pytest class
    to: str


class TestSent(msgspec.Struct, kw_only=True, rename="camel"):
    __test__ = False
    campaign_id: str
    to: str
    message_id: str
