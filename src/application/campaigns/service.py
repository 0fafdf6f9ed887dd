"""Use cases on campaigns: create (one campaign per channel, in one unit of work), list, read, edit while draft,
pause / resume / cancel, recipients and a test send. Sending itself is the engine's (`CampaignLauncher`).

Status changes (PUT status): `active` launches a draft (to `scheduled` when its time is still ahead), resumes a
paused one (back to `scheduled` when it never started and its time is still ahead) or starts a scheduled one now;
`paused` and `cancelled` follow `Campaign.move_to`; anything it refuses is a 409 naming the current status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from application.campaigns.config import CampaignsConfig
from application.campaigns.drafts import CampaignDraft, patched_draft, validated_drafts
from application.campaigns.errors import CampaignNotEditable, CampaignNotFound, IdempotencyKeyReused
from application.campaigns.ports import AudienceSource, CampaignFilters, CampaignsUnitOfWork
from application.campaigns.views import (
    CampaignPatch,
    CampaignsCreated,
    CampaignSummary,
    CampaignView,
    NewCampaign,
    RecipientView,
    StatusChange,
    StatusChanged,
    TestSend,
    TestSent,
)
from application.shared.pagination import Page, PageRequest
from domain.campaigns.model import Campaign, CampaignStatus
from domain.shared.clock import Clock
from domain.shared.contact import PhoneNumberNormaliser, normalise_email
from domain.shared.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from application.campaigns.composer import CampaignTemplates

__all__ = ["CampaignLauncher", "CampaignService", "CatalogOfTemplates", "TemplateCatalog"]

MAX_IDEMPOTENCY_KEY = 255
_IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0c2f0e-8a61-4c3e-9d0a-6f1f5f0c7a11")
_REQUESTABLE = ("paused", "active", "cancelled")


class TemplateCatalog(Protocol):
    """The messaging context's templates, as far as the use cases check them."""

    async def exists(self, template_id: int, channel: str) -> bool:
        """True when the template exists and is one of `channel`'s (email, sms, whatsapp)."""
        ...


class CatalogOfTemplates:
    """A `TemplateCatalog` over the engine's `CampaignTemplates` port, so one adapter serves both."""

    def __init__(self, templates: CampaignTemplates) -> None:
        self._templates = templates

    async def exists(self, template_id: int, channel: str) -> bool:
        template = await self._templates.get(template_id)
        return template is not None and template.channel == channel


class CampaignLauncher(Protocol):
    """The sending engine, as the use cases start it."""

    async def launch(self, campaign_id: int) -> None:
        """Start a campaign: write its recipients once (AudienceSource.materialise; target_count and excluded on
        the campaign), move a draft to `scheduled` (its time is ahead) or `active`, and enqueue the first batch of
        an active one. Called again on a campaign this service resumed or started (already `active` or
        `scheduled`): the recipients already written stay as they are, only the next batch is enqueued."""
        ...

    async def send_test(self, campaign_id: int, to: str) -> str:
        """Render the campaign with sample values and send one copy to `to` now (no recipient row, no counters);
        returns the provider's message id."""
        ...


class CampaignService:
    def __init__(self, uow: Callable[[], CampaignsUnitOfWork], clock: Clock, audience: AudienceSource,
                 engine: CampaignLauncher, config: CampaignsConfig, *, templates: TemplateCatalog,
                 phones: PhoneNumberNormaliser) -> None:
        self._uow = uow
        self._clock = clock
        self._audience = audience
        self._engine = engine
        self._config = config
        self._templates = templates
        self._phones = phones

    async def create(self, cmd: NewCampaign, user_id: int | None,
                     idempotency_key: str | None = None) -> CampaignsCreated:
        """Validate every field at once, store one campaign per channel sharing a group key, then launch them
        unless `launch` is false. The same Idempotency-Key and body answer the first response again."""
        key = _idempotency_key(idempotency_key)
        async with self._uow() as uow:
            drafts = await validated_drafts(cmd, uow.segments, self._templates, self._clock.now(), self._config)
        group_key = uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{user_id}:{key}") if key is not None else uuid.uuid4()
        if key is not None:
            replay = await self._replay(group_key, key, drafts)
            if replay is not None:
                return replay
        campaigns = [await self._estimated(draft.campaign(group_key, user_id)) for draft in drafts]
        async with self._uow() as uow:
            for campaign in campaigns:
                await uow.campaigns.add(campaign)
            await uow.commit()
        if cmd.launch:
            campaigns = [await self._launch(campaign.id or 0, "active") for campaign in campaigns]
        return CampaignsCreated(campaigns=[CampaignSummary.of(c) for c in campaigns])

    async def list(self, statuses: tuple[str, ...], channels: tuple[str, ...],
                   page: PageRequest) -> Page[CampaignView]:
        async with self._uow() as uow:
            found = await uow.campaigns.list(CampaignFilters(statuses=statuses, channels=channels), page)
        return Page(items=[CampaignView.of(c) for c in found.items], page=found.page, limit=found.limit,
                    total=found.total, total_is_estimate=found.total_is_estimate)

    async def get(self, campaign_id: int) -> CampaignView:
        """The campaign with its recipients counted by status."""
        async with self._uow() as uow:
            campaign = await _existing(uow, campaign_id)
            counters = await uow.campaigns.counters(campaign_id)
        return CampaignView.of(campaign, counters)

    async def update(self, campaign_id: int, patch: CampaignPatch) -> CampaignView:
        """Change a draft; a campaign that has left draft is a 409 naming its status."""
        async with self._uow() as uow:
            campaign = await _existing(uow, campaign_id, lock=True)
            if not campaign.editable:
                raise CampaignNotEditable(campaign_id, str(campaign.status))
            draft = await patched_draft(campaign, patch, uow.segments, self._templates, self._clock.now(),
                                        self._config)
            audience_changed = draft.audience != campaign.audience
            draft.apply_to(campaign)
            if audience_changed:
                campaign = await self._estimated(campaign)
            await uow.campaigns.save(campaign)
            await uow.commit()
        return await self.get(campaign_id)

    async def change_status(self, campaign_id: int, change: StatusChange) -> StatusChanged:
        """Pause, resume or launch (`active`), or cancel; see the module docstring."""
        requested = change.status.strip().lower()
        if requested not in _REQUESTABLE:
            raise ValidationFailed.on("status", f"must be one of: {', '.join(_REQUESTABLE)}")
        campaign = await self._launch(campaign_id, requested)
        assert campaign.id is not None
        return StatusChanged(campaign_id=f"campaign-{campaign.id}", status=str(campaign.status),
                             updated_at=campaign.updated_at)

    async def recipients(self, campaign_id: int, statuses: tuple[str, ...],
                         page: PageRequest) -> Page[RecipientView]:
        async with self._uow() as uow:
            await _existing(uow, campaign_id)
            found = await uow.recipients.list(campaign_id, statuses, page)
        return Page(items=[RecipientView.of(r) for r in found.items], page=found.page, limit=found.limit,
                    total=found.total, total_is_estimate=found.total_is_estimate)

    async def test_send(self, campaign_id: int, cmd: TestSend) -> TestSent:
        """Send one copy, rendered with sample values, to an address of the campaign's channel."""
        async with self._uow() as uow:
            campaign = await _existing(uow, campaign_id)
        if campaign.channel == "email":
            to = normalise_email(cmd.to, field="to")
        else:
            to = self._phones.to_e164(cmd.to, field="to")
        message_id = await self._engine.send_test(campaign_id, to)
        return TestSent(campaign_id=f"campaign-{campaign_id}", to=to, message_id=message_id)

    async def _launch(self, campaign_id: int, requested: str) -> Campaign:
        """Move the campaign as requested; a draft is moved by the engine's launch (so a launch that fails leaves a
        draft, never an active campaign without recipients); any other start or resume is moved here first."""
        now = self._clock.now()
        async with self._uow() as uow:
            campaign = await _existing(uow, campaign_id, lock=True)
            before, target = campaign.status, _target(campaign, requested, now)
            starts = target in (CampaignStatus.ACTIVE, CampaignStatus.SCHEDULED)
            campaign.move_to(target, now, reason="manual" if target is CampaignStatus.PAUSED else None)
            if not (starts and before is CampaignStatus.DRAFT):
                await uow.campaigns.save(campaign)
                await uow.commit()
        if starts:
            await self._engine.launch(campaign_id)
            async with self._uow() as uow:
                campaign = await _existing(uow, campaign_id)
        return campaign

    async def _estimated(self, campaign: Campaign) -> Campaign:
        """The audience's size now as the target count (launch replaces it with the recipients written); an
        upload without a single policy due is refused (it may not exist: the campaign's key would point nowhere)."""
        counted = await self._audience.count(campaign.channel, campaign.audience)
        if campaign.audience.get("kind") == "upload" and not any(counted.values()):
            raise ValidationFailed.on("uploadId", f"upload-{campaign.upload_id} has no policies due for renewal "
                                                  "(or there is no such upload)")
        campaign.target_count = counted.get("eligible", 0)
        campaign.excluded = {k: v for k, v in counted.items() if k != "eligible"}
        return campaign

    async def _replay(self, group_key: uuid.UUID, key: str,
                      drafts: Sequence[CampaignDraft]) -> CampaignsCreated | None:
        async with self._uow() as uow:
            page = await uow.campaigns.list(CampaignFilters(group_key=str(group_key)), PageRequest(page=1, limit=10))
        if not page.items:
            return None
        stored = sorted(page.items, key=lambda c: c.id or 0)
        asked = sorted(d.fingerprint() for d in drafts)
        if sorted(CampaignDraft.of_campaign(c).fingerprint() for c in stored) != asked:
            raise IdempotencyKeyReused.of(key)
        return CampaignsCreated(campaigns=[CampaignSummary.of(c) for c in stored])


def _target(campaign: Campaign, requested: str, now: datetime) -> CampaignStatus:
    if requested != "active":
        return CampaignStatus(requested)
    later = campaign.scheduled_at is not None and campaign.scheduled_at > now
    if campaign.status is CampaignStatus.DRAFT and later:
        return CampaignStatus.SCHEDULED
    if campaign.status is CampaignStatus.PAUSED and campaign.started_at is None and later:
        return CampaignStatus.SCHEDULED
    return CampaignStatus.ACTIVE


async def _existing(uow: CampaignsUnitOfWork, campaign_id: int, *, lock: bool = False) -> Campaign:
    campaign = await (uow.campaigns.get_for_update(campaign_id) if lock else uow.campaigns.get(campaign_id))
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def _idempotency_key(raw: str | None) -> str | None:
    key = (raw or "").strip() or None
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed([FieldError("Idempotency-Key", f"must be at most {MAX_IDEMPOTENCY_KEY} characters")])
    return key

