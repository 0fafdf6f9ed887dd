"""The campaigns' read of the messaging templates: in memory and on PostgreSQL, the same answers."""

from __future__ import annotations

from domain.messaging.model import Channel
from entrypoints.container import AppContainer
from tests.contract.messaging_support import full_template, uow


async def test_active_templates_read_as_the_engine_needs_them(container: AppContainer) -> None:
    async with uow(container) as unit:
        whatsapp = await unit.templates.add(full_template(
            name="renewal_reminder", channel=Channel.WHATSAPP, content="Dear {name}, {policy_number} renews {date}",
            variables=["name", "policy_number", "date"], subject=None, language="en", is_active=True,
            dlt_template_id=None))
        sms = await unit.templates.add(full_template(name="sms reminder", is_active=True))
        inactive = await unit.templates.add(full_template(name="old", is_active=False))
        await unit.commit()
    catalogue = container.adapters.campaign_templates()
    assert whatsapp.id is not None and sms.id is not None and inactive.id is not None
    read = await catalogue.get(whatsapp.id)
    assert read is not None
    assert (read.channel, read.name, read.language, read.variables, read.subject) == (
        "whatsapp", "renewal_reminder", "en", ("name", "policy_number", "date"), None)
    read_sms = await catalogue.get(sms.id)
    assert read_sms is not None and (read_sms.channel, read_sms.dlt_template_id, read_sms.language) == (
        "sms", "1107160000000012345", "hi")
    assert read_sms.content == "Dear {name}, policy {policy_number} renews on {date}."
    assert await catalogue.get(inactive.id) is None
    assert await catalogue.get(999_999) is None
