"""Refusals of the campaign use cases; each subclasses the domain error the HTTP layer maps to a status code.

404 `not_found` (CampaignNotFound, SegmentNotFound); 409 `campaign_not_editable` (an InvalidTransition, so the
answer names `currentStatus`); 422 `idempotency_key_reused` (ValidationFailed naming the header).
"""

from __future__ import annotations

from domain.shared.errors import Conflict, FieldError, InvalidTransition, NotFound, ValidationFailed

__all__ = [
    "CampaignNotEditable",
    "CampaignNotFound",
    "IdempotencyKeyReused",
    "SegmentNotFound",
    "public_campaign_id",
    "public_segment_id",
]


def public_campaign_id(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def public_segment_id(segment_id: int) -> str:
    return f"segment-{segment_id}"


class CampaignNotFound(NotFound):
    def __init__(self, campaign_id: int) -> None:
        super().__init__("campaign", public_campaign_id(campaign_id))


class SegmentNotFound(NotFound):
    def __init__(self, segment_id: int) -> None:
        super().__init__("segment", public_segment_id(segment_id))


class CampaignNotEditable(InvalidTransition):
    """A PATCH on a campaign that has left draft: what was launched is what is sent."""

    code = "campaign_not_editable"

    def __init__(self, campaign_id: int, current: str) -> None:
        Conflict.__init__(self, f"{public_campaign_id(campaign_id)} is {current}: only a draft campaign can be "
                                "edited (pause or cancel it instead)")
        self.current = current
        self.requested = "edit"


class IdempotencyKeyReused(ValidationFailed):
    """The Idempotency-Key was used before with another request body."""

    code = "idempotency_key_reused"

    @classmethod
    def of(cls, key: str) -> IdempotencyKeyReused:
        return cls([FieldError("Idempotency-Key", f"'{key}' was already used to create other campaigns; use a new "
                                                  "key for a new request")])
