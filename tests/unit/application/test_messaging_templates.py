"""Template use cases on the in-memory messaging unit of work and a FixedClock: validation, conflicts, changes,
previews for each channel, the starter library and the WhatsApp template sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from adapters.memory.messaging_uow import InMemoryMessagingUnitOfWork
from adapters.memory.store import MemoryStore
from adapters.memory.whatsapp import InMemoryTemplateCatalogue
from adapters.system.clock import FixedClock
from application.messaging.ports import TemplateFilters
from application.messaging.starter_templates import STARTER_TEMPLATES
from application.messaging.template_views import NewTemplate, TemplatePatch, TemplatePreview
from application.messaging.templates import TemplateService
from application.messaging.whatsapp_sync import WhatsAppTemplateSync
from application.ports.whatsapp import ApprovedTemplate, WhatsAppUnavailable
from application.shared.events import EventRouter
from application.shared.pagination import PageRequest
from domain.messaging.model import Channel
from domain.messaging.sms_encoding import GSM7, UCS2, sms_encoding
from domain.shared.errors import Conflict, NotFound, ValidationFailed

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
IN_15_DAYS = (date(2026, 3, 10) + timedelta(days=15)).isoformat()
ALL = PageRequest(page=1, limit=100)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(clock: FixedClock) -> MemoryStore:
    return MemoryStore(clock)


@pytest.fixture
def uow(store: MemoryStore) -> Callable[[], InMemoryMessagingUnitOfWork]:
    return lambda: InMemoryMessagingUnitOfWork(store, EventRouter())


@pytest.fixture
def templates(uow: Callable[[], InMemoryMessagingUnitOfWork], clock: FixedClock) -> TemplateService:
    return TemplateService(uow, clock)


def email(**changes: object) -> NewTemplate:
    fields: dict[str, object] = {
        "name": "Renewal notice", "type": "email", "subject": "Policy {policy_number} renews on {renewal_date}",
        "content": "<p>Dear {customer_name}, renew at <a href=\"{renewal_link}\">this link</a>.</p>"}
    fields.update(changes)
    return NewTemplate(**fields)  # type: ignore[arg-type]


def sms(**changes: object) -> NewTemplate:
    fields: dict[str, object] = {"name": "Renewal SMS", "type": "sms",
                                 "content": "Dear {customer_name}, policy {policy_number} is due on {renewal_date}."}
    fields.update(changes)
    return NewTemplate(**fields)  # type: ignore[arg-type]


async def invalid_fields(call: object) -> dict[str, str]:
    """The `field: message` pairs of the ValidationFailed the awaited call raises."""
    with pytest.raises(ValidationFailed) as caught:
        await call  # type: ignore[misc]
    return {d.field: d.message for d in caught.value.details}


# creation and validation

async def test_create_derives_variables_and_answers_the_specification_keys(templates: TemplateService) -> None:
    created = await templates.create(email(category=" Renewal "), created_by=7)
    assert (created.template_id, created.message) == ("template-1", "Template created successfully")
    view = created.template
    assert view.id == "template-1" and view.type == "email" and view.language == "en" and view.is_active
    assert view.variables == ["policy_number", "renewal_date", "customer_name", "renewal_link"]
    assert view.category == "renewal" and view.created_at == NOW
    assert await templates.get(1) == view
    wire = msgspec.json.decode(msgspec.json.encode(created))
    assert set(wire) == {"templateId", "message", "template"}
    assert {"isActive", "dltTemplateId", "createdAt", "updatedAt"} <= set(wire["template"])


async def test_the_request_body_is_camel_case_and_strict() -> None:
    body = b'{"name": "A", "type": "sms", "content": "x", "dltTemplateId": "1107", "isActive": false}'
    decoded = msgspec.json.decode(body, type=NewTemplate)
    assert (decoded.dlt_template_id, decoded.is_active, decoded.language) == ("1107", False, "en")
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"name": "A", "type": "sms", "content": "x", "tags": []}', type=NewTemplate)


async def test_every_broken_field_is_reported_at_once(templates: TemplateService) -> None:
    problems = await invalid_fields(templates.create(NewTemplate(
        name="  ", type="fax", content=" \n ", variables=["ok", "not-valid", "9lives"], category="x" * 51,
        language="english", dlt_template_id="DLT 12")))
    assert set(problems) == {"name", "type", "content", "variables", "category", "language", "dltTemplateId"}
    assert "email, sms, whatsapp" in problems["type"]
    assert "not-valid" in problems["variables"] and "9lives" in problems["variables"]
    assert "ok" not in problems["variables"].split(": ")[1].split(", ")


async def test_name_is_limited_to_255_characters(templates: TemplateService) -> None:
    assert set(await invalid_fields(templates.create(sms(name="n" * 256)))) == {"name"}
    assert (await templates.create(sms(name="n" * 255))).template.name == "n" * 255


async def test_email_needs_a_subject_and_other_channels_drop_it(templates: TemplateService) -> None:
    assert set(await invalid_fields(templates.create(email(subject=None)))) == {"subject"}
    assert set(await invalid_fields(templates.create(email(subject="   ")))) == {"subject"}
    kept = await templates.create(sms(subject="ignored", dlt_template_id=" 1107161234567890123 "))
    assert kept.template.subject is None and kept.template.dlt_template_id == "1107161234567890123"
    whatsapp = await templates.create(sms(type="whatsapp", dlt_template_id="1107"))
    assert whatsapp.template.dlt_template_id is None  # DLT ids are for Indian SMS only


@pytest.mark.parametrize(("channel", "limit"), [("email", 50_000), ("sms", 1_600), ("whatsapp", 4_096)])
async def test_content_length_limit_depends_on_the_channel(templates: TemplateService, channel: str,
                                                           limit: int) -> None:
    extra = {"subject": "Hello"} if channel == "email" else {}
    problems = await invalid_fields(templates.create(NewTemplate(name="long", type=channel, content="a" * (limit + 1),
                                                                 **extra)))  # type: ignore[arg-type]
    assert f"{limit:,}" in problems["content"]
    created = await templates.create(NewTemplate(name="long", type=channel, content="a" * limit,
                                                 **extra))  # type: ignore[arg-type]
    assert len(created.template.content) == limit


async def test_a_used_but_undeclared_variable_is_named(templates: TemplateService) -> None:
    problems = await invalid_fields(templates.create(email(variables=["customer_name", "renewal_link"])))
    assert problems == {"variables": "used in the template but not declared: policy_number, renewal_date"}
    unused_is_fine = await templates.create(email(variables=[
        "policy_number", "renewal_date", "customer_name", "renewal_link", "agent_name", "agent_name"]))
    assert unused_is_fine.template.variables[-1] == "agent_name"
    assert unused_is_fine.template.variables.count("agent_name") == 1


async def test_a_name_taken_on_the_same_channel_and_language_is_a_conflict(templates: TemplateService) -> None:
    await templates.create(sms())
    with pytest.raises(Conflict) as caught:
        await templates.create(sms(name="renewal sms"))
    assert caught.value.field == "name"
    assert (await templates.create(sms(type="whatsapp"))).template_id == "template-2"
    assert (await templates.create(sms(language="hi"))).template_id == "template-3"


# changes

async def test_update_changes_only_the_given_fields(templates: TemplateService, clock: FixedClock) -> None:
    await templates.create(email(category="renewal"))
    clock.advance(timedelta(hours=1))
    view = await templates.update(1, TemplatePatch(is_active=False, category=None))
    assert (view.is_active, view.category, view.name, view.subject) == (False, None, "Renewal notice",
                                                                        email().subject)
    assert view.updated_at == NOW + timedelta(hours=1) and view.created_at == NOW
    assert await templates.get(1) == view


async def test_new_texts_without_variables_get_the_variables_they_use(templates: TemplateService) -> None:
    await templates.create(sms())
    view = await templates.update(1, TemplatePatch(content="Hi {customer_name}, call {agent_name}."))
    assert view.variables == ["customer_name", "agent_name"]
    problems = await invalid_fields(templates.update(1, TemplatePatch(content="{x} {y}", variables=["x"])))
    assert problems == {"variables": "used in the template but not declared: y"}
    assert (await templates.get(1)).content == "Hi {customer_name}, call {agent_name}."


async def test_the_patched_template_is_checked_as_a_whole(templates: TemplateService) -> None:
    await templates.create(sms())
    assert set(await invalid_fields(templates.update(1, TemplatePatch(type="email")))) == {"subject"}
    assert set(await invalid_fields(templates.update(1, TemplatePatch(content="a" * 1_601)))) == {"content"}
    view = await templates.update(1, TemplatePatch(type="email", subject="Reminder for {customer_name}"))
    assert view.type == "email" and view.variables == ["customer_name", "policy_number", "renewal_date"]


async def test_update_refuses_a_taken_name_and_an_unknown_template(templates: TemplateService) -> None:
    await templates.create(sms())
    await templates.create(sms(name="Other"))
    with pytest.raises(Conflict):
        await templates.update(2, TemplatePatch(name="RENEWAL SMS"))
    assert (await templates.update(1, TemplatePatch(name="Renewal SMS"))).name == "Renewal SMS"  # itself
    with pytest.raises(NotFound):
        await templates.update(99, TemplatePatch(name="x"))


async def test_delete_removes_it_and_a_second_delete_is_not_found(templates: TemplateService) -> None:
    await templates.create(sms())
    await templates.delete(1)
    with pytest.raises(NotFound):
        await templates.get(1)
    with pytest.raises(NotFound):
        await templates.delete(1)


async def test_list_filters_by_channel_active_state_and_name(templates: TemplateService) -> None:
    await templates.create(email())
    await templates.create(sms())
    await templates.create(sms(type="whatsapp", name="Payment nudge", is_active=False))

    async def names(**filters: object) -> list[str]:
        page = await templates.list(TemplateFilters(**filters), ALL)  # type: ignore[arg-type]
        return sorted(f"{v.type}:{v.name}" for v in page.items)

    assert await names(channels=(Channel.SMS, Channel.WHATSAPP)) == ["sms:Renewal SMS", "whatsapp:Payment nudge"]
    assert await names(active=False) == ["whatsapp:Payment nudge"]
    assert await names(q="renewal") == ["email:Renewal notice", "sms:Renewal SMS"]
    second = await templates.list(TemplateFilters(), PageRequest(page=2, limit=2))
    assert (second.total, second.total_pages, len(second.items)) == (3, 2, 1)


# previews

async def test_email_preview_escapes_given_values_and_fills_the_rest(templates: TemplateService) -> None:
    await templates.create(email())
    preview = await templates.preview(1, {"customer_name": "<b>Asha</b>", "unused": "ignored"})
    assert preview.type == "email" and preview.body is None and preview.encoding is None
    assert preview.missing == ["policy_number", "renewal_date", "renewal_link"]
    assert preview.subject == f"Policy POL-2026-000123 renews on {IN_15_DAYS}"
    assert preview.html is not None and "Dear &lt;b&gt;Asha&lt;/b&gt;" in preview.html
    assert "<b>Asha</b>" not in preview.html
    assert 'href="https://pay.example.com/r/abc123"' in preview.html
    assert preview.text == "Dear <b>Asha</b>, renew at this link (https://pay.example.com/r/abc123)."
    assert preview.values == {"policy_number": "POL-2026-000123", "renewal_date": IN_15_DAYS,
                              "customer_name": "<b>Asha</b>", "renewal_link": "https://pay.example.com/r/abc123"}


async def test_unknown_variables_get_a_visible_placeholder(templates: TemplateService) -> None:
    await templates.create(email(subject="Hi", content="<p>Your {policy_type} policy, agent {agent_name}</p>"))
    preview = await templates.preview(1, None)
    assert preview.html == "<p>Your &lt;policy_type&gt; policy, agent Ravi Kumar</p>"
    assert preview.missing == ["policy_type", "agent_name"]


async def test_sms_preview_reports_gsm7_and_segments(templates: TemplateService) -> None:
    await templates.create(sms())
    preview = await templates.preview(1, None)
    expected = f"Dear Asha Rao, policy POL-2026-000123 is due on {IN_15_DAYS}."
    assert (preview.body, preview.encoding, preview.segments, preview.characters) == (expected, GSM7, 1,
                                                                                       len(expected))
    assert preview.html is None and preview.subject is None
    await templates.create(sms(name="Long", content="{premium} " + "x" * 160))
    long = await templates.preview(2, {})
    assert (long.encoding, long.segments, long.characters) == (GSM7, 2, 170)


async def test_sms_preview_with_a_hindi_name_switches_to_ucs2(templates: TemplateService) -> None:
    await templates.create(sms())
    preview = await templates.preview(1, {"customer_name": "आशा राव"})
    assert preview.encoding == UCS2 and preview.missing == ["policy_number", "renewal_date"]
    assert preview.characters == len(preview.body or "") and preview.segments == 1
    longer = await templates.preview(1, {"customer_name": "आशा राव " * 3})
    assert longer.encoding == UCS2 and longer.segments == 2  # past 70 UTF-16 units


async def test_whatsapp_preview_is_plain_text(templates: TemplateService) -> None:
    await templates.create(sms(type="whatsapp", content="Hi *{customer_name}*, pay {amount}: {payment_link}"))
    preview = await templates.preview(1, {"amount": "9,999.00"})
    assert preview.body == "Hi *Asha Rao*, pay 9,999.00: https://pay.example.com/r/abc123"
    assert (preview.encoding, preview.segments, preview.html) == (None, None, None)
    assert preview.missing == ["customer_name", "payment_link"]
    wire = msgspec.json.decode(msgspec.json.encode(preview))
    assert set(wire) == {"type", "values", "missing", "body"}


async def test_preview_of_an_unknown_template_is_not_found(templates: TemplateService) -> None:
    with pytest.raises(NotFound):
        await templates.preview(5, None)


def test_preview_request_values_become_text() -> None:
    body = msgspec.json.decode(b'{"data": {"amount": 12500.5, "days": 15, "name": "Asha"}}', type=TemplatePreview)
    assert body.values() == {"amount": "12500.5", "days": "15", "name": "Asha"}
    assert TemplatePreview().values() is None


# the starter library

async def test_seeding_adds_the_library_once(templates: TemplateService) -> None:
    assert await templates.seed_starter_library() == len(STARTER_TEMPLATES) == 24
    assert await templates.seed_starter_library() == 0
    page = await templates.list(TemplateFilters(), ALL)
    kinds = {(v.name, v.type, v.language) for v in page.items}
    for name in ("renewal_reminder_30_days", "renewal_reminder_15_days", "renewal_reminder_7_days",
                 "renewal_reminder_1_day", "payment_link", "payment_received", "lapse_notice"):
        assert {(name, channel, "en") for channel in ("email", "sms", "whatsapp")} <= kinds
    target = next(v for v in page.items if (v.name, v.type) == ("payment_link", "sms"))
    await templates.delete(int(target.id.removeprefix("template-")))
    assert await templates.seed_starter_library() == 1


async def test_starter_templates_pass_the_same_validation_as_the_api(templates: TemplateService) -> None:
    for entry in STARTER_TEMPLATES:
        created = await templates.create(NewTemplate(
            name=entry.name, type=entry.channel.value, subject=entry.subject, content=entry.content,
            category=entry.category, language=entry.language), created_by=None)
        assert created.template.category in ("renewal", "payment", "lapse")


async def test_starter_sms_are_gsm7_within_two_segments(templates: TemplateService) -> None:
    await templates.seed_starter_library()
    page = await templates.list(TemplateFilters(channels=(Channel.SMS,)), ALL)
    assert len(page.items) == 8
    for view in page.items:
        assert sms_encoding(view.content).encoding == GSM7, view.name
        preview = await templates.preview(int(view.id.removeprefix("template-")), None)
        rendered = sms_encoding(preview.body or "")
        assert (rendered.encoding, preview.encoding) == (GSM7, GSM7), view.name
        assert rendered.segments <= 2 and preview.missing == view.variables, view.name
        assert all("<" not in value for value in preview.values.values()), view.name  # every one has a sample


async def test_starter_emails_render_with_a_subject_a_link_and_a_footer(templates: TemplateService) -> None:
    await templates.seed_starter_library()
    page = await templates.list(TemplateFilters(channels=(Channel.EMAIL,)), ALL)
    for view in page.items:
        preview = await templates.preview(int(view.id.removeprefix("template-")), None)
        assert preview.subject and "POL-2026-000123" in preview.subject, view.name
        assert preview.text and "POL-2026-000123" in preview.text and "Asha Rao" in preview.text, view.name
        assert "You are receiving this email because you hold policy POL-2026-000123" in preview.text, view.name
        if view.name != "payment_received":
            assert "(https://pay.example.com/r/abc123)" in preview.text, view.name
        assert "\u20b912,500.00" in preview.text, view.name


# WhatsApp template sync

def approved(name: str, status: str = "approved") -> ApprovedTemplate:
    return ApprovedTemplate(provider_id=f"id-{name}", name=name, language="en", category="UTILITY", status=status,
                            components=[{"type": "BODY", "text": "Hello {{1}}"}])


async def test_sync_upserts_metas_templates_and_reports_changed_rows(
        uow: Callable[[], InMemoryMessagingUnitOfWork], clock: FixedClock, store: MemoryStore) -> None:
    catalogue = InMemoryTemplateCatalogue([approved("renewal_reminder"), approved("receipt", "pending")])
    sync = WhatsAppTemplateSync(uow, catalogue, clock)
    assert await sync.run() == 2
    assert await sync.run() == 0
    catalogue.put(approved("receipt"))
    assert await sync.run() == 1
    rows = {t.name: t for t in store.tables.whatsapp_templates.values()}
    assert rows["receipt"].status == "approved" and rows["receipt"].approved_at == NOW


async def test_sync_lets_an_unavailable_meta_propagate_and_changes_nothing(
        uow: Callable[[], InMemoryMessagingUnitOfWork], clock: FixedClock, store: MemoryStore) -> None:
    catalogue = InMemoryTemplateCatalogue([approved("renewal_reminder")])
    catalogue.fail_next()
    with pytest.raises(WhatsAppUnavailable):
        await WhatsAppTemplateSync(uow, catalogue, clock).run()
    assert store.tables.whatsapp_templates == {}
