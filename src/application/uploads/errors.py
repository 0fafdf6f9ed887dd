"""Refusals of an uploaded file before any row is read; the HTTP layer maps each to its status code."""

from __future__ import annotations

from domain.shared.errors import DomainError

__all__ = ["DuplicateUpload", "FileRefused", "FileTooLarge", "UnreadableFile", "UnsafeFile", "UnsupportedFileType"]


class FileRefused(DomainError):
    """Base of the refusals; `status` is the HTTP status, `code` the error code."""

    status = 422
    code = "file_refused"


class FileTooLarge(FileRefused):
    status = 413
    code = "payload_too_large"


class UnsupportedFileType(FileRefused):
    """Not an xlsx or csv, or the extension and the content disagree."""

    status = 415
    code = "unsupported_media_type"


class UnsafeFile(FileRefused):
    """A zip bomb, XML entity expansion, macros, or anything else hostile."""

    status = 422
    code = "unsafe_file"


class UnreadableFile(FileRefused):
    """Readable but not a policy book: empty, a header with no rows, no recognisable columns."""

    status = 422
    code = "unreadable_file"


class DuplicateUpload(DomainError):
    """The same content was uploaded before (answer 409 with that upload's id) unless `force=true`."""

    code = "duplicate_upload"

    def __init__(self, upload_id: int) -> None:
        super().__init__(f"This file was already uploaded as upload-{upload_id}; send force=true to import it again")
        self.upload_id = upload_id
