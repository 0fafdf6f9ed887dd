"""Events of the uploads context (written to the audit log by the unit of work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.shared.events import DomainEvent

__all__ = ["UploadAccepted", "UploadCancelRequested", "UploadFinished"]


@dataclass(frozen=True, slots=True)
class UploadAccepted(DomainEvent):
    name: ClassVar[str] = "uploads.upload_accepted"
    entity_type: ClassVar[str] = "upload"
    entity_key: ClassVar[str] = "upload_id"
    upload_id: int
    uploaded_by: int | None
    original_filename: str
    sha256: str
    estimated_rows: int
    forced: bool


@dataclass(frozen=True, slots=True)
class UploadCancelRequested(DomainEvent):
    name: ClassVar[str] = "uploads.upload_cancel_requested"
    entity_type: ClassVar[str] = "upload"
    entity_key: ClassVar[str] = "upload_id"
    upload_id: int
    requested_by: int


@dataclass(frozen=True, slots=True)
class UploadFinished(DomainEvent):
    name: ClassVar[str] = "uploads.upload_finished"
    entity_type: ClassVar[str] = "upload"
    entity_key: ClassVar[str] = "upload_id"
    upload_id: int
    status: str
    successful_records: int
    failed_records: int
    seconds: float
