"""Validation of what a POST or PATCH asks for, into one `CampaignDraft` per channel, every field error at once.

Rules beyond the field types: a channel sends its template (`templates.<channel>`, which must be one of that
channel's) or its own `content` (email also needs a subject, its own or the template's); WhatsApp sends approved
templates only (free text reaches only people who wrote in the last 24 hours, which a campaign's audience did not);
the audience is exactly one of an upload, a segment (saved or inline) or everyone; a scheduled campaign's time is
ahead, within `max_schedule_days`. Content limits are the providers' (as the messaging templates'): 50,000
characters for email, 1,600 for SMS (Twilio's longest body), 4,096 for WhatsApp.
"""

from __future__ import annotations

import builtins
import copy
import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from application.campaigns.config import CampaignsConfig
from application.campaigns.ports import SegmentRepository
from application.campaigns.views import AbTestSpec, CampaignPatch, NewCampaign, Reference
from application.shared.commands import set_fields
from domain.campaigns.ab_test import ABTest
from domain.campaigns.model import Campaign, Variant
from domain.campaigns.segments import parse_filter
from domain.shared.errors import FieldError, ValidationFailed
from domain.shared.ids import parse_public_id

if TYPE_CHECKING:
    import uuid

    from application.campaigns.service import TemplateCatalog

__all__ = ["CHANNELS", "METRICS", "CampaignDraft", "patched_draft", "validated_drafts"]

CHANNELS = ("email", "sms", "whatsapp")
CHANNEL_NAMES = {"email": "Email", "sms": "SMS", "whatsapp": "WhatsApp"}
CONTENT_LIMITS = {"email": 50_000, "sms": 1_600, "whatsapp": 4_096}
METRICS = ("open", "click", "reply", "conversion")
NAME_MAX = 255
BASE_NAME_MAX = NAME_MAX - len(" (WhatsApp)")
SUBJECT_MAX = 500
DESCRIPTION_MAX = 2_000


@dataclass
class CampaignDraft:
    """The fields of one channel's campaign that a person chooses (the rest the engine fills)."""

    name: str
    channel: str
    description: str | None = None
    audience: dict[str, Any] = field(default_factory=dict)
    upload_id: int | None = None
    segment_id: int | None = None
    template_id: int | None = None
    subject: str | None = None
    content: str | None = None
    variants: builtins.list[Variant] = field(default_factory=list)
    ab_test: dict[str, Any] = field(default_factory=dict)
    schedule_type: str = "immediate"
    scheduled_at: datetime | None = None

    @classmethod
    def of_campaign(cls, campaign: Campaign) -> CampaignDraft:
        return cls(**{f.name: copy.deepcopy(getattr(campaign, f.name)) for f in fields(cls)})

    def campaign(self, group_key: uuid.UUID, created_by: int | None) -> Campaign:
        return Campaign(id=None, group_key=group_key, created_by=created_by, **copy.deepcopy(vars(self)))

    def apply_to(self, campaign: Campaign) -> None:
        for f in fields(self):
            setattr(campaign, f.name, copy.deepcopy(getattr(self, f.name)))

    def fingerprint(self) -> str:
        """What makes two requests the same request (the idempotency check compares these), as canonical JSON."""
        chosen = {f.name: getattr(self, f.name) for f in fields(self)}
        chosen["ab_test"] = {k: v for k, v in self.ab_test.items() if k != "decision"}
        chosen["variants"] = [vars(v) for v in self.variants]
        chosen["scheduled_at"] = None if self.scheduled_at is None else self.scheduled_at.timestamp()
        return json.dumps(chosen, sort_keys=True, default=str)


async def validated_drafts(cmd: NewCampaign, segments: SegmentRepository, templates: TemplateCatalog,
                           now: datetime, config: CampaignsConfig) -> builtins.list[CampaignDraft]:
    """One draft per channel of `cmd.type`; raises one ValidationFailed naming every problem."""
    errors: list[FieldError] = []
    name = _text(cmd.name, "name", BASE_NAME_MAX, errors, required=True)
    channels = _channels(cmd.type, errors)
    description = _text(cmd.description, "description", DESCRIPTION_MAX, errors)
    audience = await _audience(cmd.upload_id, cmd.segment_id, cmd.filter, cmd.target_audience, segments, now, errors)
    for channel in cmd.templates:
        if channel not in channels:
            errors.append(FieldError(f"templates.{channel}", "is not one of the campaign's channels (type)"))
    for channel in cmd.content or {}:
        if channel not in channels:
            errors.append(FieldError(f"content.{channel}", "is not one of the campaign's channels (type)"))
    subject = _text(cmd.subject, "subject", SUBJECT_MAX, errors)
    if subject is not None and "email" not in channels:
        errors.append(FieldError("subject", "applies to email only"))
    variants, ab_test = await _ab_test(cmd.ab_test, channels, templates, errors)
    schedule = _schedule(cmd.schedule_type, cmd.scheduled_at, now, config, errors)
    drafts = []
    for channel in channels:
        template_id = await _template(cmd.templates.get(channel), channel, f"templates.{channel}", templates, errors)
        content = (cmd.content or {}).get(channel)
        draft = CampaignDraft(
            name=f"{name} ({CHANNEL_NAMES[channel]})", channel=channel, description=description,
            audience=audience, upload_id=audience.get("upload_id"), segment_id=audience.get("segment_id"),
            template_id=template_id, subject=subject if channel == "email" else None, content=content,
            variants=copy.deepcopy(variants), ab_test=dict(ab_test), schedule_type=schedule[0],
            scheduled_at=schedule[1])
        _check_channel(draft, errors, template_field=f"templates.{channel}", content_field=f"content.{channel}",
                       had_template=channel in cmd.templates)
        drafts.append(draft)
    if errors:
        raise ValidationFailed(errors)
    return drafts


async def patched_draft(campaign: Campaign, patch: CampaignPatch, segments: SegmentRepository,
                        templates: TemplateCatalog, now: datetime, config: CampaignsConfig) -> CampaignDraft:
    """The draft campaign with the PATCH applied, checked again as a whole."""
    given = set_fields(patch)
    draft = CampaignDraft.of_campaign(campaign)
    errors: list[FieldError] = []
    if "name" in given:
        draft.name = _text(given["name"], "name", NAME_MAX, errors, required=True) or draft.name
    if "description" in given:
        draft.description = _text(given["description"], "description", DESCRIPTION_MAX, errors)
    if given.keys() & {"upload_id", "segment_id", "filter", "target_audience"}:
        draft.audience = await _audience(given.get("upload_id"), given.get("segment_id"), given.get("filter"),
                                         given.get("target_audience"), segments, now, errors)
        draft.upload_id, draft.segment_id = draft.audience.get("upload_id"), draft.audience.get("segment_id")
    if "template_id" in given:
        draft.template_id = await _template(given["template_id"], draft.channel, "templateId", templates, errors)
    if "subject" in given:
        draft.subject = _text(given["subject"], "subject", SUBJECT_MAX, errors)
        if draft.subject is not None and draft.channel != "email":
            errors.append(FieldError("subject", "applies to email only"))
    if "content" in given:
        draft.content = given["content"]
    if "ab_test" in given:
        draft.variants, draft.ab_test = await _ab_test(given["ab_test"], [draft.channel], templates, errors)
    if given.keys() & {"schedule_type", "scheduled_at"}:
        kind = given.get("schedule_type", draft.schedule_type)
        at = given.get("scheduled_at", None if kind.strip().lower() == "immediate" else draft.scheduled_at)
        draft.schedule_type, draft.scheduled_at = _schedule(kind, at, now, config, errors)
    _check_channel(draft, errors, template_field="templateId", content_field="content",
                   had_template=given.get("template_id") is not None)
    if errors:
        raise ValidationFailed(errors)
    return draft


def _text(raw: str | None, name: str, limit: int, errors: list[FieldError], *, required: bool = False) -> str | None:
    text = " ".join((raw or "").split()) or None
    if text is None and required:
        errors.append(FieldError(name, "must not be blank"))
    elif text is not None and len(text) > limit:
        errors.append(FieldError(name, f"must be at most {limit} characters"))
    return text


def _channels(raw: builtins.list[str] | str, errors: list[FieldError]) -> builtins.list[str]:
    given = [raw] if isinstance(raw, str) else raw
    wanted = [str(c).strip().lower() for c in given]
    unknown = [c for c in wanted if c not in CHANNELS]
    if unknown or not wanted:
        errors.append(FieldError("type", f"must list channels among: {', '.join(CHANNELS)}"
                                         + (f" (not {', '.join(unknown)})" if unknown else "")))
    return [c for c in dict.fromkeys(wanted) if c in CHANNELS]


def _reference(raw: Reference | None, prefix: str, name: str, errors: list[FieldError]) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    number = parse_public_id(raw, prefix)
    if number is None:
        errors.append(FieldError(name, f"'{raw}' is not a valid {prefix} id"))
    return number


async def _audience(upload: Reference | None, segment: Reference | None, tree: dict[str, Any] | None,
                    target: str | None, segments: SegmentRepository, now: datetime,
                    errors: list[FieldError]) -> dict[str, Any]:
    """`{"kind": "upload", "upload_id"}`, `{"kind": "segment", "segment_id"?, "filter"}` or `{"kind": "all"}`."""
    target_text = (target or "").strip().lower() or None
    if target_text not in (None, "all"):
        errors.append(FieldError("targetAudience", "must be 'all' (or give uploadId, segmentId or filter)"))
    chosen = [name for name, value in (("uploadId", upload), ("segmentId", segment), ("filter", tree))
              if value is not None]
    if len(chosen) > 1:
        errors.append(FieldError(chosen[1], f"give one audience: {' or '.join(chosen)}, not both"))
        return {"kind": "all"}
    if not chosen and target_text is None:
        errors.append(FieldError("targetAudience", "give an audience: uploadId, segmentId, filter or 'all'"))
    if upload is not None:
        upload_id = _reference(upload, "upload", "uploadId", errors)
        return {"kind": "upload", "upload_id": upload_id}
    if segment is not None:
        segment_id = _reference(segment, "segment", "segmentId", errors)
        saved = None if segment_id is None else await segments.get(segment_id)
        if segment_id is not None and saved is None:
            errors.append(FieldError("segmentId", f"no segment 'segment-{segment_id}'"))
        return {"kind": "segment", "segment_id": segment_id, "filter": None if saved is None else saved.filter}
    if tree is not None:
        try:
            parse_filter(tree, now.date())
        except ValidationFailed as failed:
            errors.extend(failed.details)
        return {"kind": "segment", "filter": tree}
    return {"kind": "all"}


async def _template(raw: Reference | None, channel: str, name: str, templates: TemplateCatalog,
                    errors: list[FieldError]) -> int | None:
    template_id = _reference(raw, "template", name, errors)
    if template_id is not None and not await templates.exists(template_id, channel):
        errors.append(FieldError(name, f"no {channel} template 'template-{template_id}'"))
    return template_id


def _check_channel(draft: CampaignDraft, errors: list[FieldError], *, template_field: str, content_field: str,
                   had_template: bool) -> None:
    """A channel sends its template or its own content; WhatsApp only templates; email needs a subject."""
    channel, content = draft.channel, draft.content
    if channel == "whatsapp" and any(v.content or v.subject for v in draft.variants):
        errors.append(FieldError("abTest.variants", "WhatsApp campaigns send approved templates only: a variant "
                                                    "of one can change its templateId only"))
    if channel == "whatsapp" and content is not None:
        errors.append(FieldError(content_field, "WhatsApp campaigns send approved templates only: give a template"))
    elif content is not None and not content.strip():
        errors.append(FieldError(content_field, "must not be blank"))
    elif content is not None and len(content) > CONTENT_LIMITS[channel]:
        errors.append(FieldError(content_field, f"must be at most {CONTENT_LIMITS[channel]:,} characters for "
                                                f"{channel}"))
    if draft.template_id is None and content is None and not had_template:
        errors.append(FieldError(template_field, f"give a {channel} template (or the content to send)"))
    if channel == "email" and draft.template_id is None and content is not None and draft.subject is None:
        errors.append(FieldError("subject", "is required for an email without a template"))


async def _ab_test(spec: AbTestSpec | None, channels: builtins.list[str], templates: TemplateCatalog,
                   errors: list[FieldError]) -> tuple[builtins.list[Variant], dict[str, Any]]:
    """The variants and the settings kept in `Campaign.ab_test` (the domain's `ABTest.create` rules)."""
    if spec is None:
        return [], {}
    before = len(errors)
    names = [v.name.strip() for v in spec.variants]
    settings: dict[str, Any] = {}
    try:
        settings = ABTest.create([(name, v.split_percent) for name, v in zip(names, spec.variants, strict=True)],
                                 holdout_percent=spec.holdout_percent, test_percent=spec.test_percent,
                                 wait_minutes=spec.wait_minutes, metric=spec.metric).settings()
    except ValidationFailed as failed:
        errors.extend(failed.details)
    variants = []
    for i, (name, given) in enumerate(zip(names, spec.variants, strict=True)):
        where = f"abTest.variants[{i}]"
        if given.subject is not None and "email" not in channels:
            errors.append(FieldError(f"{where}.subject", "applies to email only"))
        template_id = None
        if given.template_id is not None and len(channels) != 1:
            errors.append(FieldError(f"{where}.templateId", "only in a campaign of one channel (type)"))
        elif given.template_id is not None:
            template_id = await _template(given.template_id, channels[0], f"{where}.templateId", templates, errors)
        variants.append(Variant(name=name, split_percent=given.split_percent, subject=given.subject,
                                content=given.content, template_id=template_id))
    if len(errors) != before:
        return [], {}
    return variants, settings


def _schedule(kind: str, at: datetime | None, now: datetime, config: CampaignsConfig,
              errors: list[FieldError]) -> tuple[str, datetime | None]:
    text = kind.strip().lower()
    if text not in ("immediate", "scheduled"):
        errors.append(FieldError("scheduleType", "must be one of: immediate, scheduled"))
        return "immediate", None
    if text == "immediate":
        if at is not None:
            errors.append(FieldError("scheduledAt", "only with scheduleType 'scheduled'"))
        return text, None
    if at is None:
        errors.append(FieldError("scheduledAt", "is required when scheduleType is 'scheduled'"))
    elif at.tzinfo is None or at.utcoffset() is None:
        errors.append(FieldError("scheduledAt", "must carry a time zone, e.g. 2026-05-15T14:00:00Z"))
    elif at <= now:
        errors.append(FieldError("scheduledAt", "must be in the future"))
    elif at > now + timedelta(days=config.max_schedule_days):
        errors.append(FieldError("scheduledAt", f"must be within {config.max_schedule_days} days"))
    return text, at
