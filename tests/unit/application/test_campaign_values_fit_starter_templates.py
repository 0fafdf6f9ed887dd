"""Every starter template a campaign can send (reminders, lapse notice) renders from a recipient's values alone."""

from __future__ import annotations

import pytest

from adapters.sqlalchemy.read_models.campaign_audience import VALUE_NAMES
from application.messaging.starter_templates import STARTER_TEMPLATES
from domain.campaigns.render import variables_in

CAMPAIGN_KINDS = ("renewal_reminder", "lapse_notice")


@pytest.mark.parametrize("template", [t for t in STARTER_TEMPLATES if t.name.startswith(CAMPAIGN_KINDS)],
                         ids=lambda t: f"{t.name}-{t.channel}")
def test_a_starter_template_needs_only_values_every_recipient_carries(template: object) -> None:
    texts = [getattr(template, "content", ""), getattr(template, "subject", None) or ""]
    used = {name for text in texts for name in variables_in(text)}
    assert used - set(VALUE_NAMES) == set()
