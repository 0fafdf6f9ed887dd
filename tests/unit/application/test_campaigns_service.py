"""Campaign use cases on the in-memory campaigns unit of work, a fixed clock, a fake audience, template catalogue and
launcher: one campaign per channel, validation of every field at once, drafts, status changes, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from adapters.memory.campaigns_uow import InMemoryCampaignsUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.phonenumbers.phone_normaliser import PhonenumbersPhoneNormaliser
from adapters.system.clock import FixedClock
from application.campaigns.composer import CampaignTemplate
from application.campaigns.config import CampaignsConfig
from application.campaigns.errors import (
    CampaignNotEditable,
    CampaignNotFound,
    IdempotencyKeyReused,
    SegmentNotFound,
)
from application.campaigns.ports import AudienceCandidate, SavedSegment
from application.campaigns.segments import NewSegment, SegmentPreviewRequest, SegmentService
from application.campaigns.service import CampaignService, CatalogOfTemplates
from application.campaigns.views import CampaignPatch, NewCampaign, StatusChange, TestSend
from application.shared.pagination import PageRequest
from domain.campaigns.model import CampaignStatus, Recipient, RecipientStatus
from domain.shared.errors import Conflict, InvalidTransition, ValidationFailed
from tests.unit.application import campaigns_support
from tests.unit.application.campaigns_support import NOW

clock, store, uow = campaigns_support.clock, campaigns_support.store, campaigns_support.uow  # the shared fixtures

ALL = PageRequest(page=1, limit=100)
TEMPLATES = {1: ("email", "<p>Dear {name}</p>"), 2: ("whatsapp", "renewal_reminder"), 3: ("sms", "Dear {name}"),
             4: ("email", "<p>Other</p>")}


class FakeTemplates:
    async def get(self, template_id: int) -> CampaignTemplate | None:
        found = TEMPLATES.get(template_id)
        return None if found is None else CampaignTemplate(channel=found[0], content=found[1])


class FakeAudience:
    """Counts by the audience's kind; `sizes` can be changed by a test."""

    def __init__(self) -> None:
        self.sizes = {"upload": 142, "segment": 40, "all": 900}
        self.counted: list[tuple[str, dict[str, Any]]] = []
        self.empty = False  # nobody at all, excluded or not

    async def count(self, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        self.counted.append((channel, audience))
        if self.empty:
            return {"eligible": 0, "opted_out": 0, "no_address": 0}
        return {"eligible": self.sizes[audience["kind"]], "opted_out": 3, "no_address": 2 if channel != "email" else 1}

    async def sample(self, channel: str, audience: dict[str, Any], limit: int) -> list[AudienceCandidate]:
        found = [AudienceCandidate(customer_id=3, policy_id=8, address="asha@example.in", values={"name": "Asha"}),
                 AudienceCandidate(customer_id=4, policy_id=None, address="ravi@example.in", values={},
                                   opted_out=True),
                 AudienceCandidate(customer_id=5, policy_id=9, address=None, values={})]
        return found[:limit]

    async def materialise(self, campaign_id: int, channel: str, audience: dict[str, Any]) -> dict[str, int]:
        raise AssertionError("the service never materialises itself: the launcher does")


class FakeLauncher:
    """Does what the engine's launch does to the records: one recipient written on the first launch, a draft moved
    to scheduled or active."""

    def __init__(self, uow: Callable[[], InMemoryCampaignsUnitOfWork], clock: FixedClock) -> None:
        self._uow = uow
        self._clock = clock
        self.launched: list[tuple[int, str]] = []  # (campaign id, its status when launched)
        self.tests: list[tuple[int, str]] = []

    async def launch(self, campaign_id: int) -> None:
        async with self._uow() as uow:
            campaign = await uow.campaigns.get(campaign_id)
            assert campaign is not None
            self.launched.append((campaign_id, campaign.status.value))
            if not any(launched == campaign_id for launched, _ in self.launched[:-1]):
                await uow.recipients.add_many([Recipient(id=None, campaign_id=campaign_id, customer_id=7,
                                                         address="a@example.in")])
                campaign.target_count = 1
            if campaign.status is CampaignStatus.DRAFT:
                now = self._clock.now()
                later = campaign.scheduled_at is not None and campaign.scheduled_at > now
                campaign.move_to(CampaignStatus.SCHEDULED if later else CampaignStatus.ACTIVE, now)
            await uow.campaigns.save(campaign)
            await uow.commit()

    async def send_test(self, campaign_id: int, to: str) -> str:
        self.tests.append((campaign_id, to))
        return f"provider-{len(self.tests)}"


@pytest.fixture
def audience() -> FakeAudience:
    return FakeAudience()


@pytest.fixture
def launcher(uow: Callable[[], InMemoryCampaignsUnitOfWork], clock: FixedClock) -> FakeLauncher:
    return FakeLauncher(uow, clock)


@pytest.fixture
def service(uow: Callable[[], InMemoryCampaignsUnitOfWork], clock: FixedClock, audience: FakeAudience,
            launcher: FakeLauncher) -> CampaignService:
    return CampaignService(uow, clock, audience, launcher, CampaignsConfig(),
                           templates=CatalogOfTemplates(FakeTemplates()), phones=PhonenumbersPhoneNormaliser("IN"))


def new(**changes: Any) -> NewCampaign:
    body: dict[str, Any] = {"name": "May Renewals Campaign", "type": ["email", "whatsapp"], "uploadId": "upload-123",
                            "templates": {"email": "template-1", "whatsapp": "template-2"}, "targetAudience": "all"}
    body.update(changes)
    return msgspec.convert(body, NewCampaign)


def fields_of(failed: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {d.field for d in failed.value.details}


async def test_one_campaign_per_channel_sharing_a_group_and_launched(
        service: CampaignService, store: MemoryStore, launcher: FakeLauncher) -> None:
    created = await service.create(new(), user_id=5)
    assert [(c.name, c.type, c.status, c.target_count) for c in created.campaigns] == [
        ("May Renewals Campaign (Email)", "email", "active", 1),
        ("May Renewals Campaign (WhatsApp)", "whatsapp", "active", 1)]
    stored = sorted(store.tables.campaigns.values(), key=lambda c: c.id or 0)
    assert launcher.launched == [(c.id, "draft") for c in stored]
    assert len({c.group_key for c in stored}) == 1 and stored[0].group_key is not None
    assert [(c.template_id, c.audience, c.upload_id, c.created_by) for c in stored] == [
        (1, {"kind": "upload", "upload_id": 123}, 123, 5), (2, {"kind": "upload", "upload_id": 123}, 123, 5)]
    assert stored[0].started_at == NOW


async def test_an_upload_with_nothing_due_is_refused(service: CampaignService, audience: FakeAudience,
                                                     store: MemoryStore) -> None:
    audience.empty = True
    with pytest.raises(ValidationFailed) as failed:
        await service.create(new(), user_id=5)
    assert fields_of(failed) == {"uploadId"} and store.tables.campaigns == {}


async def test_a_scheduled_campaign_waits_and_a_draft_is_only_estimated(
        service: CampaignService, launcher: FakeLauncher, store: MemoryStore) -> None:
    at = NOW + timedelta(days=14)
    scheduled = await service.create(new(type=["sms"], templates={"sms": 3}, scheduleType="scheduled",
                                         scheduledAt=at.isoformat()), user_id=None)
    assert [(c.name, c.status, c.scheduled_at) for c in scheduled.campaigns] == [
        ("May Renewals Campaign (SMS)", "scheduled", at)]
    assert len(launcher.launched) == 1
    draft = await service.create(new(type="email", templates={"email": "1"}, launch=False, uploadId=None),
                                 user_id=None)
    assert [(c.status, c.target_count) for c in draft.campaigns] == [("draft", 900)]
    assert len(launcher.launched) == 1
    stored = store.tables.campaigns[int(draft.campaigns[0].id.removeprefix("campaign-"))]
    assert stored.audience == {"kind": "all"} and stored.excluded == {"opted_out": 3, "no_address": 1}


async def test_every_invalid_field_is_named_at_once_and_nothing_is_stored(
        service: CampaignService, store: MemoryStore) -> None:
    with pytest.raises(ValidationFailed) as failed:
        await service.create(new(
            name=" ", type=["email", "fax"], uploadId=None, targetAudience="vip",
            templates={"email": "template-2", "sms": "template-3"}, scheduleType="scheduled",
            scheduledAt=(NOW - timedelta(minutes=1)).isoformat(),
            abTest={"variants": [{"name": "A", "splitPercent": 60}, {"name": "B", "splitPercent": 60}]}), user_id=1)
    assert fields_of(failed) == {"name", "type", "targetAudience", "templates.email", "templates.sms",
                                 "scheduledAt", "abTest.variants"}
    assert "no email template 'template-2'" in str(failed.value)
    assert store.tables.campaigns == {}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"segmentId": "segment-1"}, {"segmentId"}),  # two audiences at once
    ({"uploadId": None, "targetAudience": None}, {"targetAudience"}),  # none
    ({"type": ["whatsapp"], "templates": {}, "content": {"whatsapp": "Hi {name}"}}, {"content.whatsapp"}),
    ({"type": ["email"], "templates": {}, "content": {"email": "<p>Hi</p>"}}, {"subject"}),
    ({"type": ["sms"], "templates": {}}, {"templates.sms"}),
    ({"type": ["sms"], "templates": {"sms": 3}, "subject": "Hello"}, {"subject"}),
    ({"scheduledAt": "2026-06-01T10:00:00Z"}, {"scheduledAt"}),  # immediate with a time
    ({"scheduleType": "scheduled"}, {"scheduledAt"}),
    ({"scheduleType": "scheduled", "scheduledAt": "2026-06-01T10:00:00"}, {"scheduledAt"}),  # no zone
    ({"filter": {"field": "policy.renewal_date", "op": "within_days", "value": "soon"}, "uploadId": None},
     {"filter.value"}),
    ({"type": ["email", "sms"], "templates": {"email": 1, "sms": 3},
      "abTest": {"variants": [{"name": "A", "splitPercent": 50, "templateId": 4},
                              {"name": "B", "splitPercent": 50}], "metric": "revenue"}},
     {"abTest.variants[0].templateId", "abTest.metric"}),
])
async def test_rules_across_fields(service: CampaignService, changes: dict[str, Any], expected: set[str]) -> None:
    with pytest.raises(ValidationFailed) as failed:
        await service.create(new(**changes), user_id=1)
    assert fields_of(failed) == expected


async def test_a_saved_segment_is_copied_into_the_audience(
        service: CampaignService, uow: Callable[[], InMemoryCampaignsUnitOfWork], store: MemoryStore) -> None:
    tree = {"field": "policy.policy_type", "op": "eq", "value": "motor"}
    async with uow() as unit:
        saved = await unit.segments.add(SavedSegment(id=None, name="Motor", filter=tree))
        await unit.commit()
    created = await service.create(new(type=["email"], templates={"email": 1}, uploadId=None,
                                       segmentId=f"segment-{saved.id}", targetAudience=None, launch=False), 1)
    assert created.campaigns[0].target_count == 40
    campaign = next(iter(store.tables.campaigns.values()))
    assert campaign.audience == {"kind": "segment", "segment_id": saved.id, "filter": tree}
    with pytest.raises(ValidationFailed) as failed:
        await service.create(new(uploadId=None, segmentId="segment-99", targetAudience=None), 1)
    assert fields_of(failed) == {"segmentId"}


async def test_an_ab_test_is_kept_with_its_variants(service: CampaignService, store: MemoryStore) -> None:
    await service.create(new(type=["email"], templates={"email": 1}, abTest={
        "variants": [{"name": "A", "splitPercent": 50, "subject": "Renew now"},
                     {"name": "B", "splitPercent": 50, "templateId": "template-4"}],
        "holdoutPercent": 10, "testPercent": 30, "waitMinutes": 120, "metric": "click"}), 1)
    campaign = next(iter(store.tables.campaigns.values()))
    assert [(v.name, v.split_percent, v.subject, v.template_id) for v in campaign.variants] == [
        ("A", 50, "Renew now", None), ("B", 50, None, 4)]
    assert campaign.ab_test == {"holdout_percent": 10, "test_percent": 30, "wait_minutes": 120, "metric": "click"}


async def test_the_same_idempotency_key_and_body_answer_the_first_response(
        service: CampaignService, launcher: FakeLauncher, store: MemoryStore) -> None:
    first = await service.create(new(), 5, "key-1")
    again = await service.create(new(), 5, "key-1")
    assert [c.id for c in again.campaigns] == [c.id for c in first.campaigns]
    assert len(store.tables.campaigns) == 2 and len(launcher.launched) == 2
    with pytest.raises(IdempotencyKeyReused):
        await service.create(new(name="Another"), 5, "key-1")
    other_user = await service.create(new(), 6, "key-1")
    assert len(store.tables.campaigns) == 4 and other_user.campaigns[0].id != first.campaigns[0].id


async def test_a_draft_is_edited_and_a_launched_campaign_is_not(
        service: CampaignService, audience: FakeAudience, store: MemoryStore) -> None:
    draft = (await service.create(new(type=["email"], templates={"email": 1}, launch=False), 1)).campaigns[0]
    campaign_id = int(draft.id.removeprefix("campaign-"))
    changed = await service.update(campaign_id, msgspec.convert(
        {"name": "June renewals", "templateId": "template-4", "targetAudience": "all", "subject": "Hi"},
        CampaignPatch))
    assert (changed.name, changed.template_id, changed.subject, changed.audience.kind, changed.target_count) == (
        "June renewals", "template-4", "Hi", "all", 900)
    with pytest.raises(ValidationFailed) as failed:
        await service.update(campaign_id, msgspec.convert({"templateId": 2, "scheduleType": "later"}, CampaignPatch))
    assert fields_of(failed) == {"templateId", "scheduleType"}
    await service.change_status(campaign_id, StatusChange(status="active"))
    with pytest.raises(CampaignNotEditable) as refused:
        await service.update(campaign_id, CampaignPatch(name="Too late"))
    assert refused.value.current == "active"
    assert store.tables.campaigns[campaign_id].name == "June renewals"


async def test_pause_resume_cancel_and_illegal_moves(service: CampaignService, launcher: FakeLauncher,
                                                     store: MemoryStore) -> None:
    created = await service.create(new(type=["email"], templates={"email": 1}), 1)
    campaign_id = int(created.campaigns[0].id.removeprefix("campaign-"))
    paused = await service.change_status(campaign_id, StatusChange(status="paused"))
    assert (paused.status, store.tables.campaigns[campaign_id].paused_reason) == ("paused", "manual")
    resumed = await service.change_status(campaign_id, StatusChange(status="active"))
    assert resumed.status == "active" and launcher.launched == [(campaign_id, "draft"), (campaign_id, "active")]
    with pytest.raises(InvalidTransition) as same:
        await service.change_status(campaign_id, StatusChange(status="active"))
    assert same.value.current == "active"
    assert (await service.change_status(campaign_id, StatusChange(status="cancelled"))).status == "cancelled"
    with pytest.raises(InvalidTransition) as late:
        await service.change_status(campaign_id, StatusChange(status="active"))
    assert late.value.current == "cancelled"
    with pytest.raises(ValidationFailed):
        await service.change_status(campaign_id, StatusChange(status="completed"))
    with pytest.raises(CampaignNotFound):
        await service.change_status(999, StatusChange(status="paused"))


async def test_a_paused_scheduled_campaign_resumes_to_its_schedule(service: CampaignService,
                                                                   clock: FixedClock) -> None:
    at = NOW + timedelta(hours=3)
    created = await service.create(new(type=["sms"], templates={"sms": 3}, scheduleType="scheduled",
                                       scheduledAt=at.isoformat()), 1)
    campaign_id = int(created.campaigns[0].id.removeprefix("campaign-"))
    assert (await service.change_status(campaign_id, StatusChange(status="paused"))).status == "paused"
    assert (await service.change_status(campaign_id, StatusChange(status="active"))).status == "scheduled"
    await service.change_status(campaign_id, StatusChange(status="paused"))
    clock.advance(timedelta(hours=4))
    assert (await service.change_status(campaign_id, StatusChange(status="active"))).status == "active"


async def test_list_get_and_recipients(service: CampaignService, store: MemoryStore) -> None:
    await service.create(new(), 1)
    await service.create(new(type=["sms"], templates={"sms": 3}, launch=False), 1)
    emails = await service.list(("active",), ("email",), ALL)
    assert [c.name for c in emails.items] == ["May Renewals Campaign (Email)"] and emails.total == 1
    drafts = await service.list(("draft", "paused"), (), PageRequest(page=1, limit=1))
    assert (drafts.total, [c.type for c in drafts.items]) == (1, ["sms"])
    one = await service.get(1)
    assert one.recipients is not None and (one.recipients["pending"], one.recipients["total"]) == (1, 1)
    recipient = next(iter(store.tables.campaign_recipients.values()))
    recipient.status = RecipientStatus.FAILED
    assert [r.customer_id for r in (await service.recipients(1, ("failed",), ALL)).items] == ["customer-7"]
    assert (await service.recipients(1, ("pending",), ALL)).items == []
    with pytest.raises(CampaignNotFound):
        await service.recipients(42, (), ALL)


async def test_a_test_send_goes_to_a_checked_address_of_the_channel(service: CampaignService,
                                                                    launcher: FakeLauncher) -> None:
    await service.create(new(type=["email", "sms"], templates={"email": 1, "sms": 3}, launch=False), 1)
    sent = await service.test_send(1, TestSend(to=" Asha@Example.IN "))
    assert (sent.to, sent.message_id) == ("asha@example.in", "provider-1")
    sms = await service.test_send(2, TestSend(to="98765 43210"))
    assert sms.to == "+919876543210" and launcher.tests == [(1, "asha@example.in"), (2, "+919876543210")]
    with pytest.raises(ValidationFailed) as failed:
        await service.test_send(1, TestSend(to="not-an-address"))
    assert fields_of(failed) == {"to"}


@pytest.fixture
def segments(uow: Callable[[], InMemoryCampaignsUnitOfWork], clock: FixedClock,
             audience: FakeAudience) -> SegmentService:
    return SegmentService(uow, clock, audience, CampaignsConfig(preview_sample_size=2))


DUE_MOTOR = {"all": [{"field": "policy.renewal_date", "op": "within_days", "value": 30},
                     {"field": "policy.policy_type", "op": "in", "value": ["motor"]}]}


async def test_a_segment_preview_counts_who_is_left_out_and_shows_a_sample(segments: SegmentService,
                                                                          audience: FakeAudience) -> None:
    preview = await segments.preview(SegmentPreviewRequest(filter=DUE_MOTOR))
    assert (preview.channel, preview.count, preview.excluded.opted_out, preview.excluded.no_address) == (
        "email", 40, 3, 1)
    assert [(s.customer_id, s.policy_id, s.status) for s in preview.sample] == [
        ("customer-3", "policy-8", "eligible"), ("customer-4", None, "opted_out")]
    assert audience.counted == [("email", {"kind": "segment", "filter": DUE_MOTOR})]
    assert preview.description.startswith("renewal date is within the next 30 days (2026-05-01 to 2026-05-31)")
    sms = await segments.preview(SegmentPreviewRequest(filter=DUE_MOTOR, channel="SMS", sample_size=3))
    assert (sms.channel, sms.excluded.no_address, [s.status for s in sms.sample][-1]) == ("sms", 2, "no_address")
    with pytest.raises(ValidationFailed) as failed:
        await segments.preview(SegmentPreviewRequest(filter={"field": "customer.password", "op": "eq", "value": 1},
                                                     channel="fax", sample_size=500))
    assert fields_of(failed) == {"channel", "sampleSize", "filter.field"}


async def test_segments_are_saved_under_unique_names_and_listed(segments: SegmentService, clock: FixedClock) -> None:
    first = await segments.save(NewSegment(name=" Motor  due ", filter=DUE_MOTOR), user_id=4)
    assert (first.id, first.name, first.created_by, first.filter) == ("segment-1", "Motor due", "user-4", DUE_MOTOR)
    clock.advance(timedelta(minutes=1))
    await segments.save(NewSegment(name="Everyone in Pune", filter={"field": "customer.city", "op": "eq",
                                                                    "value": "Pune"}), user_id=None)
    assert [s.name for s in (await segments.list()).segments] == ["Everyone in Pune", "Motor due"]
    assert (await segments.get(1)).description == first.description
    with pytest.raises(Conflict):
        await segments.save(NewSegment(name="Motor due", filter=DUE_MOTOR), user_id=4)
    with pytest.raises(ValidationFailed) as failed:
        await segments.save(NewSegment(name="", filter={"all": []}), user_id=4)
    assert fields_of(failed) == {"name", "filter.all"}
    with pytest.raises(SegmentNotFound):
        await segments.get(9)
