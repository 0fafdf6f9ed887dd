"""The upload POST's body, parsed as it arrives: the file part goes straight to a file of ours, hashed on the way.

Litestar's own multipart parsing writes the part to a spooled temporary file (one thread hop per network chunk),
which we would then copy again to get a file of our own: about 1.5 s for a 300 MB book. Parsing the stream here
with the same parser (`multipart.PushMultipartParser`) writes each byte once and hashes it in the same pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from litestar.exceptions import ClientException
from multipart import (  # type: ignore[import-untyped]
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
    parse_options_header,
)

from domain.shared.errors import ValidationFailed

__all__ = ["ReceivedUpload", "receive_upload"]

_FIELD_LIMIT = 64 * 1024  # bytes of a text field (metadata, filename)
_MAX_PARTS = 16


@dataclass
class ReceivedUpload:
    """The file part on disk (`path`, owned by the caller), its size and SHA-256, and the form's text fields."""

    path: Path
    size: int
    sha256: str
    filename: str  # the part's filename, or the `filename` field when the part has none
    fields: dict[str, str] = field(default_factory=dict)


async def receive_upload(content_type: str, chunks: AsyncIterator[bytes], directory: str) -> ReceivedUpload:
    """Parse a multipart/form-data body whose `file` part is written to a new file in `directory`.

    Raises `ClientException` (400) for a body that is not multipart or is malformed, and `ValidationFailed`
    (422) when there is no `file` part; the partial file is removed on any error."""
    kind, options = parse_options_header(content_type)
    boundary = options.get("boundary")
    if kind != "multipart/form-data" or not boundary:
        raise ClientException("the upload must be sent as multipart/form-data with a `file` part")
    fd, name = tempfile.mkstemp(prefix="incoming-", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as target:
            received = await _parse(boundary, chunks, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    size, digest, part_filename, fields = received
    if part_filename is None:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise ValidationFailed.on("file", "is required: send the policy book as the `file` part")
    return ReceivedUpload(path=path, size=size, sha256=digest, filename=fields.get("filename") or part_filename,
                          fields=fields)


async def _parse(boundary: str, chunks: AsyncIterator[bytes], target: object
                 ) -> tuple[int, str, str | None, dict[str, str]]:
    write = target.write  # type: ignore[attr-defined]
    digest = hashlib.sha256()
    size = 0
    part_filename: str | None = None
    fields: dict[str, str] = {}
    segment: MultipartSegment | None = None
    in_file = False
    text = bytearray()
    try:
        with PushMultipartParser(boundary, max_segment_count=_MAX_PARTS) as parser:
            async for chunk in _with_end(chunks):
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        segment, text = event, bytearray()
                        in_file = event.name == "file" and part_filename is None
                        if in_file:
                            part_filename = event.filename or "upload"
                    elif event:
                        if in_file:
                            digest.update(event)
                            write(event)
                            size += len(event)
                        elif len(text) + len(event) <= _FIELD_LIMIT:
                            text.extend(event)
                        else:
                            raise ValidationFailed.on(segment.name if segment and segment.name else "form",
                                                      f"is longer than {_FIELD_LIMIT // 1024} KiB")
                    elif segment is not None:  # the end of a part
                        if not in_file and segment.name:
                            fields[segment.name] = text.decode(segment.charset or "utf-8", errors="replace")
                        segment, in_file = None, False
                if parser.closed:
                    break
    except (ParserError, ParserLimitReached) as error:
        raise ClientException(f"the multipart body cannot be read: {error}") from error
    return size, digest.hexdigest(), part_filename, fields


async def _with_end(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body's chunks, then b"" (the parser's end-of-input signal)."""
    async for chunk in chunks:
        if chunk:
            yield chunk
    yield b""
